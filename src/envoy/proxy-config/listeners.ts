// proxy-config listeners: LDS listeners (dynamic active, then static) sorted by port, address and
// type; filtered by --address, --port, --type; -o short is a tabwriter table with padding 1 whose
// verbose form (istioctl's default) has a row per filter chain: what it matches (SNI, transport,
// ALPN, destination address/port) and where it sends traffic (a cluster, a route, an inline route).
import {
  type EnvoyConfigDump,
  ProxyConfigError,
  section,
  type StructuredFormat,
  structured,
  type SummaryOptions,
  withoutType,
} from './dump.ts';
import { arr, field, isObject, type JsonObject, num, obj, str } from './proto.ts';
import { toJsonNames } from './jsonpb.ts';
import { describeMatch } from './route-match.ts';
import { tabwriter } from './tabwriter.ts';

const HTTP_CONNECTION_MANAGER = 'envoy.filters.network.http_connection_manager';
const TCP_PROXY = 'envoy.filters.network.tcp_proxy';
const BLACK_HOLE = 'BlackHoleCluster';

export interface ListenerFilter {
  /** Equal (ignoring case) to the listener's address or one of its additional addresses. */
  address?: string;
  port?: number;
  /** HTTP, TCP, HTTP+TCP or UNKNOWN (ignoring case). */
  type?: string;
  /** A row per filter chain with MATCH and DESTINATION (istioctl's default, true); else a TYPE column. */
  verbose?: boolean;
}

function filterChains(l: unknown): JsonObject[] {
  const chains = arr(l, 'filter_chains').filter(isObject);
  const dflt = obj(l, 'default_filter_chain');
  return dflt ? [...chains, dflt] : chains;
}

const filtersOf = (fc: unknown): JsonObject[] => arr(fc, 'filters').filter(isObject);

/** Go's check `strings.Contains(string(typedConfig.Value), "BlackHoleCluster")` on the serialized proto. */
const mentionsBlackHole = (filter: JsonObject): boolean =>
  JSON.stringify(field(filter, 'typed_config') ?? null).includes(BLACK_HOLE);

/** HTTP | TCP | HTTP+TCP | UNKNOWN, by the filters of its chains (TCP to the black hole does not count). */
export function listenerType(l: unknown): string {
  let nHttp = 0;
  let nTcp = 0;
  for (const fc of filterChains(l)) {
    for (const f of filtersOf(fc)) {
      const name = str(f, 'name');
      if (name === HTTP_CONNECTION_MANAGER) nHttp++;
      else if (name === TCP_PROXY && !mentionsBlackHole(f)) nTcp++;
    }
  }
  if (nHttp > 0) return nTcp === 0 ? 'HTTP' : 'HTTP+TCP';
  return nTcp > 0 ? 'TCP' : 'UNKNOWN';
}

export function listenerAddress(l: unknown): string {
  const addr = obj(l, 'address');
  const sock = obj(addr, 'socket_address');
  if (sock) return str(sock, 'address');
  const pipe = obj(addr, 'pipe');
  return pipe ? str(pipe, 'path') : '';
}

export function listenerAdditionalAddresses(l: unknown): string[] {
  return arr(l, 'additional_addresses').map((a) => str(obj(obj(a, 'address'), 'socket_address'), 'address'));
}

export function listenerPort(l: unknown): number {
  return num(obj(obj(l, 'address'), 'socket_address'), 'port_value');
}

export function listenerMatches(l: unknown, f: ListenerFilter): boolean {
  if (f.address) {
    const want = f.address.toLowerCase();
    const all = [...listenerAdditionalAddresses(l), listenerAddress(l)];
    if (!all.some((a) => a.toLowerCase() === want)) return false;
  }
  if (f.port && listenerPort(l) !== f.port) return false;
  if (f.type && listenerType(l).toLowerCase() !== f.type.toLowerCase()) return false;
  return true;
}

/** The listeners istioctl reads; ProxyConfigError when there are none. */
export function allListeners(dump: EnvoyConfigDump): JsonObject[] {
  const lds = section(dump, 'ListenersConfigDump');
  const out: JsonObject[] = [];
  for (const d of arr(lds, 'dynamic_listeners')) {
    const l = obj(obj(d, 'active_state'), 'listener');
    if (l) out.push(l);
  }
  for (const s of arr(lds, 'static_listeners')) {
    const l = obj(s, 'listener');
    if (l) out.push(l);
  }
  if (out.length === 0) throw new ProxyConfigError('no listeners found');
  return out;
}

const cmp = (a: string | number, b: string | number): number => (a < b ? -1 : a > b ? 1 : 0);

const PROTOCOL_DESCRIPTIONS: readonly [string, readonly string[]][] = [
  ['App: HTTP TLS', ['http/1.0', 'http/1.1', 'h2c', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2']],
  ['App: Istio HTTP Plain', ['istio', 'istio-http/1.0', 'istio-http/1.1', 'istio-h2']],
  ['App: TCP TLS', ['istio-peer-exchange', 'istio']],
  ['App: HTTP', ['http/1.0', 'http/1.1', 'h2c']],
];

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The MATCH column: what a filter chain's filter_chain_match selects, `ALL` when nothing. */
export function describeFilterChainMatch(match: unknown): string {
  const descrs: string[] = [];
  const sni = strings(field(match, 'server_names'));
  if (sni.length > 0) descrs.push(`SNI: ${sni.join(',')}`);
  const transport = str(match, 'transport_protocol');
  if (transport) descrs.push(`Trans: ${transport}`);
  const alpn = strings(field(match, 'application_protocols'));
  if (alpn.length > 0) {
    const known = PROTOCOL_DESCRIPTIONS.find(([, p]) => p.length === alpn.length && p.every((x, i) => x === alpn[i]));
    descrs.push(known ? known[0] : `App: ${alpn.join(',')}`);
  }
  const destPort = field(match, 'destination_port');
  const port = destPort !== undefined && destPort !== null ? `:${num(match, 'destination_port')}` : '';
  const ranges = arr(match, 'prefix_ranges');
  if (ranges.length > 0) {
    const pf = ranges.map((r) => `${str(r, 'address_prefix')}/${num(r, 'prefix_len')}`);
    descrs.push(`Addr: ${pf.join(',')}${port}`);
  } else if (port) {
    descrs.push(`Addr: *${port}`);
  }
  return descrs.length === 0 ? 'ALL' : descrs.join('; ');
}

function clusterOrName(cluster: string): string {
  return cluster.includes('Cluster') ? cluster : `Cluster: ${cluster}`;
}

/** A route configuration that matches everything and forwards to one cluster: that cluster. */
function matchAllCluster(rc: unknown): string {
  const vhosts = arr(rc, 'virtual_hosts');
  if (vhosts.length !== 1) return '';
  const vh = vhosts[0];
  const domains = strings(field(vh, 'domains'));
  if (domains.length !== 1 || domains[0] !== '*') return '';
  const routes = arr(vh, 'routes');
  if (routes.length !== 1) return '';
  const r = routes[0];
  if (str(obj(r, 'match'), 'prefix') !== '/') return '';
  const action = obj(r, 'route');
  const cluster = field(action, 'cluster');
  if (!action || typeof cluster !== 'string') return '';
  return clusterOrName(cluster);
}

function describeDomains(vh: unknown): string {
  const d = strings(field(vh, 'domains'));
  return d.length === 1 && d[0] === '*' ? '' : d.join('/');
}

function describeRoutes(vh: unknown): string {
  return arr(vh, 'routes')
    .map((r) => describeMatch(obj(r, 'match')))
    .join(', ');
}

function describeRouteConfig(rc: unknown): string {
  const cluster = matchAllCluster(rc);
  if (cluster) return cluster;
  const vhosts = arr(rc, 'virtual_hosts').map((vh) => {
    const d = describeDomains(vh);
    return d === '' ? describeRoutes(vh) : `${d} ${describeRoutes(vh)}`;
  });
  return `Inline Route: ${vhosts.join('; ')}`;
}

/** The DESTINATION column: where a filter chain's first HTTP or TCP proxy filter sends traffic. */
export function describeFilters(filters: readonly JsonObject[]): string {
  for (const f of filters) {
    const name = str(f, 'name');
    const tc = obj(f, 'typed_config');
    if (name === HTTP_CONNECTION_MANAGER) {
      const rc = obj(tc, 'route_config');
      if (rc) return describeRouteConfig(rc);
      const rds = str(obj(tc, 'rds'), 'route_config_name');
      return rds ? `Route: ${rds}` : 'HTTP';
    }
    if (name === TCP_PROXY && !mentionsBlackHole(f)) return clusterOrName(str(tc, 'cluster'));
  }
  return 'Non-HTTP/Non-TCP';
}

/** `istioctl proxy-config listeners` (-o short; verbose unless `verbose: false`). */
export function listenerSummary(dump: EnvoyConfigDump, filter: ListenerFilter = {}, opts: SummaryOptions = {}): string {
  const verbose = filter.verbose ?? true;
  const listeners = allListeners(dump)
    .filter((l) => listenerMatches(l, filter))
    .sort(
      (a, b) =>
        cmp(listenerPort(a), listenerPort(b)) ||
        cmp(listenerAddress(a), listenerAddress(b)) ||
        cmp(listenerType(a), listenerType(b)),
    );
  let text =
    (opts.typePrefix ? 'NAME\t' : '') + 'ADDRESSES\tPORT' + (verbose ? '\tMATCH\tDESTINATION' : '\tTYPE') + '\n';
  for (const l of listeners) {
    const addresses = [listenerAddress(l), ...listenerAdditionalAddresses(l)].join(',');
    const port = listenerPort(l);
    const lead = opts.typePrefix ? `listener/${str(l, 'name')}\t` : '';
    if (verbose) {
      const chains = filterChains(l)
        .map((fc) => ({
          match: describeFilterChainMatch(obj(fc, 'filter_chain_match')),
          dest: describeFilters(filtersOf(fc)),
        }))
        .sort((a, b) => cmp(b.dest, a.dest));
      for (const c of chains) text += `${lead}${addresses}\t${port}\t${c.match}\t${c.dest}\n`;
    } else {
      text += `${lead}${addresses}\t${port}\t${listenerType(l)}\n`;
    }
  }
  return tabwriter(text, { padding: 1 });
}

/** `istioctl proxy-config listeners -o json|yaml`. */
export function listenerDump(
  dump: EnvoyConfigDump,
  filter: ListenerFilter = {},
  format: StructuredFormat = 'json',
): string {
  const listeners = allListeners(dump).filter((l) => listenerMatches(l, filter));
  return structured(
    listeners.map((l) => toJsonNames(withoutType(l))),
    format,
  );
}
