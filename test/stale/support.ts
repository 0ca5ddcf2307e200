// A hand-built mesh for /mesh stale: istiod replicas and workloads as Deployment → ReplicaSet → Pod
// (so the restart button can find its Deployment), served by simulated istiods that a test swaps
// per scenario. The sandbox's controllers are off, so nothing moves unless the test moves it.
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, type RequestRecord } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import {
  buildMeshSync,
  type IstiodSim,
  type MeshSyncScenario,
  type ProxyPodRef,
} from '../../src/sandbox/istiod-sim.ts';
import type { Sandbox } from '../../src/sandbox/server.ts';

export const ISTIOD_DEPLOY = 'istiod';
export const ISTIODS = ['istiod-7d4f74889d-mb5dh', 'istiod-7d4f74889d-q8x2c'] as const;

export interface Workload {
  namespace: string;
  deployment: string;
  labels: Record<string, string>;
  replicas: number;
}

export const BOOKINFO: Workload[] = [
  { namespace: 'bookinfo', deployment: 'details-v1', labels: { app: 'details', version: 'v1' }, replicas: 1 },
  { namespace: 'bookinfo', deployment: 'productpage-v1', labels: { app: 'productpage', version: 'v1' }, replicas: 1 },
  { namespace: 'bookinfo', deployment: 'ratings-v1', labels: { app: 'ratings', version: 'v1' }, replicas: 1 },
  { namespace: 'bookinfo', deployment: 'reviews-v1', labels: { app: 'reviews', version: 'v1' }, replicas: 2 },
  { namespace: 'bookinfo', deployment: 'reviews-v2', labels: { app: 'reviews', version: 'v2' }, replicas: 1 },
  { namespace: 'shop', deployment: 'cart-v1', labels: { app: 'cart', version: 'v1' }, replicas: 2 },
];

const meta = (name: string, namespace: string, extra: Record<string, unknown> = {}) => ({ name, namespace, ...extra });
const owner = (kind: string, name: string) => [
  { apiVersion: kind === 'ReplicaSet' ? 'apps/v1' : 'apps/v1', kind, name, uid: `${kind}-${name}`, controller: true },
];
// FNV-1a, spelled in Kubernetes' name alphabet: stable pod and ReplicaSet names per test run.
const hash = (s: string) => {
  let h = 0x811c9dc5;
  for (const c of s) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h.toString(36).padStart(7, '0').slice(-7) + 'bd';
};

/** Deployment, its ReplicaSet and `replicas` running pods with an istio-proxy sidecar. */
export function workloadObjects(w: Workload, opts: { sidecar?: boolean; podPrefix?: string } = {}): KubeObject[] {
  const rs = `${w.deployment}-${hash(w.deployment)}`;
  const containers = [
    { name: 'app', image: 'example/app:1' },
    ...(opts.sidecar === false ? [] : [{ name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.24.2' }]),
  ];
  const pods = Array.from(
    { length: w.replicas },
    (_, i): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...meta(`${opts.podPrefix ?? rs}-${hash(`${w.deployment}/${i}`).slice(0, 5)}`, w.namespace),
        labels: { ...w.labels },
        ownerReferences: owner('ReplicaSet', rs),
      },
      spec: { containers },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: containers.map((c) => ({ name: c.name, ready: true, restartCount: 0 })),
      },
    }),
  );
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { ...meta(w.deployment, w.namespace), labels: { ...w.labels } },
      spec: {
        replicas: w.replicas,
        selector: { matchLabels: w.labels },
        template: { metadata: { labels: w.labels }, spec: { containers } },
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        ...meta(rs, w.namespace),
        labels: { ...w.labels },
        ownerReferences: owner('Deployment', w.deployment),
      },
      spec: { replicas: w.replicas, selector: { matchLabels: w.labels } },
    },
    ...pods,
  ];
}

export function istiodObjects(
  pods: readonly string[],
  opts: {
    replicas?: number;
    notReady?: readonly string[];
    lastTermination?: { pod: string; reason: string; at: string; restarts: number };
  } = {},
): KubeObject[] {
  const labels = { app: 'istiod', istio: 'pilot' };
  const rs = 'istiod-7d4f74889d';
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { ...meta(ISTIOD_DEPLOY, 'istio-system'), labels },
      spec: {
        replicas: opts.replicas ?? pods.length,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'discovery', image: 'docker.io/istio/pilot:1.24.2' }] },
        },
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { ...meta(rs, 'istio-system'), labels, ownerReferences: owner('Deployment', ISTIOD_DEPLOY) },
      spec: { replicas: pods.length, selector: { matchLabels: labels } },
    },
    ...pods.map((name): KubeObject => {
      const ready = !(opts.notReady ?? []).includes(name);
      const t = opts.lastTermination?.pod === name ? opts.lastTermination : undefined;
      return {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          ...meta(name, 'istio-system'),
          labels: { ...labels, 'istio.io/rev': 'default', 'sidecar.istio.io/inject': 'false' },
          ownerReferences: owner('ReplicaSet', rs),
        },
        // Running pods run on a node (the API server answers an unscheduled pod's log with 204).
        spec: {
          nodeName: 'sandbox-node-1',
          containers: [{ name: 'discovery', image: 'docker.io/istio/pilot:1.24.2' }],
        },
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
          containerStatuses: [
            {
              name: 'discovery',
              ready,
              restartCount: t?.restarts ?? 0,
              ...(t ? { lastState: { terminated: { reason: t.reason, exitCode: 137, finishedAt: t.at } } } : {}),
            },
          ],
        },
      };
    }),
  ];
}

export function namespace(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'istio-injection': 'enabled' } } };
}

export function service(ns: string, name: string, selector: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(name, ns),
    spec: { selector, ports: [{ name: 'http', port: 9080, targetPort: 9080 }] },
  };
}

/** The base mesh: namespaces, istiod with two replicas, bookinfo and shop workloads with their Services. */
export function meshSeed(extra: KubeObject[] = []): KubeObject[] {
  return [
    namespace('bookinfo'),
    namespace('shop'),
    ...istiodObjects(ISTIODS),
    ...BOOKINFO.flatMap((w) => workloadObjects(w)),
    service('bookinfo', 'details', { app: 'details' }),
    service('bookinfo', 'productpage', { app: 'productpage' }),
    service('bookinfo', 'ratings', { app: 'ratings' }),
    service('bookinfo', 'reviews', { app: 'reviews' }),
    service('shop', 'cart', { app: 'cart' }),
    ...extra,
  ];
}

/** Pods with a sidecar in the sandbox now, as the simulator wants them. */
export function proxyPodsOf(sb: Sandbox): ProxyPodRef[] {
  return sb.store
    .list('Pod')
    .filter(
      (p) =>
        p.metadata.namespace !== 'istio-system' &&
        ((p.spec as { containers?: { name: string }[] }).containers ?? []).some((c) => c.name === 'istio-proxy'),
    )
    .map((p) => ({ namespace: p.metadata.namespace as string, name: p.metadata.name }));
}

export const proxyIdOf = (sb: Sandbox, deployment: string): string => {
  const p = proxyPodsOf(sb).find((x) => x.name.startsWith(`${deployment}-`));
  if (!p) throw new Error(`no pod of ${deployment}`);
  return `${p.name}.${p.namespace}`;
};

/** Serves a fresh scenario on the sandbox's pod network, replacing whatever istiods served before. */
export function serveScenario(
  sb: Sandbox,
  s: Omit<MeshSyncScenario, 'pods'> & { pods?: MeshSyncScenario['pods'] },
): IstiodSim[] {
  for (const name of ISTIODS) sb.podEndpoints.unregister('istio-system', name);
  const sims = buildMeshSync({ ...s, pods: s.pods ?? proxyPodsOf(sb) });
  for (const sim of sims) {
    sim.registerOn(sb.podEndpoints);
    sb.setPodLogs('istio-system', sim.podName, 'discovery', sim.logLines({ kubeletTime: true }));
  }
  return sims;
}

export function kubeOf(sb: Sandbox, onRequest?: (r: RequestRecord) => void): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromString(sb.kubeconfig());
  return new KubeClient(kc, onRequest ? { onRequest } : {});
}

/**
 * A large synthetic mesh (bench/stale.ts's shape): `namespaces` namespaces `team-00`… with five apps
 * `svc-0-v1`… each (Deployment → ReplicaSet → pods, a Service, a VirtualService and a DestinationRule with
 * subset v1), `proxies` pods with sidecars in all, istiod with the given replicas.
 */
export function largeMeshSeed(proxies: number, namespaces: number, istiods: readonly string[]): KubeObject[] {
  const perNs = Math.ceil(proxies / namespaces);
  const apps = 5;
  const seed: KubeObject[] = [...istiodObjects(istiods)];
  for (let n = 0; n < namespaces; n++) {
    const ns = `team-${String(n).padStart(2, '0')}`;
    seed.push(namespace(ns));
    for (let a = 0; a < apps; a++) {
      const replicas = Math.floor(perNs / apps) + (a < perNs % apps ? 1 : 0);
      const labels = { app: `svc-${a}`, version: 'v1' };
      seed.push(
        ...workloadObjects({ namespace: ns, deployment: `svc-${a}-v1`, labels, replicas }),
        service(ns, `svc-${a}`, { app: `svc-${a}` }),
        {
          apiVersion: 'networking.istio.io/v1',
          kind: 'VirtualService',
          metadata: { name: `svc-${a}`, namespace: ns },
          spec: { hosts: [`svc-${a}`], http: [{ route: [{ destination: { host: `svc-${a}`, subset: 'v1' } }] }] },
        },
        {
          apiVersion: 'networking.istio.io/v1',
          kind: 'DestinationRule',
          metadata: { name: `svc-${a}`, namespace: ns },
          spec: { host: `svc-${a}`, subsets: [{ name: 'v1', labels: { version: 'v1' } }] },
        },
      );
    }
  }
  return seed;
}
