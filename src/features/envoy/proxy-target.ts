// Which Envoy a `/mesh proxy-config|dump|stats|certs` question is about. People type what istioctl takes
// (`<pod>.<ns>`, `pod/<pod> -n <ns>`), a Deployment's name, or `app=<label>`; a workload of several pods is
// answered from one of them (a ready one, named in the answer), the others listed so they can be asked next.
// A pod without an Envoy (no istio-proxy container and not a gateway) is refused with what to ask instead.
import type { KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/objects.ts';
import { UserError } from '../../errors.ts';
import { findProxyContainer } from '../../mesh/sidecar-proxy.ts';
import { MeshSnapshot } from '../../mesh/snapshot.ts';
import { resolveWorkload, type WorkloadRef } from '../../mesh/workload-ref.ts';

export interface ProxyTarget {
  namespace: string;
  pod: string;
  /** The pod as read. */
  object: KubeObject;
  /** A sidecar (istio-proxy container) or a gateway (the proxy is the pod's main container). */
  role: 'sidecar' | 'gateway';
  /** How it was found, for people: "pod bookinfo/reviews-v1-abc", "Deployment bookinfo/reviews-v1 (2 pods)". */
  via: string;
  /** The workload's other pods (namespace/name), when one was picked from several. */
  others: string[];
}

/** A gateway's pod runs Envoy as its main container (istio-proxy, image proxyv2) with the `router` role. */
function isGateway(pod: KubeObject): boolean {
  const labels = pod.metadata.labels ?? {};
  if (labels.istio === 'ingressgateway' || labels.istio === 'egressgateway') return true;
  if (labels['gateway.networking.k8s.io/gateway-name']) return true;
  const containers = (pod.spec as { containers?: Array<{ name?: string; args?: unknown }> } | undefined)?.containers;
  return (containers ?? []).some((c) => c.name === 'istio-proxy' && Array.isArray(c.args) && c.args.includes('router'));
}

function ready(pod: KubeObject): boolean {
  const status = pod.status as { phase?: string; conditions?: Array<{ type?: string; status?: string }> } | undefined;
  return (
    status?.phase === 'Running' && (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

/** The pod whose Envoy answers: the named pod, or a ready pod of the workload (oldest first, as stable as it gets). */
export async function resolveProxy(kube: KubeClient, ref: WorkloadRef): Promise<ProxyTarget> {
  const namespace = ref.namespace;
  const [pods, deployments] = await Promise.all([
    kube.list('Pod', namespace ? { namespace } : {}),
    ref.kind === 'label' ? Promise.resolve([]) : kube.list('Deployment', namespace ? { namespace } : {}),
  ]);
  const resolved = resolveWorkload(new MeshSnapshot([...pods, ...deployments]), ref);
  const withEnvoy = resolved.pods.filter((p) => findProxyContainer(p) || isGateway(p));
  if (withEnvoy.length === 0) {
    const first = resolved.pods[0];
    const name = first ? `${first.metadata.namespace}/${first.metadata.name}` : resolved.via;
    const ask = first ? `/mesh describe pod ${first.metadata.name}.${first.metadata.namespace}` : '/mesh describe';
    throw new UserError(
      resolved.pods.length === 1
        ? `Pod ${name} has no Envoy: it has no istio-proxy container, so it is not in the mesh.`
        : `None of the pods of ${resolved.via} has an Envoy (no istio-proxy container): they are not in the mesh.`,
      `\`${ask}\` says why (injection off for its namespace, or the pod opted out); ask about a pod that has a sidecar.`,
    );
  }
  const byAge = [...withEnvoy].sort((a, b) =>
    String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')),
  );
  const chosen = byAge.find(ready) ?? (byAge[0] as KubeObject);
  const ns = chosen.metadata.namespace ?? resolved.namespace;
  return {
    namespace: ns,
    pod: chosen.metadata.name,
    object: chosen,
    role: findProxyContainer(chosen) && !isGateway(chosen) ? 'sidecar' : 'gateway',
    via: resolved.via,
    others: byAge.filter((p) => p !== chosen).map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
  };
}

/** "from pod reviews-v1-abc (one of 3 pods of Deployment bookinfo/reviews-v1)" — said in every answer. */
export function targetLine(t: ProxyTarget): string {
  const own = `pod \`${t.namespace}/${t.pod}\``;
  if (t.others.length === 0) return `${t.role === 'gateway' ? 'gateway ' : ''}${own}`;
  return `${own}, one of ${t.others.length + 1} pods of ${t.via.replace(/ \(\d+ pods?\)$/, '')}`;
}
