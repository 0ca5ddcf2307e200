// Follows istio/istio pkg/config/analysis/analyzers/destinationrule/subset.go: PodNotSelectedAnalyzer.Analyze,
// augmentPodLabelsWithNodeTopology; the host lookup is util/hosts.ts (Istio's util.GetDestinationHost with the
// DestinationRule's exportTo).
//
// destinationrule.SubsetSelectPodAnalyzer: a DestinationRule's host must resolve to a Service or ServiceEntry
// visible from it (IST0174 UnknownDestinationRuleHost otherwise, and its subsets are not judged), and each subset
// (by name) should select at least one pod in any namespace, the host's workloadSelector merged under the
// subset's labels, pod labels augmented with the node's topology labels and hostname, as istiod does (IST0173).
// Nodes are optional here (Istio requires them): without them pods are judged on their own labels.
import type { KubeObject } from '../../../kube/objects.ts';
import type { SnapshotReader } from '../../snapshot.ts';
import { labels, memo, nsOf, rec, recs, spec, str, strMap, strs } from '../util/fields.ts';
import { destinationHost } from '../util/hosts.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message, optional } from '../types.ts';
import { gvk } from '../util/kinds.ts';

const TOPOLOGY = ['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone'];
const HOSTNAME = 'kubernetes.io/hostname';

export const subsetSelectPodAnalyzer: Analyzer = {
  name: 'destinationrule.SubsetSelectPodAnalyzer',
  description: 'Checks if pods are selected by subsets in destination rules.',
  inputs: [
    gvk.DestinationRule,
    gvk.ServiceEntry,
    gvk.Service,
    gvk.Pod,
    gvk.MeshConfig,
    optional(gvk.Node, 'a subset that selects by node topology (region, zone) is judged on pod labels alone'),
  ],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    for (const dr of snapshot.listOf(gvk.DestinationRule)) {
      const s = spec(dr);
      const host = str(s['host']);
      const se = destinationHost(snapshot, nsOf(dr), strs(s['exportTo']), host);
      if (!se) {
        out.push(message('UnknownDestinationRuleHost', dr, [host], ['spec', 'host']));
        continue;
      }
      // Istio keys the subsets by name: a name given twice is judged once, on the last subset of that name.
      const byName = new Map<string, { labels: Record<string, string>; index: number }>();
      recs(s['subsets']).forEach((subset, index) => {
        byName.set(str(subset['name']), { labels: strMap(subset['labels']), index });
      });
      for (const [name, subset] of byName) {
        const selector = { ...se.workloadSelector, ...subset.labels };
        if (!anyPodMatches(snapshot, selector))
          out.push(
            message('DestinationRuleSubsetNotSelectPods', dr, [name], ['spec', 'subsets', subset.index, 'name']),
          );
      }
    }
    return out;
  },
};

/** Pod labels plus topology labels from the pod's node, indexed by label pair. */
function augmentedPodIndex(snapshot: SnapshotReader): {
  byPair: Map<string, Record<string, string>[]>;
  all: Record<string, string>[];
} {
  return memo(snapshot, 'destinationrule.augmentedPods', () => {
    const byPair = new Map<string, Record<string, string>[]>();
    const all: Record<string, string>[] = [];
    for (const pod of snapshot.listOf(gvk.Pod)) {
      const l = augment(snapshot, pod);
      all.push(l);
      for (const [k, v] of Object.entries(l)) {
        const key = `${k}\u0000${v}`;
        const list = byPair.get(key);
        if (list) list.push(l);
        else byPair.set(key, [l]);
      }
    }
    return { byPair, all };
  });
}

function augment(snapshot: SnapshotReader, pod: KubeObject): Record<string, string> {
  const out = { ...labels(pod) };
  const nodeName = str(rec(pod.spec)['nodeName']);
  if (nodeName === '') return out;
  const node = snapshot.getOf(gvk.Node, undefined, nodeName);
  if (!node) return out;
  const nodeLabels = labels(node);
  // Istio's augmentPodLabelsWithNodeTopology at the pinned version adds only non-empty locality labels (a subset
  // asking for an empty region matches no pod; Istio's case DestinationRuleEmptyTopologyLabels).
  for (const key of TOPOLOGY) if (nodeLabels[key]) out[key] = nodeLabels[key];
  out[HOSTNAME] = nodeName;
  return out;
}

function anyPodMatches(snapshot: SnapshotReader, selector: Record<string, string>): boolean {
  const index = augmentedPodIndex(snapshot);
  const entries = Object.entries(selector);
  if (entries.length === 0) return index.all.length > 0;
  let smallest: Record<string, string>[] | undefined;
  for (const [k, v] of entries) {
    const list = index.byPair.get(`${k}\u0000${v}`);
    if (!list) return false;
    if (!smallest || list.length < smallest.length) smallest = list;
  }
  return (smallest ?? []).some((l) => entries.every(([k, v]) => l[k] === v));
}
