// Updates of one Slack message, one at a time and newest state last. The Web API client retries a
// chat.update by itself (5xx, 429), so two updates of one message sent side by side can land in either
// order: a retried "Running…" after "Done". Here each message (channel + ts) has its own queue; with a
// version, a write older than one already applied or waiting is dropped, and of several waiting only
// the newest is sent. The table of messages is bounded: idle entries expire and the oldest go first.
import type { Logger } from '../log.ts';

export type UpdateResult = 'sent' | 'dropped';

export interface UpdateQueueOptions {
  log: Logger;
  /** Messages tracked at most (idle ones beyond are forgotten, oldest first). Default 10,000. */
  maxMessages?: number;
  /** An idle message's entry is forgotten after this long without updates. Default 1 h. */
  idleTtlMs?: number;
  now?: () => number;
}

interface Entry {
  version: number | undefined;
  send: () => Promise<void>;
  resolve: (result: UpdateResult) => void;
  reject: (err: unknown) => void;
}

interface Slot {
  /** The highest version Slack has acknowledged for this message. */
  applied: number;
  inFlight?: Entry;
  waiting: Entry[];
  touched: number;
}

export class MessageUpdateQueue {
  private readonly slots = new Map<string, Slot>();
  private readonly log: Logger;
  private readonly maxMessages: number;
  private readonly idleTtlMs: number;
  private readonly now: () => number;

  constructor(options: UpdateQueueOptions) {
    this.log = options.log;
    this.maxMessages = Math.max(1, options.maxMessages ?? 10_000);
    this.idleTtlMs = Math.max(0, options.idleTtlMs ?? 60 * 60 * 1000);
    this.now = options.now ?? Date.now;
  }

  /** Messages currently tracked (for tests and metrics). */
  get size(): number {
    return this.slots.size;
  }

  /**
   * Runs `send` for message `key` after the updates of that message before it. Resolves 'dropped' without
   * sending when `version` is stale, 'sent' once `send` resolved; rejects with `send`'s error.
   */
  run(key: string, version: number | undefined, send: () => Promise<void>): Promise<UpdateResult> {
    if (version !== undefined && !Number.isFinite(version)) {
      this.log.warn(
        { message: key, version: String(version) },
        'message update with a version that is not a number; sent unversioned',
      );
      version = undefined;
    }
    const slot = this.slot(key);
    if (version !== undefined) {
      if (version <= slot.applied) {
        this.log.info(
          { message: key, version, applied: slot.applied },
          'stale message update dropped: a newer one was applied',
        );
        return Promise.resolve('dropped');
      }
      const newest = this.newestPending(slot);
      if (newest !== undefined && version < newest) {
        this.log.info(
          { message: key, version, newer: newest },
          'stale message update dropped: a newer one is on its way',
        );
        return Promise.resolve('dropped');
      }
      // Older versioned updates still waiting will never need to be sent: this one shows a later state.
      slot.waiting = slot.waiting.filter((e) => {
        if (e.version === undefined || e.version > version) return true;
        this.log.debug({ message: key, version: e.version, by: version }, 'waiting message update superseded');
        e.resolve('dropped');
        return false;
      });
    }
    return new Promise<UpdateResult>((resolve, reject) => {
      slot.waiting.push({ version, send, resolve, reject });
      this.pump(key, slot);
    });
  }

  private newestPending(slot: Slot): number | undefined {
    let newest: number | undefined;
    for (const e of [slot.inFlight, ...slot.waiting]) {
      if (e?.version !== undefined && (newest === undefined || e.version > newest)) newest = e.version;
    }
    return newest;
  }

  private pump(key: string, slot: Slot): void {
    if (slot.inFlight) return;
    const next = slot.waiting.shift();
    if (!next) return;
    // Checked again here: the update in flight before this one may have applied the same version.
    if (next.version !== undefined && next.version <= slot.applied) {
      this.log.debug(
        { message: key, version: next.version, applied: slot.applied },
        'waiting message update already applied; dropped',
      );
      next.resolve('dropped');
      this.pump(key, slot);
      return;
    }
    slot.inFlight = next;
    let work: Promise<void>;
    try {
      work = next.send();
    } catch (err) {
      work = Promise.reject(err);
    }
    work
      .then(
        () => {
          if (next.version !== undefined) slot.applied = Math.max(slot.applied, next.version);
          next.resolve('sent');
        },
        (err: unknown) => next.reject(err),
      )
      .finally(() => {
        slot.inFlight = undefined;
        this.touch(key, slot);
        this.pump(key, slot);
      });
  }

  private slot(key: string): Slot {
    const existing = this.slots.get(key);
    const slot = existing ?? { applied: Number.NEGATIVE_INFINITY, waiting: [], touched: this.now() };
    this.touch(key, slot);
    if (!existing) this.evict(key);
    return slot;
  }

  /** Moves the message to the young end of the table. */
  private touch(key: string, slot: Slot): void {
    slot.touched = this.now();
    this.slots.delete(key);
    this.slots.set(key, slot);
  }

  /** Forgets idle messages past their time, then the oldest idle ones while the table is over its size. */
  private evict(keep: string): void {
    const now = this.now();
    for (const [key, slot] of this.slots) {
      if (key === keep) continue;
      const idle = !slot.inFlight && slot.waiting.length === 0;
      const expired = now - slot.touched > this.idleTtlMs;
      if (!expired && this.slots.size <= this.maxMessages) break;
      if (idle) this.slots.delete(key);
    }
  }
}
