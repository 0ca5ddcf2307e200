// Suppression as istioctl analyze has it (pkg/config/analysis/local/analyze.go FilterMessages): the
// galley.istio.io/analyze-suppress annotation on the object (exact codes, comma-separated, or *), and
// `meshops analyze -S CODE=RESOURCE` with a glob on istioctl's friendly name `<Kind> <name>.<namespace>`.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runAnalyzeCli } from '../../src/analyze-cli.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { analyze } from '../../src/mesh/analyzers/index.ts';
import { friendlyName, parseSuppression } from '../../src/mesh/analyzers/suppress.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';

const vs = (name: string, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name, namespace: 'shop', ...(annotations ? { annotations } : {}) },
  spec: { hosts: [name], http: [{ route: [{ destination: { host: `${name}-gone` } }] }] },
});
const ANALYZER = 'virtualservice.DestinationHostAnalyzer';
const reported = (objects: KubeObject[], suppress?: { code: string; resource: string }[]) =>
  analyze(new MeshSnapshot(objects), { analyzers: [ANALYZER], ...(suppress ? { suppress } : {}) }).map(
    (m) => `${m.code} ${m.resource.name}`,
  );

describe('galley.istio.io/analyze-suppress', () => {
  it('drops the codes it lists on that object only', () => {
    expect(reported([vs('a'), vs('b', { 'galley.istio.io/analyze-suppress': 'IST0101' })])).toEqual(['IST0101 a']);
  });

  it('* drops every code; other codes and untrimmed ones do not match (Istio compares exactly)', () => {
    expect(reported([vs('a', { 'galley.istio.io/analyze-suppress': '*' })])).toEqual([]);
    expect(reported([vs('a', { 'galley.istio.io/analyze-suppress': 'IST0108,IST0103' })])).toEqual(['IST0101 a']);
    expect(reported([vs('a', { 'galley.istio.io/analyze-suppress': 'IST0108, IST0101' })])).toEqual(['IST0101 a']);
    expect(reported([vs('a', { 'galley.istio.io/analyze-suppress': 'IST0108,IST0101' })])).toEqual([]);
  });
});

describe('--suppress CODE=RESOURCE', () => {
  it('matches the friendly name, with * as a wildcard', () => {
    expect(reported([vs('a'), vs('b')], [{ code: 'IST0101', resource: 'VirtualService a.shop' }])).toEqual([
      'IST0101 b',
    ]);
    expect(reported([vs('a'), vs('b')], [{ code: 'IST0101', resource: 'VirtualService *.shop' }])).toEqual([]);
    expect(reported([vs('a')], [{ code: 'IST0102', resource: '*' }])).toEqual(['IST0101 a']);
    expect(reported([vs('a')], [{ code: 'IST0101', resource: 'VirtualService shop/a' }])).toEqual(['IST0101 a']);
  });

  it("friendly names and the flag syntax are istioctl's", () => {
    const m = analyze(new MeshSnapshot([vs('a')]), { analyzers: [ANALYZER] })[0];
    expect(m && friendlyName(m)).toBe('VirtualService a.shop');
    expect(parseSuppression('IST0102=Namespace frod')).toEqual({ code: 'IST0102', resource: 'Namespace frod' });
    expect(parseSuppression('IST0102')).toBeUndefined();
    expect(parseSuppression('=x')).toBeUndefined();
  });
});

describe('meshops analyze -S', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshops-suppress-'));
    await writeFile(
      join(dir, 'vs.yaml'),
      'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: pay, namespace: shop}\n' +
        'spec: {hosts: [pay], http: [{route: [{destination: {host: payments-gone}}]}]}\n',
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  async function cli(...argv: string[]) {
    const out = new PassThrough();
    const err = new PassThrough();
    const chunks: Buffer[] = [];
    const errs: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    err.on('data', (c: Buffer) => errs.push(c));
    const code = await runAnalyzeCli(argv, out, err);
    return { code, out: Buffer.concat(chunks).toString(), err: Buffer.concat(errs).toString() };
  }

  it('reports the error without it, exits 0 with it', async () => {
    const file = join(dir, 'vs.yaml');
    const plain = await cli('--analyzer', ANALYZER, '-f', file);
    expect(plain.code).toBe(79);
    expect(plain.out).toContain('IST0101');
    const quiet = await cli('--analyzer', ANALYZER, '-f', file, '-S', 'IST0101=VirtualService pay.*');
    expect(quiet.code).toBe(0);
    expect(quiet.out).not.toContain('IST0101');
  });

  it('refuses a malformed value and says what to type', async () => {
    const r = await cli('-f', join(dir, 'vs.yaml'), '--suppress', 'IST0101');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--suppress takes CODE=RESOURCE');
  });
});
