// Follows istio/istio pkg/config/analysis/analyzers/gateway/conflictinggateway.go: ConflictingGatewayAnalyzer.Analyze,
// analyzeGateway, initGatewaysMap, isGWConflict (with pilot/pkg/model CheckDuplicates), parseSelectorFromString.
//
// gateway.ConflictingGatewayAnalyzer: two Gateways whose selectors pick the same gateway pods must not claim the
// same host (with the same bind) on the same port; which one wins is undefined.
// * Gateways are grouped by `<selector string>~<port>`, each gateway's (last) server there as host → bind.
// * A gateway is compared with every group whose selector equals its own, or where one selector string contains
//   the other and some pod (any namespace) carries labels both select: a selector that picks a subset of another's
//   pods. An empty selector contains every string, so it meets every group whose selector picks some pod.
// * A non-empty selector that meets no group (the gateway has no servers and no other gateway shares it) is
//   IST0101 on the gateway.
// * A server conflicts with another gateway of a met group on its port when one of its hosts is already a host of
//   that gateway with the same bind (exact strings, no wildcard matching). As in Istio, a server with no
//   duplicate adds its hosts to that gateway's known hosts, so later servers compare against them too.
// * The message lists the conflicting gateways sorted, on the gateway being analyzed.
import type { KubeObject } from '../../../kube/objects.ts';
import type { SnapshotReader } from '../../snapshot.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { fullName, num, rec, recs, spec, str, strMap, strs } from '../util/fields.ts';
import { gvk, istioGateways } from '../util/kinds.ts';
import { podsSelected, selectorString } from '../util/workloads.ts';
import { selectorLinePath } from './ingress-ports.ts';

/** `<selector>~<port>` → gateway full name → host → bind. */
type GatewayMap = Map<string, Map<string, Map<string, string>>>;

export const conflictingGatewayAnalyzer: Analyzer = {
  name: 'gateway.ConflictingGatewayAnalyzer',
  description: "Checks a gateway's selector, port number and hosts",
  inputs: [gvk.Gateway, gvk.Pod],
  analyze(snapshot) {
    const gateways = istioGateways(snapshot).list;
    const map = initGatewaysMap(gateways);
    const out: AnalysisMessage[] = [];
    for (const gw of gateways) analyzeGateway(snapshot, gw, map, out);
    return out;
  },
};

function portOf(server: Record<string, unknown>): string {
  return String(num(rec(server['port'])['number']) ?? 0);
}

function initGatewaysMap(gateways: readonly KubeObject[]): GatewayMap {
  const map: GatewayMap = new Map();
  for (const gw of gateways) {
    const sel = selectorString(strMap(spec(gw)['selector']));
    for (const server of recs(spec(gw)['servers'])) {
      const key = `${sel}~${portOf(server)}`;
      let group = map.get(key);
      if (!group) map.set(key, (group = new Map()));
      const hostsBind = new Map<string, string>();
      for (const h of strs(server['hosts'])) hostsBind.set(h, str(server['bind']));
      group.set(fullName(gw), hostsBind);
    }
  }
  return map;
}

/** Istio's parseSelectorFromString: `a=b,c=d` back into labels, pairs that do not split in two dropped. */
function parseSelector(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of s.split(',')) {
    const kv = pair.split('=');
    if (kv.length === 2) out[kv[0] ?? ''] = kv[1] ?? '';
  }
  return out;
}

/** Does some pod (any namespace) carry labels both selectors select? Through the pod label index, not a scan. */
function shareAPod(snapshot: SnapshotReader, selector: Record<string, string>, other: string): boolean {
  const otherSelector = parseSelector(other);
  const both: Record<string, string> = { ...selector };
  for (const [k, v] of Object.entries(otherSelector)) {
    // The same label asked with two values: no pod has both.
    if (k in both && both[k] !== v) return false;
    both[k] = v;
  }
  return podsSelected(snapshot, both).length > 0;
}

function splitKey(key: string): [string, string] {
  const parts = key.split('~');
  return parts.length === 2 ? [parts[0] ?? '', parts[1] ?? ''] : ['', ''];
}

function analyzeGateway(snapshot: SnapshotReader, gw: KubeObject, map: GatewayMap, out: AnalysisMessage[]): void {
  const selector = strMap(spec(gw)['selector']);
  const sel = selectorString(selector);
  const name = fullName(gw);
  const hit: GatewayMap = new Map();
  for (const [key, group] of map) {
    const [other] = splitKey(key);
    let matched = other === sel;
    if (!matched && (other.includes(sel) || sel.includes(other))) matched = shareAPod(snapshot, selector, other);
    if (matched) hit.set(key, group);
  }
  if (sel !== '' && hit.size === 0) {
    out.push(message('ReferencedResourceNotFound', gw, ['selector', sel], selectorLinePath(selector)));
    return;
  }
  for (const server of recs(spec(gw)['servers'])) {
    const port = portOf(server);
    const hosts = strs(server['hosts']);
    const bind = str(server['bind']);
    const conflicts: string[] = [];
    for (const [key, group] of hit) {
      if (splitKey(key)[1] !== port) continue;
      for (const [other, known] of group) {
        if (other !== name && checkDuplicates(hosts, bind, known)) conflicts.push(other);
      }
    }
    if (conflicts.length > 0) {
      conflicts.sort();
      out.push(message('ConflictingGateways', gw, [conflicts.join(','), sel, port, hosts.join(',')]));
    }
  }
}

/** pilot/pkg/model CheckDuplicates: any host known with the same bind; when none, the hosts become known. */
function checkDuplicates(hosts: readonly string[], bind: string, known: Map<string, string>): boolean {
  const duplicate = hosts.some((h) => known.has(h) && known.get(h) === bind);
  if (!duplicate) for (const h of hosts) known.set(h, bind);
  return duplicate;
}
