// Follows istio/istio pkg/config/analysis/analyzers/virtualservice/jwtclaimroute.go: JWTClaimRouteAnalyzer.Analyze,
// analyze, routeBasedOnJWTClaimKey (RequestAuthentications of istio-system, hard-coded as in Istio, and of the
// pod's namespace; one IST0149 per gateway pod none of them selects).
//
// virtualservice.JWTClaimRouteAnalyzer: routing on JWT claims at a gateway only works when a
// RequestAuthentication applies to the gateway pods; without one, the claims are never populated.
import { matchesLabels } from '../../../kube/objects.ts';
import { isRec, labels, nsOf, rec, recs, spec, strMap, strs } from '../util/fields.ts';
import { MESH_GATEWAY } from '../util/hosts.ts';
import { istioGateways } from '../util/kinds.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { shortOrFullName } from './gateways.ts';
import { podsSelected } from '../util/workloads.ts';
import { gvk } from '../util/kinds.ts';

const JWT_CLAIM_HEADER = '@request.auth.claims';

export const jwtClaimRouteAnalyzer: Analyzer = {
  name: 'virtualservice.JWTClaimRouteAnalyzer',
  description: 'Checks the VirtualService using JWT claim based routing has corresponding RequestAuthentication',
  inputs: [gvk.RequestAuthentication, gvk.VirtualService, gvk.Gateway, gvk.Pod],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    const raSelectors = new Map<string, Record<string, string>[]>();
    for (const ra of snapshot.listOf(gvk.RequestAuthentication)) {
      const sel = strMap(rec(spec(ra)['selector'])['matchLabels']);
      const list = raSelectors.get(nsOf(ra));
      if (list) list.push(sel);
      else raSelectors.set(nsOf(ra), [sel]);
    }
    for (const vs of snapshot.listOf(gvk.VirtualService)) {
      const key = claimKey(spec(vs)['http']);
      if (key === '') continue;
      for (const gwName of strs(spec(vs)['gateways'])) {
        if (gwName === MESH_GATEWAY) continue;
        const ref = shortOrFullName(nsOf(vs), gwName);
        const gw = istioGateways(snapshot).get(ref.namespace, ref.name);
        if (!gw) continue; // reported by virtualservice.GatewayAnalyzer
        for (const pod of podsSelected(snapshot, strMap(spec(gw)['selector']))) {
          const selectors = [...(raSelectors.get('istio-system') ?? []), ...(raSelectors.get(nsOf(pod)) ?? [])];
          if (!selectors.some((s) => matchesLabels(s, labels(pod)))) {
            out.push(
              message('JwtClaimBasedRoutingWithoutRequestAuthN', vs, [
                key,
                ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name,
                pod.metadata.name,
              ]),
            );
          }
        }
      }
    }
    return out;
  },
};

function claimKey(http: unknown): string {
  for (const route of recs(http)) {
    for (const match of recs(route['match'])) {
      for (const field of ['headers', 'withoutHeaders']) {
        if (!isRec(match[field])) continue;
        for (const k of Object.keys(match[field])) if (k.startsWith(JWT_CLAIM_HEADER)) return k;
      }
    }
  }
  return '';
}
