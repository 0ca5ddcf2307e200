// The sandbox's Deployment controller, one step per tick: a new ReplicaSet per pod-template hash
// (adopting orphaned ReplicaSets and pre-existing pods), one-at-a-time rolling replacement with a
// node, RollingUpdate's maxSurge/maxUnavailable arithmetic without one, status and conditions as
// kubectl rollout status reads them, and ScalingReplicaSet events.
import type { KubeObject } from '../kube/objects.ts';
import {
  type ControllerContext,
  controllerOwner,
  controllerRef,
  type DeploymentSpec,
  isReady,
  type Obj,
} from './controller-context.ts';
import { clone, deepEqual } from './patch.ts';
import { selectorObjectMatches } from './selectors.ts';

const REVISION = 'deployment.kubernetes.io/revision';

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastUpdateTime: string;
  lastTransitionTime: string;
}

const SAFE_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/** A pod-template-hash shaped like Kubernetes' (FNV-32a, decimal digits mapped to safe characters). */
export function podTemplateHash(template: unknown): string {
  const text = JSON.stringify(template);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return [...String(h)].map((d) => SAFE_CHARS[d.charCodeAt(0) % SAFE_CHARS.length]).join('');
}

function scaled(value: number | string | undefined, total: number, roundUp: boolean, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return value;
  const m = value.match(/^(\d+)%$/);
  if (!m) return Number(value) || 0;
  const raw = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(raw) : Math.floor(raw);
}

export class DeploymentController {
  private readonly ctx: ControllerContext;
  /** Since when (wall clock) a Deployment's computed status has differed from its stored one, by uid. */
  private readonly statusPendingSince = new Map<string, number>();

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
  }

  private setReplicas(rs: KubeObject, replicas: number, deploy: KubeObject): void {
    const current = (rs.spec as { replicas?: number }).replicas ?? 0;
    if (current === replicas) return;
    const next = clone(rs);
    (next.spec as { replicas?: number }).replicas = replicas;
    const desired = String((deploy.spec as DeploymentSpec).replicas ?? 1);
    next.metadata.annotations = { ...next.metadata.annotations, 'deployment.kubernetes.io/desired-replicas': desired };
    delete next.metadata.resourceVersion;
    this.ctx.store.update(this.ctx.rt('replicasets'), next, { wholeObject: true, manager: 'kube-controller-manager' });
    const message = `Scaled ${replicas > current ? 'up' : 'down'} replica set ${rs.metadata.name} from ${current} to ${replicas}`;
    this.ctx.event(deploy, 'Normal', 'ScalingReplicaSet', message, 'deployment-controller');
  }

  /** One step over every Deployment. */
  tick(): void {
    const drt = this.ctx.rt('deployments');
    const rsrt = this.ctx.rt('replicasets');
    const podrt = this.ctx.rt('pods');
    for (const d of this.ctx.store.scan(drt)) {
      if (d.metadata.deletionTimestamp) continue;
      const spec = (d.spec ?? {}) as DeploymentSpec;
      const desired = spec.replicas ?? 1;
      const template = spec.template ?? {};
      const hash = podTemplateHash(template);
      let owned = this.ctx.ownedBy(rsrt, d);
      let newRs = owned.find((r) => r.metadata.labels?.['pod-template-hash'] === hash);
      let progressed = false;
      let createdNew = false;

      if (!newRs && !spec.paused) {
        const oldActive = owned.filter((r) => ((r.spec as { replicas?: number }).replicas ?? 0) > 0);
        const maxRevision = Math.max(0, ...owned.map((r) => Number(r.metadata.annotations?.[REVISION] ?? 0)));
        const orphans =
          owned.length === 0
            ? this.ctx.store
                .scan(podrt, d.metadata.namespace)
                .filter(
                  (p) =>
                    !controllerRef(p) &&
                    !p.metadata.deletionTimestamp &&
                    selectorObjectMatches(spec.selector, p.metadata.labels),
                )
            : [];
        const labels = { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash };
        const initial =
          oldActive.length === 0 || spec.strategy?.type === 'Recreate'
            ? spec.strategy?.type === 'Recreate' && oldActive.length
              ? 0
              : desired
            : this.ctx.opts.nodes === false
              ? this.newRsReplicas(spec, owned, 0)
              : Math.min(1, desired);
        const rs: KubeObject = {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          metadata: {
            name: `${d.metadata.name}-${hash}`,
            namespace: d.metadata.namespace,
            labels,
            annotations: {
              'deployment.kubernetes.io/desired-replicas': String(desired),
              'deployment.kubernetes.io/max-replicas': String(desired + 1),
              [REVISION]: String(maxRevision + 1),
            },
            ownerReferences: [controllerOwner('Deployment', d)],
          },
          spec: {
            replicas: initial,
            selector: {
              ...spec.selector,
              matchLabels: { ...(spec.selector?.matchLabels ?? {}), 'pod-template-hash': hash },
            },
            template: { ...clone(template), metadata: { ...clone(template.metadata ?? {}), labels } },
          },
        };
        const clash = this.ctx.store.peek(rsrt, d.metadata.namespace, rs.metadata.name);
        if (clash) {
          // A ReplicaSet left behind by an orphaning delete: adopt it, as the real controller does.
          if (controllerRef(clash)) continue;
          const adopted = clone(clash);
          adopted.metadata.ownerReferences = [
            ...(adopted.metadata.ownerReferences ?? []),
            ...(rs.metadata.ownerReferences ?? []),
          ];
          delete adopted.metadata.resourceVersion;
          this.ctx.store.update(rsrt, adopted, { wholeObject: true, manager: 'kube-controller-manager' });
          continue;
        }
        newRs = this.ctx.store.create(rsrt, rs, { manager: 'kube-controller-manager' });
        createdNew = true;
        progressed = true;
        this.ctx.event(
          d,
          'Normal',
          'ScalingReplicaSet',
          `Scaled up replica set ${newRs.metadata.name} from 0 to ${initial}`,
          'deployment-controller',
        );
        // Pods that existed before their Deployment (seeds) are adopted, as the ReplicaSet controller does.
        for (const p of orphans.slice(0, desired)) {
          const next = clone(p);
          next.metadata.labels = { ...next.metadata.labels, 'pod-template-hash': hash };
          next.metadata.ownerReferences = [
            ...(next.metadata.ownerReferences ?? []),
            controllerOwner('ReplicaSet', newRs),
          ];
          delete next.metadata.resourceVersion;
          this.ctx.store.update(podrt, next, { wholeObject: true, manager: 'kube-controller-manager' });
        }
        owned = this.ctx.ownedBy(rsrt, d);
      }
      if (!newRs) continue;
      const news = newRs;

      if (!createdNew && !spec.paused) {
        const olds = owned.filter((r) => r.metadata.uid !== news.metadata.uid);
        const oldActive = olds.filter((r) => ((r.spec as { replicas?: number }).replicas ?? 0) > 0);
        const newSpec = (news.spec as { replicas?: number }).replicas ?? 0;
        const newPods = this.ctx.ownedBy(podrt, news);
        const newReady = newPods.filter(isReady).length;
        if (oldActive.length === 0) {
          if (newSpec !== desired) {
            this.setReplicas(news, desired, d);
            progressed = true;
          }
        } else if (spec.strategy?.type === 'Recreate') {
          for (const r of oldActive) this.setReplicas(r, 0, d);
          progressed = true;
        } else if (this.ctx.opts.nodes !== false) {
          // With a node: one-at-a-time replacement (one surge pod, an old pod removed once it is ready).
          const oldTotal = oldActive.reduce((n, r) => n + ((r.spec as { replicas?: number }).replicas ?? 0), 0);
          if (newReady >= newSpec && newSpec + oldTotal > desired) {
            const victim = oldActive.sort((a, b) =>
              String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)),
            )[0] as KubeObject;
            this.setReplicas(victim, ((victim.spec as { replicas?: number }).replicas ?? 0) - 1, d);
            progressed = true;
          } else if (newReady >= newSpec && newSpec < desired) {
            this.setReplicas(news, newSpec + 1, d);
            progressed = true;
          }
        } else {
          // No node (the recorded real cluster): RollingUpdate as the real deployment controller: scale the new ReplicaSet up within
          // maxSurge, else scale old ones down within maxUnavailable (unhealthy pods first).
          const newTarget = newSpec > desired ? desired : this.newRsReplicas(spec, owned, newSpec);
          if (newTarget !== newSpec) {
            this.setReplicas(news, newTarget, d);
            progressed = true;
          } else if (this.scaleDownOld(d, spec, owned, news, newReady)) {
            progressed = true;
          }
        }
      }
      this.deploymentStatus(d, news, progressed, createdNew);
    }
  }

  private specReplicas(rs: KubeObject): number {
    return (rs.spec as { replicas?: number }).replicas ?? 0;
  }

  /** maxSurge (rounded up) and maxUnavailable (rounded down), both 25% by default, never both 0. */
  private fenceposts(spec: DeploymentSpec): { surge: number; unavailable: number } {
    const desired = spec.replicas ?? 1;
    const ru = spec.strategy?.rollingUpdate;
    const surge = scaled(ru?.maxSurge ?? '25%', desired, true, 0);
    const unavailable = scaled(ru?.maxUnavailable ?? '25%', desired, false, 0);
    return { surge, unavailable: surge === 0 && unavailable === 0 ? 1 : unavailable };
  }

  /** The new ReplicaSet's replicas under RollingUpdate (NewRSNewReplicas). */
  private newRsReplicas(spec: DeploymentSpec, owned: KubeObject[], newSpec: number): number {
    const desired = spec.replicas ?? 1;
    const current = owned.reduce((n, r) => n + this.specReplicas(r), 0);
    const maxTotal = desired + this.fenceposts(spec).surge;
    if (current >= maxTotal) return newSpec;
    return newSpec + Math.max(0, Math.min(maxTotal - current, desired - newSpec));
  }

  /** reconcileOldReplicaSets: clean up unhealthy old pods, then scale old ReplicaSets down to minAvailable. */
  private scaleDownOld(
    d: KubeObject,
    spec: DeploymentSpec,
    owned: KubeObject[],
    news: KubeObject,
    newReady: number,
  ): boolean {
    const desired = spec.replicas ?? 1;
    const podrt = this.ctx.rt('pods');
    const olds = owned
      .filter((r) => r.metadata.uid !== news.metadata.uid && this.specReplicas(r) > 0)
      .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)));
    if (olds.length === 0) return false;
    const available = new Map(owned.map((r) => [r.metadata.uid, this.ctx.ownedBy(podrt, r).filter(isReady).length]));
    const allPods = owned.reduce((n, r) => n + this.specReplicas(r), 0);
    const minAvailable = desired - this.fenceposts(spec).unavailable;
    const newUnavailable = this.specReplicas(news) - newReady;
    const maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    let changed = false;
    let cleaned = 0;
    for (const r of olds) {
      if (cleaned >= maxScaledDown) break;
      const replicas = this.specReplicas(r);
      const unhealthy = replicas - (available.get(r.metadata.uid) ?? 0);
      const down = Math.min(maxScaledDown - cleaned, unhealthy);
      if (down <= 0) continue;
      this.setReplicas(r, replicas - down, d);
      cleaned += down;
      changed = true;
    }
    if (changed) return true;
    const availableAll = [...available.values()].reduce((n, v) => n + v, 0);
    if (availableAll <= minAvailable) return false;
    let left = availableAll - minAvailable;
    for (const r of olds) {
      if (left <= 0) break;
      const replicas = this.specReplicas(r);
      const down = Math.min(replicas, left);
      if (down <= 0) continue;
      this.setReplicas(r, replicas - down, d);
      left -= down;
      changed = true;
    }
    return changed;
  }

  private deploymentStatus(d0: KubeObject, newRs: KubeObject, progressed: boolean, createdNew: boolean): void {
    const drt = this.ctx.rt('deployments');
    const d = this.ctx.store.peek(drt, d0.metadata.namespace, d0.metadata.name);
    if (!d) return;
    const spec = (d.spec ?? {}) as DeploymentSpec;
    const desired = spec.replicas ?? 1;
    const owned = this.ctx.ownedBy(this.ctx.rt('replicasets'), d);
    const podrt = this.ctx.rt('pods');
    let replicas = 0;
    let ready = 0;
    let updated = 0;
    for (const rs of owned) {
      const pods = this.ctx.ownedBy(podrt, rs);
      replicas += pods.length;
      ready += pods.filter(isReady).length;
      if (rs.metadata.uid === newRs.metadata.uid) updated = pods.length;
    }
    const newReady = this.ctx.ownedBy(podrt, newRs).filter(isReady).length;
    const available = ready;
    const maxUnavailable =
      spec.strategy?.type === 'Recreate'
        ? 0
        : scaled(spec.strategy?.rollingUpdate?.maxUnavailable, desired, false, Math.floor(desired / 4));
    const old = (d.status ?? {}) as {
      conditions?: Condition[];
      updatedReplicas?: number;
      readyReplicas?: number;
      availableReplicas?: number;
      replicas?: number;
      observedGeneration?: number;
    };
    const oldConds = old.conditions ?? [];
    const now = this.ctx.nowIso();
    const prevProgress = oldConds.find((c) => c.type === 'Progressing');
    const prevAvail = oldConds.find((c) => c.type === 'Available');
    const moved =
      progressed ||
      old.updatedReplicas !== updated ||
      (old.readyReplicas ?? 0) !== ready ||
      (old.availableReplicas ?? 0) !== available ||
      (old.replicas ?? 0) !== replicas;

    const availOk = available >= desired - maxUnavailable;
    const availCond: Condition = {
      type: 'Available',
      status: availOk ? 'True' : 'False',
      reason: availOk ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
      message: availOk ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.',
      lastUpdateTime: prevAvail && prevAvail.status === (availOk ? 'True' : 'False') ? prevAvail.lastUpdateTime : now,
      lastTransitionTime:
        prevAvail && prevAvail.status === (availOk ? 'True' : 'False') ? prevAvail.lastTransitionTime : now,
    };

    const complete = updated === desired && replicas === desired && newReady === desired && available === desired;
    let progress: Condition;
    const rsName = newRs.metadata.name;
    const deadline = (spec.progressDeadlineSeconds ?? 600) * 1000;
    const progressing = (status: string, reason: string, message: string): Condition => ({
      type: 'Progressing',
      status,
      reason,
      message,
      lastUpdateTime: now,
      lastTransitionTime: now,
    });
    if (complete) {
      progress = progressing('True', 'NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`);
    } else if (createdNew) {
      progress = progressing('True', 'NewReplicaSetCreated', `Created new replica set "${rsName}"`);
    } else if (moved || !prevProgress || prevProgress.reason === 'NewReplicaSetAvailable') {
      progress = progressing('True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`);
    } else if (
      prevProgress.reason !== 'ProgressDeadlineExceeded' &&
      Date.parse(now) - Date.parse(prevProgress.lastUpdateTime) > deadline
    ) {
      progress = progressing('False', 'ProgressDeadlineExceeded', `ReplicaSet "${rsName}" has timed out progressing.`);
    } else {
      progress = prevProgress;
    }
    // Keep timestamps when nothing but the clock changed, so an idle cluster writes nothing.
    const sameProgress =
      prevProgress?.reason === progress.reason &&
      prevProgress.status === progress.status &&
      prevProgress.message === progress.message;
    if (prevProgress && sameProgress && !moved) progress = prevProgress;
    if (prevProgress && prevProgress.status === progress.status)
      progress = { ...progress, lastTransitionTime: prevProgress.lastTransitionTime };

    const status: Obj = {
      observedGeneration: d.metadata.generation ?? 1,
      replicas,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      ...(desired - available > 0 ? { unavailableReplicas: desired - available } : {}),
      conditions: [availCond, progress],
    };
    for (const k of ['readyReplicas', 'availableReplicas', 'updatedReplicas', 'replicas'] as const)
      if (status[k] === 0) delete status[k];
    const revision = newRs.metadata.annotations?.[REVISION];
    const annotationsOk = !revision || d.metadata.annotations?.[REVISION] === revision;
    if (deepEqual(status, d.status) && annotationsOk) {
      this.statusPendingSince.delete(d.metadata.uid as string);
      return;
    }
    // The controller has not caught up yet: the stored status stays as it was until the lag has passed.
    if (!this.ctx.lagged(this.statusPendingSince, d.metadata.uid as string)) return;
    this.statusPendingSince.delete(d.metadata.uid as string);
    const next = clone(d);
    next.status = status;
    if (revision) next.metadata.annotations = { ...next.metadata.annotations, [REVISION]: revision };
    delete next.metadata.resourceVersion;
    this.ctx.store.update(drt, next, { wholeObject: true, manager: 'kube-controller-manager' });
  }
}
