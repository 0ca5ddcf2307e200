// proxy-config eds (and the ENDPOINTS section of `all`): ClusterLoadAssignments from
// /config_dump?include_eds=true (dynamic, then static), each cluster's endpoints filtered by --address,
// --port, --cluster, --status; clusters left with none are dropped; sorted as clusters are. A table
// NAME (address), STATUS (EDS health), LOCALITY, CLUSTER with padding 5, or the assignments as JSON.
import {
  type EnvoyConfigDump,
  ProxyConfigError,
  sections,
  type StructuredFormat,
  structured,
  type SummaryOptions,
  withoutType,
  sectionTypeUrl,
} from './dump.ts';
import { compareClusterNames } from './names.ts';
import { arr, isObject, type JsonObject, num, obj, str } from './proto.ts';
import { toJsonNames } from './jsonpb.ts';
import { tabwriter } from './tabwriter.ts';

export interface EndpointFilter {
  /** Equal (ignoring case) to one of the endpoint's addresses as shown (`10.0.0.1:9080`, a pipe path, `envoy://…`). */
  address?: string;
  port?: number;
  /** The cluster name, ignoring case. */
  cluster?: string;
  /** The health status name (HEALTHY, UNHEALTHY, DRAINING, ...), ignoring case. */
  status?: string;
}

/** An address as istioctl shows it: `ip:port`, a pipe path, `envoy://listener/endpoint-id`, or `unknown`. */
export function describeAddress(addr: unknown): string {
  const sock = obj(addr, 'socket_address');
  if (sock) return `${str(sock, 'address')}:${num(sock, 'port_value')}`;
  const pipe = obj(addr, 'pipe');
  if (pipe) return str(pipe, 'path');
  const internal = obj(addr, 'envoy_internal_address');
  if (internal && str(internal, 'server_listener_name') !== '')
    return `envoy://${str(internal, 'server_listener_name')}/${str(internal, 'endpoint_id')}`;
  return 'unknown';
}

export function lbEndpointAddresses(ep: unknown): string[] {
  const endpoint = obj(ep, 'endpoint');
  const addrs: unknown[] = [
    obj(endpoint, 'address'),
    ...arr(endpoint, 'additional_addresses').map((a) => obj(a, 'address')),
  ];
  return addrs.map(describeAddress);
}

/** core.HealthStatus name; UNKNOWN, the zero, when unset. */
export function healthStatus(ep: unknown): string {
  return str(ep, 'health_status') || 'UNKNOWN';
}

/** pilot's LocalityToString: region[/zone[/subzone]], '' without a locality. */
export function localityString(l: unknown): string {
  if (!isObject(l)) return '';
  let s = str(l, 'region');
  const zone = str(l, 'zone');
  if (!zone) return s;
  s += `/${zone}`;
  const sub = str(l, 'sub_zone');
  return sub ? `${s}/${sub}` : s;
}

export function endpointMatches(ep: unknown, cluster: string, f: EndpointFilter): boolean {
  if (f.address) {
    const want = f.address.toLowerCase();
    if (!lbEndpointAddresses(ep).some((a) => a.toLowerCase() === want)) return false;
  }
  if (f.port && num(obj(obj(obj(ep, 'endpoint'), 'address'), 'socket_address'), 'port_value') !== f.port) return false;
  if (f.cluster && cluster.toLowerCase() !== f.cluster.toLowerCase()) return false;
  if (f.status && healthStatus(ep).toLowerCase() !== f.status.toLowerCase()) return false;
  return true;
}

/** Each assignment with only the endpoints the filter keeps (as istioctl rewrites lb_endpoints). */
function filtered(cla: JsonObject, f: EndpointFilter): { cla: JsonObject; count: number } {
  const cluster = str(cla, 'cluster_name');
  let count = 0;
  const endpoints = arr(cla, 'endpoints').map((llb) => {
    if (!isObject(llb)) return llb;
    const lbKey = 'lb_endpoints' in llb ? 'lb_endpoints' : 'lbEndpoints';
    const kept = arr(llb, 'lb_endpoints').filter((ep) => endpointMatches(ep, cluster, f));
    count += kept.length;
    return { ...llb, [lbKey]: kept };
  });
  return { cla: { ...cla, endpoints }, count };
}

/** The assignments istioctl lists, filtered and sorted; ProxyConfigError without an EDS section. */
export function sortedEndpoints(dump: EnvoyConfigDump, f: EndpointFilter = {}): JsonObject[] {
  const all = sections(dump, 'EndpointsConfigDump');
  const eds = all[all.length - 1];
  if (!eds)
    throw new ProxyConfigError(
      `endpoints not found (was include_eds=true used?): config dump has no configuration type ${sectionTypeUrl('EndpointsConfigDump')}`,
    );
  const out: JsonObject[] = [];
  for (const key of ['dynamic_endpoint_configs', 'static_endpoint_configs']) {
    for (const entry of arr(eds, key)) {
      const cla = obj(entry, 'endpoint_config');
      if (!cla) continue;
      const r = filtered(cla, f);
      if (r.count > 0) out.push(r.cla);
    }
  }
  return out.sort((a, b) => compareClusterNames(str(a, 'cluster_name'), str(b, 'cluster_name')));
}

/** `istioctl proxy-config eds` (-o short). */
export function edsSummary(dump: EnvoyConfigDump, filter: EndpointFilter = {}, opts: SummaryOptions = {}): string {
  let text = 'NAME\tSTATUS\tLOCALITY\tCLUSTER\n';
  for (const cla of sortedEndpoints(dump, filter)) {
    const cluster = str(cla, 'cluster_name');
    for (const llb of arr(cla, 'endpoints')) {
      const locality = localityString(obj(llb, 'locality'));
      for (const ep of arr(llb, 'lb_endpoints')) {
        const addr = lbEndpointAddresses(ep).join(',');
        text += `${opts.typePrefix ? `endpoint/${addr}` : addr}\t${healthStatus(ep)}\t${locality}\t${cluster}\n`;
      }
    }
  }
  return tabwriter(text, { padding: 5 });
}

/** `istioctl proxy-config eds -o json|yaml`. */
export function edsDump(dump: EnvoyConfigDump, filter: EndpointFilter = {}, format: StructuredFormat = 'json'): string {
  return structured(
    sortedEndpoints(dump, filter).map((cla) => toJsonNames(withoutType(cla))),
    format,
  );
}
