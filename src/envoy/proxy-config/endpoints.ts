// proxy-config endpoints: read from /clusters?format=json (not the config dump), so it shows what
// Envoy's cluster manager holds now: each host's EDS health and whether outlier detection ejected it.
// Filters --address, --port, --cluster, --status; sorted by address, port, cluster; a table ENDPOINT
// (ip:port, or unix://path), STATUS, OUTLIER CHECK (OK | FAILED), CLUSTER with padding 5, or the
// matching ClusterStatuses as JSON/YAML.
import { ProxyConfigError, type StructuredFormat, structured } from './dump.ts';
import { arr, field, isObject, type JsonObject, num, obj, str } from './proto.ts';
import { toJsonNames } from './jsonpb.ts';
import { tabwriter } from './tabwriter.ts';

export interface ClustersEndpointFilter {
  /** The host's IP (or unix://path), ignoring case. */
  address?: string;
  port?: number;
  /** The cluster name, ignoring case. */
  cluster?: string;
  /** The EDS health status name, ignoring case. */
  status?: string;
}

export interface EnvoyClusters {
  readonly clusterStatuses: readonly JsonObject[];
}

/** Parse /clusters?format=json (text or parsed JSON); `{}` has no clusters. */
export function parseEnvoyClusters(input: string | unknown): EnvoyClusters {
  let json: unknown = input;
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input);
    } catch (err) {
      throw new ProxyConfigError(
        `error unmarshalling config dump response from Envoy: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  if (!isObject(json)) throw new ProxyConfigError('error unmarshalling config dump response from Envoy: not an object');
  return { clusterStatuses: arr(json, 'cluster_statuses').filter(isObject) };
}

export interface HostRow {
  address: string;
  port: number;
  cluster: string;
  /** EDS health status name (UNKNOWN when unset). */
  status: string;
  failedOutlierCheck: boolean;
}

function hostAddress(host: unknown): string {
  const addr = obj(host, 'address');
  const sock = obj(addr, 'socket_address');
  if (sock) return str(sock, 'address');
  return `unix://${str(obj(addr, 'pipe'), 'path')}`;
}

const hostPort = (host: unknown): number => num(obj(obj(host, 'address'), 'socket_address'), 'port_value');
const hostStatus = (host: unknown): string => str(obj(host, 'health_status'), 'eds_health_status') || 'UNKNOWN';

export function hostMatches(host: unknown, cluster: string, f: ClustersEndpointFilter): boolean {
  if (f.address && hostAddress(host).toLowerCase() !== f.address.toLowerCase()) return false;
  if (f.port && hostPort(host) !== f.port) return false;
  if (f.cluster && cluster.toLowerCase() !== f.cluster.toLowerCase()) return false;
  if (f.status && hostStatus(host).toLowerCase() !== f.status.toLowerCase()) return false;
  return true;
}

/** Every host of every cluster that passes the filter, in istioctl's order. */
export function endpointRows(clusters: EnvoyClusters, filter: ClustersEndpointFilter = {}): HostRow[] {
  const rows: HostRow[] = [];
  for (const c of clusters.clusterStatuses) {
    const cluster = str(c, 'name');
    for (const host of arr(c, 'host_statuses')) {
      if (!hostMatches(host, cluster, filter)) continue;
      rows.push({
        address: hostAddress(host),
        port: hostPort(host),
        cluster,
        status: hostStatus(host),
        failedOutlierCheck: field(obj(host, 'health_status'), 'failed_outlier_check') === true,
      });
    }
  }
  const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
  return rows.sort((a, b) => cmp(a.address, b.address) || cmp(a.port, b.port) || cmp(a.cluster, b.cluster));
}

/** `istioctl proxy-config endpoints` (-o short). */
export function endpointSummary(clusters: EnvoyClusters, filter: ClustersEndpointFilter = {}): string {
  let text = 'ENDPOINT\tSTATUS\tOUTLIER CHECK\tCLUSTER\n';
  for (const r of endpointRows(clusters, filter)) {
    const endpoint = r.port !== 0 ? `${r.address}:${r.port}` : r.address;
    text += `${endpoint}\t${r.status}\t${r.failedOutlierCheck ? 'FAILED' : 'OK'}\t${r.cluster}\n`;
  }
  return tabwriter(text, { padding: 5 });
}

/** `istioctl proxy-config endpoints -o json|yaml`: the clusters with at least one matching host, whole. */
export function endpointDump(
  clusters: EnvoyClusters,
  filter: ClustersEndpointFilter = {},
  format: StructuredFormat = 'json',
): string {
  const kept = clusters.clusterStatuses.filter((c) =>
    arr(c, 'host_statuses').some((h) => hostMatches(h, str(c, 'name'), filter)),
  );
  return structured(
    kept.map((c) => toJsonNames(c)),
    format,
  );
}
