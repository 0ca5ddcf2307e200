// After STRICT lands: look for new failures toward the namespace. Sources are the namespace's
// sidecar access logs (inbound plaintext refused: NR filter_chain_not_found), the ingress gateways'
// access logs for routes into the namespace, and the sidecars' istio_requests_total 403/503 counts
// (growth since the first look). Only what happened after `since` counts; logs are read
// incrementally and their failures accumulate in the WatchState.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/objects.ts';
import { type Sample, counterIncrease, sampleSchema } from '../../envoy/istio-metrics.ts';
import { scrapeMergedMetrics } from '../../envoy/metrics-scrape.ts';
import { findProxyContainer, proxyContainerName } from '../../mesh/sidecar-proxy.ts';
import { podPhase } from '../../mesh/traffic-routing.ts';
import { type AccessLogEntry, failureOf, parseAccessLogLine } from '../../envoy/access-log.ts';
import { mapBounded } from './bounded-map.ts';

export interface FailureGroup {
  /** `sidecar bookinfo/reviews-v1-abc`, `gateway istio-system/istio-ingressgateway-xyz`, `metrics bookinfo/reviews-v1-abc`. */
  where: string;
  what: string;
  count: number;
  /** Peer address or caller workload, when known. */
  from?: string;
}

export interface WatchReport {
  failures: FailureGroup[];
  total: number;
  /** Sources that could not be read; the verdict says so rather than claiming health. */
  unread: string[];
  podsRead: number;
}

export interface WatchState {
  /** istio_requests_total 403/503 samples per pod at the first look: growth is counted from there. */
  baseline: Map<string, Sample[]>;
  /** Failures found in access logs so far (logs are read incrementally, so these accumulate). */
  logFailures: Map<string, FailureGroup>;
  /** Per pod: when its log was last read, and its lines' hashes (lineKey), to skip the overlap next time. */
  lastRead: Map<string, { at: number; lines: Set<string> }>;
}

export function newWatchState(): WatchState {
  return { baseline: new Map(), logFailures: new Map(), lastRead: new Map() };
}

/** A log line's short hash: what is kept of the last read to skip the overlap of the next one. */
export function lineKey(line: string): string {
  return createHash('sha1').update(line).digest('base64').slice(0, 12);
}

/** Hashes kept per pod: the newest lines of the last read, which are the ones the next read overlaps. */
const KEPT_LINE_KEYS = 1000;

const failureGroupSchema = z.object({
  where: z.string(),
  what: z.string(),
  count: z.number(),
  from: z.string().optional(),
});
/** A WatchState as JSON, for the request that carries the window (approvals/guarded-window.ts). */
export const watchStateJsonSchema = z.object({
  baseline: z.record(z.string(), z.array(sampleSchema)),
  logFailures: z.array(failureGroupSchema),
  lastRead: z.record(z.string(), z.object({ at: z.number(), lines: z.array(z.string()) })),
});
export type WatchStateJson = z.infer<typeof watchStateJsonSchema>;

export function watchStateToJson(s: WatchState, keepLines = KEPT_LINE_KEYS): WatchStateJson {
  return {
    baseline: Object.fromEntries(s.baseline),
    logFailures: [...s.logFailures.values()],
    lastRead: Object.fromEntries(
      [...s.lastRead].map(([k, v]) => [k, { at: v.at, lines: keepLines > 0 ? [...v.lines].slice(-keepLines) : [] }]),
    ),
  };
}

export function watchStateFromJson(j: WatchStateJson): WatchState {
  const logFailures = new Map<string, FailureGroup>();
  for (const g of j.logFailures) group(logFailures, g.where, g.what, g.from, g.count);
  return {
    baseline: new Map(Object.entries(j.baseline)),
    logFailures,
    lastRead: new Map(Object.entries(j.lastRead).map(([k, v]) => [k, { at: v.at, lines: new Set(v.lines) }])),
  };
}

/** Log reads and scrapes in flight at once. */
const READ_CONCURRENCY = 8;

/** Gateways whose routes may lead into the namespace: Istio ingress gateway pods anywhere. */
function gatewayPods(all: readonly KubeObject[]): KubeObject[] {
  return all.filter(
    (p) =>
      p.metadata.labels?.istio === 'ingressgateway' ||
      p.metadata.labels?.['gateway.networking.k8s.io/gateway-name'] !== undefined,
  );
}

function intoNamespace(e: AccessLogEntry, namespace: string): boolean {
  // outbound|9080|v1|reviews.bookinfo.svc.cluster.local, or the authority the gateway routed.
  return (e.upstreamCluster ?? '').includes(`.${namespace}.svc.`) || (e.authority ?? '').includes(`.${namespace}.svc`);
}

function group(into: Map<string, FailureGroup>, where: string, what: string, from: string | undefined, n = 1): void {
  const k = `${where}\u0000${what}\u0000${from ?? ''}`;
  const g = into.get(k);
  if (g) g.count += n;
  else into.set(k, { where, what, count: n, from });
}

export async function watchOnce(
  kube: KubeClient,
  namespace: string,
  since: Date,
  now: Date,
  state: WatchState,
): Promise<WatchReport> {
  const [nsPods, allPods] = await Promise.all([
    kube.list('Pod', { namespace }),
    kube.list('Pod', { labelSelector: 'istio=ingressgateway' }),
  ]);
  const sidecars = nsPods.filter((p) => podPhase(p) === 'Running' && findProxyContainer(p));
  const gateways = gatewayPods(allPods).filter((p) => podPhase(p) === 'Running');
  const metricGroups = new Map<string, FailureGroup>();
  const unread: string[] = [];
  let podsRead = 0;

  const readLog = async (pod: KubeObject, role: 'sidecar' | 'gateway') => {
    const ns = pod.metadata.namespace ?? '';
    const key = `${role} ${ns}/${pod.metadata.name}`;
    const last = state.lastRead.get(key);
    // Each look reads only what is new since the last one, plus a little overlap for clock skew.
    const from = last ? last.at - 2000 : since.getTime();
    const sinceSeconds = Math.max(1, Math.ceil((now.getTime() - from) / 1000) + 1);
    try {
      const text = await kube.podLogs(ns, pod.metadata.name, {
        container: proxyContainerName,
        sinceSeconds,
        limitBytes: 2_000_000,
      });
      podsRead++;
      // Each line once, by its hash: a line the last read saw (the overlap) is not counted again.
      const byKey = new Map(
        text
          .split('\n')
          .filter(Boolean)
          .map((l) => [lineKey(l), l] as const),
      );
      const lines = new Set(byKey.keys());
      for (const [k, line] of byKey) {
        if (last?.lines.has(k)) continue;
        const e = parseAccessLogLine(line);
        if (!e || (e.startTime && e.startTime.getTime() < since.getTime())) continue;
        if (role === 'gateway' && !intoNamespace(e, namespace)) continue;
        const f = failureOf(e);
        if (f) group(state.logFailures, key, f.what, e.downstreamRemoteAddress?.replace(/:\d+$/, ''));
      }
      state.lastRead.set(key, { at: now.getTime(), lines });
    } catch (err) {
      unread.push(`${key} logs: ${err instanceof Error ? err.message.slice(0, 160) : String(err)}`);
    }
  };

  const readMetrics = async (pod: KubeObject) => {
    const ns = pod.metadata.namespace ?? '';
    try {
      const samples = (await scrapeMergedMetrics(kube, ns, pod.metadata.name)).filter(
        (s) =>
          s.name === 'istio_requests_total' && (s.labels.response_code === '403' || s.labels.response_code === '503'),
      );
      const baseline = state.baseline.get(pod.metadata.name);
      // The first look only sets the baseline: counts from before STRICT are not ours to blame.
      if (!baseline) {
        state.baseline.set(pod.metadata.name, samples);
        return;
      }
      for (const s of counterIncrease(baseline, samples)) {
        if (s.value <= 0) continue;
        const caller =
          s.labels.source_workload && s.labels.source_workload !== 'unknown'
            ? `${s.labels.source_workload}.${s.labels.source_workload_namespace ?? '?'}`
            : 'unknown';
        const flags = s.labels.response_flags && s.labels.response_flags !== '-' ? `, ${s.labels.response_flags}` : '';
        group(
          metricGroups,
          `metrics ${ns}/${pod.metadata.name}`,
          `${s.labels.response_code} (${s.labels.reporter ?? '?'}-reported${flags})`,
          caller,
          s.value,
        );
      }
    } catch (err) {
      unread.push(
        `metrics ${ns}/${pod.metadata.name}: ${err instanceof Error ? err.message.slice(0, 160) : String(err)}`,
      );
    }
  };

  const jobs: Array<() => Promise<void>> = [
    ...sidecars.map((p) => () => readLog(p, 'sidecar')),
    ...gateways.map((p) => () => readLog(p, 'gateway')),
    ...sidecars.map((p) => () => readMetrics(p)),
  ];
  await mapBounded(jobs, READ_CONCURRENCY, (job) => job());
  const failures = [...state.logFailures.values(), ...metricGroups.values()].sort(
    (a, b) => b.count - a.count || a.where.localeCompare(b.where),
  );
  return { failures, total: failures.reduce((n, f) => n + f.count, 0), unread, podsRead };
}

/** Lines for people: "12× 0 NR filter_chain_not_found at sidecar bookinfo/reviews-v1-abc from 10.244.1.7". */
export function failureLines(report: WatchReport, max = 10): string[] {
  return report.failures
    .slice(0, max)
    .map((f) => `${f.count}× ${f.what} at ${f.where}${f.from ? ` from ${f.from}` : ''}`);
}
