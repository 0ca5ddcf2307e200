// A vega-lite spec to PNG without a browser: compiled to vega, drawn to SVG by vega's headless View
// (renderer 'none'), then resvg to PNG with the system's fonts (DejaVu Sans by default). vega and resvg
// are imported lazily, so the bot's startup and the offline CLI never load them.

export interface WindowChart {
  png: Uint8Array;
  width: number;
  height: number;
  /** How long rendering took (spec to PNG). */
  ms: number;
}

export async function renderVegaLite(spec: Record<string, unknown>, width: number): Promise<WindowChart> {
  const started = performance.now();
  // One after the other: vega-lite imports vega's modules too, and loading them twice at once trips
  // module linking under jest's vm modules.
  const vega = await import('vega');
  const vl = await import('vega-lite');
  const { Resvg } = await import('@resvg/resvg-js');
  const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  const rendered = new Resvg(svg, {
    fitTo: { mode: 'width', value: width },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  }).render();
  const png = new Uint8Array(rendered.asPng());
  return { png, width: rendered.width, height: rendered.height, ms: Math.round(performance.now() - started) };
}
