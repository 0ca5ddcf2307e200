// meshops.SelectorAnalyzer (MSH0004, MSH0005): selectors that match no pod, where Istio's analyzers do not
// look. A Service selecting nothing has no endpoints (callers get 503s); a PeerAuthentication,
// RequestAuthentication, WasmPlugin or EnvoyFilter selecting nothing applies to nothing. Policies in the root
// namespace select across the mesh; those attached by targetRef do not select pods at all.
import type { KindRef } from '../../snapshot.ts';
import { isRec, nsOf, rec, recs, spec, str, strMap } from '../util/fields.ts';
import { gvk } from '../util/kinds.ts';
import { podsSelected, selectorString } from '../util/workloads.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';

/** Where each kind keeps its workload selector's labels. */
const POLICIES: readonly { ref: KindRef; path: readonly string[] }[] = [
  { ref: gvk.PeerAuthentication, path: ['selector', 'matchLabels'] },
  { ref: gvk.RequestAuthentication, path: ['selector', 'matchLabels'] },
  { ref: gvk.WasmPlugin, path: ['selector', 'matchLabels'] },
  { ref: gvk.EnvoyFilter, path: ['workloadSelector', 'labels'] },
];

export const selectorAnalyzer: Analyzer = {
  name: 'meshops.SelectorAnalyzer',
  description: 'Finds Services and policies whose selector matches no pod',
  inputs: [gvk.Service, gvk.Pod, ...POLICIES.map((p) => p.ref), gvk.MeshConfig],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    for (const svc of snapshot.listOf(gvk.Service)) {
      const selector = strMap(spec(svc)['selector']);
      if (str(spec(svc)['type']) === 'ExternalName' || Object.keys(selector).length === 0) continue;
      if (podsSelected(snapshot, selector, nsOf(svc)).length > 0) continue;
      out.push(
        message(
          'ServiceSelectsNoPods',
          svc,
          [selectorString(selector), nsOf(svc)],
          ['spec', 'selector', firstKey(selector)],
        ),
      );
    }
    const root = snapshot.rootNamespace;
    for (const { ref, path } of POLICIES) {
      for (const policy of snapshot.listOf(ref)) {
        const s = spec(policy);
        if (isRec(s['targetRef']) || recs(s['targetRefs']).length > 0 || !isRec(s[path[0]!])) continue;
        const selector = strMap(rec(s[path[0]!])[path[1]!]);
        if (Object.keys(selector).length === 0) continue;
        const meshWide = nsOf(policy) === root;
        if (podsSelected(snapshot, selector, meshWide ? undefined : nsOf(policy)).length > 0) continue;
        const scope = meshWide ? `any namespace (${root} is the root namespace)` : `namespace ${nsOf(policy)}`;
        out.push(
          message(
            'PolicySelectorMatchesNothing',
            policy,
            [selectorString(selector), scope, ref.kind],
            ['spec', ...path, firstKey(selector)],
          ),
        );
      }
    }
    return out;
  },
};

function firstKey(selector: Record<string, string>): string {
  return Object.keys(selector).sort()[0] ?? '';
}
