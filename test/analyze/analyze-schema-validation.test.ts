// `meshops analyze -f` on a file with a PeerAuthentication the API server and istiod would refuse: the schema
// analyzer reports it as IST0106 at the file's line, and the exit code says an error was found.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runAnalyzeCli } from '../../src/analyze-cli.ts';

const PA = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: pay-mtls
  namespace: shop
spec:
  mtls:
    mode: STRCT
  portLevelMtls:
    8080:
      mode: DISABLE
`;

const VALID = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: pay-mtls
  namespace: shop
spec:
  selector:
    matchLabels:
      app: pay
  mtls:
    mode: STRICT
  portLevelMtls:
    8080:
      mode: DISABLE
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshops-analyze-schema-'));
  await writeFile(join(dir, 'pa.yaml'), PA);
  await writeFile(join(dir, 'valid.yaml'), VALID);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on('data', (c: Buffer) => chunks.out.push(c));
  err.on('data', (c: Buffer) => chunks.err.push(c));
  const code = await runAnalyzeCli(argv, out, err);
  return { code, out: Buffer.concat(chunks.out).toString(), err: Buffer.concat(chunks.err).toString() };
}

describe('meshops analyze -f: schema validation', () => {
  it('reports the bad mTLS mode and the port-level mTLS without a selector as IST0106, at their lines', async () => {
    const r = await cli('-f', join(dir, 'pa.yaml'));
    const lines = r.out.split('\n').filter((l) => l.includes('[IST0106] (PeerAuthentication shop/pay-mtls'));
    expect(lines.some((l) => l.includes('spec.mtls.mode: Unsupported value: "STRCT"') && l.includes('pa.yaml:8'))).toBe(
      true,
    );
    expect(lines.some((l) => l.includes('mesh/namespace peer authentication cannot have port level mTLS'))).toBe(true);
    expect(lines.some((l) => l.includes('portLevelMtls requires selector'))).toBe(true);
    expect(r.code).not.toBe(0);
  });

  it('says nothing about the same PeerAuthentication once it is valid', async () => {
    const r = await cli('-f', join(dir, 'valid.yaml'));
    expect(r.out).not.toContain('IST0106');
  });
});
