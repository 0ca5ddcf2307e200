// A window's readings for its chart: one point per version per reading, bounded by thinning whole
// readings (both versions kept together, the first and latest readings always kept).
import { describe, expect, it } from '@jest/globals';
import type { ChartPoint } from '../../src/charts/window-chart.ts';
import { record } from '../../src/features/canary/series.ts';
import type { Observed } from '../../src/features/canary/traffic.ts';

const observed = (n: number, withP99 = true): Observed => ({
  bySubset: new Map([
    ['v1', { requests: n * 10, errors: 0, rps: 1, ...(withP99 ? { p99Ms: 40 } : {}) }],
    ['v2', { requests: n, errors: 1, rps: 1 }],
    ['v3', { requests: 5, errors: 0, rps: 1 }],
  ]),
  source: 'test',
  unread: [],
});

describe('record', () => {
  it('keeps the asked versions only, and no p99 where none was read', () => {
    const series: ChartPoint[] = [];
    record(series, 1000, observed(3), ['v1', 'v2', 'missing']);
    expect(series).toEqual([
      { at: 1000, version: 'v1', requests: 30, errors: 0, p99Ms: 40 },
      { at: 1000, version: 'v2', requests: 3, errors: 1 },
    ]);
  });

  it('stays bounded, thinning whole readings and keeping the latest', () => {
    const series: ChartPoint[] = [];
    for (let i = 1; i <= 1000; i++) record(series, i * 1000, observed(i), ['v1', 'v2']);
    expect(series.length).toBeLessThanOrEqual(400);
    expect(series.length).toBeGreaterThan(100);
    const byTime = new Map<number, string[]>();
    for (const p of series) byTime.set(p.at, [...(byTime.get(p.at) ?? []), p.version]);
    for (const versions of byTime.values()) expect(versions).toEqual(['v1', 'v2']);
    expect(series.at(-1)!.at).toBe(1_000_000);
    expect(Math.min(...byTime.keys())).toBe(1000);
  });
});
