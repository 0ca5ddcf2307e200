// The verification window's judge, the way Flagger's analysis judges a canary: the request success
// rate (non-5xx) must stay at or above a minimum (Flagger's builtin `request-success-rate`, default
// thresholdRange.min 99) and the p99 latency at or below a maximum (`request-duration`, max 500 ms).
// A metric without a value fails the check (Flagger: "no values found" halts the advancement): a
// window with no request to the canary is a failed check, never a pass. Before the window ends, a clear
// regression raises the alarm early.

export interface VersionStats {
  requests: number;
  /** 5xx responses. */
  errors: number;
  /** Requests per second over the window. */
  rps: number;
  /** p99 of istio_request_duration_milliseconds; undefined when no duration was observed. */
  p99Ms?: number;
}

export interface Thresholds {
  /** Minimum success rate, 0..1; default 0.99. */
  minSuccessRate: number;
  /** Maximum p99 in ms; default 500. */
  maxP99Ms: number;
  /** Requests to the canary needed before an early alarm may fire; default 20. */
  alarmMinRequests: number;
  /** The alarm fires when the success rate falls this far below the minimum (default 0.05), or p99 passes 2× the maximum. */
  alarmMargin: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  minSuccessRate: 0.99,
  maxP99Ms: 500,
  alarmMinRequests: 20,
  alarmMargin: 0.05,
};

export type Verdict =
  | { kind: 'pass'; lines: string[] }
  | { kind: 'fail'; lines: string[] }
  | { kind: 'alarm'; lines: string[] }
  | { kind: 'pending'; lines: string[] };

export function successRate(s: VersionStats): number | undefined {
  return s.requests > 0 ? (s.requests - s.errors) / s.requests : undefined;
}

export function pct(x: number): string {
  return `${(Math.round(x * 1000) / 10).toFixed(1)}%`;
}

/**
 * The canary's stats so far: `final` at the window's end (pass or fail), else pending or an alarm.
 * `unread` says what could not be read: with nothing read, the window cannot pass.
 */
export function judgeWindow(
  canary: VersionStats | undefined,
  t: Thresholds,
  final: boolean,
  unread: readonly string[] = [],
): Verdict {
  if (!canary || canary.requests === 0) {
    const why = unread.length
      ? `the canary's metrics could not be read (${unread.slice(0, 2).join('; ')})`
      : 'no request reached the canary in the window';
    return final
      ? { kind: 'fail', lines: [`Failed check: ${why}, so nothing shows it healthy.`] }
      : { kind: 'pending', lines: [`waiting for requests to the canary (${why})`] };
  }
  const sr = successRate(canary)!;
  const srLine = `success rate ${pct(sr)} (${canary.requests - canary.errors}/${canary.requests} non-5xx; minimum ${pct(t.minSuccessRate)})`;
  const p99Line =
    canary.p99Ms === undefined
      ? 'p99 unknown: no request duration was observed'
      : `p99 ${Math.round(canary.p99Ms)} ms (maximum ${t.maxP99Ms} ms)`;
  const srOk = sr >= t.minSuccessRate;
  const p99Ok = canary.p99Ms !== undefined && canary.p99Ms <= t.maxP99Ms;
  if (!final) {
    const enough = canary.requests >= t.alarmMinRequests;
    const srBad = sr < t.minSuccessRate - t.alarmMargin;
    const p99Bad = canary.p99Ms !== undefined && canary.p99Ms > 2 * t.maxP99Ms;
    if (enough && (srBad || p99Bad))
      return {
        kind: 'alarm',
        lines: [srBad ? `${srLine}: a clear regression` : srLine, p99Bad ? `${p99Line}: a clear regression` : p99Line],
      };
    return { kind: 'pending', lines: [srLine, p99Line] };
  }
  if (srOk && p99Ok) return { kind: 'pass', lines: [srLine, p99Line] };
  return {
    kind: 'fail',
    lines: [
      `${srLine}${srOk ? '' : ': below the minimum'}`,
      `${p99Line}${p99Ok ? '' : canary.p99Ms === undefined ? '' : ': above the maximum'}`,
    ],
  };
}

/**
 * histogram_quantile over cumulative bucket counts (`le` → count, +Inf included), Prometheus's way:
 * linear within the bucket holding the rank, 0 as the first bucket's lower bound, and the highest
 * finite bound when the rank falls in +Inf.
 */
export function quantileFromBuckets(q: number, buckets: ReadonlyMap<string, number>): number | undefined {
  const sorted = [...buckets.entries()]
    .map(([le, n]) => ({ le: le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), n }))
    .filter((b) => !Number.isNaN(b.le))
    .sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.n ?? 0;
  if (sorted.length === 0 || total <= 0 || sorted.at(-1)!.le !== Number.POSITIVE_INFINITY) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevN = 0;
  for (const b of sorted) {
    if (b.n >= rank) {
      if (b.le === Number.POSITIVE_INFINITY) return prevLe;
      if (b.n === prevN) return b.le;
      return prevLe + ((b.le - prevLe) * (rank - prevN)) / (b.n - prevN);
    }
    prevLe = b.le;
    prevN = b.n;
  }
  return prevLe;
}
