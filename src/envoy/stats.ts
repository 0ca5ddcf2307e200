// Envoy's admin /stats?format=json: `{"stats": [{"name": ..., "value": ...}, ..., {"histograms": ...}]}`.
// Counters and gauges are numbers, text readouts strings; the histogram entry (quantiles) is left out,
// as the callers here want counts. For Istio's request metrics with their labels, read the merged
// Prometheus endpoint instead (metrics-scrape.ts).
import { z } from 'zod';

// The histogram entry has no name; every other entry has one.
const statsSchema = z.looseObject({
  stats: z
    .array(z.looseObject({ name: z.string().optional(), value: z.union([z.number(), z.string()]).optional() }))
    .default([]),
});

export interface EnvoyStat {
  name: string;
  /** Counters and gauges; text readouts are in `text` instead. */
  value?: number;
  text?: string;
}

/** Parse /stats?format=json (text or parsed JSON); histograms are skipped. */
export function parseStats(input: string | unknown): EnvoyStat[] {
  const json = typeof input === 'string' ? (JSON.parse(input) as unknown) : input;
  const out: EnvoyStat[] = [];
  for (const s of statsSchema.parse(json).stats) {
    if (s.name === undefined) continue;
    const v = s.value;
    out.push(typeof v === 'string' ? { name: s.name, text: v } : { name: s.name, value: v ?? 0 });
  }
  return out;
}

/** The value of one stat by its full name (`cluster.outbound|9080||reviews.bookinfo.svc.cluster.local.upstream_cx_total`). */
export function statValue(stats: readonly EnvoyStat[], name: string): number | undefined {
  return stats.find((s) => s.name === name)?.value;
}
