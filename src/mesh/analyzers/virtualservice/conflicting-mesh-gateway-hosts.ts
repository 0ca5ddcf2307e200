// Follows istio/istio pkg/config/analysis/analyzers/virtualservice/conflictingmeshgatewayhosts.go:
// ConflictingMeshGatewayHostsAnalyzer.Analyze, initMeshGatewayHosts, getExportToAllNamespacesVSListForScopedHost.
//
// virtualservice.ConflictingMeshGatewayHostsAnalyzer: two VirtualServices bound to the mesh gateway (no gateways,
// or `mesh` among them) for the same host, in overlapping exportTo scopes, make routing undefined. Hosts are keyed
// `<scope>/<fqdn>` (scope `*` for exported to all, else each exportTo namespace, `.` as the VirtualService's own).
// A key with two VirtualServices conflicts; a namespace-scoped key also conflicts with every `*` key whose host
// it matches, wildcards included. Each VirtualService is reported once.
import type { KubeObject } from '../../../kube/objects.ts';
import { fullName, nsOf, spec, strs } from '../util/fields.ts';
import {
  clusterDomain,
  EXPORT_TO_LOCAL,
  isExportToAll,
  EXPORT_TO_ALL,
  hostMatches,
  MESH_GATEWAY,
  scopedFqdn,
} from '../util/hosts.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { gvk } from '../util/kinds.ts';

export const conflictingMeshGatewayHostsAnalyzer: Analyzer = {
  name: 'virtualservice.ConflictingMeshGatewayHostsAnalyzer',
  description: 'Checks if multiple virtual services associated with the mesh gateway have conflicting hosts',
  inputs: [gvk.VirtualService, gvk.MeshConfig],
  analyze(snapshot) {
    const domain = clusterDomain(snapshot);
    const byHost = new Map<string, KubeObject[]>();
    for (const vs of snapshot.listOf(gvk.VirtualService)) {
      const gateways = strs(spec(vs)['gateways']);
      // No gateways means the mesh gateway.
      if (gateways.length > 0 && !gateways.includes(MESH_GATEWAY)) continue;
      const ns = nsOf(vs);
      const exportTo = strs(spec(vs)['exportTo']);
      const scopes = isExportToAll(exportTo)
        ? [EXPORT_TO_ALL]
        : [...new Set(exportTo.map((e) => (e === EXPORT_TO_LOCAL ? ns : e)))];
      for (const scope of scopes) {
        for (const h of strs(spec(vs)['hosts'])) {
          const key = scopedFqdn(scope, ns, h, domain);
          const list = byHost.get(key);
          if (list) list.push(vs);
          else byHost.set(key, [vs]);
        }
      }
    }
    const out: AnalysisMessage[] = [];
    // Each VirtualService is reported once, for the first conflict it is found in.
    const reported = new Set<KubeObject>();
    for (const [key, own] of byHost) {
      const slash = key.indexOf('/');
      const scope = key.slice(0, slash);
      const fqdn = key.slice(slash + 1);
      // A namespace-scoped host also conflicts with every host exported to all namespaces that it matches
      // (host.Name.Matches: either side may be a wildcard).
      const conflicting = [...own];
      if (scope !== EXPORT_TO_ALL) {
        for (const [other, list] of byHost) {
          const otherSlash = other.indexOf('/');
          if (other.slice(0, otherSlash) !== EXPORT_TO_ALL) continue;
          if (hostMatches(fqdn, other.slice(otherSlash + 1))) conflicting.push(...list);
        }
      }
      if (conflicting.length < 2) continue;
      const names = conflicting.map(fullName).join(',');
      for (const vs of conflicting) {
        if (reported.has(vs)) continue;
        reported.add(vs);
        out.push(message('ConflictingMeshGatewayVirtualServiceHosts', vs, [names, key]));
      }
    }
    return out;
  },
};
