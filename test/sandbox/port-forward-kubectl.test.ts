// The real `kubectl port-forward` against the sandbox: kubectl 1.31+ tunnels SPDY through a
// WebSocket first and falls back to a plain SPDY/3.1 upgrade; both paths must carry plain HTTP to
// the simulated istiod. Skips, saying why, when kubectl is not installed.
import { existsSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa, type ResultPromise } from 'execa';
import { parseSyncz } from '../../src/istio/syncz.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';
import { demoScenario, ISTIODS, istiodPod, serveIstiods } from '../istio/support/istiod-fixture.ts';

const kubectl = (process.env.PATH ?? '')
  .split(delimiter)
  .map((d) => join(d, 'kubectl'))
  .find((p) => existsSync(p));
// Skipped on purpose when kubectl is absent: the test is about the real binary, nothing can stand in for it.
const describeWithKubectl = kubectl ? describe : describe.skip;

let sandbox: Sandbox;
let kubeconfigPath: string;

beforeAll(async () => {
  if (!kubectl) return;
  sandbox = await startSandbox({ controllers: false, seed: ISTIODS.map(istiodPod) });
  serveIstiods(sandbox.podEndpoints, demoScenario());
  kubeconfigPath = join(mkdtempSync(join(tmpdir(), 'meshops-kubectl-')), 'config');
  await sandbox.writeKubeconfig(kubeconfigPath);
});

afterAll(async () => {
  await sandbox?.close();
});

/** Starts kubectl port-forward on a free local port; resolves with the port once kubectl listens. */
async function portForward(
  env: Record<string, string>,
): Promise<{ port: number; proc: ResultPromise; output: () => string }> {
  const proc = execa(
    kubectl!,
    ['port-forward', '--kubeconfig', kubeconfigPath, '-n', 'istio-system', `pod/${ISTIODS[0]}`, ':15014'],
    {
      env: { ...env, HOME: tmpdir() },
      reject: false,
      timeout: 20_000,
      all: true,
    },
  );
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kubectl did not start forwarding:\n${out}`)), 15_000);
    proc.all!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 15014/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void proc.then(() => reject(new Error(`kubectl exited:\n${out}`)));
  });
  return { port, proc, output: () => out };
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describeWithKubectl(`kubectl port-forward against the sandbox (${kubectl ?? 'kubectl not on PATH'})`, () => {
  it.each([
    ['SPDY tunnelled in a WebSocket (kubectl default)', {}, 'GET'],
    [
      'plain SPDY/3.1 upgrade (KUBECTL_PORT_FORWARD_WEBSOCKETS=false)',
      { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' },
      'POST',
    ],
  ])(
    '%s: fetches /debug/syncz with plain HTTP, over two connections',
    async (_name, env, upgradeMethod) => {
      sandbox.requests.length = 0;
      const { port, proc, output } = await portForward(env);
      try {
        const first = await get(port, '/debug/syncz');
        expect(first.status).toBe(200);
        expect(parseSyncz(JSON.parse(first.body)).length).toBeGreaterThan(0);
        const second = await get(port, '/version');
        expect(second).toMatchObject({ status: 200, body: expect.stringMatching(/^1\.24\.2-/) });
        expect(output()).not.toMatch(/error|lost connection/i);
      } finally {
        proc.kill();
        await proc;
      }
      const upgrades = sandbox.requests.filter((r) => r.path.endsWith('/portforward'));
      expect(upgrades.map((r) => r.method)).toEqual([upgradeMethod]);
    },
    30_000,
  );
});
