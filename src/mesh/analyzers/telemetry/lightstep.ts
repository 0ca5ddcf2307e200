// Follows istio/istio pkg/config/analysis/analyzers/telemetry/lightstep.go: LightstepAnalyzer.Analyze.
//
// telemetry.LightstepAnalyzer: tracing through a mesh config extension provider of type `lightstep` is deprecated in
// favour of OpenTelemetry: each tracing provider of a Telemetry naming one is IST0002 on the Telemetry.
import { isRec, recs, spec, str } from '../util/fields.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { gvk } from '../util/kinds.ts';

export const telemetryLightstepAnalyzer: Analyzer = {
  name: 'telemetry.LightstepAnalyzer',
  description: 'Validates that lightstep provider is still used',
  inputs: [gvk.Telemetry, gvk.MeshConfig],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    const lightstep = new Set(
      recs(snapshot.meshConfig['extensionProviders'])
        .filter((p) => isRec(p['lightstep']))
        .map((p) => str(p['name'])),
    );
    if (lightstep.size === 0) return out;
    for (const t of snapshot.listOf(gvk.Telemetry)) {
      for (const tracing of recs(spec(t)['tracing'])) {
        for (const p of recs(tracing['providers'])) {
          const name = str(p['name']);
          if (lightstep.has(name))
            out.push(
              message('Deprecated', t, [
                `The Lightstep provider ${name} is deprecated, please migrate to OpenTelemetry provider.`,
              ]),
            );
        }
      }
    }
    return out;
  },
};
