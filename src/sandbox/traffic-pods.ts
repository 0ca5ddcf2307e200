// The pods of the traffic model as it sees them: whether a pod has a sidecar, the workload, app,
// version and SPIFFE principal its telemetry names, and the container port a Service port reaches.
import type { KubeObject } from '../kube/objects.ts';

export type Labels = Record<string, string>;

/** The sidecar's container name (a regular container, or a native-sidecar init container). */
export const proxyContainerName = 'istio-proxy';

export interface PodShape {
  containers?: { name: string; ports?: { name?: string; containerPort?: number }[] }[];
  initContainers?: { name: string }[];
  serviceAccountName?: string;
}

export interface ServiceShape {
  selector?: Labels;
  ports?: { port: number; targetPort?: number | string }[];
}

export function hasSidecar(pod: KubeObject): boolean {
  const spec = (pod.spec ?? {}) as PodShape;
  return [...(spec.containers ?? []), ...(spec.initContainers ?? [])].some((c) => c.name === proxyContainerName);
}

/** The container port a Service port reaches on one pod: a number as is, a name looked up in the pod's containers. */
export function containerPortFor(
  pod: KubeObject,
  port: { port: number; targetPort?: number | string },
): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const c of ((pod.spec ?? {}) as PodShape).containers ?? [])
    for (const p of c.ports ?? []) if (p.name === target) return p.containerPort;
  return undefined;
}

export interface PodRef {
  pod: KubeObject;
  ns: string;
  name: string;
  ip: string;
  workload: string;
  app: string;
  version: string;
  principal: string;
  sidecar: boolean;
}

function workloadOf(pod: KubeObject): string {
  const owner = pod.metadata.ownerReferences?.find((o) => o.kind === 'ReplicaSet');
  return owner ? owner.name.replace(/-[a-z0-9]{5,10}$/, '') : (pod.metadata.labels?.app ?? pod.metadata.name);
}

export function podRef(pod: KubeObject): PodRef {
  const ns = pod.metadata.namespace ?? '';
  const spec = (pod.spec ?? {}) as PodShape;
  const status = (pod.status ?? {}) as { podIP?: string };
  return {
    pod,
    ns,
    name: pod.metadata.name,
    ip: status.podIP ?? '10.244.0.1',
    workload: workloadOf(pod),
    app: pod.metadata.labels?.app ?? workloadOf(pod),
    version: pod.metadata.labels?.version ?? 'unknown',
    principal: `spiffe://cluster.local/ns/${ns}/sa/${spec.serviceAccountName ?? 'default'}`,
    sidecar: hasSidecar(pod),
  };
}

/** A gateway's proxy (pilot-agent `proxy router`), which takes Gateway-bound VirtualServices, not the mesh's. */
export function isGatewayPod(pod: KubeObject): boolean {
  const spec = (pod.spec ?? {}) as { containers?: { name: string; args?: string[] }[] };
  return (spec.containers ?? []).some((c) => c.name === proxyContainerName && (c.args ?? []).includes('router'));
}

/** Running, Ready and not being deleted: what the endpoints controller and EDS offer as a healthy endpoint. */
export function isReadyEndpoint(pod: KubeObject): boolean {
  const status = (pod.status ?? {}) as { phase?: string; conditions?: { type: string; status: string }[] };
  return (
    status.phase === 'Running' &&
    !pod.metadata.deletionTimestamp &&
    (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}
