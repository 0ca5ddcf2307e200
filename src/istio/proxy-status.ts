// The proxy-status model: per-xDS-type sync status as istiod computes it (pilot/pkg/xds/statusgen.go,
// debugSyncStatus) and istioctl's table (istioctl/pkg/writer/pilot/status.go). Pure data and text;
// where the data comes from (HTTP syncz, DiscoveryResponse) is the business of syncz.ts.

/** envoy.service.status.v3.ConfigStatus names; UNKNOWN is what istioctl prints as IGNORED. */
export type ConfigStatus = 'UNKNOWN' | 'SYNCED' | 'NOT_SENT' | 'STALE' | 'ERROR';

export const TYPE_URL = {
  CDS: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  LDS: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  EDS: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  RDS: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  SDS: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
  NDS: 'type.googleapis.com/istio.networking.nds.v1.NameTable',
  PCDS: 'type.googleapis.com/istio.mesh.v1alpha1.ProxyConfig',
  ECDS: 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig',
  WDS_ADDRESS: 'type.googleapis.com/istio.workload.Address',
  WDS_WORKLOAD: 'type.googleapis.com/istio.workload.Workload',
  WADS: 'type.googleapis.com/istio.security.Authorization',
} as const;

/** Short names as Istio's GetShortType (pkg/model/xds.go) gives them; unknown URLs stay whole. */
export function shortTypeName(typeUrl: string): string {
  switch (typeUrl) {
    case TYPE_URL.CDS:
      return 'CDS';
    case TYPE_URL.LDS:
      return 'LDS';
    case TYPE_URL.RDS:
      return 'RDS';
    case TYPE_URL.EDS:
      return 'EDS';
    case TYPE_URL.SDS:
      return 'SDS';
    case TYPE_URL.NDS:
      return 'NDS';
    case TYPE_URL.PCDS:
      return 'PCDS';
    case TYPE_URL.ECDS:
      return 'ECDS';
    case TYPE_URL.WDS_ADDRESS:
    case TYPE_URL.WDS_WORKLOAD:
      return 'WDS';
    case TYPE_URL.WADS:
      return 'WADS';
    default:
      return typeUrl;
  }
}

export interface XdsTypeStatus {
  typeUrl: string;
  status: ConfigStatus;
  /** When istiod last pushed this type (ISO 8601); istioctl's "(age)" suffix comes from it. */
  lastUpdated?: string;
  /** The NACK text Envoy sent back, when status is ERROR. */
  lastError?: string;
  sentNonce?: string;
  ackedNonce?: string;
}

export interface ProxyStatusRow {
  /** Istio's proxy ID: `<pod>.<namespace>` for sidecars and gateways. */
  proxyId: string;
  pod: string;
  namespace: string;
  cluster: string;
  /** Name of the istiod pod this proxy is connected to. */
  istiod: string;
  istioVersion: string;
  proxyType?: string;
  /** Watched types only, sorted by type URL (as istiod sorts them). */
  xds: XdsTypeStatus[];
}

/** istiod's rule (statusgen.go debugSyncStatus), for one watched type. */
export function configStatusOf(w: {
  sent?: string;
  acked?: string;
  lastError?: string;
}): Exclude<ConfigStatus, 'UNKNOWN'> {
  if (w.lastError) return 'ERROR';
  if (!w.sent) return 'NOT_SENT';
  if (w.acked === w.sent) return 'SYNCED';
  return 'STALE';
}

/** Splits `<pod>.<namespace>`; namespaces are DNS labels (no dots) while pod names may hold dots. */
export function splitProxyId(proxyId: string): { pod: string; namespace: string } {
  const dot = proxyId.lastIndexOf('.');
  return dot < 0 ? { pod: proxyId, namespace: '' } : { pod: proxyId.slice(0, dot), namespace: proxyId.slice(dot + 1) };
}

/** The status of one type for a proxy; a type the proxy does not watch is UNKNOWN (shown as IGNORED). */
export function statusOfType(row: ProxyStatusRow, typeUrl: string): XdsTypeStatus {
  return row.xds.find((x) => x.typeUrl === typeUrl) ?? { typeUrl, status: 'UNKNOWN' };
}

/** istioctl's formatStatus: IGNORED / NOT SENT / NAME plus " (age)" when the push time is known. */
export function formatStatus(s: XdsTypeStatus, now: Date = new Date()): string {
  if (s.status === 'UNKNOWN') return 'IGNORED';
  if (s.status === 'NOT_SENT') return 'NOT SENT';
  if (!s.lastUpdated) return s.status;
  const at = Date.parse(s.lastUpdated);
  if (Number.isNaN(at)) return s.status;
  return `${s.status} (${humanDuration(now.getTime() - at)})`;
}

/** Kubernetes' duration.HumanDuration (k8s.io/apimachinery/pkg/util/duration): "45s", "4m12s", "3h5m", "2d4h". */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  // Within 2s of the future counts as now: tolerates clock skew between istiod and us.
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    const y = Math.trunc(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** istioctl sorts rows by proxy ID (byte order, as Go's string <). */
export function sortRows(rows: readonly ProxyStatusRow[]): ProxyStatusRow[] {
  return [...rows].sort((a, b) => compareBytes(a.proxyId, b.proxyId));
}

const PRIMARY_TYPES: readonly string[] = [TYPE_URL.CDS, TYPE_URL.LDS, TYPE_URL.EDS, TYPE_URL.RDS];

/** Default-table type order: CDS, LDS, EDS, RDS when seen, then every other seen type URL sorted. */
export function subscribedTypeOrder(rows: readonly ProxyStatusRow[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const x of r.xds) seen.add(x.typeUrl);
  const first = PRIMARY_TYPES.filter((t) => seen.has(t));
  const rest = [...seen].filter((t) => !PRIMARY_TYPES.includes(t)).sort(compareBytes);
  return [...first, ...rest];
}

/** The SUBSCRIBED TYPES cell: every type not IGNORED counts (NOT SENT, STALE and ERROR included). */
export function subscribedTypesCell(row: ProxyStatusRow, order: readonly string[]): string {
  const names = order.filter((t) => statusOfType(row, t).status !== 'UNKNOWN').map(shortTypeName);
  return names.length === 0 ? '0' : `${names.length} (${names.join(',')})`;
}

/** Verbose-table columns: seen types plus CDS, LDS, EDS, RDS, ECDS, sorted by full type URL. */
export function verboseTypeColumns(rows: readonly ProxyStatusRow[]): string[] {
  const set = new Set<string>([...PRIMARY_TYPES, TYPE_URL.ECDS]);
  for (const r of rows) for (const x of r.xds) set.add(x.typeUrl);
  return [...set].sort(compareBytes);
}

export interface StatusTableOptions {
  /** 0: istioctl's default table; 1: one column per xDS type, as `--verbosity 1`. */
  verbosity?: 0 | 1;
  /** Keep only proxies whose namespace is this one (istioctl --namespace). */
  namespace?: string;
  now?: Date;
}

/** The table `istioctl proxy-status` prints, as the same text. */
export function renderStatusTable(input: readonly ProxyStatusRow[], opts: StatusTableOptions = {}): string {
  const rows = sortRows(opts.namespace ? input.filter((r) => r.namespace === opts.namespace) : input);
  const lines: string[][] = [];
  if (opts.verbosity === 1) {
    const cols = verboseTypeColumns(rows);
    lines.push(['NAME', 'CLUSTER', ...cols.map(shortTypeName), 'ISTIOD', 'VERSION']);
    for (const r of rows) {
      lines.push([
        r.proxyId,
        r.cluster,
        ...cols.map((t) => formatStatus(statusOfType(r, t), opts.now)),
        r.istiod,
        r.istioVersion,
      ]);
    }
  } else {
    const order = subscribedTypeOrder(rows);
    lines.push(['NAME', 'CLUSTER', 'ISTIOD', 'VERSION', 'SUBSCRIBED TYPES']);
    for (const r of rows) lines.push([r.proxyId, r.cluster, r.istiod, r.istioVersion, subscribedTypesCell(r, order)]);
  }
  return tabwrite(lines, 5);
}

/**
 * Go text/tabwriter with minwidth 0, padding `padding`, pad ' ', flags 0, for rows that all have the
 * same number of cells: every cell but the last is padded to its column's widest cell plus padding.
 */
export function tabwrite(lines: readonly (readonly string[])[], padding: number): string {
  const widths: number[] = [];
  for (const cells of lines) {
    cells.forEach((c, i) => {
      if (i < cells.length - 1) widths[i] = Math.max(widths[i] ?? 0, [...c].length);
    });
  }
  return lines
    .map(
      (cells) =>
        cells
          .map((c, i) => (i < cells.length - 1 ? c + ' '.repeat(widths[i]! + padding - [...c].length) : c))
          .join('') + '\n',
    )
    .join('');
}

function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
