// The kubelet's readiness probes for running pods (pod-probes.ts judges them): a failing probe makes its
// container not ready (the pod Ready False, ContainersNotReady, so the Endpoints controller moves it to
// notReadyAddresses) and leaves a Warning Unhealthy event "Readiness probe failed: ...", whose count
// grows once per periodSeconds of the store's clock as the kubelet's recorder aggregates repeats; a
// probe that passes again makes the container ready. Containers the fail-start knob keeps down are left
// alone.
import type { KubeObject } from '../kube/objects.ts';
import type { ControllerContext, PodStatus } from './controller-context.ts';
import { countedEvent } from './kubelet-faults.ts';
import { clone } from './patch.ts';
import { readinessResults } from './pod-probes.ts';

/** The pod's Ready condition as the kubelet writes it from its containers' readiness (ContainersReady alike). */
export function readyCondition(statuses: ReadonlyArray<{ name: string; ready: boolean }>, now: string) {
  const notReady = statuses.filter((s) => !s.ready).map((s) => s.name);
  return notReady.length === 0
    ? { type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: now }
    : {
        type: 'Ready',
        status: 'False',
        lastProbeTime: null,
        lastTransitionTime: now,
        reason: 'ContainersNotReady',
        message: `containers with unready status: [${notReady.join(' ')}]`,
      };
}

type Obj = Record<string, unknown>;

export class ReadinessProber {
  private readonly ctx: ControllerContext;
  /** The Unhealthy event per pod uid and container, and when its count was last raised (store clock, ms). */
  private readonly events = new Map<string, { name: string; at: number; message: string }>();

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
  }

  forget(uid: string): void {
    for (const k of [...this.events.keys()]) if (k.startsWith(`${uid}/`)) this.events.delete(k);
  }

  probe(pod: KubeObject): void {
    const status = (pod.status ?? {}) as PodStatus;
    if (status.phase !== 'Running') return;
    const results = readinessResults(this.ctx.store, pod);
    if (results.length === 0) return;
    const byName = new Map(results.map((r) => [r.container, r]));
    let changed = false;
    const statuses = (status.containerStatuses ?? []).map((s) => {
      const r = byName.get(s.name);
      if (!r || !s.started || r.ok === s.ready) return s;
      changed = true;
      return { ...s, ready: r.ok };
    });
    for (const r of results) if (!r.ok) this.unhealthy(pod, r.container, `Readiness probe failed: ${r.failure}`);
    if (!changed) return;
    const now = this.ctx.nowIso();
    const cond = readyCondition(statuses, now);
    const next = clone(pod);
    next.status = {
      ...status,
      containerStatuses: statuses,
      conditions: (status.conditions ?? []).map((c) =>
        c.type === 'Ready' ? cond : c.type === 'ContainersReady' ? { ...cond, type: 'ContainersReady' } : c,
      ),
    } satisfies PodStatus;
    delete next.metadata.resourceVersion;
    this.ctx.store.update(this.ctx.rt('pods'), next, { wholeObject: true, manager: 'kubelet' });
  }

  private unhealthy(pod: KubeObject, container: string, message: string): void {
    const key = `${pod.metadata.uid}/${container}`;
    const nowMs = this.ctx.store.now().getTime();
    const seen = this.events.get(key);
    const spec = ((pod.spec as Obj | undefined)?.containers as Obj[] | undefined)?.find((c) => c.name === container);
    const period = Number((spec?.readinessProbe as Obj | undefined)?.periodSeconds ?? 10) * 1000;
    if (!seen || seen.message !== message) {
      const name = countedEvent(this.ctx, pod, {
        type: 'Warning',
        reason: 'Unhealthy',
        message,
        component: 'kubelet',
        count: 1,
      });
      if (name) this.events.set(key, { name, at: nowMs, message });
      return;
    }
    if (nowMs - seen.at < period) return;
    const ev = this.ctx.store.peek(this.ctx.rt('events'), pod.metadata.namespace, seen.name);
    if (!ev) return;
    const next = clone(ev) as KubeObject & { count?: number; lastTimestamp?: string };
    const repeats = Math.floor((nowMs - seen.at) / period);
    next.count = (next.count ?? 1) + repeats;
    next.lastTimestamp = this.ctx.nowIso();
    delete next.metadata.resourceVersion;
    this.ctx.store.update(this.ctx.rt('events'), next, { wholeObject: true, manager: 'kubelet' });
    seen.at += repeats * period;
  }
}
