// Slack delivers at least once; every delivery claims a key first (the contract: src/dedup-store.ts).
import type { DedupStore } from '../dedup-store.ts';

export type { DedupStore } from '../dedup-store.ts';

/** One process's memory. Enough for one replica; several replicas need a shared store. */
export class MemoryDedupStore implements DedupStore {
  private readonly expiries = new Map<string, number>();
  private readonly now: () => number;
  private claimsSinceSweep = 0;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    if (++this.claimsSinceSweep >= 500) this.sweep(now);
    const expiry = this.expiries.get(key);
    if (expiry !== undefined && expiry > now) return false;
    this.expiries.set(key, now + ttlMs);
    return true;
  }

  get size(): number {
    return this.expiries.size;
  }

  /** Forget expired keys so memory stays bounded by the traffic of one TTL. */
  sweep(now = this.now()): void {
    this.claimsSinceSweep = 0;
    for (const [key, expiry] of this.expiries) if (expiry <= now) this.expiries.delete(key);
  }
}

/** Slack retries for about five minutes (immediately, after 1 min, after 5 min); keep keys longer. */
export const DEDUP_TTL_MS = 15 * 60 * 1000;
