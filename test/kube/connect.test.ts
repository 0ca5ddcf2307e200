// Which cluster meshops uses at start-up. The demo mesh is never a silent fallback: a KUBECONFIG that
// names missing files, a pod without its token, or Slack mode with nothing configured stop start-up
// with one line; the demo is used when asked for, and by the console unless a cluster is chosen
// explicitly (MESHOPS_KUBE=kubeconfig|in-cluster, or a context), which the banner says.
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

  it('stops when KUBECONFIG names files that do not exist and a cluster is wanted, in the console and in Slack mode', () => {
    for (const env of [{ MESHOPS_KUBE: 'kubeconfig' }, { MESHOPS_KUBE_CONTEXT: 'prod' }, slackTokens]) {
      const settings = loadSettings({ ...env, KUBECONFIG: '/nope/a.yaml:/nope/b.yaml' });
      expect(() => pickSource(settings, {})).toThrow(ConnectError);
      expect(() => pickSource(settings, {})).toThrow('KUBECONFIG names /nope/a.yaml, /nope/b.yaml, which do not exist');
    }
    expect(() => pickSource(loadSettings({ KUBECONFIG: '/nope/a.yaml', MESHOPS_KUBE: 'kubeconfig' }), {})).toThrow(
      /set MESHOPS_KUBE=demo/,
    );
    // The console with no cluster chosen does not read KUBECONFIG at all: the demo, as always there.
    expect(pickSource(loadSettings({ KUBECONFIG: '/nope/a.yaml' }), {})).toBe('demo');
  });

  it('reads a KUBECONFIG list when at least one file exists, as kubectl does', async () => {
    const file = join(dir, 'kc.yaml');
    await writeFile(file, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
    expect(pickSource(loadSettings({ ...slackTokens, KUBECONFIG: `/nope/a.yaml:${file}` }), {})).toBe('kubeconfig');
    expect(pickSource(loadSettings({ MESHOPS_KUBE: 'kubeconfig', KUBECONFIG: `/nope/a.yaml:${file}` }), {})).toBe(
      'kubeconfig',
    );
  });

  it('never serves the demo to Slack unless asked, and says what to set', () => {
    expect(() => pickSource(loadSettings(slackTokens), {})).toThrow(/no cluster is configured.*MESHOPS_KUBE=demo/);
  });

  it('in a pod without a service-account token, says so instead of falling back', () => {
    expect(() => pickSource(loadSettings(slackTokens), { KUBERNETES_SERVICE_HOST: '10.0.0.1' })).toThrow(
      /no service-account token/,
    );
    expect(() => pickSource(loadSettings({ MESHOPS_KUBE: 'in-cluster' }), {})).not.toThrow();
  });

  it('a context named with no kubeconfig at all is an error, not the demo', () => {
    expect(() => pickSource(loadSettings({ MESHOPS_KUBE_CONTEXT: 'prod' }), {})).toThrow(
      /MESHOPS_KUBE_CONTEXT is set but there is no kubeconfig/,
    );
  });

  it('the console uses the demo unless a cluster is chosen explicitly, even with a kubeconfig at hand (issue 14 item 7)', async () => {
    const file = join(dir, 'present.yaml');
    await writeFile(file, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
    // Nothing chosen: a kubeconfig in the environment, even in a pod, is not a choice.
    expect(pickSource(loadSettings({}), {})).toBe('demo');
    expect(pickSource(loadSettings({ KUBECONFIG: file }), {})).toBe('demo');
    expect(pickSource(loadSettings({}), { KUBERNETES_SERVICE_HOST: '10.0.0.1' })).toBe('demo');
    // Chosen: MESHOPS_KUBE, or a context.
    expect(pickSource(loadSettings({ KUBECONFIG: file, MESHOPS_KUBE: 'kubeconfig' }), {})).toBe('kubeconfig');
    expect(pickSource(loadSettings({ KUBECONFIG: file, MESHOPS_KUBE_CONTEXT: 'prod' }), {})).toBe('kubeconfig');
    expect(pickSource(loadSettings({ KUBECONFIG: file, MESHOPS_KUBE_CONTEXTS: 'eu,us' }), {})).toBe('kubeconfig');
    expect(pickSource(loadSettings({ MESHOPS_KUBE: 'in-cluster' }), {})).toBe('in-cluster');
    // Slack mode is unchanged: the kubeconfig it finds. So is a read-only front door that means "live".
    expect(pickSource(loadSettings({ ...slackTokens, KUBECONFIG: file }), {})).toBe('kubeconfig');
    expect(pickSource(loadSettings({ KUBECONFIG: file }), {}, { localDefault: 'cluster' })).toBe('kubeconfig');
    // ...and the console says which cluster it uses and how to choose another.
    const connection = await connect(loadSettings({ KUBECONFIG: file }));
    try {
      expect(connection.source).toBe('demo');
      expect(connection.description).toMatch(/^the built-in demo mesh/);
      expect(connection.choice).toMatch(
        /KUBECONFIG is set, but no cluster was chosen, so nothing here touches a real cluster; to use one, set MESHOPS_KUBE=kubeconfig/,
      );
    } finally {
      await connection.close();
    }
  }, 30_000);

  it('connect() refuses the same way (the CLI and Slack mode go through it)', async () => {
    await expect(connect(loadSettings({ ...slackTokens, KUBECONFIG: '/nope/x' }))).rejects.toThrow(
      /KUBECONFIG names \/nope\/x, which does not exist/,
    );
  });
});
