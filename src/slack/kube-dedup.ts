// A DedupStore that several replicas share through the API server, with no delete permission needed.
// Keys are spread by hash over a fixed set of ConfigMaps (`meshops-dedup-0..N-1` in the bot's namespace).
// A claim is read → check → PUT with the read resourceVersion; a 409 means another replica wrote the
// same ConfigMap in between, so we read again and decide again. Every claim of one key lands in the same
// ConfigMap, so two replicas racing for it are serialised by that precondition: exactly one wins.
// Expired entries are dropped by the next write to their ConfigMap, so nothing ever needs deleting.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { KubeApiError, type KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/objects.ts';
import type { DedupStore } from './dedup.ts';

export interface KubeDedupOptions {
  /** How many ConfigMaps share the keys (default 8): more spreads write contention, fewer objects to see. */
  shards?: number;
  namePrefix?: string;
  /** Entries kept per ConfigMap before the soonest-expiring are dropped (a ConfigMap holds at most 1 MiB). */
  maxEntries?: number;
  /** Read-modify-write attempts before giving up (the caller then handles the delivery: see app.ts). */
  maxAttempts?: number;
  now?: () => number;
}

const configMapSchema = z.looseObject({
  metadata: z.looseObject({ resourceVersion: z.string().optional() }),
  data: z.record(z.string(), z.string()).nullish(),
});

/** The value of one claim: `<expiry ISO time> <the key>`; the key is for people reading the ConfigMap. */
function entry(expiresAt: number, key: string): string {
  return `${new Date(expiresAt).toISOString()} ${key.slice(0, 200)}`;
}

function expiryOf(value: string | undefined): number {
  if (!value) return 0;
  const t = Date.parse(value.split(' ', 1)[0] ?? '');
  return Number.isNaN(t) ? 0 : t;
}

export class KubeDedupStore implements DedupStore {
  private readonly kube: KubeClient;
  readonly namespace: string;
  private readonly shards: number;
  private readonly prefix: string;
  private readonly maxEntries: number;
  private readonly maxAttempts: number;
  private readonly now: () => number;

  constructor(kube: KubeClient, namespace: string, options: KubeDedupOptions = {}) {
    this.kube = kube;
    this.namespace = namespace;
    this.shards = options.shards ?? 8;
    this.prefix = options.namePrefix ?? 'meshops-dedup';
    this.maxEntries = options.maxEntries ?? 4000;
    this.maxAttempts = options.maxAttempts ?? 12;
    this.now = options.now ?? Date.now;
  }

  /** Where a key is kept: the ConfigMap and the data field (a digest: ConfigMap keys allow [-._a-zA-Z0-9]). */
  locate(key: string): { name: string; field: string } {
    const digest = createHash('sha256').update(key).digest('hex');
    return {
      name: `${this.prefix}-${Number.parseInt(digest.slice(0, 8), 16) % this.shards}`,
      field: `k${digest.slice(0, 40)}`,
    };
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const { name, field } = this.locate(key);
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      if (attempt > 0) await pause(attempt);
      const found = await this.kube.get('ConfigMap', this.namespace, name);
      const now = this.now();
      try {
        if (!found) {
          await this.kube.create(this.object(name, { [field]: entry(now + ttlMs, key) }));
          return true;
        }
        const current = configMapSchema.parse(found);
        const data = current.data ?? {};
        if (expiryOf(data[field]) > now) return false;
        await this.kube.replace(
          this.object(
            name,
            { ...this.pruned(data, now), [field]: entry(now + ttlMs, key) },
            current.metadata.resourceVersion,
          ),
        );
        return true;
      } catch (err) {
        // 409: another replica created or wrote this ConfigMap since we read it; read again and decide again.
        if (err instanceof KubeApiError && err.status === 409) continue;
        throw err;
      }
    }
    throw new Error(`dedup: ConfigMap ${this.namespace}/${name} kept changing under ${this.maxAttempts} attempts`);
  }

  /** Live entries only, and at most maxEntries - 1 of them (the soonest to expire go first). */
  private pruned(data: Record<string, string>, now: number): Record<string, string> {
    const live = Object.entries(data).filter(([, v]) => expiryOf(v) > now);
    if (live.length >= this.maxEntries)
      live.sort((a, b) => expiryOf(b[1]) - expiryOf(a[1])).length = this.maxEntries - 1;
    return Object.fromEntries(live);
  }

  private object(name: string, data: Record<string, string>, resourceVersion?: string): KubeObject {
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        namespace: this.namespace,
        ...(resourceVersion ? { resourceVersion } : {}),
        labels: { 'app.kubernetes.io/managed-by': 'meshops', 'meshops.dev/dedup': 'slack' },
        annotations: {
          'meshops.dev/purpose': 'Slack deliveries already handled by a meshops replica (key digest → expiry, key)',
        },
      },
      data,
    };
  }
}

/** A short random wait, growing with the attempt, so racing replicas do not collide again in step. */
function pause(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * Math.min(attempt, 5) + 2));
}
