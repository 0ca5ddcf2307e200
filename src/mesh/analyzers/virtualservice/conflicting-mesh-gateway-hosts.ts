// virtualservice.ConflictingMeshGatewayHostsAnalyzer: two VirtualServices bound to the mesh gateway for
// the same host, in overlapping exportTo scopes, make routing undefined.
import type { KubeObject } from '../../../kube/objects.ts';
import { fullName, nsOf, spec, strs } from '../util/fields.ts';
import {
  clusterDomain,
  EXPORT_TO_LOCAL,
  isExportToAll,
  EXPORT_TO_ALL,
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
    for (const [key, list] of byHost) {
      const slash = key.indexOf('/');
      const scope = key.slice(0, slash);
      // A namespace-scoped host also conflicts with the same host exported to all namespaces.
      const exportedToAll =
        scope === EXPORT_TO_ALL ? [] : (byHost.get(`${EXPORT_TO_ALL}/${key.slice(slash + 1)}`) ?? []);
      const conflicting = [...list, ...exportedToAll];
      if (conflicting.length < 2) continue;
      const names = conflicting.map(fullName).join(',');
      for (const vs of list) out.push(message('ConflictingMeshGatewayVirtualServiceHosts', vs, [names, key]));
    }
    return out;
  },
};
