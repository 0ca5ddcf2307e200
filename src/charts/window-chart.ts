// The chart a canary window ends with: success rate (%) and p99 (ms) per version over the window, the
// step's change as a vertical rule at 0 s, the thresholds dashed. Rendered without a browser: a vega-lite
// spec compiled to vega, drawn to SVG by vega's headless View (renderer 'none'), then resvg to PNG
// (render.ts, which loads vega and resvg only when a chart is drawn).
import { z } from 'zod';
import { renderVegaLite, type WindowChart } from './render.ts';

export type { WindowChart } from './render.ts';

/** One reading of one version during the window (the numbers are since the window started). */
export interface ChartPoint {
  /** Epoch ms of the reading. */
  at: number;
  version: string;
  requests: number;
  errors: number;
  p99Ms?: number;
}

export interface WindowChartInput {
  namespace: string;
  service: string;
  /** How the step reads in the title, e.g. `v2 5% → 25%`. */
  step: string;
  /** Epoch ms of the step's change (the window's start). */
  changeAt: number;
  points: readonly ChartPoint[];
  minSuccessRate?: number;
  maxP99Ms?: number;
  /** Output width in px (default 800). */
  width?: number;
}

export const chartPointSchema = z.object({
  at: z.number().finite(),
  version: z.string().min(1).max(253),
  requests: z.number().finite().min(0),
  errors: z.number().finite().min(0),
  p99Ms: z.number().finite().min(0).optional(),
});
const inputSchema = z.object({
  namespace: z.string().min(1).max(253),
  service: z.string().min(1).max(253),
  step: z.string().min(1).max(200),
  changeAt: z.number().finite(),
  points: z.array(chartPointSchema).max(5000),
  minSuccessRate: z.number().min(0).max(1).optional(),
  maxP99Ms: z.number().positive().optional(),
  width: z.number().int().min(200).max(4000).optional(),
});

/** A row of the chart's data: one version, one reading, one metric. */
interface Row {
  t: number;
  version: string;
  metric: 'success' | 'p99';
  value: number;
}

/** The rows to draw; readings with no requests draw no success rate, readings with no p99 no p99. */
export function chartRows(input: Pick<WindowChartInput, 'changeAt' | 'points'>): Row[] {
  const rows: Row[] = [];
  for (const p of input.points) {
    const t = Math.round((p.at - input.changeAt) / 100) / 10;
    if (p.requests > 0)
      rows.push({ t, version: p.version, metric: 'success', value: (100 * (p.requests - p.errors)) / p.requests });
    if (p.p99Ms !== undefined) rows.push({ t, version: p.version, metric: 'p99', value: p.p99Ms });
  }
  return rows;
}

function panel(rows: Row[], metric: Row['metric'], title: string, threshold: number | undefined, xMax: number) {
  const x = {
    field: 't',
    type: 'quantitative',
    title: 'seconds since the step',
    scale: { domain: [-Math.max(1, xMax * 0.05), Math.max(1, xMax)] },
  };
  const layers: unknown[] = [
    {
      data: { values: rows.filter((r) => r.metric === metric) },
      mark: { type: 'line', point: true, strokeWidth: 2 },
      encoding: {
        x,
        y: { field: 'value', type: 'quantitative', title, scale: { zero: metric === 'p99' } },
        color: { field: 'version', type: 'nominal', title: 'version' },
      },
    },
    {
      data: { values: [{ t: 0 }] },
      mark: { type: 'rule', color: '#444', strokeWidth: 2 },
      encoding: { x: { field: 't', type: 'quantitative' } },
    },
  ];
  if (threshold !== undefined)
    layers.push({
      data: { values: [{ v: threshold }] },
      mark: { type: 'rule', color: '#c00', strokeDash: [6, 4] },
      encoding: { y: { field: 'v', type: 'quantitative' } },
    });
  return { width: 640, height: 150, layer: layers };
}

/** The vega-lite spec (exported for tests): two panels sharing the time axis. */
export function windowChartSpec(input: WindowChartInput): Record<string, unknown> {
  const rows = chartRows(input);
  const xMax = rows.reduce((m, r) => Math.max(m, r.t), 0);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `${input.namespace}/${input.service}: ${input.step}`, subtitle: 'the vertical line is the step' },
    background: 'white',
    padding: 12,
    vconcat: [
      panel(
        rows,
        'success',
        'success rate %',
        input.minSuccessRate !== undefined ? input.minSuccessRate * 100 : undefined,
        xMax,
      ),
      panel(rows, 'p99', 'p99 ms', input.maxP99Ms, xMax),
    ],
    resolve: { scale: { color: 'shared' } },
  };
}

/** Renders the window's chart to PNG; throws with a short reason when it cannot. */
export async function renderWindowChart(raw: WindowChartInput): Promise<WindowChart> {
  const parsed = inputSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`the window's readings are malformed (${parsed.error.issues[0]?.message})`);
  const input = parsed.data as WindowChartInput;
  if (!chartRows(input).length) throw new Error('no reading in the window had requests or a p99');
  return renderVegaLite(windowChartSpec(input), input.width ?? 800);
}
