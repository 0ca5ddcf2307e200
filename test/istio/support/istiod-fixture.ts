// Pods for port-forward tests: istiod replicas in istio-system and a few workloads with sidecars,
// plus the simulated istiods serving them on the sandbox's pod network.
import type { KubeObject } from '../../../src/kube/objects.ts';
import { buildMeshSync, type IstiodSim, type MeshSyncScenario } from '../../../src/sandbox/istiod-sim.ts';
import type { PodEndpoints } from '../../../src/sandbox/pod-endpoints.ts';

export function istiodPod(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'istio-system', labels: { app: 'istiod', istio: 'pilot', 'istio.io/rev': 'default' } },
    spec: {
      containers: [
        {
          name: 'discovery',
          image: 'docker.io/istio/pilot:1.24.2',
          ports: [
            { containerPort: 8080, protocol: 'TCP' },
            { containerPort: 15010, protocol: 'TCP' },
            { containerPort: 15017, protocol: 'TCP' },
          ],
        },
      ],
    },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

export const ISTIODS = ['istiod-7d4f74889d-mb5dh', 'istiod-7d4f74889d-q8x2c'] as const;

export const WORKLOADS = [
  { namespace: 'bookinfo', name: 'details-v1-558b8b4b76-6b68x' },
  { namespace: 'bookinfo', name: 'productpage-v1-6b746f74dc-9stvs' },
  { namespace: 'bookinfo', name: 'ratings-v1-b6994bb9-gl2wt' },
  { namespace: 'bookinfo', name: 'reviews-v1-545db77b95-8rjxw' },
  { namespace: 'bookinfo', name: 'reviews-v2-7bf8c9648f-2sp6h' },
] as const;

export const idOf = (w: { namespace: string; name: string }): string => `${w.name}.${w.namespace}`;

/** Two istiods splitting the workloads; reviews-v1 STALE on LDS, ratings NACKed CDS, details disconnected. */
export function demoScenario(extra: Partial<MeshSyncScenario> = {}): MeshSyncScenario {
  return {
    istiods: ISTIODS,
    pods: WORKLOADS,
    staleLds: [idOf(WORKLOADS[3])],
    nack: [{ proxyId: idOf(WORKLOADS[2]), type: 'CDS' }],
    disconnected: [idOf(WORKLOADS[0])],
    ...extra,
  };
}

export function serveIstiods(endpoints: PodEndpoints, scenario: MeshSyncScenario): IstiodSim[] {
  const sims = buildMeshSync(scenario);
  for (const s of sims) s.registerOn(endpoints);
  return sims;
}
