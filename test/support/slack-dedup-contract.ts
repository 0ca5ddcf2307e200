// The behaviour every DedupStore must have, as a reusable suite: the in-memory store runs it now,
// a Kubernetes-backed store for several replicas can run the same one.
import { describe, expect, it } from '@jest/globals';
import type { DedupStore } from '../../src/slack/dedup.ts';

export function describeDedupStore(
  name: string,
  makeStore: () => Promise<DedupStore> | DedupStore,
  options: { expiryMs?: number } = {},
): void {
  describe(`${name} (DedupStore contract)`, () => {
    const unique = () => `key-${Math.random().toString(36).slice(2)}`;

    it('grants the first claim of a key and refuses the second', async () => {
      const store = await makeStore();
      const key = unique();
      expect(await store.claim(key, 60_000)).toBe(true);
      expect(await store.claim(key, 60_000)).toBe(false);
    });

    it('keeps keys independent', async () => {
      const store = await makeStore();
      expect(await store.claim(unique(), 60_000)).toBe(true);
      expect(await store.claim(unique(), 60_000)).toBe(true);
    });

    it('grants exactly one of many concurrent claims of one key', async () => {
      const store = await makeStore();
      const key = unique();
      const results = await Promise.all(Array.from({ length: 20 }, () => store.claim(key, 60_000)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('grants a key again once its claim has expired', async () => {
      const store = await makeStore();
      const key = unique();
      const ttl = options.expiryMs ?? 50;
      expect(await store.claim(key, ttl)).toBe(true);
      await new Promise((r) => setTimeout(r, ttl + 30));
      expect(await store.claim(key, ttl)).toBe(true);
    });
  });
}
