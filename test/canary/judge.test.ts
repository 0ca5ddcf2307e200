// The window's judge (Flagger's checks: success rate ≥ min, p99 ≤ max; no data fails) and the p99
// from histogram buckets.
import { describe, expect, it } from '@jest/globals';
import { DEFAULT_THRESHOLDS, judgeWindow, quantileFromBuckets } from '../../src/features/canary/judge.ts';

const t = DEFAULT_THRESHOLDS;
const stats = (requests: number, errors: number, p99Ms?: number) => ({ requests, errors, rps: requests / 60, p99Ms });

describe('judgeWindow', () => {
  it('passes a healthy canary at the end of the window', () => {
    const v = judgeWindow(stats(1000, 10, 120), t, true);
    expect(v.kind).toBe('pass');
    expect(v.lines.join(' ')).toContain('success rate 99.0%');
  });

  it('fails below the minimum success rate, and above the maximum p99', () => {
    expect(judgeWindow(stats(1000, 11, 120), t, true).kind).toBe('fail');
    const slow = judgeWindow(stats(1000, 0, 501), t, true);
    expect(slow.kind).toBe('fail');
    expect(slow.lines.join(' ')).toContain('above the maximum');
  });

  it('thresholds are configurable', () => {
    expect(judgeWindow(stats(100, 4, 700), { ...t, minSuccessRate: 0.95, maxP99Ms: 800 }, true).kind).toBe('pass');
  });

  it('a window without requests to the canary is a failed check, never a pass', () => {
    const v = judgeWindow(stats(0, 0), t, true);
    expect(v.kind).toBe('fail');
    expect(v.lines[0]).toContain('no request reached the canary');
    expect(judgeWindow(undefined, t, true).kind).toBe('fail');
    const unread = judgeWindow(undefined, t, true, ['orders-v2-x: HTTP 503']);
    expect(unread.lines[0]).toContain('could not be read (orders-v2-x: HTTP 503)');
  });

  it('a p99 that cannot be computed does not pass', () => {
    expect(judgeWindow(stats(100, 0, undefined), t, true).kind).toBe('fail');
  });

  it('raises the alarm early only on a clear regression with enough requests', () => {
    expect(judgeWindow(stats(30, 9, 20), t, false).kind).toBe('alarm');
    expect(judgeWindow(stats(30, 0, 1200), t, false).kind).toBe('alarm');
    // Below the minimum but within the margin: wait for the window.
    expect(judgeWindow(stats(100, 3, 20), t, false).kind).toBe('pending');
    // Too few requests to call it.
    expect(judgeWindow(stats(10, 9, 20), t, false).kind).toBe('pending');
    expect(judgeWindow(stats(0, 0), t, false).kind).toBe('pending');
  });
});

describe('quantileFromBuckets', () => {
  it('interpolates within the bucket holding the rank, as histogram_quantile does', () => {
    const b = new Map([
      ['1', 0],
      ['5', 50],
      ['10', 100],
      ['+Inf', 100],
    ]);
    expect(quantileFromBuckets(0.99, b)).toBeCloseTo(9.9, 5);
    expect(quantileFromBuckets(0.5, b)).toBeCloseTo(5, 5);
  });

  it('gives the highest finite bound when the rank is in +Inf, and nothing without observations', () => {
    expect(
      quantileFromBuckets(
        0.99,
        new Map([
          ['500', 90],
          ['+Inf', 100],
        ]),
      ),
    ).toBe(500);
    expect(
      quantileFromBuckets(
        0.99,
        new Map([
          ['500', 0],
          ['+Inf', 0],
        ]),
      ),
    ).toBeUndefined();
    expect(quantileFromBuckets(0.99, new Map([['500', 3]]))).toBeUndefined();
  });
});
