// Follows istio/istio pkg/config/analysis/analyzers/virtualservice/destinationhosts.go: DestinationHostAnalyzer.Analyze,
// analyzeVirtualService, checkServiceEntryPorts, analyzeSubset, initVirtualServiceDestinations; hosts resolved by
// util/hosts.ts after Istio's InitServiceEntryHostMap and GetDestinationHost (with the VirtualService's exportTo).
//
// virtualservice.DestinationHostAnalyzer: every route and mirror destination must resolve to a Service
// or ServiceEntry visible from the VirtualService, on a port it has (no port is fine unless the service has
// several: IST0112); and subset-less routes on gateways are flagged (IST0140 IngressRouteRulesNotAffected) once
// for every subset destination of a VirtualService routing one of its own hosts, when the host strings are equal
// (ingress ignores those rules). GetDestinationHost lives in pkg/config/analysis/analyzers/util/service_lookup.go.
import type { KubeObject } from '../../../kube/objects.ts';
import type { SnapshotReader } from '../../snapshot.ts';
import { fullName, num, rec, recs, spec, str, strs, nsOf } from '../util/fields.ts';
import { destinationHost } from '../util/hosts.ts';
import type { ServiceEntryLike } from '../util/hosts.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { mirrorDestinations, routeDestinations } from './destinations.ts';
import type { RouteDestination } from './destinations.ts';
import { gvk } from '../util/kinds.ts';

export const destinationHostAnalyzer: Analyzer = {
  name: 'virtualservice.DestinationHostAnalyzer',
  description: 'Checks the destination hosts associated with each virtual service',
  inputs: [gvk.VirtualService, gvk.ServiceEntry, gvk.Service, gvk.MeshConfig],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    const subsetRoutedHosts = subsetDestinationsByHost(snapshot);
    for (const vs of snapshot.listOf(gvk.VirtualService)) {
      const exportTo = strs(spec(vs)['exportTo']);
      for (const d of routeDestinations(vs)) checkDestination(snapshot, vs, exportTo, d, 'host', out);
      for (const d of mirrorDestinations(vs)) checkDestination(snapshot, vs, exportTo, d, 'mirror host', out);
      checkIngressSubsets(vs, subsetRoutedHosts, out);
    }
    return out;
  },
};

function checkDestination(
  snapshot: SnapshotReader,
  vs: KubeObject,
  exportTo: string[],
  d: RouteDestination,
  refType: string,
  out: AnalysisMessage[],
): void {
  const host = str(d.destination['host']);
  const entry = destinationHost(snapshot, nsOf(vs), exportTo, host);
  const path = [...d.path, 'host'];
  if (!entry) {
    out.push(message('ReferencedResourceNotFound', vs, [refType, host], path));
    return;
  }
  checkPorts(vs, d, entry, host, path, out);
}

function checkPorts(
  vs: KubeObject,
  d: RouteDestination,
  entry: ServiceEntryLike,
  host: string,
  path: (string | number)[],
  out: AnalysisMessage[],
): void {
  const port = d.destination['port'];
  if (port === undefined || port === null) {
    // Without a port, only a service with several ports is ambiguous.
    if (entry.ports.length > 1)
      out.push(
        message('VirtualServiceDestinationPortSelectorRequired', vs, [host, entry.ports.map((p) => p.number)], path),
      );
    return;
  }
  const number = num(rec(port)['number']) ?? 0;
  if (!entry.ports.some((p) => p.number === number))
    out.push(message('ReferencedResourceNotFound', vs, ['host:port', `${host}:${number}`], path));
}

/** host → full names of VirtualServices that route that host (one of their own hosts) to a subset, once per such destination. */
function subsetDestinationsByHost(snapshot: SnapshotReader): Map<string, string[]> {
  const byHost = new Map<string, string[]>();
  for (const vs of snapshot.listOf(gvk.VirtualService)) {
    const hosts = strs(spec(vs)['hosts']);
    for (const http of recs(spec(vs)['http'])) {
      for (const route of recs(http['route'])) {
        const dest = rec(route['destination']);
        if (str(dest['subset']) === '') continue;
        const host = str(dest['host']);
        // Keyed by the host as written, as Istio compares them: `reviews` in one namespace meets `reviews` in
        // every other, and `reviews` does not meet `reviews.default.svc.cluster.local`.
        const key = host;
        for (const h of hosts) {
          if (h !== host) continue;
          const list = byHost.get(key);
          if (list) list.push(fullName(vs));
          else byHost.set(key, [fullName(vs)]);
        }
      }
    }
  }
  return byHost;
}

function checkIngressSubsets(vs: KubeObject, byHost: Map<string, string[]>, out: AnalysisMessage[]): void {
  if (strs(spec(vs)['gateways']).length === 0) return;
  recs(spec(vs)['http']).forEach((http, i) =>
    recs(http['route']).forEach((route, j) => {
      const dest = rec(route['destination']);
      if (str(dest['subset']) !== '') return;
      for (const other of byHost.get(str(dest['host'])) ?? []) {
        out.push(
          message(
            'IngressRouteRulesNotAffected',
            vs,
            [other, fullName(vs)],
            ['spec', 'http', i, 'route', j, 'destination', 'host'],
          ),
        );
      }
    }),
  );
}
