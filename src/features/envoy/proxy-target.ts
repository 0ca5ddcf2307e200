// Which Envoy a `/mesh proxy-config|dump|stats|certs` question is about. People type what istioctl takes
// (`<pod>.<ns>`, `pod/<pod> -n <ns>`), a Deployment's name, or `app=<label>`; a workload of several pods is
// answered from one of them (a ready one, named in the answer), the others listed so they can be asked next.
// A pod without an Envoy (no istio-proxy container and not a gateway) is refused with what to ask instead.
import type { KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/objects.ts';
import { UserError } from '../../errors.ts';
import { ENVOY_ADMIN_PORT, EnvoyAdminError } from '../../envoy/admin.ts';
import { ProxyConfigError } from '../../envoy/proxy-config/index.ts';
import { PortForwardError } from '../../kube/port-forward.ts';
import { findProxyContainer } from '../../mesh/sidecar-proxy.ts';
import { MeshSnapshot } from '../../mesh/snapshot.ts';
import {
  gatewaySelector,
  gatewayServingPods,
  type ResolvedWorkload,
  resolveWorkload,
  WorkloadNotFoundError,
  type WorkloadRef,
} from '../../mesh/workload-ref.ts';

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
  let resolved: ResolvedWorkload;
  try {
    resolved = resolveWorkload(new MeshSnapshot([...pods, ...deployments]), ref);
  } catch (err) {
    const viaGateway = err instanceof WorkloadNotFoundError ? await gatewayWorkload(kube, ref) : undefined;
    if (!viaGateway) throw err;
    resolved = viaGateway;
  }
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

/**
 * `certs checkout-gateway -n checkout`: a name that is no pod or Deployment but an Istio Gateway is answered from
 * the gateway pods serving it (its selector, in any namespace). Undefined when there is no such Gateway or no
 * pod serves it (the not-found error then stands, with a word on the Gateway from resolveWorkload's snapshot).
 */
async function gatewayWorkload(kube: KubeClient, ref: WorkloadRef): Promise<ResolvedWorkload | undefined> {
  if ((ref.kind !== 'any' && ref.kind !== 'deployment') || !ref.namespace) return undefined;
  const name = ref.name;
  const gw = (await kube.list('Gateway', { namespace: ref.namespace }).catch(() => [])).find(
    (g) => g.metadata.name === name,
  );
  if (!gw) return undefined;
  const serving = gatewayServingPods(gw, await kube.list('Pod', {}));
  if (serving.length === 0) {
    const { shown } = gatewaySelector(gw);
    throw new UserError(
      `${name} is a Gateway in ${ref.namespace}, and no pod matches its selector${shown ? ` ${shown}` : ''}: no gateway serves it.`,
      'Check that the ingress gateway is installed and its pods carry those labels: `kubectl get pods -A -l ' +
        (shown || '<selector>') +
        '`',
    );
  }
  const { shown } = gatewaySelector(gw);
  return {
    namespace: serving[0]!.metadata.namespace ?? ref.namespace,
    pods: serving,
    via: `Gateway ${ref.namespace}/${name} (served by ${serving.length === 1 ? 'the pod' : `${serving.length} pods`} labelled ${shown})`,
  };
}

/** "from pod reviews-v1-abc (one of 3 pods of Deployment bookinfo/reviews-v1)" — said in every answer. */
export function targetLine(t: ProxyTarget): string {
  const own = `pod \`${t.namespace}/${t.pod}\``;
  const forGateway = t.via.startsWith('Gateway ') ? ` (for ${t.via.replace(/ \(.*$/, '')})` : '';
  if (t.others.length === 0) return `${t.role === 'gateway' ? 'gateway ' : ''}${own}${forGateway}`;
  if (forGateway) return `gateway ${own}, one of ${t.others.length + 1} pods serving ${t.via.replace(/ \(.*$/, '')}`;
  return `${own}, one of ${t.others.length + 1} pods of ${t.via.replace(/ \(\d+ pods?\)$/, '')}`;
}

/** Why Envoy's admin API could not be read, in words, and what to do about it; undefined for other errors. */
export interface AdminFailure {
  reason: string;
  hint: string;
}

/** A failed admin read (tunnel, Envoy's answer, a body that is not Envoy's) in words for people. */
export function adminFailure(
  err: unknown,
  t: Pick<ProxyTarget, 'namespace' | 'pod'>,
  what: string,
): AdminFailure | undefined {
  const pod = `${t.namespace}/${t.pod}`;
  const pf = `\`kubectl port-forward -n ${t.namespace} pod/${t.pod} ${ENVOY_ADMIN_PORT}\``;
  if (err instanceof PortForwardError) {
    if (err.kind === 'tunnel' && (err.status === 403 || err.status === 401))
      return {
        reason: `The cluster refused meshops a port-forward to pod ${pod} (RBAC ${err.status}: no \`create\` on \`pods/portforward\` in namespace ${t.namespace}), so ${what} could not be read.`,
        hint: `Grant meshops' identity \`create\` on \`pods/portforward\` in \`${t.namespace}\` (the optional component deploy/components/envoy-admin grants it), or ask someone who may: ${pf}.`,
      };
    if (err.kind === 'tunnel' && err.status === 404)
      return {
        reason: `Pod ${pod} is gone (the port-forward found no such pod), so ${what} could not be read.`,
        hint: 'Ask again: the workload may have a new pod by now.',
      };
    if (err.kind === 'refused')
      return {
        reason: `Nothing answers on port ${ENVOY_ADMIN_PORT} in pod ${pod} (port-forward refused: ${err.message}): its Envoy is not running yet, has exited, or moved its admin port, so ${what} could not be read.`,
        hint: `\`/mesh describe pod ${t.pod}.${t.namespace}\` shows the sidecar's state; \`kubectl logs -n ${t.namespace} ${t.pod} -c istio-proxy\` says why Envoy is down.`,
      };
    if (err.kind === 'timeout')
      return {
        reason: `Envoy in pod ${pod} did not answer in time (${err.message}), so ${what} could not be read.`,
        hint:
          'The proxy may be overloaded or its config very large; ask again, or read it from a terminal with ' +
          pf +
          '.',
      };
    if (err.kind === 'too-large')
      return {
        reason: `Envoy's answer for ${what} in pod ${pod} is larger than meshops reads (${err.message}).`,
        hint: `Narrow it with a filter (\`--fqdn\`, \`--port\`), or read it from a terminal with ${pf}.`,
      };
    return {
      reason: `The port-forward to pod ${pod} failed before Envoy answered (${err.message}), so ${what} could not be read.`,
      hint: 'Ask again; if it keeps failing the API server or the node cannot reach the pod.',
    };
  }
  if (err instanceof EnvoyAdminError) {
    if (err.kind === 'http')
      return {
        reason: `Envoy in pod ${pod} refused ${err.path} (HTTP ${err.status}): ${err.message}`,
        hint: 'An admin port that answers but not like Envoy is not an Istio proxy, or an Envoy too old for this request.',
      };
    return {
      reason: `Port ${ENVOY_ADMIN_PORT} of pod ${pod} answered ${err.path}, but not with Envoy's JSON: this is not an Envoy admin API.`,
      hint: `Check what listens on ${ENVOY_ADMIN_PORT} in the pod (a ProxyConfig may have moved Envoy's admin port).`,
    };
  }
  if (err instanceof ProxyConfigError)
    return {
      reason: `Envoy in pod ${pod} answered, but ${what} is not in it: ${err.message}.`,
      hint: 'A proxy that has not received its configuration from istiod yet has nothing to show; `/mesh stale` says whether it is in sync.',
    };
  return undefined;
}
