// Slack delivers at least once; every delivery claims a key first (the contract: src/dedup-store.ts).
import type { DedupStore } from '../dedup-store.ts';

export type { DedupStore } from '../dedup-store.ts';

/**
 * One process's memory. Enough for one replica; several replicas need a shared store. Bounded twice: expired keys
 * are swept, and beyond `maxKeys` live keys (a flood of deliveries within one TTL) the oldest claims are forgotten
 * first, so a very late redelivery of one of those may be answered twice rather than memory growing without end.
 */
export class MemoryDedupStore implements DedupStore {
  /** Key → expiry, in claim order (a re-claimed key moves to the end), so the first entries are the oldest. */
  private readonly expiries = new Map<string, number>();
  private readonly now: () => number;
  private readonly maxKeys: number;
  private claimsSinceSweep = 0;

  constructor(now: () => number = Date.now, options: { maxKeys?: number } = {}) {
    this.now = now;
    this.maxKeys = Math.max(1, options.maxKeys ?? DEDUP_MAX_KEYS);
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    if (++this.claimsSinceSweep >= 500) this.sweep(now);
    const expiry = this.expiries.get(key);
    if (expiry !== undefined && expiry > now) return false;
    this.expiries.delete(key);
    this.expiries.set(key, now + ttlMs);
    for (const oldest of this.expiries.keys()) {
      if (this.expiries.size <= this.maxKeys) break;
      this.expiries.delete(oldest);
    }
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

/** Live keys one process keeps at most: ~100 deliveries a second for the whole TTL, a few MiB of keys. */
export const DEDUP_MAX_KEYS = 100_000;
