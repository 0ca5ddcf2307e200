// `/mesh stats <pod>.<ns> [filter]`: Envoy's per-cluster counters of one proxy as rates. /stats is read
// twice, `--sample` seconds apart (default 5), through a port-forward to the admin port; a rate is the
// counter's delta over the seconds between the reads. Failing clusters (5xx, connection failures, no
// healthy host, overflows, timeouts, ejected hosts) come first, then the busiest. `filter` keeps the
// clusters whose name contains it: a plain substring (case-insensitive), matched by meshops, not sent
// to Envoy as a regex. What could not be read is said, with why.
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineCommand, namespaceArg } from '../../command.ts';
import { esc } from '../../blocks/block-kit.ts';
import { UserError } from '../../errors.ts';
import { getStats } from '../../envoy/admin.ts';
import {
  CLUSTER_STATS_FILTER,
  compareSamples,
  filterClusters,
  type RatesReport,
  type StatsSample,
} from '../../envoy/stats-rates.ts';
import { parseWorkloadRef, type WorkloadRef } from '../../mesh/workload-ref.ts';
import { adminFailure, resolveProxy } from './proxy-target.ts';
import { renderStats, type StatsResult } from './stats-words.ts';

export const STATS_USAGE =
  '/mesh stats <pod>.<namespace> | <deployment> -n <ns> | app=<label> -n <ns> [filter] [--sample <seconds>]';
export const DEFAULT_SAMPLE_SECONDS = 5;
const MAX_SAMPLE_SECONDS = 30;
const MIN_SAMPLE_SECONDS = 0.1;

const TARGET_KEYWORDS = new Set(['pod', 'po', 'pods', 'deployment', 'deploy', 'deployments']);
/** A filter is part of a cluster's name: `reviews`, `outbound|9080`, `v2|reviews.bookinfo`. */
const FILTER = /^[A-Za-z0-9._|:*-]{1,200}$/;

/** The words after `stats` → the proxy to ask, the cluster filter and the sample length. */
export function parseStatsArgs(
  words: readonly string[],
  namespace: string | undefined,
  sample: string | undefined,
): { ref: WorkloadRef; filter?: string; sampleSeconds: number } {
  if (words.length === 0) throw new UserError('Which proxy?', `Usage: \`${STATS_USAGE}\``);
  const head = words[0]!.toLowerCase();
  const n = TARGET_KEYWORDS.has(head) ? 2 : 1;
  const target = words.slice(0, n);
  const rest = words.slice(n);
  if (rest.length > 1)
    throw new UserError(
      `One filter at a time, not \`${esc(rest.join(' '))}\`.`,
      `The filter is one part of a cluster's name, e.g. \`/mesh stats ${esc(target.join(' '))} reviews\`.`,
    );
  const filter = rest[0];
  if (filter !== undefined && !FILTER.test(filter))
    throw new UserError(
      `\`${esc(filter.slice(0, 100))}\` is not a cluster filter.`,
      "The filter is a part of a cluster's name, matched as plain text (not a regex): letters, digits and `. - _ | :`, e.g. `reviews`, `outbound|9080` or `v2|reviews`.",
    );
  let sampleSeconds = DEFAULT_SAMPLE_SECONDS;
  if (sample !== undefined) {
    const s = Number(sample.replace(/s$/, ''));
    if (!Number.isFinite(s) || s < MIN_SAMPLE_SECONDS || s > MAX_SAMPLE_SECONDS)
      throw new UserError(
        `\`--sample ${esc(sample.slice(0, 20))}\` is not a sample length meshops takes.`,
        `Give seconds between ${MIN_SAMPLE_SECONDS} and ${MAX_SAMPLE_SECONDS}, e.g. \`--sample 10\` (default ${DEFAULT_SAMPLE_SECONDS}).`,
      );
    sampleSeconds = s;
  }
  const ref = parseWorkloadRef([...target, ...(namespace ? ['-n', namespace] : [])].join(' '));
  return { ref, ...(filter ? { filter: filter.replace(/\*/g, '') } : {}), sampleSeconds };
}

const argsSchema = z
  .object({
    words: z.array(z.string().max(253)).max(6).default([]),
    namespace: namespaceArg.optional(),
    sample: z.string().max(20).optional(),
  })
  .transform((a) => {
    const parsed = parseStatsArgs(a.words, a.namespace, a.sample);
    return { ...parsed, namespace: parsed.ref.namespace };
  });

export default defineCommand({
  name: 'stats',
  summary: "A proxy's per-cluster request rates, errors, retries, timeouts, circuit breakers and ejections",
  usage: STATS_USAGE,
  examples: [
    '/mesh stats productpage-v1-6b746f74dc-9stvs.bookinfo',
    '/mesh stats reviews-v2 -n bookinfo reviews',
    '/mesh stats app=istio-ingressgateway -n istio-system --sample 10',
  ],
  args: argsSchema,
  argSpec: {
    positional: ['words...'],
    options: { n: 'namespace', namespace: 'namespace', sample: 'sample' },
  },
  permission: 'read',
  touchesCluster: true,
  async run({ args, kube, progress }): Promise<StatsResult> {
    const target = await resolveProxy(kube, args.ref);
    const proxy = { namespace: target.namespace, pod: target.pod };
    const read = async (): Promise<StatsSample> => {
      const start = Date.now();
      const stats = await getStats(kube, proxy, { filter: CLUSTER_STATS_FILTER, usedOnly: true });
      return { at: (start + Date.now()) / 2, stats };
    };
    const what = "Envoy's counters";
    let first: StatsSample;
    try {
      first = await read();
    } catch (err) {
      const unread = adminFailure(err, proxy, what);
      if (!unread) throw err;
      return { kind: 'unread', target, unread };
    }
    progress?.(`sampling Envoy's counters in ${target.namespace}/${target.pod} for ${args.sampleSeconds}s…`);
    await sleep(args.sampleSeconds * 1000);
    const withFilter = (report: RatesReport) => ({
      report: filterClusters(report, args.filter),
      unfiltered: report.clusters.length,
      ...(args.filter ? { filter: args.filter } : {}),
    });
    try {
      const second = await read();
      return { kind: 'rates', target, ...withFilter(compareSamples(first, second)) };
    } catch (err) {
      const unread = adminFailure(err, proxy, 'the second read of its counters');
      if (!unread) throw err;
      // Totals since start from the one read: a "sample" of no time, so no rate is claimed.
      return { kind: 'totals', target, unread, ...withFilter(compareSamples({ at: first.at, stats: [] }, first)) };
    }
  },
  render: (r) => renderStats(r),
});
