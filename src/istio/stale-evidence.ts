// What a NACK names, for /mesh stale: the xDS resources in Envoy's error text, read with Istio's
// naming, and the part of Istio's config the text points at. Pure string work, no snapshot.
//
// Istio's names (pilot/pkg/model BuildSubsetKey, pilot/pkg/networking/core):
//   clusters   `outbound|<port>|<subset>|<fqdn>`, `inbound|<port>||` (and the SNI form
//              `outbound_.<port>_.<subset>_.<fqdn>` of AUTO_PASSTHROUGH gateways)
//   listeners  `<bind>_<port>`: `0.0.0.0_<port>` (wildcard, HTTP), `<service ip>_<port>` (TCP),
//              `udp_<bind>_<port>` (QUIC); `virtualInbound`, `virtualOutbound`
//   routes     `<port>` (a sidecar's outbound HTTP routes), `<host>:<port>`, `http.<port>[.<bind>]` and
//              `https.<port>.<port name>.<gateway>.<namespace>[.<bind>]` (gateways), `inbound|<port>||`
// Envoy's NACK texts: CDS `Error adding/updating cluster(s) <name>: <error>, <name>: <error>`
// (cds_api_helper), LDS `Error adding/updating listener(s) <name>: <error>` (lds_api), RDS texts name the
// route configuration (`... in route <name>`) or a virtual host (`<host>:<port>`).

export interface ClusterName {
  type: 'cluster';
  name: string;
  direction: 'inbound' | 'outbound';
  port: number;
  subset: string;
  /** The service's FQDN (empty for inbound clusters). */
  host: string;
}

export interface ListenerName {
  type: 'listener';
  name: string;
  /** Bind address (0.0.0.0 for the wildcard); absent for virtualInbound/virtualOutbound. */
  address?: string;
  port?: number;
  inbound: boolean;
}

export interface RouteName {
  type: 'route';
  name: string;
  port: number;
  /** `<host>:<port>` routes and virtual hosts. */
  host?: string;
  /** A gateway's route (`http.<port>`, `https.<port>.<port name>.<gateway>.<namespace>`). */
  gateway?: { portName?: string; name?: string; namespace?: string };
  inbound?: boolean;
}

export type XdsName = ClusterName | ListenerName | RouteName;

/** One resource a NACK names, with the part of Envoy's text about it. */
export interface NamedResource {
  resource: XdsName;
  /** Envoy's words about this resource (after `<name>: `), or the whole text. */
  detail: string;
}

const CLUSTER = /^(inbound|outbound)\|(\d+)\|([^|]*)\|(.*)$/;
const CLUSTER_SNI = /^(inbound|outbound)_\.(\d+)_\.([^_]*)_\.(.+)$/;

export function parseClusterName(name: string): ClusterName | undefined {
  const m = name.match(CLUSTER) ?? name.match(CLUSTER_SNI);
  if (!m) return undefined;
  return {
    type: 'cluster',
    name,
    direction: m[1] as 'inbound' | 'outbound',
    port: Number(m[2]),
    subset: m[3] ?? '',
    host: m[4] ?? '',
  };
}

const LISTENER = /^(?:udp_)?(\d{1,3}(?:\.\d{1,3}){3}|\[?[0-9a-fA-F:]*:[0-9a-fA-F:]*\]?)_(\d{1,5})$/;

export function parseListenerName(name: string): ListenerName | undefined {
  if (name === 'virtualInbound' || name === 'virtualOutbound')
    return { type: 'listener', name, inbound: name === 'virtualInbound' };
  const m = name.match(LISTENER);
  if (!m) return undefined;
  return { type: 'listener', name, address: m[1]!, port: Number(m[2]), inbound: false };
}

export function parseRouteName(name: string): RouteName | undefined {
  if (/^\d{1,5}$/.test(name)) return { type: 'route', name, port: Number(name) };
  const http = name.match(/^http\.(\d{1,5})(?:\.(.+))?$/);
  if (http) return { type: 'route', name, port: Number(http[1]), gateway: {} };
  const https = name.match(/^https\.(\d{1,5})\.([^.]+)\.([^.]+)\.([^.]+)(?:\.(.+))?$/);
  if (https)
    return {
      type: 'route',
      name,
      port: Number(https[1]),
      gateway: { portName: https[2]!, name: https[3]!, namespace: https[4]! },
    };
  const inbound = parseClusterName(name);
  if (inbound?.direction === 'inbound') return { type: 'route', name, port: inbound.port, inbound: true };
  const hostPort = name.match(/^([a-zA-Z0-9*][a-zA-Z0-9.*-]*):(\d{1,5})$/);
  if (hostPort) return { type: 'route', name, port: Number(hostPort[2]), host: hostPort[1]! };
  return undefined;
}

// Tokens that can be one of Istio's names inside Envoy's text.
const CLUSTER_TOKEN = /(?:inbound|outbound)\|\d+\|[^|\s,]*\|[^\s,:]*|(?:inbound|outbound)_\.\d+_\.[^_\s]*_\.[^\s,:]+/g;
const LISTENER_TOKEN =
  /\bvirtual(?:In|Out)bound\b|(?:udp_)?\b\d{1,3}(?:\.\d{1,3}){3}_\d{1,5}\b|(?:udp_)?\[?[0-9a-fA-F]*::[0-9a-fA-F:]*\]?_\d{1,5}\b/g;
const ROUTE_TOKEN = /\b(?:route(?: configuration)?|RouteConfiguration|virtual host) '?([^\s',:]+(?::\d{1,5})?)'?/g;

/**
 * The resources an Envoy NACK text names, each with the words about it. A type the text names nothing
 * of answers []; the type decides how the names are read (a CDS text names clusters, and so on).
 */
export function namedInNack(type: string, text: string): NamedResource[] {
  const found: Array<{ at: number; end: number; resource: XdsName }> = [];
  const add = (re: RegExp, parse: (s: string) => XdsName | undefined, group = 0) => {
    for (const m of text.matchAll(re)) {
      const raw = m[group] ?? '';
      const resource = parse(raw);
      if (!resource || found.some((f) => f.resource.name === resource.name)) continue;
      const at = (m.index ?? 0) + m[0].indexOf(raw);
      found.push({ at, end: at + raw.length, resource });
    }
  };
  if (type === 'CDS' || type === 'EDS') add(CLUSTER_TOKEN, parseClusterName);
  if (type === 'LDS') add(LISTENER_TOKEN, parseListenerName);
  if (type === 'RDS') {
    add(ROUTE_TOKEN, parseRouteName, 1);
    add(CLUSTER_TOKEN, parseClusterName);
  }
  found.sort((a, b) => a.at - b.at);
  return found.map((f, i) => {
    const next = found[i + 1];
    let detail = text.slice(f.end, next ? next.at : undefined);
    if (detail.startsWith(':')) detail = detail.slice(1);
    detail = detail.replace(/,\s*$/, '').trim();
    return { resource: f.resource, detail: detail || text };
  });
}

/** Words for a resource: "cluster outbound|9080|v2|reviews… (Service reviews.bookinfo, port 9080, subset v2)". */
export function resourceWords(r: XdsName): string {
  if (r.type === 'cluster') {
    if (r.direction === 'inbound') return `inbound cluster \`${r.name}\` (port ${r.port} of this workload)`;
    const svc = serviceOfHost(r.host);
    const what = svc ? `Service ${svc.name}.${svc.namespace}` : `host ${r.host}`;
    return `cluster \`${r.name}\` (${what}, port ${r.port}${r.subset ? `, subset ${r.subset}` : ''})`;
  }
  if (r.type === 'listener') {
    if (r.inbound) return `listener \`${r.name}\` (all inbound traffic)`;
    if (r.name === 'virtualOutbound') return `listener \`${r.name}\` (all outbound traffic)`;
    return `listener \`${r.name}\` (port ${r.port}${r.address && r.address !== '0.0.0.0' ? ` on ${r.address}` : ''})`;
  }
  if (r.gateway)
    return `route \`${r.name}\` (gateway port ${r.port}${r.gateway.name ? `, Gateway ${r.gateway.namespace}/${r.gateway.name}` : ''})`;
  if (r.host) return `route \`${r.name}\` (host ${r.host}, port ${r.port})`;
  return `route \`${r.name}\` (port ${r.port})`;
}

/** `reviews.bookinfo.svc.cluster.local` → reviews in bookinfo (Kubernetes Service FQDNs only). */
export function serviceOfHost(host: string): { name: string; namespace: string } | undefined {
  const m = host.match(/^([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.[a-z0-9.-]+$/);
  return m ? { name: m[1]!, namespace: m[2]! } : undefined;
}

/**
 * Where in a DestinationRule's traffic policy Envoy's text points, most specific first: the path under
 * `trafficPolicy` (or a subset's) that builds the part of the cluster the text complains about.
 */
const CLUSTER_FIELDS: Array<[RegExp, string[]]> = [
  [/maglev/i, ['loadBalancer', 'consistentHash', 'maglev', 'tableSize']],
  [/ring.?hash|ring_size|RingHashLbConfig/i, ['loadBalancer', 'consistentHash', 'ringHash', 'minimumRingSize']],
  [/ring.?hash|ring_size|RingHashLbConfig/i, ['loadBalancer', 'consistentHash', 'minimumRingSize']],
  [/locality|zone_aware/i, ['loadBalancer', 'localityLbSetting']],
  [/LbPolicy|lb_policy|LbConfig|load.?balanc|choice_count|slow_start|consistent.?hash/i, ['loadBalancer']],
  [/outlier/i, ['outlierDetection']],
  [/connect_timeout|ConnectTimeout/i, ['connectionPool', 'tcp', 'connectTimeout']],
  [/keepalive/i, ['connectionPool', 'tcp', 'tcpKeepalive']],
  [/HttpProtocolOptions|idle_timeout|max_requests_per_connection|http2_protocol_options/i, ['connectionPool', 'http']],
  [/CircuitBreakers|circuit|max_connections|max_pending_requests|max_requests|max_retries/i, ['connectionPool']],
  [/proxy.?protocol/i, ['proxyProtocol']],
  [/TransportSocket|UpstreamTlsContext|tls|certificate|\bsni\b|SubjectAltName|validation_context/i, ['tls']],
];

/** Candidate traffic-policy paths for a cluster NACK text; [] when it names no part of a DestinationRule. */
export function clusterFieldHints(detail: string): string[][] {
  return CLUSTER_FIELDS.filter(([re]) => re.test(detail)).map(([, path]) => path);
}

/** Does a listener or route text point at an extension an EnvoyFilter (or WasmPlugin) would have added? */
export function pointsAtFilter(detail: string): boolean {
  return /filter|typed_config|\bAny\b|extension|wasm|lua/i.test(detail);
}
