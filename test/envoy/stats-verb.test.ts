// /mesh stats on its own: rates from two reads of /stats (a counter that went down = a restart), the
// failing clusters first, the cluster filter, Envoy's alternate trees not taken for clusters, the
// words for one cluster, and arguments refused in our words.
import { describe, expect, it } from '@jest/globals';
import { UserError } from '../../src/errors.ts';
import type { EnvoyStat } from '../../src/envoy/stats.ts';
import { clusterStats, compareSamples, filterClusters } from '../../src/envoy/stats-rates.ts';
import { parseStatsArgs } from '../../src/features/envoy/stats.ts';
import { clusterLabel, clusterLine, failureMeaning, renderStats } from '../../src/features/envoy/stats-words.ts';
import type { ProxyTarget } from '../../src/features/envoy/proxy-target.ts';

const REVIEWS_V2 = 'outbound|9080|v2|reviews.bookinfo.svc.cluster.local';
const RATINGS = 'outbound|9080||ratings.bookinfo.svc.cluster.local';
const DETAILS = 'outbound|9080||details.bookinfo.svc.cluster.local';
const INBOUND = 'inbound|9080||';

function stats(values: Record<string, Record<string, number>>, uptime?: number): EnvoyStat[] {
  const out: EnvoyStat[] = [];
  for (const [cluster, counters] of Object.entries(values))
    for (const [name, value] of Object.entries(counters)) out.push({ name: `cluster.${cluster}.${name}`, value });
  if (uptime !== undefined) out.push({ name: 'server.uptime', value: uptime });
  return out;
}

const target: ProxyTarget = {
  namespace: 'bookinfo',
  pod: 'productpage-v1-abc',
  object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'productpage-v1-abc', namespace: 'bookinfo' } },
  role: 'sidecar',
  via: 'pod bookinfo/productpage-v1-abc',
  others: [],
};

describe('rates from two reads', () => {
  const first = stats(
    {
      [REVIEWS_V2]: { upstream_rq_total: 100, upstream_rq_2xx: 90, upstream_rq_5xx: 10, upstream_rq_503: 10 },
      [RATINGS]: { upstream_rq_total: 1000, upstream_rq_2xx: 1000 },
      [DETAILS]: { upstream_rq_total: 50, upstream_rq_2xx: 50, upstream_cx_connect_fail: 2 },
      [INBOUND]: { upstream_rq_total: 10, upstream_rq_2xx: 10 },
    },
    100,
  );
  const second = stats(
    {
      // 60 requests in 5 s: 36 × 2xx, 24 × 503 (40%).
      [REVIEWS_V2]: { upstream_rq_total: 160, upstream_rq_2xx: 126, upstream_rq_5xx: 34, upstream_rq_503: 34 },
      // The busiest, healthy: 500 requests.
      [RATINGS]: { upstream_rq_total: 1500, upstream_rq_2xx: 1500 },
      // Quiet, but 3 connection failures and 1 host ejected.
      [DETAILS]: {
        upstream_rq_total: 50,
        upstream_rq_2xx: 50,
        upstream_cx_connect_fail: 5,
        'outlier_detection.ejections_active': 1,
      },
      [INBOUND]: { upstream_rq_total: 20, upstream_rq_2xx: 20 },
    },
    105,
  );
  const report = compareSamples({ at: 0, stats: first }, { at: 5000, stats: second });

  it('a rate is the delta over the seconds between the reads', () => {
    expect(report.seconds).toBe(5);
    const reviews = report.clusters.find((c) => c.name === REVIEWS_V2)!;
    expect(reviews.delta.requests).toBe(60);
    expect(reviews.delta.r5xx).toBe(24);
    expect(reviews.total.requests).toBe(160);
    expect(reviews.codes).toEqual([{ code: '503', delta: 24, total: 34 }]);
    expect(reviews.failureRate).toBeCloseTo(24 / 5);
    expect(report.restarted).toBe(false);
  });

  it('failing clusters first (most errors per second first), then the busiest', () => {
    expect(report.clusters.map((c) => c.name)).toEqual([REVIEWS_V2, DETAILS, RATINGS, INBOUND]);
    expect(report.clusters.map((c) => c.failing)).toEqual([true, true, false, false]);
  });

  it('one line reads "reviews v2 (9080) · outbound — 12.0 req/s, 503: 40%"', () => {
    const line = clusterLine(report.clusters[0]!, report.seconds, 'bookinfo');
    expect(line).toContain('*reviews v2 (9080)* · outbound — 12.0 req/s, 503: 40%, 5xx 4.8/s');
    expect(line).toContain('since start: 160 requests, 34 5xx');
    const details = clusterLine(report.clusters[1]!, report.seconds, 'bookinfo');
    expect(details).toContain('connect failures 0.6/s');
    expect(details).toContain('1 host ejected by outlier detection');
    expect(clusterLabel(report.clusters[3]!, 'bookinfo')).toBe('inbound 9080');
    expect(clusterLabel(report.clusters[0]!, 'shop')).toBe('reviews.bookinfo v2 (9080)');
  });

  it('the answer leads with the worst cluster and how it fails, and says how it was measured', () => {
    const r = renderStats({ kind: 'rates', target, report, unfiltered: 4 });
    expect(r.text).toMatch(/^2 clusters failing; worst reviews v2 \(9080\) \(outbound\) — 12\.0 req\/s, 503: 40%/);
    expect(r.text).toContain('two reads 5.0 s apart');
    expect(r.files).toBeUndefined();
  });

  it('the filter keeps clusters whose name contains it, case-insensitive', () => {
    const f = filterClusters(report, 'REVIEWS');
    expect(f.clusters.map((c) => c.name)).toEqual([REVIEWS_V2]);
    expect(filterClusters(report, 'inbound|').clusters.map((c) => c.name)).toEqual([INBOUND]);
    const none = renderStats({
      kind: 'rates',
      target,
      report: filterClusters(report, 'cart'),
      unfiltered: 4,
      filter: 'cart',
    });
    expect(none.text).toContain('No cluster of this proxy (4 clusters) has cart in its name');
  });
});

describe('a restart between the reads', () => {
  it('a counter that went down marks the restart; what counts is since the restart', () => {
    const before = stats({ [RATINGS]: { upstream_rq_total: 1000, upstream_rq_2xx: 1000 } }, 3600);
    const after = stats({ [RATINGS]: { upstream_rq_total: 30, upstream_rq_2xx: 30 } }, 2);
    const report = compareSamples({ at: 0, stats: before }, { at: 3000, stats: after });
    expect(report.restarted).toBe(true);
    expect(report.clusters[0]!.reset).toBe(true);
    expect(report.clusters[0]!.delta.requests).toBe(30);
    const r = renderStats({ kind: 'rates', target, report, unfiltered: 1 });
    expect(JSON.stringify(r.blocks)).toContain('The proxy restarted between the two reads');
  });

  it('server.uptime going down is a restart even when no counter went down', () => {
    const before = stats({ [RATINGS]: { upstream_rq_total: 5 } }, 3600);
    const after = stats({ [RATINGS]: { upstream_rq_total: 9 } }, 1);
    expect(compareSamples({ at: 0, stats: before }, { at: 1000, stats: after }).restarted).toBe(true);
  });

  it('a cluster gone in the second read is said, one new in it counts from 0', () => {
    const before = stats({ [RATINGS]: { upstream_rq_total: 5 }, [DETAILS]: { upstream_rq_total: 5 } });
    const after = stats({ [RATINGS]: { upstream_rq_total: 9 }, [REVIEWS_V2]: { upstream_rq_total: 4 } });
    const report = compareSamples({ at: 0, stats: before }, { at: 1000, stats: after });
    expect(report.removed).toEqual([DETAILS]);
    expect(report.clusters.find((c) => c.name === REVIEWS_V2)).toMatchObject({ added: true, delta: { requests: 4 } });
    expect(report.uptimeUnknown).toBe(true);
  });
});

describe('a second read that failed', () => {
  it('totals since start from the one read, no rate claimed, and why the second read failed', () => {
    const one = stats({ [REVIEWS_V2]: { upstream_rq_total: 50, upstream_rq_5xx: 5, upstream_rq_503: 5 } });
    const report = compareSamples({ at: 0, stats: [] }, { at: 0, stats: one });
    const r = renderStats({
      kind: 'totals',
      target,
      report,
      unfiltered: 1,
      unread: { reason: 'Envoy in pod bookinfo/productpage-v1-abc did not answer in time.', hint: 'Ask again.' },
    });
    expect(r.text).toContain(
      'Since the proxy started, 1 cluster had failures; most: reviews v2 (9080) (50 requests, 5 5xx)',
    );
    expect(r.text).toContain('No rate: the second read failed');
    expect(JSON.stringify(r.blocks)).toContain('did not answer in time. Ask again.');
    expect(r.files?.[0]?.content).toContain('TOTAL 5XX');
  });
});

describe('requests that never reached an upstream', () => {
  it('503s with no upstream request (no healthy host) still count as requests, and the meaning is UH', () => {
    const before = stats({ [REVIEWS_V2]: { upstream_rq_503: 4, upstream_rq_5xx: 4, upstream_cx_none_healthy: 4 } });
    const after = stats({ [REVIEWS_V2]: { upstream_rq_503: 10, upstream_rq_5xx: 10, upstream_cx_none_healthy: 10 } });
    const c = compareSamples({ at: 0, stats: before }, { at: 2000, stats: after }).clusters[0]!;
    expect(c.delta.requests).toBe(6);
    expect(clusterLine(c, 2, 'bookinfo')).toContain('3.0 req/s, 503: 100%, 5xx 3.0/s, no healthy host 3.0/s');
    expect(failureMeaning(c, target)).toContain("No healthy host (Envoy's UH)");
    expect(failureMeaning(c, target)).toContain(`--envoy-cluster "${REVIEWS_V2}"`);
  });
});

describe('stat names', () => {
  it("Envoy's alternate trees (canary., zone.) and retried responses are not taken for clusters or final codes", () => {
    const s = stats({
      [REVIEWS_V2]: { upstream_rq_503: 2, 'retry.upstream_rq_503': 7, 'circuit_breakers.default.rq_pending_open': 1 },
      [`${REVIEWS_V2}.canary`]: { upstream_rq_2xx: 3 },
      [`${REVIEWS_V2}.zone.a.b`]: { upstream_rq_2xx: 3 },
    });
    const byCluster = clusterStats(s);
    expect([...byCluster.keys()]).toEqual([REVIEWS_V2]);
    const report = compareSamples({ at: 0, stats: [] }, { at: 1000, stats: s });
    expect(report.clusters[0]!.codes).toEqual([{ code: '503', delta: 2, total: 2 }]);
    expect(report.clusters[0]!.breakersOpen).toEqual(['default.rq_pending_open']);
    expect(report.clusters[0]!.failing).toBe(true);
  });
});

describe('arguments', () => {
  it('a target, a filter and a sample length', () => {
    expect(parseStatsArgs(['productpage-v1-abc.bookinfo', 'reviews'], undefined, '0.5')).toEqual({
      ref: { kind: 'any', name: 'productpage-v1-abc', namespace: 'bookinfo' },
      filter: 'reviews',
      sampleSeconds: 0.5,
    });
    expect(parseStatsArgs(['deploy', 'reviews-v2'], 'bookinfo', undefined)).toMatchObject({
      ref: { kind: 'deployment', name: 'reviews-v2', namespace: 'bookinfo' },
      sampleSeconds: 5,
    });
    expect(parseStatsArgs(['app=reviews'], 'bookinfo', '10s').sampleSeconds).toBe(10);
  });

  it('refused in our words, with what to type instead', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as UserError;
      }
      throw new Error('expected a refusal');
    };
    const regex = err(() => parseStatsArgs(['p.bookinfo', '(reviews'], undefined, undefined));
    expect(regex).toBeInstanceOf(UserError);
    expect(regex.message).toBe('`(reviews` is not a cluster filter.');
    expect(regex.hint).toContain('plain text (not a regex)');
    expect(err(() => parseStatsArgs(['p.bookinfo'], undefined, '600')).hint).toContain('between 0.1 and 30');
    expect(err(() => parseStatsArgs(['p.bookinfo', 'a', 'b'], undefined, undefined)).message).toContain(
      'One filter at a time',
    );
    expect(err(() => parseStatsArgs([], undefined, undefined)).message).toBe('Which proxy?');
  });
});
