// destinationrule.SubsetSelectPodAnalyzer: a DestinationRule's host must exist, and each subset should
// select at least one pod (pod labels augmented with the node's topology labels, as istiod does).
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
      recs(s['subsets']).forEach((subset, i) => {
        const selector = { ...se.workloadSelector, ...strMap(subset['labels']) };
        if (!anyPodMatches(snapshot, selector))
          out.push(
            message('DestinationRuleSubsetNotSelectPods', dr, [str(subset['name'])], ['spec', 'subsets', i, 'name']),
          );
      });
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
  // Istio does not match on empty node locality labels, so only non-empty ones are added.
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
