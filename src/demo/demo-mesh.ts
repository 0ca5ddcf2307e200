// The built-in demo mesh: the sandbox API server seeded with bookinfo and istio-system, simulated
// istiods that follow the pods, and a few faults to find (a STALE proxy, a NACK, a disconnected one).
import { startSandbox, type Sandbox, type SandboxOptions } from '../sandbox/server.ts';
import { demoMeshObjects } from '../sandbox/demo/demo-mesh.ts';
import { type FleetFaults, IstiodFleet } from '../sandbox/istiod-sim.ts';
import { mtlsDemoObjects, startMtlsTraffic } from '../sandbox/demo/mtls-demo.ts';

export interface DemoSandbox extends Sandbox {
  fleet: IstiodFleet;
}

/** What the demo shows broken at start, by `<namespace>/<pod-name-prefix>`. */
export const DEMO_FAULTS: FleetFaults = {
  staleLds: ['bookinfo/reviews-v2-'],
  nackCds: ['bookinfo/ratings-v1-'],
  disconnected: ['bookinfo/details-v1-'],
};

export async function startDemoSandbox(
  options: SandboxOptions & { faults?: FleetFaults | false } = {},
): Promise<DemoSandbox> {
  const { faults, ...sandboxOptions } = options;
  // The bot's own namespace (MESHOPS_NAMESPACE's default) holds approval requests and leases.
  const botNamespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'meshops' } };
  // Beside bookinfo: `shop` (ready for STRICT mTLS) and `legacy` (a plaintext caller without a sidecar).
  const sandbox = await startSandbox({
    seed: [botNamespace, ...demoMeshObjects(), ...mtlsDemoObjects()],
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
  if (faults !== false) fleet.inject(faults ?? DEMO_FAULTS);
  // Sidecar metrics on :15020 and Istio-format access logs, following the mesh's mTLS state.
  const traffic = startMtlsTraffic(sandbox, clock);
  const close = sandbox.close.bind(sandbox);
  return Object.assign(sandbox, {
    fleet,
    close: async () => {
      stopFleet();
      traffic.stop();
      await close();
    },
  });
}
