// The Kubernetes-backed DedupStore against the sandbox API server: the shared contract, two replicas
// (two clients, two stores) racing for the same keys, contention on one ConfigMap, and pruning on write.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../src/kube/client.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { KubeDedupStore } from '../../src/slack/kube-dedup.ts';
import { describeDedupStore } from '../support/slack-dedup-contract.ts';

let sandbox: Sandbox;
const client = () => {
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  return new KubeClient(kc);
};

beforeAll(async () => {
  sandbox = await startSandbox({
    controllers: false,
    seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'meshops' } }],
  });
});

afterAll(async () => {
  await sandbox?.close();
});

describeDedupStore('KubeDedupStore', () => new KubeDedupStore(client(), 'meshops'), { expiryMs: 80 });

describe('KubeDedupStore across replicas', () => {
  it('two replicas claiming the same 30 keys at once: each key is granted exactly once', async () => {
    const a = new KubeDedupStore(client(), 'meshops');
    const b = new KubeDedupStore(client(), 'meshops');
    const keys = Array.from({ length: 30 }, (_, i) => `event:Ev-race-${i}`);
    const results = await Promise.all(
      keys.flatMap((k) => [a.claim(k, 60_000).then((ok) => ({ k, ok })), b.claim(k, 60_000).then((ok) => ({ k, ok }))]),
    );
    for (const k of keys)
      expect({ k, granted: results.filter((r) => r.k === k && r.ok).length }).toEqual({ k, granted: 1 });
  }, 30_000);

  it('all keys in one ConfigMap: 409s are retried, so every distinct key is still granted once', async () => {
    const a = new KubeDedupStore(client(), 'meshops', { shards: 1, namePrefix: 'meshops-dedup-one' });
    const b = new KubeDedupStore(client(), 'meshops', { shards: 1, namePrefix: 'meshops-dedup-one' });
    const keys = Array.from({ length: 20 }, (_, i) => `click:T-${i}`);
    const granted = await Promise.all(keys.map((k, i) => (i % 2 ? a : b).claim(k, 60_000)));
    expect(granted.every(Boolean)).toBe(true);
    const cm = sandbox.store.get('ConfigMap', 'meshops', 'meshops-dedup-one-0') as
      | { data: Record<string, string> }
      | undefined;
    expect(Object.keys(cm?.data ?? {})).toHaveLength(20);
    // What an operator sees with kubectl: expiry and the key, under a digest.
    expect(Object.values(cm?.data ?? {})[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z click:T-\d+$/);
  }, 30_000);

  it('drops expired entries on the next write to their ConfigMap, and caps the entries it keeps', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const store = new KubeDedupStore(client(), 'meshops', {
      shards: 1,
      namePrefix: 'meshops-dedup-prune',
      maxEntries: 5,
      now: () => now,
    });
    for (let i = 0; i < 4; i++) expect(await store.claim(`command:old-${i}`, 1000)).toBe(true);
    now += 5000;
    expect(await store.claim('command:new', 60_000)).toBe(true);
    const data = () =>
      Object.values(
        (
          sandbox.store.get('ConfigMap', 'meshops', 'meshops-dedup-prune-0') as unknown as {
            data: Record<string, string>;
          }
        ).data,
      );
    expect(data()).toEqual([expect.stringContaining('command:new')]);
    for (let i = 0; i < 8; i++) await store.claim(`command:many-${i}`, 60_000 + i);
    expect(data()).toHaveLength(5);
    expect(data().some((v) => v.endsWith('command:many-7'))).toBe(true);
  }, 30_000);

  it('a redelivery after the first claim expired but before pruning is granted again (the TTL, not the write, decides)', async () => {
    let now = Date.parse('2026-02-01T00:00:00Z');
    const store = new KubeDedupStore(client(), 'meshops', { now: () => now });
    expect(await store.claim('event:EvTTL', 1000)).toBe(true);
    now += 500;
    expect(await store.claim('event:EvTTL', 1000)).toBe(false);
    now += 600;
    expect(await store.claim('event:EvTTL', 1000)).toBe(true);
  }, 30_000);
});
