// Per-cluster rates from two reads of Envoy's /stats a few seconds apart. Stat names are Envoy's
// (docs/root/configuration/upstream/cluster_manager/cluster_stats.rst): every cluster has a tree
// `cluster.<name>.` with upstream_rq_total, upstream_rq_<Nxx> and upstream_rq_<code> (final responses
// only; retried ones are under `retry.`), upstream_rq_retry, _retry_overflow, _timeout, _per_try_timeout,
// _pending_overflow, upstream_cx_overflow, _connect_fail, _none_healthy; gauges under
// `outlier_detection.ejections_active` and `circuit_breakers.<priority>.<x>_open`. A counter that went
// down means the proxy restarted (counters start at 0 again) between the reads. Pure: no I/O, no words.
import { type IstioClusterName, parseIstioClusterName } from './clusters.ts';
import type { EnvoyStat } from './stats.ts';

/** The counters we turn into rates, by their name under `cluster.<name>.`. */
export const RATE_COUNTERS = {
  requests: 'upstream_rq_total',
  retries: 'upstream_rq_retry',
  retryOverflow: 'upstream_rq_retry_overflow',
  timeouts: 'upstream_rq_timeout',
  perTryTimeouts: 'upstream_rq_per_try_timeout',
  pendingOverflow: 'upstream_rq_pending_overflow',
  cxOverflow: 'upstream_cx_overflow',
  connectFail: 'upstream_cx_connect_fail',
  noneHealthy: 'upstream_cx_none_healthy',
  ejectionsEnforced: 'outlier_detection.ejections_enforced_total',
} as const;
export type RateCounter = keyof typeof RATE_COUNTERS;

/** The regex sent as Envoy's `filter` (RE2, matched against the stat's name): cluster stats and the uptime gauge. */
export const CLUSTER_STATS_FILTER = '^cluster\\.|^server\\.uptime$';

const CLUSTER_STAT =
  /^cluster\.(.+?)\.((?:retry\.)?upstream_(?:rq|cx)_[a-z0-9_]+|outlier_detection\.[a-z0-9_]+|circuit_breakers\.[a-z]+\.[a-z_]+)$/;

const ALT_TREE = /\.(canary|internal|external|zone\.[^.]+\.[^.]+)$/;

/** One read of /stats: when it was taken (ms since the epoch) and what it held. */
export interface StatsSample {
  at: number;
  stats: readonly EnvoyStat[];
}

type Values = Map<string, number>;

/** `cluster.<name>.<stat>` → cluster name → stat → value (the clusters' stats only). */
export function clusterStats(stats: readonly EnvoyStat[]): Map<string, Values> {
  const out = new Map<string, Values>();
  for (const s of stats) {
    if (s.value === undefined) continue;
    const m = CLUSTER_STAT.exec(s.name);
    if (!m) continue;
    const cluster = m[1] as string;
    // Envoy's alternate trees under a cluster (canary., internal., external., zone.<from>.<to>.) are not clusters.
    if (ALT_TREE.test(cluster)) continue;
    let values = out.get(cluster);
    if (!values) out.set(cluster, (values = new Map()));
    values.set(m[2] as string, s.value);
  }
  return out;
}

export type Counts = Record<RateCounter, number> & {
  r2xx: number;
  r3xx: number;
  r4xx: number;
  r5xx: number;
  /** upstream_rq_completed: final responses sent downstream. */
  completed: number;
};

export interface CodeCount {
  /** `503`, `404`: final responses with that code. */
  code: string;
  delta: number;
  total: number;
}

export interface ClusterRates {
  name: string;
  /** Istio's parts (direction, port, subset, host); undefined for Envoy's own clusters (agent, xds-grpc, ...). */
  istio?: IstioClusterName;
  /** Counts during the sample (since the restart, when a counter went down). */
  delta: Counts;
  /** Counts since the proxy started, from the second read. */
  total: Counts;
  /** Error codes (4xx and 5xx) seen during the sample or since start, most frequent first. */
  codes: CodeCount[];
  /** Hosts ejected by outlier detection now (a gauge); undefined when the cluster has no outlier detection. */
  ejectionsActive?: number;
  /** Circuit breakers at capacity now: `default.rq_pending_open`, ... */
  breakersOpen: string[];
  /** A counter of this cluster went down between the reads. */
  reset: boolean;
  /** Not in the first read: its counters were all 0 then (usedonly leaves them out), or it is new. */
  added: boolean;
  /** Errors during the sample per second: 5xx, connection failures, no healthy host, overflows, timeouts. */
  failureRate: number;
  failing: boolean;
}

export interface RatesReport {
  seconds: number;
  clusters: ClusterRates[];
  /** Clusters in the first read but not the second (removed by a config push). */
  removed: string[];
  /** The proxy restarted between the reads: server.uptime went down, or counters did. */
  restarted: boolean;
  /** server.uptime was not in the answers, so a restart can only be seen from counters. */
  uptimeUnknown: boolean;
}

const COUNTER_KEYS = Object.keys(RATE_COUNTERS) as RateCounter[];

// `requests` is upstream_rq_total, or the final responses when they outnumber it: a request failed
// before any upstream request (no healthy host, connection failure) gets a response code but no
// upstream_rq_total.
function counts(get: (stat: string) => number): Counts {
  const c = {
    r2xx: get('upstream_rq_2xx'),
    r3xx: get('upstream_rq_3xx'),
    r4xx: get('upstream_rq_4xx'),
    r5xx: get('upstream_rq_5xx'),
    completed: get('upstream_rq_completed'),
  } as Counts;
  for (const k of COUNTER_KEYS) c[k] = get(RATE_COUNTERS[k]);
  c.requests = Math.max(c.requests, completed(c));
  return c;
}

const ERROR_CODE = /^upstream_rq_([45]\d\d)$/;

function clusterRates(name: string, before: Values | undefined, after: Values, seconds: number): ClusterRates {
  let reset = false;
  const delta = (stat: string): number => {
    const b = after.get(stat) ?? 0;
    const a = before?.get(stat) ?? 0;
    if (b < a) {
      reset = true;
      return b;
    }
    return b - a;
  };
  const d = counts(delta);
  const t = counts((stat) => after.get(stat) ?? 0);
  const codes: CodeCount[] = [];
  for (const [stat, value] of after) {
    const m = ERROR_CODE.exec(stat);
    if (m) codes.push({ code: m[1] as string, delta: delta(stat), total: value });
  }
  codes.sort((x, y) => y.delta - x.delta || y.total - x.total || x.code.localeCompare(y.code));
  const breakersOpen = [...after]
    .filter(([stat, v]) => v === 1 && /^circuit_breakers\.[a-z]+\.[a-z_]+_open$/.test(stat))
    .map(([stat]) => stat.slice('circuit_breakers.'.length))
    .sort();
  const ejected = after.get('outlier_detection.ejections_active');
  const failures = d.r5xx + d.connectFail + d.noneHealthy + d.pendingOverflow + d.cxOverflow + d.timeouts;
  const failureRate = seconds > 0 ? failures / seconds : 0;
  const istio = parseIstioClusterName(name);
  return {
    name,
    ...(istio ? { istio } : {}),
    delta: d,
    total: t,
    codes: codes.filter((c) => c.delta > 0 || c.total > 0),
    ...(ejected !== undefined ? { ejectionsActive: ejected } : {}),
    breakersOpen,
    reset,
    added: before === undefined,
    failureRate,
    failing: failures > 0 || (ejected ?? 0) > 0 || breakersOpen.length > 0 || d.retryOverflow > 0,
  };
}

/** Per-second rate of a count over the sample. */
export const perSecond = (n: number, seconds: number): number => (seconds > 0 ? n / seconds : 0);

/** Failing clusters first (most errors per second, then most hosts ejected), then the busiest, then by name. */
export function byFailingThenBusy(a: ClusterRates, b: ClusterRates): number {
  if (a.failing !== b.failing) return a.failing ? -1 : 1;
  if (a.failing) {
    const e = b.failureRate - a.failureRate || (b.ejectionsActive ?? 0) - (a.ejectionsActive ?? 0);
    if (e !== 0) return e;
  }
  return (
    b.delta.requests - a.delta.requests ||
    b.total.requests - a.total.requests ||
    b.total.r5xx - a.total.r5xx ||
    a.name.localeCompare(b.name)
  );
}

/** Compare two reads; `first` must be the earlier one. */
export function compareSamples(first: StatsSample, second: StatsSample): RatesReport {
  const seconds = Math.max(0, (second.at - first.at) / 1000);
  const before = clusterStats(first.stats);
  const after = clusterStats(second.stats);
  const uptime = (s: StatsSample) => s.stats.find((x) => x.name === 'server.uptime')?.value;
  const [u1, u2] = [uptime(first), uptime(second)];
  const clusters = [...after].map(([name, values]) => clusterRates(name, before.get(name), values, seconds));
  clusters.sort(byFailingThenBusy);
  return {
    seconds,
    clusters,
    removed: [...before.keys()].filter((n) => !after.has(n)).sort(),
    restarted: (u1 !== undefined && u2 !== undefined && u2 < u1) || clusters.some((c) => c.reset),
    uptimeUnknown: u1 === undefined || u2 === undefined,
  };
}

/** Requests that got a final response (the denominator of a code's share). */
export function completed(c: Omit<Counts, 'requests'> | Counts): number {
  return Math.max(c.completed, c.r2xx + c.r3xx + c.r4xx + c.r5xx);
}

/** Keep the clusters whose name contains `filter` (case-insensitive). */
export function filterClusters(report: RatesReport, filter: string | undefined): RatesReport {
  if (!filter) return report;
  const f = filter.toLowerCase();
  return {
    ...report,
    clusters: report.clusters.filter((c) => c.name.toLowerCase().includes(f)),
    removed: report.removed.filter((n) => n.toLowerCase().includes(f)),
  };
}
