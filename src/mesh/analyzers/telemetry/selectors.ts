// Follows istio/istio pkg/config/analysis/analyzers/telemetry/selector.go: SelectorAnalyzer.Analyze.
//
// telemetry.SelectorAnalyzer: a Telemetry whose selector has matchLabels should select a pod in its own namespace
// (else IST0101 on it, at the selector's first label), and two such Telemetries must not select the same pod
// (IST0159 on each, naming the pod).
import type { KubeObject } from '../../../kube/objects.ts';
import { isRec, nsOf, rec, spec, strMap } from '../util/fields.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { podsSelected, selectorString } from '../util/workloads.ts';
import { gvk } from '../util/kinds.ts';

export const telemetrySelectorAnalyzer: Analyzer = {
  name: 'telemetry.SelectorAnalyzer',
  description:
    "Validates that telemetries that define a selector match at least one pod, and that there aren't multiple telemetry resources that select overlapping pods",
  inputs: [gvk.Telemetry, gvk.Pod],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    const podToTelemetries = new Map<KubeObject, KubeObject[]>();
    for (const t of snapshot.listOf(gvk.Telemetry)) {
      const sel = spec(t)['selector'];
      if (!isRec(sel)) continue;
      const selector = strMap(rec(sel)['matchLabels']);
      if (Object.keys(selector).length === 0) continue;
      const pods = podsSelected(snapshot, selector, nsOf(t));
      if (pods.length === 0) {
        const first = Object.keys(selector).sort()[0] ?? '';
        out.push(
          message(
            'ReferencedResourceNotFound',
            t,
            ['selector', selectorString(selector)],
            ['spec', 'selector', 'matchLabels', first],
          ),
        );
      }
      for (const pod of pods) {
        const list = podToTelemetries.get(pod);
        if (list) list.push(t);
        else podToTelemetries.set(pod, [t]);
      }
    }
    for (const [pod, list] of podToTelemetries) {
      if (list.length < 2) continue;
      const names = list.map((t) => t.metadata.name);
      for (const t of list)
        out.push(message('ConflictingTelemetryWorkloadSelectors', t, [names, nsOf(pod), pod.metadata.name]));
    }
    return out;
  },
};
