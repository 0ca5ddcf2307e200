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
});

describeDedupStore('MemoryDedupStore', () => new MemoryDedupStore());
