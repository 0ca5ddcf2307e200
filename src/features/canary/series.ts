// The readings of one verification window, per version, kept for the chart its verdict ends with
// (src/charts/window-chart.ts): each follow-up's numbers since the window started, bounded.
import type { ChartPoint } from '../../charts/window-chart.ts';
import type { Observed } from './traffic.ts';

/** The window's readings per version (numbers since the window started), for its chart. */
export interface WindowSeries {
  /** Epoch ms of the step's change (the window's start). */
  changeAt: number;
  points: ChartPoint[];
}

/** Readings kept per window: past this, every other reading is dropped, the first and the latest kept (the chart keeps its shape). */
const MAX_SERIES_POINTS = 400;

export function record(series: ChartPoint[], at: number, observed: Observed, versions: readonly string[]): void {
  for (const version of versions) {
    const st = observed.bySubset.get(version);
    if (!st) continue;
    series.push({
      at,
      version,
      requests: st.requests,
      errors: st.errors,
      ...(st.p99Ms !== undefined ? { p99Ms: st.p99Ms } : {}),
    });
  }
  if (series.length > MAX_SERIES_POINTS) {
    // By reading, not by point: a reading is one point per version.
    const times = [...new Set(series.map((p) => p.at))];
    const keep = new Set(times.filter((_, i) => i % 2 === 0 || i === times.length - 1));
    const kept = series.filter((p) => keep.has(p.at));
    series.splice(0, series.length, ...kept);
  }
}
