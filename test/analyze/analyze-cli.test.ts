// `meshops analyze`: offline every analyzer runs on the files; with --live the files are layered on what the
// chosen analyzers read from the cluster, and the analyzers it could not run are named on stderr.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runAnalyzeCli } from '../../src/analyze-cli.ts';
import { startDemoSandbox, type DemoSandbox } from '../../src/demo/demo-mesh.ts';

let sandbox: DemoSandbox;
let dir: string;
const saved = { KUBECONFIG: process.env.KUBECONFIG, MESHOPS_KUBE: process.env.MESHOPS_KUBE };

const VS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: pay
  namespace: shop
spec:
  hosts: [pay]
  http:
    - route:
        - destination:
            host: payments-gone
`;

beforeAll(async () => {
  sandbox = await startDemoSandbox({ faults: false });
  dir = await mkdtemp(join(tmpdir(), 'meshops-analyze-cli-'));
  await writeFile(join(dir, 'kubeconfig'), sandbox.kubeconfig(), { mode: 0o600 });
  await writeFile(join(dir, 'vs.yaml'), VS);
});

afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await sandbox?.close();
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

describe('meshops analyze', () => {
  it('offline: the files are all there is, so nothing is reported as not checked', async () => {
    const r = await cli('-f', join(dir, 'vs.yaml'));
    expect(r.code).toBe(79);
    expect(r.out).toContain('[IST0101] (VirtualService shop/pay)');
    expect(r.err).toBe('');
  });

  it('--live: names the analyzers it could not run on the cluster, on stderr', async () => {
    process.env.KUBECONFIG = join(dir, 'kubeconfig');
    process.env.MESHOPS_KUBE = 'kubeconfig';
    const r = await cli('--live', '-f', join(dir, 'vs.yaml'));
    expect(r.out).toContain('[IST0101] (VirtualService shop/pay)');
    expect(r.err).toContain(
      'meshops analyze: not checked: gateway.SecretAnalyzer needs Secrets, which meshops does not read',
    );
    expect(r.err).toContain(
      'meshops analyze: partly checked: virtualservice.GatewayAnalyzer ran without Gateway API Gateways',
    );
  });

  it('--live with one analyzer: only its inputs are listed, and it lacks none of them', async () => {
    process.env.KUBECONFIG = join(dir, 'kubeconfig');
    process.env.MESHOPS_KUBE = 'kubeconfig';
    sandbox.requests.length = 0;
    const r = await cli('--live', '--analyzer', 'virtualservice.DestinationHostAnalyzer', '-f', join(dir, 'vs.yaml'));
    expect(r.out).toContain('[IST0101] (VirtualService shop/pay)');
    expect(r.err).toBe('');
    const listed = sandbox.requests
      .map((q) => q.path)
      .filter((p) => /\/(pods|deployments|secrets|configmaps)(\?|$)/.test(p));
    expect(listed).toEqual([]);
  });
});
