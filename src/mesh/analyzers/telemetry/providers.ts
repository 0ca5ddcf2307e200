// Follows istio/istio pkg/config/analysis/analyzers/telemetry/providers.go: ProdiverAnalyzer.Analyze.
//
// telemetry.ProviderAnalyzer: when mesh config sets no `defaultProviders.accessLogging`, every access-logging entry of
// a Telemetry that is not `disabled` and names no providers does nothing (IST0157 on the Telemetry, once per entry).
import { isRec, nsOf, rec, recs, spec, strs } from '../util/fields.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { gvk } from '../util/kinds.ts';

export const telemetryProviderAnalyzer: Analyzer = {
  name: 'telemetry.ProviderAnalyzer',
  description: 'Validates that providers in telemetry resource is valid',
  inputs: [gvk.Telemetry, gvk.MeshConfig],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    if (strs(rec(snapshot.meshConfig['defaultProviders'])['accessLogging']).length > 0) return out;
    for (const t of snapshot.listOf(gvk.Telemetry)) {
      for (const l of recs(spec(t)['accessLogging'])) {
        if (l['disabled'] === true || (isRec(l['disabled']) && l['disabled']['value'] === true)) continue;
        if (recs(l['providers']).length === 0)
          out.push(message('InvalidTelemetryProvider', t, [t.metadata.name, nsOf(t)]));
      }
    }
    return out;
  },
};
