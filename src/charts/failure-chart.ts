// The chart a STRICT watch ends with: new failures toward the namespace since STRICT, counted per
// kind (403, 503, connection failures) at each look, the change as a vertical rule at 0 s. The same
// pipeline as the canary's window chart (render.ts: vega-lite → vega SVG → resvg PNG, no browser).
import { z } from 'zod';
import { renderVegaLite, type WindowChart } from './render.ts';

export const FAILURE_KINDS = ['403', '503', 'connection failures'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

/** At one look: the failures of one kind counted since the change (cumulative). */
export interface FailurePoint {
  at: number;
  kind: FailureKind;
  count: number;
}

export const failurePointSchema = z.object({
  at: z.number().finite(),
  kind: z.enum(FAILURE_KINDS),
  count: z.number().finite().min(0),
});

export interface FailureChartInput {
  /** `bookinfo: STRICT` — the chart's title. */
  title: string;
  changeAt: number;
  points: readonly FailurePoint[];
  /** The count that raises the alarm, drawn dashed. */
  alarmAt?: number;
  width?: number;
}

const inputSchema = z.object({
  title: z.string().min(1).max(200),
  changeAt: z.number().finite(),
  points: z.array(failurePointSchema).max(5000),
  alarmAt: z.number().positive().optional(),
  width: z.number().int().min(200).max(4000).optional(),
});

/** The vega-lite spec (exported for tests): one panel, a line per failure kind, every kind drawn even at 0. */
export function failureChartSpec(input: FailureChartInput): Record<string, unknown> {
  const rows = input.points.map((p) => ({
    t: Math.round((p.at - input.changeAt) / 100) / 10,
    kind: p.kind,
    count: p.count,
  }));
  const xMax = rows.reduce((m, r) => Math.max(m, r.t), 0);
  const layers: unknown[] = [
    {
      data: { values: rows },
      mark: { type: 'line', point: true, strokeWidth: 2 },
      encoding: {
        x: {
          field: 't',
          type: 'quantitative',
          title: 'seconds since the change',
          scale: { domain: [-Math.max(1, xMax * 0.05), Math.max(1, xMax)] },
        },
        y: { field: 'count', type: 'quantitative', title: 'new failures', scale: { zero: true } },
        color: {
          field: 'kind',
          type: 'nominal',
          title: 'failure',
          scale: { domain: [...FAILURE_KINDS], range: ['#4c78a8', '#f58518', '#e45756'] },
        },
      },
    },
    {
      data: { values: [{ t: 0 }] },
      mark: { type: 'rule', color: '#444', strokeWidth: 2 },
      encoding: { x: { field: 't', type: 'quantitative' } },
    },
  ];
  if (input.alarmAt !== undefined)
    layers.push({
      data: { values: [{ v: input.alarmAt }] },
      mark: { type: 'rule', color: '#c00', strokeDash: [6, 4] },
      encoding: { y: { field: 'v', type: 'quantitative' } },
    });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: input.title, subtitle: 'the vertical line is the change; dashed, the alarm' },
    background: 'white',
    padding: 12,
    width: 640,
    height: 220,
    layer: layers,
  };
}

export async function renderFailureChart(raw: FailureChartInput): Promise<WindowChart> {
  const parsed = inputSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`the watch's readings are malformed (${parsed.error.issues[0]?.message})`);
  if (!parsed.data.points.length) throw new Error('the watch kept no readings');
  return renderVegaLite(failureChartSpec(parsed.data), parsed.data.width ?? 800);
}
