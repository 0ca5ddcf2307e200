// The canary window's chart: vega-lite → vega's headless SVG → resvg PNG, decoded here to check its
// size and that something was drawn (the two versions' lines in their own colours, not a blank image).
import { describe, expect, it } from '@jest/globals';
import { type ChartPoint, chartRows, renderWindowChart, windowChartSpec } from '../../src/charts/window-chart.ts';
import { decodePng, inkedPixels, pixelsNear } from './png.ts';

const changeAt = Date.parse('2026-12-02T14:00:00Z');
function series(): ChartPoint[] {
  const points: ChartPoint[] = [];
  for (let i = 1; i <= 12; i++) {
    const at = changeAt + i * 10_000;
    points.push({ at, version: 'v1', requests: 100 * i, errors: i % 3 === 0 ? 1 : 0, p99Ms: 40 + (i % 4) });
    points.push({ at, version: 'v2', requests: 20 * i, errors: i > 8 ? 2 : 0, p99Ms: 90 + i * 5 });
  }
  return points;
}
const input = {
  namespace: 'shop',
  service: 'reviews',
  step: 'v2 5% → 25%',
  changeAt,
  points: series(),
  minSuccessRate: 0.99,
  maxP99Ms: 500,
};

describe('window chart', () => {
  it('rows: success rate from requests and errors, p99 as read, seconds since the step', () => {
    const rows = chartRows({ changeAt, points: [{ at: changeAt + 30_000, version: 'v2', requests: 200, errors: 5 }] });
    expect(rows).toEqual([{ t: 30, version: 'v2', metric: 'success', value: 97.5 }]);
    // No requests: no success rate is drawn (not a 100% point).
    expect(chartRows({ changeAt, points: [{ at: changeAt, version: 'v2', requests: 0, errors: 0 }] })).toEqual([]);
  });

  it('the spec names namespace/service and the step, and marks the change at 0 s', () => {
    const spec = windowChartSpec(input);
    expect(JSON.stringify(spec.title)).toContain('shop/reviews: v2 5% → 25%');
    const panels = spec.vconcat as Array<{ layer: Array<{ mark: { type: string }; data: { values: unknown[] } }> }>;
    expect(panels).toHaveLength(2);
    for (const p of panels)
      expect(p.layer.some((l) => l.mark.type === 'rule' && JSON.stringify(l.data.values) === '[{"t":0}]')).toBe(true);
  });

  it('renders a PNG about 800 px wide with ink on it', async () => {
    const chart = await renderWindowChart(input);
    const png = decodePng(chart.png);
    expect(png.width).toBe(chart.width);
    expect(png.height).toBe(chart.height);
    expect(png.width).toBe(800);
    expect(png.height).toBeGreaterThan(200);
    expect(png.height).toBeLessThan(1000);
    const ink = inkedPixels(png);
    // Lines, axes and text, but far from a filled image.
    expect(ink).toBeGreaterThan(2000);
    expect(ink).toBeLessThan(png.width * png.height * 0.5);
    // Both versions' lines in vega's first two category colours (#4c78a8 blue, #f58518 orange).
    expect(pixelsNear(png, [0x4c, 0x78, 0xa8])).toBeGreaterThan(300);
    expect(pixelsNear(png, [0xf5, 0x85, 0x18])).toBeGreaterThan(300);
    if (process.env.CHART_OUT) (await import('node:fs')).writeFileSync(process.env.CHART_OUT, chart.png);
    console.log(`window chart: ${chart.png.length} bytes, ${png.width}x${png.height}, ${chart.ms} ms`);
  });

  it('fewer readings draw less: an empty window is refused with a reason', async () => {
    await expect(renderWindowChart({ ...input, points: [] })).rejects.toThrow('no reading in the window');
  });
});
