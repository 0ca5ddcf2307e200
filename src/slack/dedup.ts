// Slack delivers at least once: HTTP retries after a missed ack, Socket Mode redelivers across
// reconnects. Every delivery claims a key first; only the first claim of a key gets to act.
export interface DedupStore {
  /** True for the first claim of `key` within `ttlMs`; false for every later claim. */
  claim(key: string, ttlMs: number): Promise<boolean>;
}

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
