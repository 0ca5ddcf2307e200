// `--istioctl`: the real binary is absent here, so a small stand-in executable plays it: it records the
// argument array it was given and prints recorded `istioctl analyze -o json` output, or hangs, or fails.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ISTIOCTL_FOUND_ISSUES, findIstioctl, istioctlAnalyze } from '../../src/istio/istioctl.ts';
import { mergeMessages } from '../../src/mesh/analyze-report.ts';
import type { AnalysisMessage } from '../../src/mesh/analyzers/index.ts';

/** What istioctl 1.24 prints for `analyze -o json` (shape per istioctl's formatter: code, documentationUrl, level, message, origin). */
export const RECORDED = [
  {
    code: 'IST0101',
    documentationUrl: 'https://istio.io/v1.24/docs/reference/config/analysis/ist0101/',
    level: 'Error',
    message: 'Referenced host+subset in destinationrule not found: "reviews+v9"',
    origin: 'VirtualService bookinfo/reviews',
  },
  {
    code: 'IST0118',
    documentationUrl: 'https://istio.io/v1.24/docs/reference/config/analysis/ist0118/',
    level: 'Info',
    message: "Port name metrics (port: 9090, targetPort: 9090) doesn't follow the naming convention of Istio port.",
    origin: 'Service bookinfo/ratings-metrics',
  },
];

let dir: string;
let argsFile: string;

async function standIn(name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\nprintf '%s\\n' "$@" > "${argsFile}"\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshops-istioctl-'));
  argsFile = join(dir, 'args.txt');
  await writeFile(join(dir, 'recorded.json'), JSON.stringify(RECORDED, null, '\t'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('istioctl analyze through execa', () => {
  it('is reported absent, not failed, when there is no binary', async () => {
    expect(await findIstioctl(undefined, '/nonexistent-dir')).toBeUndefined();
    const r = await istioctlAnalyze({ binary: join(dir, 'no-such-istioctl') });
    expect(r).toEqual({ status: 'absent', reason: expect.stringContaining('not found') });
  });

  it('finds istioctl on PATH', async () => {
    const bin = await standIn('istioctl', `cat "${dir}/recorded.json"`);
    expect(await findIstioctl(undefined, `/nonexistent-dir:${dir}`)).toBe(bin);
  });

  it('passes an argument array (no shell) and parses the recorded JSON, found-issues exit code included', async () => {
    const bin = await standIn('istioctl-issues', `cat "${dir}/recorded.json"; exit ${ISTIOCTL_FOUND_ISSUES}`);
    const r = await istioctlAnalyze({ binary: bin, namespace: 'bookinfo; rm -rf /', kubeconfig: '/tmp/k config' });
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.messages.map((m) => m.code)).toEqual(['IST0101', 'IST0118']);
    const args = (await readFile(argsFile, 'utf8')).trimEnd().split('\n');
    // Each value is one argument, untouched: a shell would have split or run them.
    expect(args).toEqual([
      'analyze',
      '-o',
      'json',
      '--namespace',
      'bookinfo; rm -rf /',
      '--kubeconfig',
      '/tmp/k config',
    ]);
  });

  it("turns a non-zero exit into a failure with istioctl's own words", async () => {
    const bin = await standIn('istioctl-broken', `echo 'Error: failed to get kubeconfig: no such context' >&2; exit 3`);
    const r = await istioctlAnalyze({ binary: bin, allNamespaces: true });
    expect(r).toEqual({
      status: 'failed',
      binary: bin,
      reason: expect.stringMatching(/exited with 3: Error: failed to get kubeconfig/),
    });
    expect((await readFile(argsFile, 'utf8')).split('\n')).toContain('--all-namespaces');
  });

  it('gives up after the timeout', async () => {
    // exec: one process, as the real istioctl is (a shell's child would keep the pipes open past the kill).
    const bin = await standIn('istioctl-hang', 'exec sleep 20');
    const started = Date.now();
    const r = await istioctlAnalyze({ binary: bin, timeoutMs: 500 });
    expect(r.status).toBe('failed');
    expect(r.status === 'failed' && r.reason).toMatch(/did not finish within/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('refuses output that is not its JSON message list', async () => {
    const bin = await standIn('istioctl-garbage', `echo 'Warning: something human-readable'`);
    const r = await istioctlAnalyze({ binary: bin });
    expect(r).toMatchObject({ status: 'failed', reason: expect.stringContaining('not its JSON') });
  });
});

describe('merging istioctl messages with ours', () => {
  it('keeps one message per code and resource, marks the source, and normalizes older origins', () => {
    const ours: AnalysisMessage[] = [
      {
        code: 'IST0101',
        name: 'ReferencedResourceNotFound',
        level: 'Error',
        resource: { kind: 'VirtualService', namespace: 'bookinfo', name: 'reviews' },
        text: 'Referenced host+subset in destinationrule not found: "reviews+v9"',
      },
      {
        code: 'IST0173',
        name: 'DestinationRuleSubsetNotSelectPods',
        level: 'Warning',
        resource: { kind: 'DestinationRule', namespace: 'bookinfo', name: 'reviews' },
        text: 'The Subset v9 defined in the DestinationRule does not select any pods.',
      },
    ];
    const merged = mergeMessages(ours, [
      ...RECORDED,
      { code: 'IST0173', level: 'Warning', message: 'x', origin: 'DestinationRule reviews.bookinfo' },
    ]);
    expect(merged.map((m) => [m.code, m.resource, m.source])).toEqual([
      ['IST0101', 'VirtualService bookinfo/reviews', 'both'],
      ['IST0173', 'DestinationRule bookinfo/reviews', 'both'],
      ['IST0118', 'Service bookinfo/ratings-metrics', 'istioctl'],
    ]);
  });
});
