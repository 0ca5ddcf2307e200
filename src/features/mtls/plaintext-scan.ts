// Who calls a namespace in plaintext: read from the destination sidecars' own metrics (the merged
// endpoint :15020/stats/prometheus, through the API server's pod proxy) or from Prometheus when one
// is configured. Counters count since each proxy started, so a pod scrape is taken twice, `windowMs`
// apart: the totals say who has ever called in plaintext (the verdict uses them, to be safe), the
// growth says who is calling right now.
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import type { KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/objects.ts';
import { type PlaintextCaller, type Sample, counterIncrease, plaintextCallers } from '../../envoy/istio-metrics.ts';
import { MERGED_METRICS_PATH, MERGED_METRICS_PORT, scrapeMergedMetrics } from '../../envoy/metrics-scrape.ts';
import type { MeshSnapshot } from '../../mesh/snapshot.ts';
import { findProxyContainer } from '../../mesh/sidecar-proxy.ts';
import { podPhase } from '../../mesh/traffic-routing.ts';
import { mapBounded } from './bounded-map.ts';

/** Scrapes in flight at once: the API server proxies each one. */
export const SCRAPE_CONCURRENCY = 8;

export interface ScanOptions {
  /** Prometheus base URL (MESHOPS_PROMETHEUS_URL); without it the sidecars are scraped directly. */
  prometheusUrl?: string;
  /** Time between the two pod scrapes; default 10 s. */
  windowMs?: number;
  /** Prometheus query range; default 10m. */
  prometheusRange?: string;
  fetchTimeoutMs?: number;
  /** Told what the scan is doing while it waits (the console shows it; a scan takes `windowMs`). */
  progress?: (note: string) => void;
}

export interface CallerSeen extends PlaintextCaller {
  /** Requests + TCP connections in the window (pod scrapes: between the two; Prometheus: the range). */
  recent: number;
}

export interface PlaintextScan {
  /** undefined: nothing could be read, so plaintext callers cannot be ruled out. */
  callers?: CallerSeen[];
  /** Where the numbers come from and what they count, for people. */
  source: string;
  /** Pods whose metrics could not be read, with the reason. */
  unread: { pod: string; reason: string }[];
  scrapedPods: number;
  /** With callers undefined and nothing unread: why there was nothing to read at all. */
  nothingToRead?: string;
}

/** Pods whose sidecar serves the merged metrics endpoint: Running, with an istio-proxy. */
export function scrapeablePods(snapshot: MeshSnapshot, namespace: string): KubeObject[] {
  return snapshot
    .list('Pod', namespace)
    .filter((p) => podPhase(p) === 'Running' && findProxyContainer(p) !== undefined);
}

function key(c: PlaintextCaller): string {
  return `${c.source}\u0000${c.destinationWorkload}.${c.destinationNamespace}`;
}

async function scrapeAll(
  kube: KubeClient,
  pods: readonly KubeObject[],
): Promise<{ samples: Map<string, Sample[]>; unread: PlaintextScan['unread'] }> {
  const samples = new Map<string, Sample[]>();
  const unread: PlaintextScan['unread'] = [];
  await mapBounded(pods, SCRAPE_CONCURRENCY, async (p) => {
    try {
      samples.set(p.metadata.name, await scrapeMergedMetrics(kube, p.metadata.namespace ?? '', p.metadata.name));
    } catch (err) {
      unread.push({ pod: p.metadata.name, reason: err instanceof Error ? err.message.slice(0, 200) : String(err) });
    }
  });
  return { samples, unread };
}

/** Two scrapes of every meshed pod in the namespace, `windowMs` apart. */
export async function scanPods(
  kube: KubeClient,
  snapshot: MeshSnapshot,
  namespace: string,
  windowMs: number,
  progress?: (note: string) => void,
): Promise<PlaintextScan> {
  const pods = scrapeablePods(snapshot, namespace);
  const seconds = Math.round(windowMs / 100) / 10;
  const source = `the sidecars' own metrics (:${MERGED_METRICS_PORT}${MERGED_METRICS_PATH}); totals since each proxy started, "recent" = growth over ${seconds}s`;
  // No sidecar to ask is not "no plaintext caller": the destination sidecars are the only witnesses.
  if (pods.length === 0)
    return {
      source,
      unread: [],
      scrapedPods: 0,
      nothingToRead: `no running pod in ${namespace} has a sidecar, and only the destination's sidecar reports who called it`,
    };
  const sidecars = `${pods.length} sidecar${pods.length === 1 ? '' : 's'}`;
  progress?.(`Reading the metrics of ${sidecars} in ${namespace}…`);
  const first = await scrapeAll(kube, pods);
  progress?.(`Sampling ${sidecars} in ${namespace} again in ${seconds}s, to see who calls in plaintext now…`);
  await delay(windowMs);
  const second = await scrapeAll(kube, pods);
  const unread = [...first.unread, ...second.unread.filter((u) => !first.unread.some((f) => f.pod === u.pod))];
  if (unread.length === pods.length) return { source, unread, scrapedPods: 0 };
  const totals: Sample[] = [];
  const growth: Sample[] = [];
  for (const [pod, after] of second.samples) {
    totals.push(...after);
    growth.push(...counterIncrease(first.samples.get(pod) ?? [], after));
  }
  const recent = new Map(plaintextCallers(growth).map((c) => [key(c), c.requests + c.tcpConnections]));
  const callers = plaintextCallers(totals).map((c) => ({ ...c, recent: recent.get(key(c)) ?? 0 }));
  return { callers, source, unread, scrapedPods: second.samples.size };
}

const promAnswer = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('vector'),
    result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) })),
  }),
});

/** The PromQL for plaintext requests into a namespace over a range. */
export function plaintextQuery(namespace: string, range: string): string {
  return `sum by (source_workload, source_workload_namespace, source_principal, destination_workload, response_code) (increase(istio_requests_total{reporter="destination",connection_security_policy="none",destination_workload_namespace="${namespace}"}[${range}]))`;
}

export async function scanPrometheus(
  prometheusUrl: string,
  namespace: string,
  range = '10m',
  timeoutMs = 10_000,
): Promise<PlaintextScan> {
  const source = `Prometheus (${prometheusUrl}): increase of istio_requests_total over the last ${range}`;
  const url = new URL('api/v1/query', prometheusUrl.endsWith('/') ? prometheusUrl : `${prometheusUrl}/`);
  url.searchParams.set('query', plaintextQuery(namespace, range));
  let body: unknown;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    if (!res.ok)
      return { source, unread: [{ pod: 'prometheus', reason: `answered HTTP ${res.status}` }], scrapedPods: 0 };
    body = await res.json();
  } catch (err) {
    return {
      source,
      unread: [{ pod: 'prometheus', reason: err instanceof Error ? err.message : String(err) }],
      scrapedPods: 0,
    };
  }
  const parsed = promAnswer.safeParse(body);
  if (!parsed.success)
    return { source, unread: [{ pod: 'prometheus', reason: 'the answer was not an instant vector' }], scrapedPods: 0 };
  const samples: Sample[] = parsed.data.data.result.map((r) => ({
    name: 'istio_requests_total',
    labels: {
      ...r.metric,
      reporter: 'destination',
      connection_security_policy: 'none',
      destination_workload_namespace: namespace,
    },
    // increase() extrapolates, so counts come back fractional.
    value: Math.round(Number(r.value[1])),
  }));
  const callers = plaintextCallers(samples).map((c) => ({ ...c, recent: c.requests + c.tcpConnections }));
  return { callers, source, unread: [], scrapedPods: 0 };
}

export async function scanPlaintextCallers(
  kube: KubeClient,
  snapshot: MeshSnapshot,
  namespace: string,
  options: ScanOptions = {},
): Promise<PlaintextScan> {
  if (options.prometheusUrl) {
    options.progress?.(`Asking Prometheus who calls ${namespace} in plaintext…`);
    return scanPrometheus(options.prometheusUrl, namespace, options.prometheusRange, options.fetchTimeoutMs);
  }
  return scanPods(kube, snapshot, namespace, options.windowMs ?? 10_000, options.progress);
}
