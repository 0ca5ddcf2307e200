// Follows istio/istio pkg/config/analysis/analyzers/telemetry/defaultselector.go: DefaultSelectorAnalyzer.Analyze.
//
// telemetry.DefaultSelectorAnalyzer: at most one Telemetry per namespace may have no `selector`; with several, which
// one applies is undefined (IST0160 on each). As Istio at this version, only `selector` counts: a Telemetry that
// names its workloads by `targetRef`/`targetRefs` alone is counted as one without selector.
import type { KubeObject } from '../../../kube/objects.ts';
import { isRec, nsOf, spec } from '../util/fields.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { gvk } from '../util/kinds.ts';

export const telemetryDefaultSelectorAnalyzer: Analyzer = {
  name: 'telemetry.DefaultSelectorAnalyzer',
  description: "Validates that there aren't multiple telemetry resources that have no selector",
  inputs: [gvk.Telemetry],
  analyze(snapshot) {
    const byNs = new Map<string, KubeObject[]>();
    for (const t of snapshot.listOf(gvk.Telemetry)) {
      const s = spec(t);
      if (isRec(s['selector'])) continue;
      const list = byNs.get(nsOf(t));
      if (list) list.push(t);
      else byNs.set(nsOf(t), [t]);
    }
    const out: AnalysisMessage[] = [];
    for (const [ns, list] of byNs) {
      if (list.length < 2) continue;
      const names = list.map((t) => t.metadata.name);
      for (const t of list) out.push(message('MultipleTelemetriesWithoutWorkloadSelectors', t, [names, ns]));
    }
    return out;
  },
};
