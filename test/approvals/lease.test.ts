// LeaseLock against the sandbox API server: one holder at a time, lapsed leases taken over, renew fails after takeover.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LeaseLock } from '../../src/kube/lease.ts';
import type { Sandbox } from '../../src/sandbox/server.ts';
import { BOT_NS, kubeFor, sandboxWithDemo } from './support.ts';

let sb: Sandbox;
beforeAll(async () => {
  sb = await sandboxWithDemo();
});
afterAll(async () => {
  await sb.close();
});

describe('LeaseLock', () => {
  it('lets one of many concurrent contenders hold it', async () => {
    const kube = kubeFor(sb);
    const locks = Array.from({ length: 10 }, (_, i) => new LeaseLock(kube, BOT_NS, 'race', `r${i}`));
    const won = await Promise.all(locks.map((l) => l.tryAcquire()));
    expect(won.filter(Boolean)).toHaveLength(1);
    const holder = locks[won.indexOf(true)] as LeaseLock;
    expect((await holder.holderNow())?.holder).toBe(holder.holder);
    expect(await holder.tryAcquire()).toBe(true);
  });

  it('a lapsed lease is taken over, and the old holder can no longer renew', async () => {
    const kube = kubeFor(sb);
    let now = Date.now();
    const clock = () => new Date(now);
    const a = new LeaseLock(kube, BOT_NS, 'lapse', 'a', { durationSeconds: 5, now: clock });
    const b = new LeaseLock(kube, BOT_NS, 'lapse', 'b', { durationSeconds: 5, now: clock });
    expect(await a.tryAcquire()).toBe(true);
    expect(await b.tryAcquire()).toBe(false);
    now += 6000;
    expect(await b.tryAcquire()).toBe(true);
    expect(await a.renew()).toBe(false);
    expect(await b.renew()).toBe(true);
    const spec = sb.store.get('Lease', BOT_NS, 'lapse')?.spec as {
      holderIdentity: string;
      leaseTransitions: number;
      renewTime: string;
    };
    expect(spec.holderIdentity).toBe('b');
    expect(spec.leaseTransitions).toBe(1);
    expect(spec.renewTime).toMatch(/\.\d{6}Z$/);
  });

  it('release frees it for others at once, without deleting anything', async () => {
    const kube = kubeFor(sb);
    const a = new LeaseLock(kube, BOT_NS, 'free', 'a', { durationSeconds: 60 });
    const b = new LeaseLock(kube, BOT_NS, 'free', 'b', { durationSeconds: 60 });
    expect(await a.tryAcquire()).toBe(true);
    await b.release(); // not b's: no effect
    expect(await b.tryAcquire()).toBe(false);
    await a.release();
    expect(await b.tryAcquire()).toBe(true);
    // meshops holds no delete permission anywhere: a released lease stays, with no holder.
    await b.release();
    const spec = sb.store.get('Lease', BOT_NS, 'free')?.spec as { holderIdentity?: string | null } | undefined;
    expect(spec?.holderIdentity ?? null).toBeNull();
  });

  it('housekeeping (reentrant: false) does not take a hold that has not lapsed, not even its own', async () => {
    const kube = kubeFor(sb);
    let now = Date.now();
    const a = new LeaseLock(kube, BOT_NS, 'own', 'a', { durationSeconds: 5, now: () => new Date(now) });
    expect(await a.tryAcquire()).toBe(true);
    expect(await a.tryAcquire({ reentrant: false })).toBe(false);
    expect(await a.tryAcquire()).toBe(true);
    now += 6000;
    expect(await a.tryAcquire({ reentrant: false })).toBe(true);
  });
});
