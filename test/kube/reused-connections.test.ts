// A KubeConfig's requests share keep-alive connections (src/kube/reused-connections.ts): client-node makes a new
// undici Agent per request, so without this each API request opened a TLS connection of its own.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig, RequestContext } from '@kubernetes/client-node';
import { KubeClient } from '../../src/kube/client.ts';
import { reuseConnections } from '../../src/kube/reused-connections.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ controllers: false });
});
afterAll(async () => {
  await sandbox?.close();
});

const configOf = () => {
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  return kc;
};
const dispatcherOf = async (kc: KubeConfig) => {
  const ctx = new RequestContext(`${kc.getCurrentCluster()?.server}/api`, 'GET' as never);
  await kc.applySecurityAuthentication(ctx);
  return ctx.getDispatcher();
};

describe('reuseConnections', () => {
  it('as client-node comes, every request gets a pool of its own (what this fixes)', async () => {
    const kc = configOf();
    const a = await dispatcherOf(kc);
    expect(a).toBeDefined();
    expect(await dispatcherOf(kc)).not.toBe(a);
  });

  it('gives every request of one cluster and credentials the same pool', async () => {
    const kc = reuseConnections(configOf());
    const a = await dispatcherOf(kc);
    expect(a).toBeDefined();
    for (let i = 0; i < 5; i++) expect(await dispatcherOf(kc)).toBe(a);
  });

  it('a different CA (a rotated one, another cluster) gets a pool of its own', async () => {
    const kc = reuseConnections(configOf());
    const a = await dispatcherOf(kc);
    const cluster = kc.getCurrentCluster() as { caData?: string };
    // The sandbox's CA, re-encoded with a trailing newline: other bytes, the same certificate.
    const pem = Buffer.from(cluster.caData ?? '', 'base64').toString();
    kc.clusters = kc.clusters.map((c) => ({ ...c, caData: Buffer.from(`${pem}\n`).toString('base64') }));
    const b = await dispatcherOf(kc);
    expect(b).not.toBe(a);
    expect(await dispatcherOf(kc)).toBe(b);
  });

  it('requests through the shared pool are answered, concurrently too', async () => {
    const kube = new KubeClient(reuseConnections(configOf()));
    const lists = await Promise.all(Array.from({ length: 20 }, () => kube.list('Namespace')));
    for (const l of lists) expect(l.map((n) => n.metadata.name)).toContain('default');
  });
});
