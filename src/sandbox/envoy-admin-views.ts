// The admin views besides /config_dump, shaped as Envoy writes them: /clusters (text and
// ?format=json, envoy.admin.v3.Clusters: proto field names, uint64 as strings, zero values left out),
// /stats (text `name: value`, ?format=json with the histograms entry, filter=, usedonly, and
// /stats/prometheus with Istio's `cluster_name` tag and Envoy's response_code tags), /certs
// (envoy.admin.v3.Certificates) and /server_info. Stats are Envoy's own always-present ones computed
// from the proxy's config, overlaid with the traffic model's counters.
import type { CertificateDetails } from './mesh-ca.ts';
import type { Json } from './envoy-xds-base.ts';
import type { BuiltCluster } from './envoy-xds.ts';

export interface HostView {
  address: Json;
  /** `10.0.0.1:9080` or a pipe path. */
  label: string;
  ejected: boolean;
}

export interface ClusterView {
  name: string;
  addedViaApi: boolean;
  edsServiceName?: string;
  hosts: HostView[];
  thresholds: Json;
}

export function clusterViews(clusters: BuiltCluster[], ejected: ReadonlySet<string>): ClusterView[] {
  return clusters.map((c) => {
    const name = String(c.cluster.name);
    const hosts: HostView[] = [];
    if (c.staticAddress) {
      const sa = c.staticAddress.socket_address as Json | undefined;
      const label = sa ? `${String(sa.address)}:${String(sa.port_value)}` : String((c.staticAddress.pipe as Json).path);
      hosts.push({ address: c.staticAddress, label, ejected: false });
    }
    for (const e of c.endpoints ?? []) {
      const label = `${e.address}:${e.port}`;
      hosts.push({
        address: { socket_address: { address: e.address, port_value: e.port } },
        label,
        ejected: ejected.has(label) || ejected.has(e.address),
      });
    }
    const cb = ((c.cluster.circuit_breakers as Json | undefined)?.thresholds as Json[] | undefined)?.[0] ?? {};
    const eds = (c.cluster.eds_cluster_config as Json | undefined)?.service_name;
    return {
      name,
      addedViaApi: !c.static,
      ...(typeof eds === 'string' ? { edsServiceName: eds } : {}),
      hosts,
      thresholds: cb,
    };
  });
}

const HOST_COUNTERS = ['cx_connect_fail', 'cx_total', 'rq_error', 'rq_success', 'rq_timeout', 'rq_total'];
const HOST_GAUGES = ['cx_active', 'rq_active'];
const DEFAULT_LIMIT = 1024;
const limit = (t: Json, k: string) => Number(t[k] ?? DEFAULT_LIMIT);

export function clustersJson(views: ClusterView[]): string {
  const cluster_statuses = views.map((v) => ({
    name: v.name,
    ...(v.addedViaApi ? { added_via_api: true } : {}),
    circuit_breakers: {
      thresholds: [
        {
          max_connections: limit(v.thresholds, 'max_connections'),
          max_pending_requests: limit(v.thresholds, 'max_pending_requests'),
          max_requests: limit(v.thresholds, 'max_requests'),
          max_retries: Number(v.thresholds.max_retries ?? 3),
        },
        { priority: 'HIGH', max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3 },
      ],
    },
    observability_name: v.name,
    ...(v.hosts.length > 0
      ? {
          host_statuses: v.hosts.map((h) => ({
            address: h.address,
            stats: [
              ...HOST_COUNTERS.map((name) => ({ name })),
              ...HOST_GAUGES.map((name) => ({ type: 'GAUGE', name })),
            ],
            health_status: { eds_health_status: 'HEALTHY', ...(h.ejected ? { failed_outlier_check: true } : {}) },
            weight: 1,
            locality: {},
          })),
        }
      : {}),
  }));
  return `${JSON.stringify({ cluster_statuses }, null, 1)}\n`;
}

export function clustersText(views: ClusterView[]): string {
  const lines: string[] = [];
  for (const v of views) {
    const n = v.name;
    lines.push(`${n}::observability_name::${n}`);
    for (const [prio, t] of [
      ['default_priority', v.thresholds],
      ['high_priority', {}],
    ] as const)
      for (const k of ['max_connections', 'max_pending_requests', 'max_requests'])
        lines.push(`${n}::${prio}::${k}::${limit(t as Json, k)}`);
    lines.push(`${n}::added_via_api::${v.addedViaApi}`);
    if (v.edsServiceName) lines.push(`${n}::eds_service_name::${v.edsServiceName}`);
    for (const h of v.hosts) {
      for (const s of [...HOST_GAUGES, ...HOST_COUNTERS].sort()) lines.push(`${n}::${h.label}::${s}::0`);
      lines.push(`${n}::${h.label}::hostname::`);
      lines.push(`${n}::${h.label}::health_flags::${h.ejected ? '/failed_outlier_check' : 'healthy'}`);
      lines.push(`${n}::${h.label}::weight::1`);
      for (const k of ['region', 'zone', 'sub_zone']) lines.push(`${n}::${h.label}::${k}::`);
      lines.push(`${n}::${h.label}::canary::false`, `${n}::${h.label}::priority::0`);
      lines.push(`${n}::${h.label}::success_rate::-1`, `${n}::${h.label}::local_origin_success_rate::-1`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export interface Stat {
  name: string;
  value: number;
}

const GAUGE =
  /(^server\.(state|live|uptime|concurrency|memory_\w+|days_until_first_cert_expiring|seconds_until_first_cert_expiring|total_connections)$)|(_active$)|(membership_\w+$)|(^cluster_manager\.(active|warming)_clusters$)|(^listener_manager\.total_listeners_\w+$)/;

export function isGauge(name: string): boolean {
  return GAUGE.test(name);
}

/** Envoy's own stats for the proxy, from its config; then the traffic model's (theirs win for the same name). */
export function proxyStats(input: {
  views: ClusterView[];
  listeners: number;
  uptimeSeconds: number;
  certSecondsLeft: number;
  extra: Stat[];
}): Stat[] {
  const m = new Map<string, number>();
  const set = (name: string, value: number) => m.set(name, value);
  set('server.state', 0);
  set('server.live', 1);
  set('server.concurrency', 2);
  set('server.uptime', input.uptimeSeconds);
  set('server.total_connections', 0);
  set('server.memory_allocated', 9_000_000 + 40_000 * input.views.length);
  set('server.memory_heap_size', 16_777_216);
  set('server.days_until_first_cert_expiring', Math.max(0, Math.floor(input.certSecondsLeft / 86_400)));
  set('server.seconds_until_first_cert_expiring', Math.max(0, Math.floor(input.certSecondsLeft)));
  const dynamic = input.views.filter((v) => v.addedViaApi).length;
  set('cluster_manager.active_clusters', input.views.length);
  set('cluster_manager.warming_clusters', 0);
  set('cluster_manager.cluster_added', input.views.length);
  set('cluster_manager.cluster_modified', 0);
  set('cluster_manager.cluster_removed', 0);
  set('cluster_manager.cds.update_success', dynamic > 0 ? 1 : 0);
  set('cluster_manager.cds.update_rejected', 0);
  set('listener_manager.total_listeners_active', input.listeners);
  set('listener_manager.total_listeners_warming', 0);
  set('listener_manager.listener_added', input.listeners);
  set('listener_manager.lds.update_success', 1);
  set('listener_manager.lds.update_rejected', 0);
  for (const v of input.views) {
    const p = `cluster.${v.name}.`;
    const healthy = v.hosts.filter((h) => !h.ejected).length;
    set(`${p}membership_healthy`, healthy);
    set(`${p}membership_total`, v.hosts.length);
    set(`${p}membership_degraded`, 0);
    set(`${p}membership_excluded`, 0);
    for (const k of [
      'upstream_cx_total',
      'upstream_cx_active',
      'upstream_cx_connect_fail',
      'upstream_rq_total',
      'upstream_rq_active',
    ])
      set(`${p}${k}`, 0);
    for (const k of [
      'upstream_rq_pending_overflow',
      'upstream_rq_retry',
      'upstream_rq_timeout',
      'upstream_cx_none_healthy',
    ])
      set(`${p}${k}`, 0);
    set(`${p}outlier_detection.ejections_active`, v.hosts.length - healthy);
    set(`${p}outlier_detection.ejections_enforced_total`, v.hosts.length - healthy);
    set(`${p}circuit_breakers.default.rq_open`, 0);
    set(`${p}circuit_breakers.default.cx_open`, 0);
  }
  for (const s of input.extra) set(s.name, s.value);
  return [...m.entries()].map(([name, value]) => ({ name, value })).sort((a, b) => a.name.localeCompare(b.name));
}

const HISTOGRAMS = ['server.initialization_time_ms'];

export function statsText(stats: Stat[]): string {
  return (
    [...stats.map((s) => `${s.name}: ${s.value}`), ...HISTOGRAMS.map((h) => `${h}: No recorded values`)].join('\n') +
    '\n'
  );
}

export function statsJson(stats: Stat[]): string {
  const histograms = {
    supported_quantiles: [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100],
    computed_quantiles: HISTOGRAMS.map((name) => ({
      name,
      values: Array.from({ length: 10 }, () => ({ interval: null, cumulative: null })),
    })),
  };
  return `${JSON.stringify({ stats: [...stats.map((s) => ({ name: s.name, value: s.value })), { histograms }] }, null, 1)}\n`;
}

/** /stats/prometheus: `cluster.<name>.` becomes the cluster_name label (Istio's stats tag), `_rq_503` a response_code. */
export function statsPrometheus(stats: Stat[], clusterNames: string[]): string {
  const byLength = [...clusterNames].sort((a, b) => b.length - a.length);
  const families = new Map<string, { type: string; lines: string[] }>();
  for (const s of stats) {
    const labels: string[] = [];
    let rest = s.name;
    if (rest.startsWith('cluster.')) {
      const cluster = byLength.find((c) => rest.startsWith(`cluster.${c}.`));
      const name = cluster ?? rest.split('.')[1] ?? '';
      rest = `cluster.${rest.slice(`cluster.${name}.`.length)}`;
      labels.push(`cluster_name="${name}"`);
    }
    const code = /^(.*_rq)_(\d{3})$/.exec(rest);
    const cls = /^(.*_rq)_(\dxx)$/.exec(rest);
    if (code) {
      rest = code[1]!;
      labels.unshift(`response_code="${code[2]}"`);
    } else if (cls) {
      rest = `${cls[1]!}_xx`;
      labels.unshift(`response_code_class="${cls[2]}"`);
    }
    const metric = `envoy_${rest.replace(/[^a-zA-Z0-9_]/g, '_')}`;
    const fam = families.get(metric) ?? { type: isGauge(s.name) ? 'gauge' : 'counter', lines: [] };
    fam.lines.push(`${metric}${labels.length > 0 ? `{${labels.join(',')}}` : ''} ${s.value}`);
    families.set(metric, fam);
  }
  const out: string[] = [];
  for (const [name, f] of [...families.entries()].sort((a, b) => a[0].localeCompare(b[0])))
    out.push(`# TYPE ${name} ${f.type}`, ...f.lines);
  return `${out.join('\n')}\n`;
}

function certJson(d: CertificateDetails, now: Date): Json {
  const rfc3339 = (x: Date) => x.toISOString().replace(/\.\d+Z$/, 'Z');
  const days = Math.max(0, Math.floor((d.expiration.getTime() - now.getTime()) / 86_400_000));
  return {
    path: '<inline>',
    serial_number: d.serialNumber,
    subject_alt_names: [...d.uris.map((uri) => ({ uri })), ...d.dnsNames.map((dns) => ({ dns }))],
    days_until_expiration: String(days),
    valid_from: rfc3339(d.validFrom),
    expiration_time: rfc3339(d.expiration),
  };
}

/** /certs: one entry per TLS context, its trusted CA and its certificate chain. */
export function certsJson(contexts: Array<{ ca?: CertificateDetails; chain?: CertificateDetails }>, now: Date): string {
  const certificates = contexts.map((c) => ({
    ca_cert: c.ca ? [certJson(c.ca, now)] : [],
    cert_chain: c.chain ? [certJson(c.chain, now)] : [],
  }));
  // Envoy's JSON printer escapes < and > (protobuf's JSON), so `<inline>` reads \u003cinline\u003e.
  return `${JSON.stringify({ certificates }, null, 1).replace(/</g, '\\u003c').replace(/>/g, '\\u003e')}\n`;
}
