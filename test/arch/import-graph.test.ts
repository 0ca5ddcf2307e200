// The walls of the house, enforced: the import graph of src/ (type-only imports included,
// since a type cycle is still a design cycle) has no cycle, and no edge crosses a wall:
// front doors never reach into features, the Kubernetes client builds no wording and knows no mesh,
// envoy parsing knows neither istiod nor Slack, and production code never imports the sandbox or the demo
// (the demo is loaded only through kube/demo-loader.ts's dynamic import, which this graph leaves out).
import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { importsOf, projectPath, tsFilesUnder } from '../support/import-graph.ts';
import { projectRoot } from '../support/shared.ts';

const files = tsFilesUnder(join(projectRoot, 'src'));
const known = new Set(files);
const edges = new Map<string, string[]>();
for (const f of files) {
  edges.set(
    projectPath(f),
    importsOf(f)
      .filter((i) => i.kind !== 'dynamic' && i.resolved && known.has(i.resolved))
      .map((i) => projectPath(i.resolved as string)),
  );
}

/** Strongly connected components with more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

const under = (file: string, ...dirs: string[]) =>
  dirs.some((d) => file === d || file.startsWith(d.endsWith('/') ? d : `${d}/`));

interface Wall {
  name: string;
  from: (file: string) => boolean;
  to: (file: string) => boolean;
}

const WALLS: Wall[] = [
  {
    name: 'front doors → features',
    from: (f) => under(f, 'src/slack', 'src/console'),
    to: (f) => under(f, 'src/features', 'src/mesh', 'src/istio', 'src/envoy'),
  },
  {
    name: 'kube → wording or mesh',
    from: (f) => under(f, 'src/kube'),
    to: (f) =>
      under(
        f,
        'src/blocks',
        'src/mesh',
        'src/istio',
        'src/envoy',
        'src/approvals',
        'src/slack',
        'src/console',
        'src/features',
        'src/router.ts',
        'src/command.ts',
      ),
  },
  {
    name: 'envoy → istiod access, Slack or features',
    from: (f) => under(f, 'src/envoy'),
    to: (f) =>
      under(f, 'src/mesh', 'src/istio', 'src/slack', 'src/console', 'src/approvals', 'src/features', 'src/blocks'),
  },
  // Features build on the engine and the model, never on a front door or on one another's insides.
  {
    name: 'features → front doors',
    from: (f) => under(f, 'src/features'),
    to: (f) => under(f, 'src/slack', 'src/console'),
  },
  {
    name: 'the engine → features',
    from: (f) => under(f, 'src/approvals', 'src/mesh', 'src/istio', 'src/envoy', 'src/router.ts'),
    to: (f) => under(f, 'src/features'),
  },
  {
    name: 'production code → sandbox or demo',
    from: (f) => !under(f, 'src/sandbox', 'src/demo'),
    to: (f) => under(f, 'src/sandbox', 'src/demo'),
  },
  { name: 'ops → front doors', from: (f) => under(f, 'src/ops'), to: (f) => under(f, 'src/slack', 'src/console') },
];

describe('the import graph', () => {
  it('reads a graph of the whole tree (a control: the walls below are checked on something)', () => {
    expect(edges.size).toBeGreaterThan(150);
    expect(edges.get('src/router.ts')).toEqual(expect.arrayContaining(['src/shared-types.ts']));
  });

  it('has no cycle, type-only imports included', () => {
    expect(cycles(edges)).toEqual([]);
  });

  for (const wall of WALLS) {
    it(`has no edge across the wall: ${wall.name}`, () => {
      const crossing = [...edges].flatMap(([from, tos]) =>
        wall.from(from) ? tos.filter(wall.to).map((to) => `${from} → ${to}`) : [],
      );
      expect(crossing).toEqual([]);
    });
  }

  it('finds a cycle and a crossing when there is one (the checks themselves can fail)', () => {
    const g = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', []],
    ]);
    expect(cycles(g)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
    expect(WALLS[1]!.from('src/kube/client.ts') && WALLS[1]!.to('src/blocks/block-kit.ts')).toBe(true);
  });
});
