// `meshops analyze -f` answers gateway.SecretAnalyzer's credential questions from the Secrets in the files:
// an expired certificate is IST0161 on the Gateway, a valid one beside it is not reported, and a Secret that
// is not in the files is IST0101.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { stringify } from 'yaml';
import { runAnalyzeCli } from '../../src/analyze-cli.ts';
import { selfSignedCert } from '../../src/sandbox/self-signed-cert.ts';

const DAY = 86_400_000;
let dir: string;

const tlsSecret = (name: string, issued: Date) => {
  const { cert, key } = selfSignedCert(['shop.example.com'], issued);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: 'istio-system' },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': Buffer.from(cert).toString('base64'), 'tls.key': Buffer.from(key).toString('base64') },
  };
};
const gateway = (name: string, credentialName: string) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'Gateway',
  metadata: { name, namespace: 'shop' },
  spec: {
    selector: { istio: 'ingressgateway' },
    servers: [
      {
        port: { number: 443, name: 'https', protocol: 'HTTPS' },
        hosts: ['shop.example.com'],
        tls: { mode: 'SIMPLE', credentialName },
      },
    ],
  },
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshops-analyze-credentials-'));
  const now = Date.now();
  const docs = [
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'istio-ingressgateway-1', namespace: 'istio-system', labels: { istio: 'ingressgateway' } },
    },
    gateway('expired', 'old-tls'),
    gateway('fine', 'new-tls'),
    gateway('absent', 'nowhere-tls'),
    tlsSecret('old-tls', new Date(now - 400 * DAY)),
    tlsSecret('new-tls', new Date(now - DAY)),
  ];
  await writeFile(join(dir, 'gateways.yaml'), docs.map((d) => stringify(d)).join('---\n'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const code = await runAnalyzeCli(argv, out, new PassThrough());
  return { code, out: Buffer.concat(chunks).toString() };
}

describe('meshops analyze -f: gateway credentials from the Secrets in the files', () => {
  it('reports the expired certificate and the missing Secret, not the valid one', async () => {
    const r = await cli('--analyzer', 'gateway.SecretAnalyzer', '-f', join(dir, 'gateways.yaml'));
    expect(r.out).toContain('[IST0161] (Gateway shop/expired');
    expect(r.out).toContain('The credential referenced by the Gateway expired in namespace istio-system is invalid');
    expect(r.out).toContain('[IST0101] (Gateway shop/absent');
    expect(r.out).not.toContain('Gateway shop/fine');
  });
});
