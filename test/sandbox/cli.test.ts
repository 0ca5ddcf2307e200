// `meshops sandbox`: argument parsing, the kubeconfig it writes, and a clean stop.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_KUBECONFIG, parseSandboxArgs, runSandboxCli } from '../../src/sandbox/cli.ts';
import { selfSignedCert } from '../../src/sandbox/self-signed-cert.ts';

describe('meshops sandbox CLI', () => {
  it('parses --port and --kubeconfig (both spellings) and rejects the rest', () => {
    expect(parseSandboxArgs([])).toEqual({ port: 0, kubeconfig: DEFAULT_KUBECONFIG, host: '127.0.0.1' });
    expect(parseSandboxArgs(['--port', '6443', '--kubeconfig=/tmp/k'])).toMatchObject({
      port: 6443,
      kubeconfig: '/tmp/k',
    });
    expect(() => parseSandboxArgs(['--port', 'abc'])).toThrow(/--port/);
    expect(() => parseSandboxArgs(['--verbose'])).toThrow(/unknown argument "--verbose"/);
    expect(() => parseSandboxArgs(['--port'])).toThrow(/needs a value/);
  });

  it('serves the demo mesh, writes a working kubeconfig, prints how to use it, and stops', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshops-cli-'));
    const path = join(dir, 'nested', 'sandbox.kubeconfig');
    const lines: string[] = [];
    let release: () => void = () => undefined;
    let names: string[] = [];
    try {
      await runSandboxCli(['--kubeconfig', path], {
        out: (l) => lines.push(l),
        untilStopped: () => new Promise<void>((r) => (release = r)),
        onStarted: (sandbox) => {
          void (async () => {
            const kc = new k8s.KubeConfig();
            kc.loadFromString(await readFile(path, 'utf8'));
            const pods = await kc.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: 'bookinfo' });
            names = pods.items.map((p) => p.metadata?.name ?? '');
            expect(kc.getCurrentContext()).toBe('meshops-sandbox');
            expect(kc.getCurrentCluster()?.server).toBe(sandbox.url);
            release();
          })().catch((e: unknown) => {
            lines.push(`failed: ${String(e)}`);
            release();
          });
        },
      });
      expect(names).toHaveLength(6);
      expect(lines).toContain(`  kubectl --kubeconfig ${path} get pods -A`);
      expect(lines.at(-1)).toBe('meshops sandbox: stopped');
      const config = parseYaml(await readFile(path, 'utf8')) as { users: { user: { token: string } }[] };
      expect(config.users[0]?.user.token).toMatch(/^sandbox-/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('selfSignedCert', () => {
  it('is a valid self-signed CA certificate for the given IPs and names', () => {
    const { cert } = selfSignedCert(['127.0.0.1', 'localhost', '::1']);
    const x = new X509Certificate(cert);
    expect(x.ca).toBe(true);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x.checkHost('localhost')).toBe('localhost');
    expect(x.subjectAltName).toContain('IP Address:0:0:0:0:0:0:0:1');
    expect(Date.parse(x.validTo)).toBeGreaterThan(Date.now() + 300 * 24 * 3600 * 1000);
  });
});
