// A coordination.k8s.io/v1 Lease as a lock between replicas. Acquire and renew are PUTs with the read
// resourceVersion, so two replicas racing for a free or expired lease cannot both win.
import { z } from 'zod';
import { KubeApiError, type KubeClient } from './client.ts';
import type { KubeObject } from './objects.ts';

const leaseSpecSchema = z.looseObject({
  holderIdentity: z.string().nullish(),
  leaseDurationSeconds: z.number().nullish(),
  acquireTime: z.string().nullish(),
  renewTime: z.string().nullish(),
  leaseTransitions: z.number().nullish(),
});

/** Lease times are MicroTime: RFC 3339 with microseconds. */
function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export interface LeaseOptions {
  durationSeconds?: number;
  now?: () => Date;
}

export class LeaseLock {
  private readonly kube: KubeClient;
  readonly namespace: string;
  readonly name: string;
  readonly holder: string;
  private readonly durationSeconds: number;
  private readonly now: () => Date;

  constructor(kube: KubeClient, namespace: string, name: string, holder: string, options: LeaseOptions = {}) {
    this.kube = kube;
    this.namespace = namespace;
    this.name = name;
    this.holder = holder;
    this.durationSeconds = options.durationSeconds ?? 15;
    this.now = options.now ?? (() => new Date());
  }

  private body(spec: z.infer<typeof leaseSpecSchema>, resourceVersion?: string): KubeObject {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.name,
        namespace: this.namespace,
        ...(resourceVersion ? { resourceVersion } : {}),
        labels: { 'app.kubernetes.io/managed-by': 'meshops' },
      },
      spec,
    };
  }

  /** Who holds it now, and whether that hold has lapsed. */
  async holderNow(): Promise<{ holder?: string; expired: boolean } | undefined> {
    const obj = await this.kube.get('Lease', this.namespace, this.name);
    if (!obj) return undefined;
    const spec = leaseSpecSchema.parse(obj.spec ?? {});
    return { holder: spec.holderIdentity ?? undefined, expired: this.lapsed(spec) };
  }

  private lapsed(spec: z.infer<typeof leaseSpecSchema>): boolean {
    if (!spec.holderIdentity) return true;
    const renewed = Date.parse(spec.renewTime ?? spec.acquireTime ?? '');
    if (Number.isNaN(renewed)) return true;
    return renewed + (spec.leaseDurationSeconds ?? this.durationSeconds) * 1000 < this.now().getTime();
  }

  /**
   * Takes the lease when it is free, lapsed or (unless `reentrant: false`) already ours. False when
   * someone else holds it. Housekeeping passes use `reentrant: false`: a hold of our own that has not
   * lapsed is work still running in this process, and must not be taken over by it either.
   */
  async tryAcquire(options: { reentrant?: boolean } = {}): Promise<boolean> {
    const now = microTime(this.now());
    const obj = await this.kube.get('Lease', this.namespace, this.name);
    try {
      if (!obj) {
        await this.kube.create(
          this.body({
            holderIdentity: this.holder,
            leaseDurationSeconds: this.durationSeconds,
            acquireTime: now,
            renewTime: now,
            leaseTransitions: 0,
          }),
        );
        return true;
      }
      const spec = leaseSpecSchema.parse(obj.spec ?? {});
      const ours = spec.holderIdentity === this.holder;
      if (!this.lapsed(spec) && (!ours || options.reentrant === false)) return false;
      await this.kube.replace(
        this.body(
          {
            ...spec,
            holderIdentity: this.holder,
            leaseDurationSeconds: this.durationSeconds,
            acquireTime: ours ? (spec.acquireTime ?? now) : now,
            renewTime: now,
            leaseTransitions: (spec.leaseTransitions ?? 0) + (ours ? 0 : 1),
          },
          obj.metadata.resourceVersion,
        ),
      );
      return true;
    } catch (err) {
      // 409: another replica created or took it between our read and our write.
      if (err instanceof KubeApiError && err.status === 409) return false;
      throw err;
    }
  }

  /** Extends our hold; false when the lease is no longer ours (someone took it over). */
  async renew(): Promise<boolean> {
    const obj = await this.kube.get('Lease', this.namespace, this.name);
    if (!obj) return false;
    const spec = leaseSpecSchema.parse(obj.spec ?? {});
    if (spec.holderIdentity !== this.holder) return false;
    try {
      await this.kube.replace(this.body({ ...spec, renewTime: microTime(this.now()) }, obj.metadata.resourceVersion));
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) return false;
      throw err;
    }
  }

  /** Gives the lease up if it is still ours, so others need not wait for it to lapse. */
  async release(): Promise<void> {
    const obj = await this.kube.get('Lease', this.namespace, this.name);
    if (!obj) return;
    const spec = leaseSpecSchema.parse(obj.spec ?? {});
    if (spec.holderIdentity !== this.holder) return;
    try {
      await this.kube.replace(
        this.body({ ...spec, holderIdentity: null, renewTime: null }, obj.metadata.resourceVersion),
      );
    } catch (err) {
      if (!(err instanceof KubeApiError && (err.status === 409 || err.status === 404))) throw err;
    }
  }

  /** Deletes the lease once the work it guarded is finished for good. */
}
