// Follows istio/istio pkg/config/analysis/analyzers/virtualservice/util.go: getRouteDestinations,
// getHTTPMirrorDestinations.
//
// The destinations a VirtualService routes and mirrors to, with where each sits in the object so a
// message can point at its line.
import type { KubeObject } from '../../../kube/objects.ts';
import { rec, recs, spec } from '../util/fields.ts';
import type { Rec } from '../util/fields.ts';

export interface RouteDestination {
  rule: 'tcp' | 'tls' | 'http' | 'http.mirror' | 'http.mirrors';
  destination: Rec;
  /** Path to the destination inside the object. */
  path: (string | number)[];
}

export function routeDestinations(vs: KubeObject): RouteDestination[] {
  const s = spec(vs);
  const out: RouteDestination[] = [];
  for (const rule of ['tcp', 'tls', 'http'] as const) {
    recs(s[rule]).forEach((r, i) =>
      recs(r['route']).forEach((rd, j) =>
        out.push({ rule, destination: rec(rd['destination']), path: ['spec', rule, i, 'route', j, 'destination'] }),
      ),
    );
  }
  return out;
}

export function mirrorDestinations(vs: KubeObject): RouteDestination[] {
  const out: RouteDestination[] = [];
  recs(spec(vs)['http']).forEach((r, i) => {
    if (r['mirror'] !== undefined && r['mirror'] !== null)
      out.push({ rule: 'http.mirror', destination: rec(r['mirror']), path: ['spec', 'http', i, 'mirror'] });
    recs(r['mirrors']).forEach((m, j) =>
      out.push({
        rule: 'http.mirrors',
        destination: rec(m['destination']),
        path: ['spec', 'http', i, 'mirrors', j, 'destination'],
      }),
    );
  });
  return out;
}
