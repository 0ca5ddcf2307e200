// Pods, selectors and sidecars: which pods a selector picks (through a label index, so a lookup costs
// the size of the smallest matching label group rather than a scan of all pods) and whether a workload
// is in the mesh.
import type { KubeObject } from '../../../kube/objects.ts';
import { matchesLabels } from '../../../kube/objects.ts';
import type { SnapshotReader } from '../../snapshot.ts';
import { labels, memo, nsOf, rec, recs, str, strMap } from './fields.ts';
import { gvk } from './kinds.ts';

/** Namespaces Istio never injects and its analyzers leave alone (inject.IgnoredNamespaces). */
export const SYSTEM_NAMESPACES: ReadonlySet<string> = new Set([
  'kube-system',
  'kube-public',
  'kube-node-lease',
  'local-path-storage',
]);

export function isSystemNamespace(ns: string | undefined): boolean {
  return ns !== undefined && SYSTEM_NAMESPACES.has(ns);
}

/** k8s labels.SelectorFromSet(...).String(): `a=b,c=d`, keys sorted; empty for select-all. */
export function selectorString(selector: Record<string, string>): string {
  return Object.keys(selector)
    .sort()
    .map((k) => `${k}=${selector[k]}`)
    .join(',');
}

interface LabelIndex {
  byPair: Map<string, KubeObject[]>;
  all: readonly KubeObject[];
}

function podLabelIndex(snapshot: SnapshotReader): LabelIndex {
  return memo(snapshot, 'workloads.podLabelIndex', () => {
    const byPair = new Map<string, KubeObject[]>();
    for (const pod of snapshot.listOf(gvk.Pod)) {
      for (const [k, v] of Object.entries(labels(pod))) {
        const key = `${k}\u0000${v}`;
        const list = byPair.get(key);
        if (list) list.push(pod);
        else byPair.set(key, [pod]);
      }
    }
    return { byPair, all: snapshot.listOf(gvk.Pod) };
  });
}

/** Pods (any namespace, or one namespace) whose labels the matchLabels selector selects. Empty selects all. */
export function podsSelected(
  snapshot: SnapshotReader,
  selector: Record<string, string>,
  namespace?: string,
): KubeObject[] {
  const entries = Object.entries(selector);
  if (entries.length === 0)
    return [...(namespace === undefined ? snapshot.listOf(gvk.Pod) : snapshot.listOf(gvk.Pod, namespace))];
  const index = podLabelIndex(snapshot);
  let smallest: KubeObject[] | undefined;
  for (const [k, v] of entries) {
    const list = index.byPair.get(`${k}\u0000${v}`);
    if (!list) return [];
    if (!smallest || list.length < smallest.length) smallest = list;
  }
  return (smallest ?? []).filter(
    (p) => (namespace === undefined || nsOf(p) === namespace) && matchesLabels(selector, labels(p)),
  );
}

/** Services in the pod's namespace whose selector selects the given labels (a Service without selector selects nothing). */
export function servicesSelecting(
  snapshot: SnapshotReader,
  namespace: string,
  podLabels: Record<string, string>,
): KubeObject[] {
  return snapshot.listOf(gvk.Service, namespace).filter((svc) => {
    const sel = strMap(rec(svc.spec)['selector']);
    return Object.keys(sel).length > 0 && matchesLabels(sel, podLabels);
  });
}

export const INJECTION_LABEL = 'istio-injection';
export const SIDECAR_INJECT = 'sidecar.istio.io/inject';
export const REVISION_LABEL = 'istio.io/rev';
export const PROXY_CONTAINER = 'istio-proxy';

export function containers(podSpec: unknown): Record<string, unknown>[] {
  return recs(rec(podSpec)['containers']);
}

export function initContainers(podSpec: unknown): Record<string, unknown>[] {
  return recs(rec(podSpec)['initContainers']);
}

function hasIstioProxy(cs: readonly Record<string, unknown>[]): boolean {
  return cs.some((c) => str(c['name']) === PROXY_CONTAINER && str(c['image']) !== '');
}

/** Istio's inMesh: proxy container present, or injection asked for by pod label/annotation, or by namespace label. */
export function inMesh(
  snapshot: SnapshotReader,
  annos: Record<string, string>,
  podLabels: Record<string, string>,
  namespace: string,
  cs: readonly Record<string, unknown>[],
): boolean {
  if (hasIstioProxy(cs)) return true;
  if (SIDECAR_INJECT in podLabels) return podLabels[SIDECAR_INJECT] === 'true';
  if (SIDECAR_INJECT in annos) return annos[SIDECAR_INJECT] === 'true';
  const ns = snapshot.getOf(gvk.Namespace, undefined, namespace);
  if (ns) return labels(ns)[INJECTION_LABEL] === 'enabled';
  return false;
}

export function podInMesh(snapshot: SnapshotReader, pod: KubeObject): boolean {
  const s = rec(pod.spec);
  return inMesh(snapshot, pod.metadata.annotations ?? {}, labels(pod), nsOf(pod), [
    ...containers(s),
    ...initContainers(s),
  ]);
}

export function deploymentInMesh(snapshot: SnapshotReader, deployment: KubeObject): boolean {
  const template = rec(rec(deployment.spec)['template']);
  const meta = rec(template['metadata']);
  return inMesh(
    snapshot,
    strMap(meta['annotations']),
    strMap(meta['labels']),
    nsOf(deployment),
    containers(template['spec']),
  );
}

/** Istio-managed control plane objects (label `istio` or `release: istio`). */
export function isIstioControlPlane(obj: KubeObject): boolean {
  const l = labels(obj);
  return 'istio' in l || l['release'] === 'istio';
}

const AMBIENT_REDIRECTION = 'ambient.istio.io/redirection';
export const DATAPLANE_MODE = 'istio.io/dataplane-mode';

/** A pod captured by ztunnel (ambient mode). */
export function podInAmbient(pod: KubeObject | undefined): boolean {
  return pod?.metadata.annotations?.[AMBIENT_REDIRECTION] === 'enabled';
}

/** An ambient namespace, unless sidecar injection is also asked for (injection label or revision). */
export function namespaceInAmbient(ns: KubeObject | undefined): boolean {
  if (!ns) return false;
  const l = labels(ns);
  if (l[INJECTION_LABEL] === 'enabled') return false;
  if (l[REVISION_LABEL]) return false;
  return l[DATAPLANE_MODE] === 'ambient';
}
