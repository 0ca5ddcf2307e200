// Traffic per version of one Service, as its destinations report it (reporter="destination"):
// istio_requests_total for the rate and the non-5xx share, istio_request_duration_milliseconds for
// p99. From Prometheus when one is configured (MESHOPS_PROMETHEUS_URL), else from the sidecars' own
// merged metrics (:15020/stats/prometheus through the pod proxy): counters since each proxy started,
// so a window is the growth between a baseline scrape and a later one.
import { z } from 'zod';
import type { KubeClient } from '../../kube/client.ts';
import { type Sample, counterIncrease } from '../../envoy/istio-metrics.ts';
import { MERGED_METRICS_PATH, MERGED_METRICS_PORT, scrapeMergedMetrics } from '../../envoy/metrics-scrape.ts';
import { mapBounded } from '../mtls/bounded-map.ts';
import { quantileFromBuckets, type VersionStats } from './judge.ts';
import type { SubsetPods } from './routes.ts';

const REQUESTS = 'istio_requests_total';
const BUCKET = 'istio_request_duration_milliseconds_bucket';

export interface Observed {
  /** By subset name. */
  bySubset: Map<string, VersionStats>;
  source: string;
  /** What could not be read, with the reason. */
  unread: string[];
}

/** A scrape of the subsets' pods: samples per pod, only this Service's destination-reported series. */
export type PodScrape = Map<string, Sample[]>;

/**
 * One pod's series summed to what the window needs: requests by response-code class (`2xx`, `5xx`, …)
 * and duration buckets by `le`. Small enough to keep a baseline of hundreds of pods in the request
 * (the window's state, approvals/guarded-window.ts). Summing across callers is exact for the window
 * because Envoy resets a proxy's counters together (a restart): a shrunken sum is a reset, as per series.
 */
export function compactSamples(samples: readonly Sample[]): Sample[] {
  const sums = new Map<string, Sample>();
  for (const s of samples) {
    const labels: Record<string, string> =
      s.name === REQUESTS
        ? { response_code: `${(s.labels.response_code ?? '0').slice(0, 1)}xx` }
        : s.labels.le !== undefined
          ? { le: s.labels.le }
          : {};
    const key = `${s.name}\u0000${labels.response_code ?? labels.le ?? ''}`;
    const sum = sums.get(key);
    if (sum) sum.value += s.value;
    else sums.set(key, { name: s.name, labels, value: s.value });
  }
  return [...sums.values()];
}

function ours(s: Sample, service: string, namespace: string): boolean {
  return (
    (s.name === REQUESTS || s.name === BUCKET) &&
    s.labels.reporter === 'destination' &&
    s.labels.destination_service_name === service &&
    s.labels.destination_service_namespace === namespace
  );
}

export async function scrapeSubsets(
  kube: KubeClient,
  namespace: string,
  service: string,
  subsets: readonly SubsetPods[],
): Promise<{ scrape: PodScrape; unread: string[] }> {
  const scrape: PodScrape = new Map();
  const unread: string[] = [];
  const pods = [...new Set(subsets.flatMap((s) => s.pods.map((p) => p.name)))];
  await mapBounded(pods, 8, async (pod) => {
    try {
      scrape.set(
        pod,
        compactSamples((await scrapeMergedMetrics(kube, namespace, pod)).filter((s) => ours(s, service, namespace))),
      );
    } catch (err) {
      unread.push(`${pod}: ${err instanceof Error ? err.message.slice(0, 160) : String(err)}`);
    }
  });
  return { scrape, unread };
}

/** The stats of each subset between two scrapes `seconds` apart. */
export function statsBetween(
  before: PodScrape,
  after: PodScrape,
  subsets: readonly SubsetPods[],
  seconds: number,
): Map<string, VersionStats> {
  const out = new Map<string, VersionStats>();
  for (const subset of subsets) {
    let requests = 0;
    let errors = 0;
    const buckets = new Map<string, number>();
    for (const pod of subset.pods) {
      const now = after.get(pod.name);
      if (!now) continue;
      for (const s of counterIncrease(before.get(pod.name) ?? [], now)) {
        if (s.name === REQUESTS) {
          requests += s.value;
          if ((s.labels.response_code ?? '').startsWith('5')) errors += s.value;
        } else if (s.labels.le !== undefined) buckets.set(s.labels.le, (buckets.get(s.labels.le) ?? 0) + s.value);
      }
    }
    out.set(subset.name, {
      requests,
      errors,
      rps: seconds > 0 ? requests / seconds : 0,
      p99Ms: quantileFromBuckets(0.99, buckets),
    });
  }
  return out;
}

export const podSource = `the destination sidecars' own metrics (:${MERGED_METRICS_PORT}${MERGED_METRICS_PATH}, reporter="destination")`;

const promVector = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('vector'),
    result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) })),
  }),
});

async function promQuery(
  url: string,
  query: string,
  timeoutMs: number,
): Promise<z.infer<typeof promVector>['data']['result']> {
  const u = new URL('api/v1/query', url.endsWith('/') ? url : `${url}/`);
  u.searchParams.set('query', query);
  const res = await fetch(u, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`Prometheus answered HTTP ${res.status}`);
  const parsed = promVector.safeParse(await res.json());
  if (!parsed.success) throw new Error('Prometheus did not answer with an instant vector');
  return parsed.data.data.result;
}

/** The PromQL: requests by version and code, and p99 by version, over `range` (e.g. `120s`). */
export function canaryQueries(service: string, namespace: string, range: string): { requests: string; p99: string } {
  const sel = `reporter="destination",destination_service_name="${service}",destination_service_namespace="${namespace}"`;
  return {
    requests: `sum by (destination_version, response_code) (increase(istio_requests_total{${sel}}[${range}]))`,
    p99: `histogram_quantile(0.99, sum by (le, destination_version) (rate(istio_request_duration_milliseconds_bucket{${sel}}[${range}])))`,
  };
}

/**
 * Per subset from Prometheus, over the last `seconds`: Prometheus groups by destination_version (the
 * pods' `version` label), so a subset is matched by its own `version` label.
 */
export async function observePrometheus(
  url: string,
  service: string,
  namespace: string,
  subsets: readonly SubsetPods[],
  seconds: number,
  timeoutMs = 10_000,
): Promise<Observed> {
  const range = `${Math.max(1, Math.round(seconds))}s`;
  const source = `Prometheus (${url}), reporter="destination", over the last ${range}`;
  const q = canaryQueries(service, namespace, range);
  let requests: Awaited<ReturnType<typeof promQuery>>;
  let p99: Awaited<ReturnType<typeof promQuery>>;
  try {
    [requests, p99] = await Promise.all([promQuery(url, q.requests, timeoutMs), promQuery(url, q.p99, timeoutMs)]);
  } catch (err) {
    return { bySubset: new Map(), source, unread: [`prometheus: ${err instanceof Error ? err.message : String(err)}`] };
  }
  const bySubset = new Map<string, VersionStats>();
  const unread: string[] = [];
  for (const s of subsets) {
    const version = s.labels.version;
    if (!version) {
      unread.push(`subset ${s.name} has no \`version\` label, and Prometheus groups by destination_version`);
      continue;
    }
    const rows = requests.filter((r) => r.metric.destination_version === version);
    const total = rows.reduce((n, r) => n + Number(r.value[1]), 0);
    const errors = rows
      .filter((r) => (r.metric.response_code ?? '').startsWith('5'))
      .reduce((n, r) => n + Number(r.value[1]), 0);
    const p = p99.find((r) => r.metric.destination_version === version);
    const p99Ms = p && Number.isFinite(Number(p.value[1])) ? Number(p.value[1]) : undefined;
    // increase() extrapolates: counts come back fractional.
    bySubset.set(s.name, { requests: Math.round(total), errors: Math.round(errors), rps: total / seconds, p99Ms });
  }
  return { bySubset, source, unread };
}
