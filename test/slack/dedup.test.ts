import { describe, expect, it } from '@jest/globals';
import { MemoryDedupStore } from '../../src/slack/dedup.ts';
import { describeDedupStore } from '../support/slack-dedup-contract.ts';

describe('MemoryDedupStore', () => {
  it('lets the first claim of a key through and refuses the rest until it expires', async () => {
    let now = 1_000;
    const store = new MemoryDedupStore(() => now);
    expect(await store.claim('event:Ev1', 60_000)).toBe(true);
    expect(await store.claim('event:Ev1', 60_000)).toBe(false);
    expect(await store.claim('event:Ev2', 60_000)).toBe(true);
    now += 60_001;
    expect(await store.claim('event:Ev1', 60_000)).toBe(true);
  });

  it('forgets expired keys on sweep', async () => {
    let now = 0;
    const store = new MemoryDedupStore(() => now);
    await store.claim('a', 10);
    await store.claim('b', 1000);
    now = 500;
    store.sweep();
    expect(store.size).toBe(1);
  });

  it('keeps at most maxKeys live keys, forgetting the oldest claim first', async () => {
    const now = 0;
    const store = new MemoryDedupStore(() => now, { maxKeys: 3 });
    for (const k of ['a', 'b', 'c', 'd']) expect(await store.claim(k, 60_000)).toBe(true);
    expect(store.size).toBe(3);
    // 'a' was the oldest: forgotten, so it is let through again (and 'b' goes); the newer ones are still refused.
    expect(await store.claim('c', 60_000)).toBe(false);
    expect(await store.claim('d', 60_000)).toBe(false);
    expect(await store.claim('a', 60_000)).toBe(true);
    expect(await store.claim('b', 60_000)).toBe(true);
    expect(store.size).toBe(3);
  });
});

describeDedupStore('MemoryDedupStore', () => new MemoryDedupStore());
