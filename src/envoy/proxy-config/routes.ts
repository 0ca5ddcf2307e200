// proxy-config routes: RDS route configurations (dynamic, then static), filtered by --name. Verbose
// (istioctl's default) is a row per route of each virtual host: NAME, VHOST NAME, DOMAINS (abbreviated
// as describeRouteDomains does), MATCH and the VirtualService behind it; a virtual host with no routes
// is one `/*  404` row; routes to PassthroughCluster are left out. Tabwriter padding 5.
import {
  type EnvoyConfigDump,
  ProxyConfigError,
  section,
  type StructuredFormat,
  structured,
  type SummaryOptions,
  withoutType,
} from './dump.ts';
import { describeManagement, goInsertionSort } from './names.ts';
import { arr, field, isObject, type JsonObject, obj, str } from './proto.ts';
import { toJsonNames } from './jsonpb.ts';
import { describeMatch } from './route-match.ts';
import { tabwriter } from './tabwriter.ts';

export interface RouteFilter {
  /** The route configuration's name, exactly (`9080`, `http.8080`, ...). */
  name?: string;
  /** A row per route (istioctl's default, true); else NAME and the number of virtual hosts. */
  verbose?: boolean;
}

const MAX_DOMAINS = 2;

/** Drop `x.svc.cluster.local` and `x.svc` when `x` is also listed; keep the order. */
function unexpandDomains(domains: readonly string[]): string[] {
  const unique = new Set(domains);
  const drop = new Set<string>();
  for (const h of domains) {
    for (const suffix of ['.svc.cluster.local', '.svc']) {
      if (h.endsWith(suffix) && unique.has(h.slice(0, -suffix.length))) drop.add(h);
    }
  }
  return domains.filter((h) => !drop.has(h));
}

/** The DOMAINS column: domains without a port (bare IPv6 kept), short forms only, at most two and a count. */
export function describeRouteDomains(domains: readonly string[]): string {
  if (domains.length === 0) return '';
  if (domains.length === 1) return domains[0]!;
  const withoutPort = domains.filter((d) => {
    if (!d.includes(':')) return true;
    return d.split(':').length - 1 > 2 && d.endsWith(']');
  });
  const shown = unexpandDomains(withoutPort);
  if (shown.length > MAX_DOMAINS) {
    return `${shown.slice(0, MAX_DOMAINS).join(', ')} + ${shown.length - MAX_DOMAINS} more...`;
  }
  return shown.join(', ');
}

function isPassthrough(route: unknown): boolean {
  return field(obj(route, 'route'), 'cluster') === 'PassthroughCluster';
}

const numericName = (name: string): number | undefined => (/^[+-]?\d+$/.test(name) ? Number(name) : undefined);

/** The route configurations istioctl reads, in its order; ProxyConfigError when there are none. */
export function sortedRouteConfigs(dump: EnvoyConfigDump): JsonObject[] {
  const rds = section(dump, 'RoutesConfigDump');
  const out: JsonObject[] = [];
  for (const key of ['dynamic_route_configs', 'static_route_configs']) {
    for (const entry of arr(rds, key)) {
      const rc = obj(entry, 'route_config');
      if (rc) out.push(rc);
    }
  }
  if (out.length === 0) throw new ProxyConfigError('no routes found');
  // istioctl compares two names only when both are numbers (strconv.Atoi); otherwise "not less".
  return goInsertionSort(out, (a, b) => {
    const x = numericName(str(a, 'name'));
    const y = numericName(str(b, 'name'));
    return x !== undefined && y !== undefined && x < y;
  });
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** `istioctl proxy-config routes` (-o short; verbose unless `verbose: false`). */
export function routeSummary(dump: EnvoyConfigDump, filter: RouteFilter = {}, opts: SummaryOptions = {}): string {
  const verbose = filter.verbose ?? true;
  const configs = sortedRouteConfigs(dump);
  let text = verbose ? 'NAME\tVHOST NAME\tDOMAINS\tMATCH\tVIRTUAL SERVICE\n' : 'NAME\tVIRTUAL HOSTS\n';
  for (const rc of configs) {
    const rawName = str(rc, 'name');
    if (filter.name && filter.name !== rawName) continue;
    const name = opts.typePrefix ? `route/${rawName}` : rawName;
    const vhosts = arr(rc, 'virtual_hosts').filter(isObject);
    if (!verbose) {
      text += `${name}\t${vhosts.length}\n`;
      continue;
    }
    for (const vh of vhosts) {
      const vhName = str(vh, 'name');
      const domains = describeRouteDomains(strings(field(vh, 'domains')));
      const routes = arr(vh, 'routes');
      for (const r of routes) {
        if (isPassthrough(r)) continue;
        text += `${name}\t${vhName}\t${domains}\t${describeMatch(obj(r, 'match'))}\t${describeManagement(obj(r, 'metadata'))}\n`;
      }
      if (routes.length === 0) text += `${name}\t${vhName}\t${domains}\t/*\t404\n`;
    }
  }
  return tabwriter(text, { padding: 5 });
}

/** `istioctl proxy-config routes -o json|yaml`. */
export function routeDump(dump: EnvoyConfigDump, filter: RouteFilter = {}, format: StructuredFormat = 'json'): string {
  const configs = sortedRouteConfigs(dump).filter((rc) => !filter.name || str(rc, 'name') === filter.name);
  return structured(
    configs.map((rc) => toJsonNames(withoutType(rc))),
    format,
  );
}
