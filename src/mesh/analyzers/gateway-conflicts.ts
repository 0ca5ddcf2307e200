// gateway.ConflictingGatewayAnalyzer: two Gateways on the same workload selector and port must not
// claim the same host; which one wins is undefined.
import type { KubeObject } from '../../kube/objects.ts';
import { fullName, num, rec, recs, spec, strMap, strs } from './fields.ts';
import { selectorLinePath } from './gateway-ingress-ports.ts';
import { hostMatches } from './hosts.ts';
import { istioGateways } from './kinds.ts';
import type { AnalysisMessage, Analyzer } from './types.ts';
import { message } from './types.ts';
import { selectorString } from './workloads.ts';

export const conflictingGatewayAnalyzer: Analyzer = {
  name: 'gateway.ConflictingGatewayAnalyzer',
  description: "Checks a gateway's selector, port number and hosts",
  analyze(snapshot) {
    // selector~port → gateway full name → hosts of its (last) server on that port
    const byKey = new Map<string, Map<string, string[]>>();
    const selectors = new Set<string>();
    const gateways = istioGateways(snapshot).list;
    for (const gw of gateways) {
      const sel = selectorString(strMap(spec(gw)['selector']));
      for (const server of recs(spec(gw)['servers'])) {
        const key = `${sel}~${portOf(server)}`;
        selectors.add(sel);
        let m = byKey.get(key);
        if (!m) byKey.set(key, (m = new Map()));
        m.set(fullName(gw), strs(server['hosts']));
      }
    }
    const out: AnalysisMessage[] = [];
    for (const gw of gateways) analyzeGateway(gw, byKey, selectors, out);
    return out;
  },
};

function portOf(server: Record<string, unknown>): number {
  return num(rec(server['port'])['number']) ?? 0;
}

function analyzeGateway(gw: KubeObject, byKey: Map<string, Map<string, string[]>>, selectors: Set<string>, out: AnalysisMessage[]): void {
  const selector = strMap(spec(gw)['selector']);
  const sel = selectorString(selector);
  const name = fullName(gw);
  // Istio looks for a map key containing this selector string: a gateway whose selector no gateway uses.
  if (sel !== '' && ![...selectors].some((s) => s.includes(sel))) {
    out.push(message('ReferencedResourceNotFound', gw, ['selector', sel], selectorLinePath(selector)));
    return;
  }
  for (const server of recs(spec(gw)['servers'])) {
    const port = portOf(server);
    const hosts = strs(server['hosts']);
    const conflicts: string[] = [];
    for (const [other, otherHosts] of byKey.get(`${sel}~${port}`) ?? []) {
      if (other === name) continue;
      for (const h of hosts) if (otherHosts.some((o) => hostMatches(h, o))) conflicts.push(other);
    }
    if (conflicts.length > 0) out.push(message('ConflictingGateways', gw, [conflicts.join(','), sel, String(port), hosts.join(',')]));
  }
}
