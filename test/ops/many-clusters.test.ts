// One bot, several clusters: two sandbox API servers as two kubeconfig contexts (MESHOPS_KUBE_CONTEXTS),
// assembled the way main.ts does it. `--cluster` or the channel's default cluster from the policy picks the
// target, every answer names its cluster, an unknown name gets the list, and readiness checks each one.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse, stringify } from 'yaml';
import type { Requester } from '../../src/command.ts';
import { loadSettings } from '../../src/config.ts';
import { type Connection, connect } from '../../src/kube/connect.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { createLogger } from '../../src/log.ts';
import { type Meshops, assemble } from '../../src/meshops.ts';
import { readinessChecks } from '../../src/ops/operations.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';

const US_CHANNEL = 'CUSOPS001';
let eu: Sandbox;
let us: Sandbox;
let dir: string;
let connection: Connection;
let meshops: Meshops;

function virtualService(name: string): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name, namespace: 'bookinfo' },
    spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews' } }] }] },
  } as KubeObject;
}

function seed(vs: string): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bookinfo' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'meshops' } },
    virtualService(vs),
  ];
}

/** Both sandboxes in one kubeconfig, as contexts `eu` and `us`. */
function mergedKubeconfig(): string {
  const parts = [
    ['eu', parse(eu.kubeconfig())],
    ['us', parse(us.kubeconfig())],
  ] as const;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: parts.map(([n, k]) => ({ name: n, cluster: k.clusters[0].cluster })),
    users: parts.map(([n, k]) => ({ name: `${n}-admin`, user: k.users[0].user })),
    contexts: parts.map(([n]) => ({ name: n, context: { cluster: n, user: `${n}-admin` } })),
    'current-context': 'eu',
  });
}

const asker = (channelId: string): Requester => ({ userId: 'UALICE01', userName: 'alice', channelId, source: 'slack' });
const text = (r: { rendered: { text: string; blocks: unknown[] } }) =>
  `${r.rendered.text} ${JSON.stringify(r.rendered.blocks)}`;
const apiCalls = (sb: Sandbox) => sb.requests.filter((r) => r.path.includes('/virtualservices')).length;

beforeAll(async () => {
  eu = await startSandbox({ controllers: false, seed: seed('eu-only-route') });
  us = await startSandbox({ controllers: false, seed: seed('us-only-route') });
  dir = await mkdtemp(join(tmpdir(), 'meshops-clusters-'));
  await writeFile(join(dir, 'kubeconfig'), mergedKubeconfig());
  await writeFile(
    join(dir, 'policy.yaml'),
    `clusters:\n  ${US_CHANNEL}: us\nroles:\n  viewer: { commands: ["*"] }\nbindings:\n  - role: viewer\n    users: ["*"]\n`,
  );
  const settings = loadSettings({
    MESHOPS_KUBE: 'kubeconfig',
    KUBECONFIG: join(dir, 'kubeconfig'),
    MESHOPS_KUBE_CONTEXTS: 'eu,us',
    MESHOPS_POLICY_FILE: join(dir, 'policy.yaml'),
  });
  // connect() reads the kubeconfig through client-node's loadFromDefault, which looks at process.env.KUBECONFIG
  // (as production does: settings come from the same environment).
  const saved = process.env.KUBECONFIG;
  process.env.KUBECONFIG = join(dir, 'kubeconfig');
  try {
    connection = await connect(settings);
  } finally {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
  }
  meshops = await assemble(settings, connection, createLogger({ level: 'silent' }));
}, 30_000);

afterAll(async () => {
  await meshops?.approvals?.stop();
  await connection?.close();
  await eu?.close();
  await us?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('one bot serving two clusters', () => {
  it('connects to every context, the first being the default', () => {
    expect(connection.clusters.map((c) => c.name)).toEqual(['eu', 'us']);
    expect(connection.defaultCluster).toBe('eu');
    expect(meshops.router.clusterNames).toEqual(['eu', 'us']);
  });

  it('without --cluster, a channel with no mapping gets the default cluster, and the answer says so', async () => {
    const [euBefore, usBefore] = [apiCalls(eu), apiCalls(us)];
    const reply = await meshops.router.handle('config bookinfo', asker('CGENERAL1'));
    expect(reply).toMatchObject({ outcome: 'ok', cluster: 'eu' });
    expect(text(reply)).toContain('eu-only-route');
    expect(text(reply)).not.toContain('us-only-route');
    expect(text(reply)).toContain('cluster *eu*');
    expect(apiCalls(eu)).toBeGreaterThan(euBefore);
    expect(apiCalls(us)).toBe(usBefore);
  });

  it('--cluster picks the other cluster, anywhere in the command', async () => {
    for (const cmd of [
      'config bookinfo --cluster us',
      '--cluster us config bookinfo',
      'config --cluster=us bookinfo',
    ]) {
      const reply = await meshops.router.handle(cmd, asker('CGENERAL1'));
      expect({ cmd, cluster: reply.cluster }).toEqual({ cmd, cluster: 'us' });
      expect(text(reply)).toContain('us-only-route');
      expect(text(reply)).toContain('cluster *us*');
    }
  });

  it("the policy's channel → cluster map sets a channel's default; --cluster still wins", async () => {
    const usUsBefore = apiCalls(us);
    const inUsChannel = await meshops.router.handle('config bookinfo', asker(US_CHANNEL));
    expect(inUsChannel.cluster).toBe('us');
    expect(text(inUsChannel)).toContain('us-only-route');
    expect(apiCalls(us)).toBeGreaterThan(usUsBefore);
    const overridden = await meshops.router.handle('config bookinfo --cluster eu', asker(US_CHANNEL));
    expect(overridden.cluster).toBe('eu');
    expect(text(overridden)).toContain('eu-only-route');
  });

  it('an unknown cluster name is answered with the list of known ones', async () => {
    const reply = await meshops.router.handle('config bookinfo --cluster mars', asker('CGENERAL1'));
    expect(reply.outcome).toBe('user_error');
    expect(text(reply)).toContain('There is no cluster named `mars`');
    expect(text(reply)).toContain('Known clusters: `eu`, `us`');
  });

  it('readiness checks each cluster by name', async () => {
    const checks = readinessChecks({ connected: true }, connection.clusters);
    expect(checks.map((c) => c.name)).toEqual(['slack', 'cluster eu', 'cluster us']);
    expect(await Promise.all(checks.map((c) => c.check()))).toEqual([true, true, true]);
  });
});
