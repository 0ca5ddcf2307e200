// gateway.ConflictingGatewayAnalyzer: two Gateways on the same workload selector and port must not
// claim the same host; which one wins is undefined.
import type { KubeObject } from '../../../kube/objects.ts';
import { fullName, num, rec, recs, spec, strMap, strs } from '../util/fields.ts';
import { selectorLinePath } from './ingress-ports.ts';
import { hostMatches } from '../util/hosts.ts';
import { istioGateways } from '../util/kinds.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { selectorString } from '../util/workloads.ts';
import { gvk } from '../util/kinds.ts';

interface PortGroup {
  /** Gateways on this selector and port, with the hosts of their (last) server there. */
  hosts: Map<string, string[]>;
  /** Exact host → gateways serving it, so a lookup does not scan every gateway of the group. */
  exact: Map<string, Set<string>>;
  wildcard: { host: string; gateway: string }[];
}

export const conflictingGatewayAnalyzer: Analyzer = {
  name: 'gateway.ConflictingGatewayAnalyzer',
  description: "Checks a gateway's selector, port number and hosts",
  inputs: [gvk.Gateway],
  analyze(snapshot) {
    const groups = new Map<string, PortGroup>();
    const selectors = new Set<string>();
    const gateways = istioGateways(snapshot).list;
    for (const gw of gateways) {
      const sel = selectorString(strMap(spec(gw)['selector']));
      for (const server of recs(spec(gw)['servers'])) {
        const key = `${sel}~${portOf(server)}`;
        selectors.add(sel);
        let g = groups.get(key);
        if (!g) groups.set(key, (g = { hosts: new Map(), exact: new Map(), wildcard: [] }));
        g.hosts.set(fullName(gw), strs(server['hosts']));
      }
    }
    for (const g of groups.values()) {
      for (const [name, hosts] of g.hosts) {
        for (const h of hosts) {
          if (h.startsWith('*')) g.wildcard.push({ host: h, gateway: name });
          else {
            let set = g.exact.get(h);
            if (!set) g.exact.set(h, (set = new Set()));
            set.add(name);
          }
        }
      }
    }
    const out: AnalysisMessage[] = [];
    for (const gw of gateways) analyzeGateway(gw, groups, selectors, out);
    return out;
  },
};

function portOf(server: Record<string, unknown>): number {
  return num(rec(server['port'])['number']) ?? 0;
}

/** Other gateways in the group with a host matching `h` (each at most once). */
function matchingGateways(g: PortGroup, h: string): Set<string> {
  if (h.startsWith('*')) {
    // A wildcard may match any host: compare with every gateway of the group.
    const out = new Set<string>();
    for (const [name, hosts] of g.hosts) if (hosts.some((o) => hostMatches(h, o))) out.add(name);
    return out;
  }
  const out = new Set(g.exact.get(h) ?? []);
  for (const w of g.wildcard) if (hostMatches(h, w.host)) out.add(w.gateway);
  return out;
}

function analyzeGateway(
  gw: KubeObject,
  groups: Map<string, PortGroup>,
  selectors: Set<string>,
  out: AnalysisMessage[],
): void {
  const selector = strMap(spec(gw)['selector']);
  const sel = selectorString(selector);
  const name = fullName(gw);
  // Istio looks for a group key containing this selector string: a gateway whose selector no gateway uses.
  if (sel !== '' && ![...selectors].some((s) => s.includes(sel))) {
    out.push(message('ReferencedResourceNotFound', gw, ['selector', sel], selectorLinePath(selector)));
    return;
  }
  for (const server of recs(spec(gw)['servers'])) {
    const port = portOf(server);
    const hosts = strs(server['hosts']);
    const group = groups.get(`${sel}~${port}`);
    if (!group) continue;
    const conflicts: string[] = [];
    for (const h of hosts) for (const other of matchingGateways(group, h)) if (other !== name) conflicts.push(other);
    if (conflicts.length > 0)
      out.push(message('ConflictingGateways', gw, [conflicts.join(','), sel, String(port), hosts.join(',')]));
  }
}
