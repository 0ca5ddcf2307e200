// Follows istio/istio pkg/config/analysis/analyzers/sidecar/selector.go: SelectorAnalyzer.Analyze (IST0101 for a
// workload selector that selects no pod of its namespace, IST0110 on every Sidecar once per pod it shares), with
// defaultselector.go's DefaultSelectorAnalyzer.Analyze folded in as Istio's current SelectorAnalyzer does (IST0111
// for two selector-less Sidecars in a namespace) and IST0167 IneffectivePolicy for Sidecars in ambient namespaces.
//
// sidecar.SelectorAnalyzer: a Sidecar's workload selector should select a pod; two Sidecars must not
// select the same pod; at most one selector-less Sidecar per namespace; and Sidecars in ambient
// namespaces do nothing.
import type { KubeObject } from '../../../kube/objects.ts';
import { isRec, nsOf, rec, spec, strMap } from '../util/fields.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { namespaceInAmbient, podsSelected, selectorString } from '../util/workloads.ts';
import { gvk } from '../util/kinds.ts';

export const sidecarSelectorAnalyzer: Analyzer = {
  name: 'sidecar.SelectorAnalyzer',
  description:
    "Validates that sidecars that define a workload selector match at least one pod, and that there aren't multiple sidecar resources that select overlapping pods",
  inputs: [gvk.Sidecar, gvk.Namespace, gvk.Pod],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    const podToSidecars = new Map<KubeObject, KubeObject[]>();
    const selectorless = new Map<string, KubeObject[]>();
    for (const sc of snapshot.listOf(gvk.Sidecar)) {
      const ns = nsOf(sc);
      if (namespaceInAmbient(snapshot.getOf(gvk.Namespace, undefined, ns))) {
        out.push(
          message('IneffectivePolicy', sc, ['Sidecar resources are not supported for workloads in ambient mode']),
        );
        continue;
      }
      const ws = spec(sc)['workloadSelector'];
      if (!isRec(ws)) {
        const list = selectorless.get(ns);
        if (list) list.push(sc);
        else selectorless.set(ns, [sc]);
        continue;
      }
      const selector = strMap(rec(ws)['labels']);
      if (Object.keys(selector).length === 0) continue;
      const pods = podsSelected(snapshot, selector, ns);
      if (pods.length === 0) {
        const first = Object.keys(selector).sort()[0] ?? '';
        out.push(
          message(
            'ReferencedResourceNotFound',
            sc,
            ['selector', selectorString(selector)],
            ['spec', 'workloadSelector', 'labels', first],
          ),
        );
      }
      for (const pod of pods) {
        const list = podToSidecars.get(pod);
        if (list) list.push(sc);
        else podToSidecars.set(pod, [sc]);
      }
    }
    for (const [pod, list] of podToSidecars) {
      if (list.length < 2) continue;
      const names = list.map((s) => s.metadata.name);
      for (const sc of list)
        out.push(message('ConflictingSidecarWorkloadSelectors', sc, [names, nsOf(pod), pod.metadata.name]));
    }
    for (const [ns, list] of selectorless) {
      if (list.length < 2) continue;
      const names = list.map((s) => s.metadata.name);
      for (const sc of list) out.push(message('MultipleSidecarsWithoutWorkloadSelectors', sc, [names, ns]));
    }
    return out;
  },
};
