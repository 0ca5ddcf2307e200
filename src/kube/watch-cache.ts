// The shared, watch-fed view of one cluster (MESHOPS_WATCH_CACHE): one Informer per kind and selector, started
// on a command's first use of it and shared after, stopped when no command used it for `idleMs` (memory stays
// bounded by what is in use). Only snapshot loads read it, and only inside a command the router marked as
// allowed (`cachedReads`); reads that must be fresh (approvals, the request store, leases, writes) never do,
// since they call KubeClient directly. Each cached read is recorded in the scope, so the answer can say how
// fresh its data is.
import { AsyncLocalStorage } from 'node:async_hooks';
import { KubeApiError, type KubeClient, type ListOptions } from './client.ts';
import { Informer, type InformerKey, type InformerOptions } from './informer.ts';
import type { KubeObject } from './objects.ts';

export interface WatchCacheOptions extends InformerOptions {
  /** An informer nobody read for this long is stopped (default 10 min). */
  idleMs?: number;
}

/** Kinds whose API has no watch (metrics.k8s.io), or too churny to keep: always read directly. */
const UNWATCHED = new Set(['PodMetrics', 'Event', 'Secret']);

interface Entry {
  informer: Informer;
  lastUsed: number;
}

export class WatchCache {
  private readonly kube: KubeClient;
  private readonly options: WatchCacheOptions;
  private readonly idleMs: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry>();
  /** Kinds and selectors whose list or watch was refused (403), until when: read directly, not asked again. */
  private readonly refused = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(kube: KubeClient, options: WatchCacheOptions = {}) {
    this.kube = kube;
    this.options = options;
    this.idleMs = options.idleMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
    this.sweeper = setInterval(() => this.sweep(), Math.min(60_000, this.idleMs));
    this.sweeper.unref();
  }

  /** How many informers run now (tests, metrics). */
  get size(): number {
    return this.entries.size;
  }

  informers(): Informer[] {
    return [...this.entries.values()].map((e) => e.informer);
  }

  /**
   * A kind's objects from the cache, or undefined when the cache cannot answer now (a kind it does not watch,
   * or its watch is down and reconnecting: the caller reads the API server instead; missing data is never
   * good news). The first read of a kind lists it (its failure is thrown, as a direct list's would be).
   */
  async list(kind: string, options: ListOptions = {}): Promise<{ items: KubeObject[]; syncedAt: number } | undefined> {
    if (UNWATCHED.has(kind)) return undefined;
    // A namespace's objects from the cluster-wide informer when one runs: filtered here, not listed again.
    const wide = this.entries.get([kind, '', '', ''].join('\u0000'));
    if (options.namespace && !options.labelSelector && !options.fieldSelector && wide?.informer.inSync) {
      wide.lastUsed = this.now();
      const items = wide.informer.items().filter((o) => o.metadata.namespace === options.namespace);
      return { items, syncedAt: wide.informer.syncedAt };
    }
    const key: InformerKey = { kind, ...options };
    const id = [kind, options.namespace ?? '', options.labelSelector ?? '', options.fieldSelector ?? ''].join('\u0000');
    if ((this.refused.get(id) ?? 0) > this.now()) return undefined;
    let entry = this.entries.get(id);
    if (!entry) {
      entry = { informer: new Informer(this.kube, key, this.options), lastUsed: this.now() };
      this.entries.set(id, entry);
    }
    entry.lastUsed = this.now();
    const informer = entry.informer;
    try {
      await informer.start();
    } catch (err) {
      // A failed first list is not kept: the next command tries again.
      if (this.entries.get(id) === entry) this.entries.delete(id);
      informer.stop();
      if (err instanceof KubeApiError && err.status === 403) {
        // Not ours to list or watch (RBAC): the caller reads directly, and the cache does not ask again for a while.
        this.refused.set(id, this.now() + this.idleMs);
        return undefined;
      }
      throw err;
    }
    if (informer.refused) {
      this.entries.delete(id);
      this.refused.set(id, this.now() + this.idleMs);
    }
    if (!informer.inSync) return undefined;
    return { items: informer.items(), syncedAt: informer.syncedAt };
  }

  /** Stops informers nobody read for idleMs. */
  sweep(): void {
    const cutoff = this.now() - this.idleMs;
    for (const [id, e] of this.entries) {
      if (e.lastUsed <= cutoff) {
        e.informer.stop();
        this.entries.delete(id);
      }
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const e of this.entries.values()) e.informer.stop();
    this.entries.clear();
  }
}

const caches = new WeakMap<KubeClient, WatchCache>();

/** Gives a cluster's client its watch cache (connect.ts, when MESHOPS_WATCH_CACHE is on). */
export function attachWatchCache(kube: KubeClient, cache: WatchCache): void {
  caches.set(kube, cache);
}

export function watchCacheOf(kube: KubeClient): WatchCache | undefined {
  return caches.get(kube);
}

/** What one command read from the cache: the oldest sync among the kinds it read. */
export interface CacheReads {
  allowed: boolean;
  /** ms since the epoch of the least recently synced informer read; undefined: nothing came from the cache. */
  oldestSyncAt?: number;
  /** Reads the cache could not answer and that went to the API server. */
  direct: number;
}

const scope = new AsyncLocalStorage<CacheReads>();

/** Runs `fn` with cached snapshot reads allowed (or not), and returns what it read from the cache. */
export async function withCacheScope<T>(
  allowed: boolean,
  fn: () => Promise<T>,
): Promise<{ value: T; reads: CacheReads }> {
  const reads: CacheReads = { allowed, direct: 0 };
  const value = await scope.run(reads, fn);
  return { value, reads };
}

/** Runs `fn` with the cache out of bounds (a proposal's preview inside a read command must read fresh). */
export function freshReads<T>(fn: () => T): T {
  return scope.run({ allowed: false, direct: 0 }, fn);
}

/**
 * A snapshot's list of one kind: from the cluster's watch cache when the current command may use it and the
 * cache can answer, else from the API server.
 */
export async function cachedList(kube: KubeClient, kind: string, options: ListOptions = {}): Promise<KubeObject[]> {
  const reads = scope.getStore();
  const cache = reads?.allowed ? watchCacheOf(kube) : undefined;
  if (!cache || !reads) return kube.list(kind, options);
  const hit = await cache.list(kind, options);
  if (!hit) {
    reads.direct++;
    return kube.list(kind, options);
  }
  reads.oldestSyncAt = Math.min(reads.oldestSyncAt ?? hit.syncedAt, hit.syncedAt);
  return hit.items;
}

/**
 * One object by name through the cache (an informer on its namespace with a name field selector), else a direct
 * GET: also when listing or watching the kind is refused, where a get may be allowed (the istio ConfigMap).
 */
export async function cachedGet(
  kube: KubeClient,
  kind: string,
  namespace: string | undefined,
  name: string,
): Promise<KubeObject | undefined> {
  const reads = scope.getStore();
  const cache = reads?.allowed ? watchCacheOf(kube) : undefined;
  if (!cache || !reads) return kube.get(kind, namespace, name);
  const hit = await cache.list(kind, { ...(namespace ? { namespace } : {}), fieldSelector: `metadata.name=${name}` });
  if (!hit) {
    reads.direct++;
    return kube.get(kind, namespace, name);
  }
  reads.oldestSyncAt = Math.min(reads.oldestSyncAt ?? hit.syncedAt, hit.syncedAt);
  return hit.items.find((o) => o.metadata.name === name);
}

/**
 * A kind's objects only when the current command may read the cache and the cache can answer now; undefined
 * otherwise (the caller reads the API server its own way). Recorded as a cached read when it answers.
 */
export async function cacheOnlyList(kube: KubeClient, kind: string): Promise<KubeObject[] | undefined> {
  const reads = scope.getStore();
  const cache = reads?.allowed ? watchCacheOf(kube) : undefined;
  if (!cache || !reads) return undefined;
  const hit = await cache.list(kind).catch(() => undefined);
  if (!hit) return undefined;
  reads.oldestSyncAt = Math.min(reads.oldestSyncAt ?? hit.syncedAt, hit.syncedAt);
  return hit.items;
}
