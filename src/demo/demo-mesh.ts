// The built-in demo mesh: the sandbox API server seeded with bookinfo and istio-system, simulated
// istiods that follow the pods, and a few faults to find (a STALE proxy, a NACK, a disconnected one),
// the NACK with the config change that causes it.
import { startSandbox, type Sandbox, type SandboxOptions } from '../sandbox/server.ts';
import { demoMeshObjects } from '../sandbox/demo/demo-mesh.ts';
import { type FleetFaults, IstiodFleet } from '../sandbox/istiod-sim.ts';
import { mtlsDemoObjects, startMtlsTraffic } from '../sandbox/demo/mtls-demo.ts';
import { checkoutDemoObjects } from '../sandbox/demo/checkout-demo.ts';
import { gotchasDemoObjects } from '../sandbox/demo/gotchas-demo.ts';
import { canaryDemoObjects } from '../sandbox/demo/canary-demo.ts';
import type { KubeObject } from '../kube/objects.ts';
import { EnvoyAdminFleet } from '../sandbox/envoy-admin.ts';

export interface DemoSandbox extends Sandbox {
  fleet: IstiodFleet;
  /** Envoy's admin API (:15000) of every sidecar and gateway, and the mesh CA behind their certificates. */
  envoyAdmin: EnvoyAdminFleet;
}

/** What the demo shows broken at start, by `<namespace>/<pod-name-prefix>`; the pushes went out 4 minutes ago. */
export const DEMO_FAULTS: FleetFaults = {
  staleLds: ['bookinfo/reviews-v2-'],
  nackCds: ['bookinfo/ratings-v1-'],
  disconnected: ['bookinfo/details-v1-'],
  staleForMs: 4 * 60_000,
};

/** How long before the pushes the change behind the demo's NACK was applied. */
export const DEMO_NACK_CAUSE_LEAD_MS = 25_000;

/**
 * The change behind the demo's CDS NACK, applied 25s before the push: session affinity for reviews v2,
 * scoped by its workloadSelector to ratings' sidecar (so only ratings-v1 gets the cluster, and only it
 * NACKs), with a Maglev table size of 65536. Istio builds `outbound|9080|v2|reviews.bookinfo.svc.cluster.local`
 * with LbPolicy MAGLEV and that table size; Envoy refuses it ("The table size of maglev must be prime number",
 * DEMO_NACK_MESSAGES.CDS). istiod's validation would have refused the object too ("tableSize must be a prime
 * number for maglev"), which is what `/mesh analyze` reports (IST0106): it reached the cluster without the
 * webhook. 65537, Envoy's default, is prime.
 */
export function demoNackCause(changedAt: Date): KubeObject {
  const time = changedAt.toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: {
      name: 'reviews-affinity',
      namespace: 'bookinfo',
      creationTimestamp: time,
      managedFields: [
        {
          manager: 'kubectl-client-side-apply',
          operation: 'Update',
          apiVersion: 'networking.istio.io/v1',
          time,
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:spec': { '.': {}, 'f:host': {}, 'f:subsets': {}, 'f:workloadSelector': {} } },
        },
      ],
    },
    spec: {
      host: 'reviews',
      workloadSelector: { matchLabels: { app: 'ratings' } },
      subsets: [
        {
          name: 'v2',
          labels: { version: 'v2' },
          trafficPolicy: {
            loadBalancer: { consistentHash: { httpHeaderName: 'x-user', maglev: { tableSize: 65536 } } },
          },
        },
      ],
    },
  };
}

export async function startDemoSandbox(
  options: SandboxOptions & {
    faults?: FleetFaults | false;
    /** How often the demo's traffic ticks (default 1 s); test/golden makes it rare so counts are reproducible. */
    trafficTickMs?: number;
  } = {},
): Promise<DemoSandbox> {
  const { faults, trafficTickMs, ...sandboxOptions } = options;
  // The bot's own namespace (MESHOPS_NAMESPACE's default) holds approval requests and leases.
  const botNamespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'meshops' } };
  // Beside bookinfo: `shop` (ready for STRICT mTLS), `legacy` (a plaintext caller without a sidecar) and
  // `checkout` (503 UH and UF, and a gateway certificate that expires 5 days after the demo's clock), and the
  // gotcha namespaces media, billing, accounts (sidecar OOM, startup race, probes vs AuthorizationPolicy) and catalog.
  const sandbox = await startSandbox({
    seed: [
      botNamespace,
      ...demoMeshObjects(),
      ...mtlsDemoObjects(),
      ...checkoutDemoObjects((sandboxOptions.now ?? (() => new Date()))()),
      ...gotchasDemoObjects(),
      // `canary`: orders v1/v2 behind one Service, a VirtualService at 100/0 (`/mesh canary orders -n canary`).
      ...canaryDemoObjects(),
    ],
    // metrics-server is installed: PodMetrics for the sidecar-resources diagnostic and `kubectl top`.
    metricsServer: true,
    ...sandboxOptions,
  });
  sandbox.settle();
  // istiod's log lines (pushes, ACKs, NACKs) land in the istiod pods' `discovery` container logs.
  // Clock hook (test/golden): a `now` given to the demo reaches its istiods and traffic model too, not only the
  // API server, so one fixed clock makes push ages and timestamps reproducible. Unset, all use the real clock.
  const clock = sandboxOptions.now ? { now: sandboxOptions.now } : {};
  const fleet = new IstiodFleet(sandbox.store, sandbox.podEndpoints, {
    logSink: (pod, lines) => sandbox.setPodLogs('istio-system', pod, 'discovery', lines),
    istiodOptions: clock,
  });
  const stopFleet = fleet.start();
  if (faults !== false) {
    const injected = faults ?? DEMO_FAULTS;
    // The demo's own faults come with their cause in the config, changed before the pushes it broke.
    if (!faults) {
      const now = sandboxOptions.now ?? (() => new Date());
      const pushedAt = now().getTime() - (DEMO_FAULTS.staleForMs ?? 0);
      sandbox.store.put(demoNackCause(new Date(pushedAt - DEMO_NACK_CAUSE_LEAD_MS)));
    }
    fleet.inject(injected);
  }
  // Sidecar metrics on :15020 and Istio-format access logs, following the mesh's mTLS state.
  const traffic = startMtlsTraffic(sandbox, { ...clock, ...(trafficTickMs ? { tickMs: trafficTickMs } : {}) });
  // Envoy's admin API on :15000 in every sidecar and gateway (127.0.0.1 only: port-forward reaches it, pods/proxy not).
  const envoyAdmin = new EnvoyAdminFleet(sandbox, { ...clock, stats: (ns, pod) => traffic.envoyStats(ns, pod) });
  const close = sandbox.close.bind(sandbox);
  return Object.assign(sandbox, {
    fleet,
    envoyAdmin,
    close: async () => {
      stopFleet();
      envoyAdmin.stop();
      traffic.stop();
      await close();
    },
  });
}
