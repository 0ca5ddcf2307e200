// Istio's own analyzer test table, run against our analyzers, and the rules of its harness. The floor in
// test/analyzers/conformance-floor.json can only go up: it may never be lower than any value committed
// before, and a run that beats it fails until the floor is raised to the new result (in the same commit).
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { renderCatalogueModule, readCatalogue } from '../../scripts/generate-analyzer-messages.ts';
import { runAnalyzeCli } from '../../src/analyze-cli.ts';
import {
  caseSnapshot,
  diffMultiset,
  formatSummary,
  runCase,
  runConformance,
} from '../../src/mesh/analyzers/conformance.ts';
import { analyzeFiles, parseYamlObjects } from '../../src/mesh/analyzers/load.ts';
import { messageResource } from '../../src/mesh/analyzers/types.ts';
import { defaultIngressResources } from '../../src/mesh/analyzers/util/default-resources.ts';
import { meshConfigFrom } from '../../src/mesh/mesh-config.ts';
import { conformanceDir, describeWithShared, projectRoot } from '../support/shared.ts';

const analyzersDir = join(conformanceDir, 'istio', 'analyzers');
const FLOOR_PATH = 'test/analyzers/conformance-floor.json';
const floorSchema = z.object({ casesPassed: z.number().int(), messagesMatched: z.number().int() });
type Floor = z.infer<typeof floorSchema>;
const floor = floorSchema.parse(JSON.parse(readFileSync(join(projectRoot, FLOOR_PATH), 'utf8')));

/** Every committed version of the floor file, oldest first; or why there is none to compare with. */
function committedFloors(): { commit: string; floor: Floor }[] | string {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: projectRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  let commits: string[];
  try {
    commits = git('log', '--reverse', '--format=%H', '--', FLOOR_PATH).split('\n').filter(Boolean);
  } catch {
    return 'no git history here (not a git checkout, or git is not installed)';
  }
  if (commits.length === 0) return `${FLOOR_PATH} has no committed version yet`;
  return commits.map((commit) => ({
    commit,
    floor: floorSchema.parse(JSON.parse(git('show', `${commit}:${FLOOR_PATH}`))),
  }));
}
const history = committedFloors();

describe('the conformance floor only goes up', () => {
  if (typeof history === 'string') {
    // Skipped on purpose: without git history there is no earlier floor to compare with.
    it.skip(`is never lower than a committed floor (skipped: ${history})`, () => {});
    return;
  }
  it('is never lower than any floor committed before (the first one included)', () => {
    const lower = history.filter(
      (h) => floor.casesPassed < h.floor.casesPassed || floor.messagesMatched < h.floor.messagesMatched,
    );
    expect(lower.map((h) => `${h.commit.slice(0, 7)} ${JSON.stringify(h.floor)}`)).toEqual([]);
    expect(history[0]!.floor.casesPassed).toBeGreaterThan(0);
  });
});

describeWithShared('Istio analyzer conformance', () => {
  const summary = runConformance(analyzersDir);

  it('passes at least as many cases as the recorded floor', () => {
    // Printed so a failing run shows which cases regressed.
    if (summary.passed < floor.casesPassed) console.log(formatSummary(summary));
    expect(summary.passed).toBeGreaterThanOrEqual(floor.casesPassed);
  });

  it('matches at least as many expected messages as the recorded floor', () => {
    expect(summary.messagesMatched).toBeGreaterThanOrEqual(floor.messagesMatched);
  });

  it('does not beat the floor: a better result raises conformance-floor.json in the same commit', () => {
    expect({ casesPassed: summary.passed, messagesMatched: summary.messagesMatched }).toEqual(floor);
  });

  it('runs every case in cases.json', () => {
    const cases = JSON.parse(readFileSync(join(analyzersDir, 'cases.json'), 'utf8')) as unknown[];
    expect(summary.total).toBe(cases.length);
  });

  it('keeps the generated message catalogue in step with messages.yaml', () => {
    const expected = renderCatalogueModule(readCatalogue(join(analyzersDir, 'messages.yaml')));
    const committed = readFileSync(join(projectRoot, 'src', 'mesh', 'analyzers', 'messages.ts'), 'utf8');
    expect(committed).toBe(expected);
  });

  it("adds exactly the ingress objects of Istio's harness (defaults.go, rendered in ../shared)", () => {
    const rendered = readFileSync(join(analyzersDir, 'harness', 'default-ingress-resources.rendered.yaml'), 'utf8');
    const plain = (x: unknown) => JSON.parse(JSON.stringify(x)) as unknown;
    expect(plain(defaultIngressResources(meshConfigFrom(), 'istio-system'))).toEqual(
      plain(parseYamlObjects(rendered, 'default-ingress-resources.rendered.yaml')),
    );
  });
});

it('compares (code, resource) pairs as a multiset with exact counts', () => {
  const d = diffMultiset(['A x', 'A x', 'B y'], ['A x', 'B y', 'B y', 'C z']);
  expect(d.matched).toBe(2);
  expect(d.missing).toEqual(['A x']);
  expect(d.unexpected).toEqual(['B y', 'C z']);
});

// A VirtualService without a namespace that names a missing gateway (virtualservice.GatewayAnalyzer says IST0101
// and IST0132) and a missing destination host (virtualservice.DestinationHostAnalyzer says IST0101).
const UNNAMESPACED_VS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: pay
spec:
  hosts: [pay]
  gateways: [missing-gateway]
  http:
    - route:
        - destination:
            host: payments-gone
`;

describe("the harness keeps Istio's rules; meshops analyze -f keeps istioctl's", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshops-conformance-'));
    await writeFile(join(dir, 'vs.yaml'), UNNAMESPACED_VS);
    await writeFile(join(dir, 'ingress-off.yaml'), 'ingressControllerMode: "OFF"\n');
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const gatewayCase = (expected: string[]) => ({
    name: 'unnamespaced',
    analyzer: 'virtualservice.DestinationHostAnalyzer',
    inputFiles: ['vs.yaml'],
    expected: expected.map((e) => ({ code: e.split(' ')[0]!, resource: e.slice(e.indexOf(' ') + 1) })),
  });

  it('runs the named analyzer only: the other analyzer that reports the same object is not run', () => {
    const all = analyzeFiles([{ name: 'vs.yaml', text: UNNAMESPACED_VS }]).messages.filter((m) => m.code === 'IST0101');
    expect(all.length).toBeGreaterThanOrEqual(2);
    const r = runCase(gatewayCase(['IST0101 VirtualService pay']), dir);
    expect(r).toMatchObject({ passed: true, missing: [], unexpected: [], matchedCount: 1 });
  });

  it('leaves an object without a namespace without one, as Istio\'s test does ("<Kind> <name>")', () => {
    const r = runCase(gatewayCase(['IST0101 VirtualService default/pay']), dir);
    expect(r.passed).toBe(false);
    expect(r.unexpected).toEqual(['IST0101 VirtualService pay']);
  });

  it('adds the ingress gateway Service and Pod unless mesh config turns ingress OFF', () => {
    const ingress = (meshConfigFile?: string) =>
      caseSnapshot({ ...gatewayCase([]), ...(meshConfigFile ? { meshConfigFile } : {}) }, dir)
        .objects.filter((o) => o.metadata.namespace === 'istio-system')
        .map((o) => `${o.kind} ${o.metadata.name}`)
        .sort();
    expect(ingress()).toEqual(['Pod istio-ingressgateway-dummypod', 'Service istio-ingressgateway']);
    expect(ingress('ingress-off.yaml')).toEqual([]);
  });

  async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const code = await runAnalyzeCli(argv, out, new PassThrough());
    return { code, out: Buffer.concat(chunks).toString() };
  }

  it('meshops analyze -f puts an object without a namespace in default, as istioctl does', async () => {
    const r = await cli('--analyzer', 'virtualservice.DestinationHostAnalyzer', '-f', join(dir, 'vs.yaml'));
    expect(r.out).toContain('[IST0101] (VirtualService default/pay)');
    expect(r.out).not.toMatch(/\(VirtualService pay\)/);
  });

  it('meshops analyze -f -n shop puts it in shop', async () => {
    const r = await cli(
      '--analyzer',
      'virtualservice.DestinationHostAnalyzer',
      '-n',
      'shop',
      '-f',
      join(dir, 'vs.yaml'),
    );
    expect(r.out).toContain('[IST0101] (VirtualService shop/pay)');
    expect(r.out).not.toContain('default/pay');
  });

  it('analyzeFiles without a default namespace leaves it out, with one puts it there', () => {
    const files = [{ name: 'vs.yaml', text: UNNAMESPACED_VS }];
    const opts = { analyzers: ['virtualservice.DestinationHostAnalyzer'] };
    expect(analyzeFiles(files, opts).messages.map(messageResource)).toEqual(['VirtualService pay']);
    expect(analyzeFiles(files, { ...opts, defaultNamespace: 'default' }).messages.map(messageResource)).toEqual([
      'VirtualService default/pay',
    ]);
  });
});
