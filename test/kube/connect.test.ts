// Which cluster meshops uses at start-up. The demo mesh is never a silent fallback: a KUBECONFIG that
// names missing files, a pod without its token, or Slack mode with nothing configured stop start-up
// with one line; the demo is used when asked for, or when nothing at all is configured (console).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadSettings } from '../../src/config.ts';
import { ConnectError, connect, pickSource } from '../../src/kube/connect.ts';

let dir: string;
let realHome: string | undefined;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshops-connect-'));
  // An empty HOME: no ~/.kube/config unless a test writes one.
  realHome = process.env.HOME;
  process.env.HOME = dir;
});
afterAll(async () => {
  process.env.HOME = realHome;
  await rm(dir, { recursive: true, force: true });
});

const slackTokens = { SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_APP_TOKEN: 'xapp-1-A1-2-abc' };

describe('pickSource', () => {
  it('uses the demo only when nothing is configured, in the console', () => {
    expect(pickSource(loadSettings({}), {})).toBe('demo');
    expect(pickSource(loadSettings({ MESHOPS_KUBE: 'demo', ...slackTokens }), {})).toBe('demo');
  });

  it('stops when KUBECONFIG names files that do not exist, in the console and in Slack mode', () => {
    for (const env of [{}, slackTokens]) {
      const settings = loadSettings({ ...env, KUBECONFIG: '/nope/a.yaml:/nope/b.yaml' });
      expect(() => pickSource(settings, {})).toThrow(ConnectError);
      expect(() => pickSource(settings, {})).toThrow('KUBECONFIG names /nope/a.yaml, /nope/b.yaml, which do not exist');
    }
    expect(() => pickSource(loadSettings({ KUBECONFIG: '/nope/a.yaml', MESHOPS_KUBE: 'kubeconfig' }), {})).toThrow(
      /set MESHOPS_KUBE=demo/,
    );
  });

  it('reads a KUBECONFIG list when at least one file exists, as kubectl does', async () => {
    const file = join(dir, 'kc.yaml');
    await writeFile(file, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
    expect(pickSource(loadSettings({ KUBECONFIG: `/nope/a.yaml:${file}` }), {})).toBe('kubeconfig');
  });

  it('never serves the demo to Slack unless asked, and says what to set', () => {
    expect(() => pickSource(loadSettings(slackTokens), {})).toThrow(/no cluster is configured.*MESHOPS_KUBE=demo/);
  });

  it('in a pod without a service-account token, says so instead of falling back', () => {
    expect(() => pickSource(loadSettings({}), { KUBERNETES_SERVICE_HOST: '10.0.0.1' })).toThrow(
      /no service-account token/,
    );
  });

  it('a context named with no kubeconfig at all is an error, not the demo', () => {
    expect(() => pickSource(loadSettings({ MESHOPS_KUBE_CONTEXT: 'prod' }), {})).toThrow(
      /MESHOPS_KUBE_CONTEXT is set but there is no kubeconfig/,
    );
  });

  it('connect() refuses the same way (the CLI and Slack mode go through it)', async () => {
    await expect(connect(loadSettings({ ...slackTokens, KUBECONFIG: '/nope/x' }))).rejects.toThrow(
      /KUBECONFIG names \/nope\/x, which does not exist/,
    );
  });
});
