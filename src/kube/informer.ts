// One kind's objects kept current by LIST then WATCH, as client-go's reflector does (tools/cache/reflector.go):
// list, then watch from the list's resourceVersion with allowWatchBookmarks and a timeoutSeconds; apply ADDED,
// MODIFIED and DELETED, move the resourceVersion on with every event and BOOKMARK; when the server ends the
// watch, watch again from the last resourceVersion; on 410 Gone (an ERROR event in the stream, or an HTTP 410)
// list again, since the events since then are lost; relist fully every `resyncMs` all the same. Errors other
// than 410 back off and retry the watch. The first list's failure is the caller's (a 403 stays a 403).
import { z } from 'zod';
import { KubeApiError, type KubeClient } from './client.ts';
import type { KubeObject } from './objects.ts';

export interface InformerKey {
  kind: string;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface InformerOptions {
  /** Full relist this often (default 10 min). */
  resyncMs?: number;
  /** The watch's timeoutSeconds (default 5 to 10 min at random, as the reflector's minWatchTimeout..2×). */
  watchTimeoutSeconds?: number;
  /** Backoff after a failed watch or relist, doubling to 30 s (default 800 ms to start). */
  backoffMs?: number;
  /** Not heard from the API server for longer than this (no event, no bookmark): not trusted, read directly. */
  maxSilenceMs?: number;
  now?: () => number;
}

export type InformerState = 'listing' | 'watching' | 'reconnecting' | 'stopped';

const statusSchema = z.looseObject({
  kind: z.literal('Status'),
  code: z.number().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});
const eventObjectSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string().optional(), resourceVersion: z.string().optional() }),
});
export const watchEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.enum(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK']), object: eventObjectSchema }),
  z.object({ type: z.literal('ERROR'), object: statusSchema }),
]);
export type WatchEvent = z.infer<typeof watchEventSchema>;

/** A watch event the stream sent that we could not read: the watch is dropped and started again. */
class BadWatchEvent extends Error {}
/** 410 Gone: the resourceVersion is too old to resume from; only a new list helps. */
class Expired extends Error {}

/**
 * Objects in the cache are shared by every command that reads them (client-go's rule: never mutate what an
 * informer hands out); frozen, so a command that tried would fail loudly instead of changing others' answers.
 */
function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}

function objectKey(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

export class Informer {
  readonly key: InformerKey;
  private readonly kube: KubeClient;
  private readonly resyncMs: number;
  private readonly timeoutSeconds: number | undefined;
  private readonly backoffStart: number;
  private readonly now: () => number;
  private readonly maxSilenceMs: number;
  private readonly store = new Map<string, KubeObject>();
  private resourceVersion = '';
  private apiVersion = '';
  private lastSyncAt = 0;
  private lastListAt = 0;
  private abort = new AbortController();
  private started: Promise<void> | undefined;
  private running = false;
  state: InformerState = 'listing';
  /** The watch was refused (403): stopped for good. */
  refused = false;
  /** Counts, for tests and the bench: lists made, watches opened, relists after 410. */
  readonly stats = { lists: 0, watches: 0, expired: 0 };

  constructor(kube: KubeClient, key: InformerKey, options: InformerOptions = {}) {
    this.kube = kube;
    this.key = key;
    this.resyncMs = options.resyncMs ?? 10 * 60_000;
    this.timeoutSeconds = options.watchTimeoutSeconds;
    this.backoffStart = options.backoffMs ?? 800;
    this.now = options.now ?? Date.now;
    this.maxSilenceMs = options.maxSilenceMs ?? 150_000;
  }

  /** Lists once (the caller waits for it: its failure is thrown), then keeps watching in the background. */
  start(): Promise<void> {
    this.started ??= this.list().then(() => {
      this.running = true;
      void this.loop();
    });
    return this.started;
  }

  stop(): void {
    this.running = false;
    this.state = 'stopped';
    this.abort.abort();
    this.store.clear();
  }

  /**
   * Watching (or just listed), and heard from the API server within `maxSilenceMs` (an API server sends a
   * bookmark about every minute): what the cache holds is the cluster's state as of `syncedAt`.
   */
  get inSync(): boolean {
    return this.state === 'watching' && this.now() - this.lastSyncAt <= this.maxSilenceMs;
  }

  /** When the cache last heard from the API server (list, watch opened, event or bookmark), ms since the epoch. */
  get syncedAt(): number {
    return this.lastSyncAt;
  }

  items(): KubeObject[] {
    return [...this.store.values()];
  }

  private async list(): Promise<void> {
    this.state = 'listing';
    this.stats.lists++;
    const { kind, ...options } = this.key;
    const listed = await this.kube.listWithVersion(kind, options);
    this.store.clear();
    for (const o of listed.items) this.store.set(objectKey(o), deepFreeze(o));
    this.apiVersion = listed.items[0]?.apiVersion ?? (await this.kube.servedApiVersion(kind)) ?? '';
    this.resourceVersion = listed.resourceVersion ?? '';
    this.lastSyncAt = this.lastListAt = this.now();
    this.state = 'watching';
  }

  private async loop(): Promise<void> {
    let backoff = this.backoffStart;
    while (this.running) {
      try {
        if (this.now() - this.lastListAt >= this.resyncMs || !this.resourceVersion) await this.list();
        await this.watchOnce();
        backoff = this.backoffStart;
      } catch (err) {
        if (!this.running) return;
        if (err instanceof Expired || (err instanceof KubeApiError && err.status === 410)) {
          // The events since our resourceVersion are gone: list again at once (the reflector's relist on expiry).
          this.stats.expired++;
          this.resourceVersion = '';
          continue;
        }
        if (err instanceof KubeApiError && (err.status === 403 || err.status === 401)) {
          // Listing is allowed but watching is not (RBAC without `watch`): no point retrying; the cache reads directly.
          this.refused = true;
          this.stop();
          return;
        }
        this.state = 'reconnecting';
        await sleep(backoff, this.abort.signal);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  /** One watch, until the server ends it, the resync is due, or it fails. */
  private async watchOnce(): Promise<void> {
    const timeoutSeconds = this.timeoutSeconds ?? Math.floor(300 * (1 + Math.random()));
    const untilResync = Math.max(1, Math.ceil((this.lastListAt + this.resyncMs - this.now()) / 1000));
    const local = new AbortController();
    const onStop = () => local.abort();
    this.abort.signal.addEventListener('abort', onStop, { once: true });
    let failure: Error | undefined;
    // The server ends the watch at timeoutSeconds; a connection that went silent without closing (a half-open
    // TCP path) is cut by us a little after that, and watched again.
    let cut = false;
    const deadline = setTimeout(
      () => {
        cut = true;
        local.abort();
      },
      (Math.min(timeoutSeconds, untilResync) + 15) * 1000,
    );
    deadline.unref?.();
    this.stats.watches++;
    try {
      await this.kube.watchLines(
        this.key.kind,
        { ...this.key, resourceVersion: this.resourceVersion, timeoutSeconds: Math.min(timeoutSeconds, untilResync) },
        (line) => {
          if (failure) return;
          try {
            this.apply(line);
          } catch (err) {
            failure = err as Error;
            local.abort();
          }
        },
        local.signal,
        () => {
          this.state = 'watching';
          this.lastSyncAt = this.now();
        },
      );
    } catch (err) {
      if (!failure && !cut) throw err;
    } finally {
      clearTimeout(deadline);
      this.abort.signal.removeEventListener('abort', onStop);
    }
    if (failure) throw failure;
    if (this.running) this.lastSyncAt = this.now();
  }

  private apply(line: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      throw new BadWatchEvent(`a watch line that is not JSON (${line.slice(0, 80)})`);
    }
    const parsed = watchEventSchema.safeParse(raw);
    if (!parsed.success) throw new BadWatchEvent('a watch event meshops cannot read');
    const event = parsed.data;
    if (event.type === 'ERROR') {
      if (event.object.code === 410) throw new Expired(event.object.message ?? 'resourceVersion too old');
      throw new KubeApiError(event.object.code ?? 500, event.object.reason ?? '', event.object.message ?? '');
    }
    const obj = { apiVersion: this.apiVersion, kind: this.key.kind, ...event.object } as KubeObject;
    const rv = event.object.metadata.resourceVersion;
    if (event.type === 'ADDED' || event.type === 'MODIFIED') this.store.set(objectKey(obj), deepFreeze(obj));
    else if (event.type === 'DELETED') this.store.delete(objectKey(obj));
    if (rv) this.resourceVersion = rv;
    this.lastSyncAt = this.now();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    t.unref?.();
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });
}
