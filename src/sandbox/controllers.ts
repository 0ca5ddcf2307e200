// The sandbox's stand-ins for kube-controller-manager and the kubelet, run one step per tick: the
// Deployment controller (new ReplicaSet per pod-template hash, one-at-a-time rolling replacement,
// status and conditions as kubectl rollout status reads them, ScalingReplicaSet events), the
// ReplicaSet controller (pods with ownerReferences, `<rs>-<5 chars>` names), a kubelet that starts
// pods (or keeps them failing when the template says `sandbox.meshops.dev/fail-start: <reason>`),
// the Endpoints controller and the default ServiceAccount per namespace.
import { randomBytes } from 'node:crypto';
import type { KubeObject, OwnerReference } from '../kube/objects.ts';
import { randomSuffix } from './api-handler.ts';
import { clone, deepEqual } from './patch.ts';
import { NamespaceController } from './namespace-controller.ts';
import type { PodLogBook } from './pod-logs.ts';
import type { ResourceType } from './resource-types.ts';
import { selectorObjectMatches, type LabelSelectorObject } from './selectors.ts';
import type { SandboxStore } from './store.ts';

export const FAIL_START_ANNOTATION = 'sandbox.meshops.dev/fail-start';
const NODE_NAME = 'sandbox-node-1';
const HOST_IP = '172.18.0.2';
const REVISION = 'deployment.kubernetes.io/revision';

type Obj = Record<string, unknown>;

interface PodStatus {
  phase?: string;
  conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string; lastProbeTime?: null }[];
  containerStatuses?: ContainerStatus[];
  initContainerStatuses?: ContainerStatus[];
  podIP?: string;
  podIPs?: { ip: string }[];
  hostIP?: string;
  hostIPs?: { ip: string }[];
  startTime?: string;
  qosClass?: string;
}

interface ContainerStatus {
  name: string;
  image: string;
  imageID: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  containerID?: string;
  state: Obj;
  lastState: Obj;
}

interface DeploymentSpec {
  replicas?: number;
  selector?: LabelSelectorObject;
  template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Obj };
  strategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string } };
  progressDeadlineSeconds?: number;
  paused?: boolean;
}

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

function controllerRef(o: KubeObject): OwnerReference | undefined {
  return o.metadata.ownerReferences?.find((r) => r.controller === true);
}

function isReady(pod: KubeObject): boolean {
  return ((pod.status as PodStatus | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function scaled(value: number | string | undefined, total: number, roundUp: boolean, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return value;
  const m = value.match(/^(\d+)%$/);
  if (!m) return Number(value) || 0;
  const raw = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(raw) : Math.floor(raw);
}

export interface ControllerOptions {
  stepMs: number;
  logs?: PodLogBook;
  /**
   * How far controllers lag behind the objects they watch (wall-clock ms): a Deployment's status
   * (observedGeneration, conditions, replica counts) is written only once a change has waited this
   * long, and the kubelet finishes a graceful pod delete after it. 0 reacts at the next tick.
   */
  lagMs?: number;
  /** How long a Terminating namespace waits before the namespace controller empties and removes it. */
  namespaceLagMs?: number;
  /**
   * Whether there is a node (scheduler + kubelet); default true. false: pods are never scheduled
   * (no spec.nodeName, Pending, never ready) and the kubelet part does nothing.
   */
  nodes?: boolean;
}

export class Controllers {
  private readonly store: SandboxStore;
  private readonly opts: ControllerOptions;
  private timer: NodeJS.Timeout | undefined;
  private ipCounter = 10;
  private readonly namespaceController: NamespaceController;
  /** While settling, time is taken to have passed: no lag. */
  private settling = false;
  /** Since when (wall clock) a Deployment's computed status has differed from its stored one, by uid. */
  private readonly statusPendingSince = new Map<string, number>();
  /** When the kubelet first saw each pod marked for graceful deletion, by uid. */
  private readonly terminatingSince = new Map<string, number>();

  constructor(store: SandboxStore, opts: ControllerOptions) {
    this.store = store;
    this.opts = opts;
    this.namespaceController = new NamespaceController(store, opts.namespaceLagMs ?? 1500);
  }

  /** True once `since` lies the controllers' lag in the past (always while settling). */
  private lagged(map: Map<string, number>, key: string): boolean {
    if (this.settling) return true;
    const first = map.get(key) ?? Date.now();
    map.set(key, first);
    return Date.now() - first >= (this.opts.lagMs ?? 0);
  }

  private rt(name: string): ResourceType {
    return this.store.resourceType(name);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      try {
        this.tick();
      } catch {
        // A controller error must not kill the server; the next tick retries from stored state.
      }
    }, this.opts.stepMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Tick until a tick changes nothing (a stuck rollout stops changing too), at most maxTicks. */
  settle(maxTicks = 100): void {
    this.settling = true;
    try {
      for (let i = 0; i < maxTicks; i++) if (!this.tick()) return;
    } finally {
      this.settling = false;
    }
  }

  /** One step of every controller; true when anything was written. */
  tick(): boolean {
    const before = this.store.resourceVersion;
    this.namespaceController.tick(this.settling);
    this.namespaces();
    this.deployments();
    this.replicaSets();
    this.kubelet();
    this.endpoints();
    return this.store.resourceVersion !== before;
  }

  private nowIso(): string {
    return this.store.now().toISOString().replace(/\.\d+Z$/, 'Z');
  }

  private event(involved: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, component: string): void {
    const ns = involved.metadata.namespace ?? 'default';
    if (!this.store.peek(this.rt('namespaces'), undefined, ns)) return;
    const ts = this.nowIso();
    this.store.create(this.rt('events'), {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${involved.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: ns },
      involvedObject: {
        apiVersion: involved.apiVersion,
        kind: involved.kind,
        name: involved.metadata.name,
        namespace: ns,
        uid: involved.metadata.uid,
        resourceVersion: involved.metadata.resourceVersion,
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: ts,
      lastTimestamp: ts,
      source: { component },
      reportingComponent: component,
      reportingInstance: '',
    });
  }

  // ------------------------------------------------------------------ namespaces

  private namespaces(): void {
    const sa = this.rt('serviceaccounts');
    for (const ns of this.store.scan(this.rt('namespaces'))) {
      if (ns.metadata.deletionTimestamp) continue;
      if (!this.store.peek(sa, ns.metadata.name, 'default')) {
        this.store.create(sa, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: ns.metadata.name } });
      }
    }
  }

  // ------------------------------------------------------------------ deployments

  private ownedBy(rt: ResourceType, owner: KubeObject): KubeObject[] {
    return this.store.scan(rt, owner.metadata.namespace).filter((o) => controllerRef(o)?.uid === owner.metadata.uid && !o.metadata.deletionTimestamp);
  }

  private setReplicas(rs: KubeObject, replicas: number, deploy: KubeObject): void {
    const current = (rs.spec as { replicas?: number }).replicas ?? 0;
    if (current === replicas) return;
    const next = clone(rs);
    (next.spec as { replicas?: number }).replicas = replicas;
    next.metadata.annotations = { ...next.metadata.annotations, 'deployment.kubernetes.io/desired-replicas': String((deploy.spec as DeploymentSpec).replicas ?? 1) };
    delete next.metadata.resourceVersion;
    this.store.update(this.rt('replicasets'), next, { wholeObject: true, manager: 'kube-controller-manager' });
    this.event(deploy, 'Normal', 'ScalingReplicaSet', `Scaled ${replicas > current ? 'up' : 'down'} replica set ${rs.metadata.name} from ${current} to ${replicas}`, 'deployment-controller');
  }

  private deployments(): void {
    const drt = this.rt('deployments');
    const rsrt = this.rt('replicasets');
    const podrt = this.rt('pods');
    for (const d of this.store.scan(drt)) {
      if (d.metadata.deletionTimestamp) continue;
      const spec = (d.spec ?? {}) as DeploymentSpec;
      const desired = spec.replicas ?? 1;
      const template = spec.template ?? {};
      const hash = podTemplateHash(template);
      let owned = this.ownedBy(rsrt, d);
      let newRs = owned.find((r) => r.metadata.labels?.['pod-template-hash'] === hash);
      let progressed = false;
      let createdNew = false;

      if (!newRs && !spec.paused) {
        const oldActive = owned.filter((r) => ((r.spec as { replicas?: number }).replicas ?? 0) > 0);
        const maxRevision = Math.max(0, ...owned.map((r) => Number(r.metadata.annotations?.[REVISION] ?? 0)));
        const orphans = owned.length === 0 ? this.store.scan(podrt, d.metadata.namespace).filter((p) => !controllerRef(p) && !p.metadata.deletionTimestamp && selectorObjectMatches(spec.selector, p.metadata.labels)) : [];
        const labels = { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash };
        const initial = oldActive.length === 0 || spec.strategy?.type === 'Recreate' ? (spec.strategy?.type === 'Recreate' && oldActive.length ? 0 : desired) : this.opts.nodes === false ? this.newRsReplicas(spec, owned, 0) : Math.min(1, desired);
        const rs: KubeObject = {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          metadata: {
            name: `${d.metadata.name}-${hash}`,
            namespace: d.metadata.namespace,
            labels,
            annotations: { 'deployment.kubernetes.io/desired-replicas': String(desired), 'deployment.kubernetes.io/max-replicas': String(desired + 1), [REVISION]: String(maxRevision + 1) },
            ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name, uid: d.metadata.uid as string, controller: true, blockOwnerDeletion: true } as OwnerReference],
          },
          spec: {
            replicas: initial,
            selector: { ...spec.selector, matchLabels: { ...(spec.selector?.matchLabels ?? {}), 'pod-template-hash': hash } },
            template: { ...clone(template), metadata: { ...clone(template.metadata ?? {}), labels } },
          },
        };
        const clash = this.store.peek(rsrt, d.metadata.namespace, rs.metadata.name);
        if (clash) {
          // A ReplicaSet left behind by an orphaning delete: adopt it, as the real controller does.
          if (controllerRef(clash)) continue;
          const adopted = clone(clash);
          adopted.metadata.ownerReferences = [...(adopted.metadata.ownerReferences ?? []), ...(rs.metadata.ownerReferences ?? [])];
          delete adopted.metadata.resourceVersion;
          this.store.update(rsrt, adopted, { wholeObject: true, manager: 'kube-controller-manager' });
          continue;
        }
        newRs = this.store.create(rsrt, rs, { manager: 'kube-controller-manager' });
        createdNew = true;
        progressed = true;
        this.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${newRs.metadata.name} from 0 to ${initial}`, 'deployment-controller');
        // Pods that existed before their Deployment (seeds) are adopted, as the ReplicaSet controller does.
        for (const p of orphans.slice(0, desired)) {
          const next = clone(p);
          next.metadata.labels = { ...next.metadata.labels, 'pod-template-hash': hash };
          next.metadata.ownerReferences = [...(next.metadata.ownerReferences ?? []), { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: newRs.metadata.name, uid: newRs.metadata.uid as string, controller: true, blockOwnerDeletion: true } as OwnerReference];
          delete next.metadata.resourceVersion;
          this.store.update(podrt, next, { wholeObject: true, manager: 'kube-controller-manager' });
        }
        owned = this.ownedBy(rsrt, d);
      }
      if (!newRs) continue;
      const news = newRs;

      if (!createdNew && !spec.paused) {
        const olds = owned.filter((r) => r.metadata.uid !== news.metadata.uid);
        const oldActive = olds.filter((r) => ((r.spec as { replicas?: number }).replicas ?? 0) > 0);
        const newSpec = (news.spec as { replicas?: number }).replicas ?? 0;
        const newPods = this.ownedBy(podrt, news);
        const newReady = newPods.filter(isReady).length;
        if (oldActive.length === 0) {
          if (newSpec !== desired) {
            this.setReplicas(news, desired, d);
            progressed = true;
          }
        } else if (spec.strategy?.type === 'Recreate') {
          for (const r of oldActive) this.setReplicas(r, 0, d);
          progressed = true;
        } else if (this.opts.nodes !== false) {
          // With a node: one-at-a-time replacement (one surge pod, an old pod removed once it is ready).
          const oldTotal = oldActive.reduce((n, r) => n + ((r.spec as { replicas?: number }).replicas ?? 0), 0);
          if (newReady >= newSpec && newSpec + oldTotal > desired) {
            const victim = oldActive.sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)))[0] as KubeObject;
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
  private scaleDownOld(d: KubeObject, spec: DeploymentSpec, owned: KubeObject[], news: KubeObject, newReady: number): boolean {
    const desired = spec.replicas ?? 1;
    const podrt = this.rt('pods');
    const olds = owned
      .filter((r) => r.metadata.uid !== news.metadata.uid && this.specReplicas(r) > 0)
      .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)));
    if (olds.length === 0) return false;
    const available = new Map(owned.map((r) => [r.metadata.uid, this.ownedBy(podrt, r).filter(isReady).length]));
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
    const drt = this.rt('deployments');
    const d = this.store.peek(drt, d0.metadata.namespace, d0.metadata.name);
    if (!d) return;
    const spec = (d.spec ?? {}) as DeploymentSpec;
    const desired = spec.replicas ?? 1;
    const owned = this.ownedBy(this.rt('replicasets'), d);
    const podrt = this.rt('pods');
    let replicas = 0;
    let ready = 0;
    let updated = 0;
    for (const rs of owned) {
      const pods = this.ownedBy(podrt, rs);
      replicas += pods.length;
      ready += pods.filter(isReady).length;
      if (rs.metadata.uid === newRs.metadata.uid) updated = pods.length;
    }
    const newReady = this.ownedBy(podrt, newRs).filter(isReady).length;
    const available = ready;
    const maxUnavailable = spec.strategy?.type === 'Recreate' ? 0 : scaled(spec.strategy?.rollingUpdate?.maxUnavailable, desired, false, Math.floor(desired / 4));
    const old = (d.status ?? {}) as { conditions?: Condition[]; updatedReplicas?: number; readyReplicas?: number; availableReplicas?: number; replicas?: number; observedGeneration?: number };
    const oldConds = old.conditions ?? [];
    const now = this.nowIso();
    const prevProgress = oldConds.find((c) => c.type === 'Progressing');
    const prevAvail = oldConds.find((c) => c.type === 'Available');
    const moved = progressed || old.updatedReplicas !== updated || (old.readyReplicas ?? 0) !== ready || (old.availableReplicas ?? 0) !== available || (old.replicas ?? 0) !== replicas;

    const availOk = available >= desired - maxUnavailable;
    const availCond: Condition = {
      type: 'Available',
      status: availOk ? 'True' : 'False',
      reason: availOk ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
      message: availOk ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.',
      lastUpdateTime: prevAvail && prevAvail.status === (availOk ? 'True' : 'False') ? prevAvail.lastUpdateTime : now,
      lastTransitionTime: prevAvail && prevAvail.status === (availOk ? 'True' : 'False') ? prevAvail.lastTransitionTime : now,
    };

    const complete = updated === desired && replicas === desired && newReady === desired && available === desired;
    let progress: Condition;
    const rsName = newRs.metadata.name;
    const deadline = (spec.progressDeadlineSeconds ?? 600) * 1000;
    if (complete) {
      progress = { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.`, lastUpdateTime: now, lastTransitionTime: now };
    } else if (createdNew) {
      progress = { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${rsName}"`, lastUpdateTime: now, lastTransitionTime: now };
    } else if (moved || !prevProgress || prevProgress.reason === 'NewReplicaSetAvailable') {
      progress = { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.`, lastUpdateTime: now, lastTransitionTime: now };
    } else if (prevProgress.reason !== 'ProgressDeadlineExceeded' && Date.parse(now) - Date.parse(prevProgress.lastUpdateTime) > deadline) {
      progress = { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${rsName}" has timed out progressing.`, lastUpdateTime: now, lastTransitionTime: now };
    } else {
      progress = prevProgress;
    }
    // Keep timestamps when nothing but the clock changed, so an idle cluster writes nothing.
    if (prevProgress && prevProgress.reason === progress.reason && prevProgress.status === progress.status && prevProgress.message === progress.message && !moved) progress = prevProgress;
    if (prevProgress && prevProgress.status === progress.status) progress = { ...progress, lastTransitionTime: prevProgress.lastTransitionTime };

    const status: Obj = {
      observedGeneration: d.metadata.generation ?? 1,
      replicas,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      ...(desired - available > 0 ? { unavailableReplicas: desired - available } : {}),
      conditions: [availCond, progress],
    };
    for (const k of ['readyReplicas', 'availableReplicas', 'updatedReplicas', 'replicas'] as const) if (status[k] === 0) delete status[k];
    const revision = newRs.metadata.annotations?.[REVISION];
    const annotationsOk = !revision || d.metadata.annotations?.[REVISION] === revision;
    if (deepEqual(status, d.status) && annotationsOk) {
      this.statusPendingSince.delete(d.metadata.uid as string);
      return;
    }
    // The controller has not caught up yet: the stored status stays as it was until the lag has passed.
    if (!this.lagged(this.statusPendingSince, d.metadata.uid as string)) return;
    this.statusPendingSince.delete(d.metadata.uid as string);
    const next = clone(d);
    next.status = status;
    if (revision) next.metadata.annotations = { ...next.metadata.annotations, [REVISION]: revision };
    delete next.metadata.resourceVersion;
    this.store.update(drt, next, { wholeObject: true, manager: 'kube-controller-manager' });
  }

  // ------------------------------------------------------------------ replicasets

  private replicaSets(): void {
    const rsrt = this.rt('replicasets');
    const podrt = this.rt('pods');
    for (const rs of this.store.scan(rsrt)) {
      const spec = (rs.spec ?? {}) as { replicas?: number; template?: DeploymentSpec['template'] };
      const desired = spec.replicas ?? 1;
      let pods = this.ownedBy(podrt, rs);
      if (pods.length < desired) {
        for (let i = pods.length; i < desired; i++) this.createPod(rs);
      } else if (pods.length > desired) {
        const victims = [...pods].sort((a, b) => Number(isReady(a)) - Number(isReady(b)) || String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp))).slice(0, pods.length - desired);
        for (const v of victims) {
          this.store.remove(podrt, v.metadata.namespace, v.metadata.name);
          this.opts.logs?.forgetPod(v.metadata.namespace as string, v.metadata.name);
          this.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${v.metadata.name}`, 'replicaset-controller');
        }
      }
      pods = this.ownedBy(podrt, rs);
      const ready = pods.filter(isReady).length;
      const status: Obj = { replicas: pods.length, fullyLabeledReplicas: pods.length, readyReplicas: ready, availableReplicas: ready, observedGeneration: rs.metadata.generation ?? 1 };
      for (const k of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas'] as const) if (status[k] === 0) delete status[k];
      const current = this.store.peek(rsrt, rs.metadata.namespace, rs.metadata.name);
      if (!current || deepEqual(status, current.status)) continue;
      const next = clone(current);
      next.status = status;
      delete next.metadata.resourceVersion;
      this.store.update(rsrt, next, { wholeObject: true, manager: 'kube-controller-manager' });
    }
  }

  private createPod(rs: KubeObject): void {
    const template = ((rs.spec as { template?: DeploymentSpec['template'] }).template ?? {}) as NonNullable<DeploymentSpec['template']>;
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${rs.metadata.name}-${randomSuffix()}`,
        generateName: `${rs.metadata.name}-`,
        namespace: rs.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}) },
        ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name, uid: rs.metadata.uid as string, controller: true, blockOwnerDeletion: true } as OwnerReference],
      },
      spec: { ...clone(template.spec ?? {}), ...(this.opts.nodes !== false ? { nodeName: NODE_NAME } : {}) },
    };
    const created = this.store.create(this.rt('pods'), pod, { manager: 'kube-controller-manager' });
    this.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`, 'replicaset-controller');
  }

  // ------------------------------------------------------------------ kubelet

  private allocateIp(): string {
    const used = new Set(this.store.scan(this.rt('pods')).map((p) => (p.status as PodStatus | undefined)?.podIP));
    for (;;) {
      const n = this.ipCounter++;
      const ip = `10.244.${Math.floor(n / 250) % 250}.${(n % 250) + 2}`;
      if (!used.has(ip)) return ip;
    }
  }

  private kubelet(): void {
    // No node: nothing schedules pods or runs them (unscheduled pods are deleted at once by the API server).
    if (this.opts.nodes === false) return;
    const podrt = this.rt('pods');
    for (const pod of this.store.scan(podrt)) {
      if (pod.metadata.deletionTimestamp) {
        // A graceful delete: the kubelet stops the containers, then removes the pod for good.
        if (this.lagged(this.terminatingSince, pod.metadata.uid as string)) {
          this.terminatingSince.delete(pod.metadata.uid as string);
          this.store.remove(podrt, pod.metadata.namespace, pod.metadata.name);
          this.opts.logs?.forgetPod(pod.metadata.namespace as string, pod.metadata.name);
        }
        continue;
      }
      const spec = (pod.spec ?? {}) as { nodeName?: string; containers?: { name: string; image?: string }[]; initContainers?: { name: string; image?: string }[] };
      const status = (pod.status ?? {}) as PodStatus;
      const failReason = pod.metadata.annotations?.[FAIL_START_ANNOTATION];
      const now = this.nowIso();
      if (!spec.nodeName) {
        const next = clone(pod);
        (next.spec as { nodeName?: string }).nodeName = NODE_NAME;
        next.status = { ...status, phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now }] };
        delete next.metadata.resourceVersion;
        this.store.update(podrt, next, { wholeObject: true, manager: 'kube-scheduler' });
        continue;
      }
      if (!status.containerStatuses) {
        this.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${spec.nodeName}`, 'default-scheduler');
        // First step: scheduled, containers being created.
        const next = clone(pod);
        next.status = {
          ...status,
          phase: 'Pending',
          hostIP: HOST_IP,
          hostIPs: [{ ip: HOST_IP }],
          startTime: now,
          conditions: [
            { type: 'PodReadyToStartContainers', status: 'False', lastProbeTime: null, lastTransitionTime: now },
            { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: now },
            { type: 'Ready', status: 'False', lastProbeTime: null, lastTransitionTime: now, reason: 'ContainersNotReady', message: `containers with unready status: [${(spec.containers ?? []).map((c) => c.name).join(' ')}]` },
            { type: 'ContainersReady', status: 'False', lastProbeTime: null, lastTransitionTime: now, reason: 'ContainersNotReady', message: `containers with unready status: [${(spec.containers ?? []).map((c) => c.name).join(' ')}]` },
            { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now },
          ],
          containerStatuses: (spec.containers ?? []).map((c) => this.containerStatus(c, { waiting: { reason: 'ContainerCreating' } }, false, 0)),
        } satisfies PodStatus;
        delete next.metadata.resourceVersion;
        this.store.update(podrt, next, { wholeObject: true, manager: 'kubelet' });
        continue;
      }
      const wasStarted = status.podIP !== undefined;
      if (!wasStarted) {
        this.startPod(pod, failReason);
        continue;
      }
      if (failReason === 'CrashLoopBackOff') this.crashLoop(pod);
    }
  }

  private containerStatus(c: { name: string; image?: string }, state: Obj, ready: boolean, restartCount: number, lastState: Obj = {}): ContainerStatus {
    const image = c.image ?? '';
    const started = 'running' in state;
    return {
      name: c.name,
      image,
      imageID: started || restartCount > 0 ? `${image.split(':')[0]}@sha256:${Buffer.from(image).toString('hex').padEnd(64, '0').slice(0, 64)}` : '',
      ...(started || restartCount > 0 ? { containerID: `containerd://${randomBytes(32).toString('hex')}` } : {}),
      ready,
      started,
      restartCount,
      state,
      lastState,
    };
  }

  private startPod(pod: KubeObject, failReason: string | undefined): void {
    const podrt = this.rt('pods');
    const spec = (pod.spec ?? {}) as { containers?: { name: string; image?: string }[]; initContainers?: { name: string; image?: string }[] };
    const status = (pod.status ?? {}) as PodStatus;
    const now = this.nowIso();
    const ip = this.allocateIp();
    const failing = (name: string) => failReason !== undefined && name !== 'istio-proxy';
    const containers = spec.containers ?? [];
    const statuses = containers.map((c) => {
      if (!failing(c.name)) return this.containerStatus(c, { running: { startedAt: now } }, true, 0);
      if (failReason === 'CrashLoopBackOff') {
        return this.containerStatus(
          c,
          { waiting: { reason: 'CrashLoopBackOff', message: `back-off 10s restarting failed container=${c.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})` } },
          false,
          1,
          { terminated: { exitCode: 1, reason: 'Error', startedAt: now, finishedAt: now } },
        );
      }
      const message = failReason === 'ImagePullBackOff' || failReason === 'ErrImagePull' ? `Back-off pulling image "${c.image}"` : `the sandbox keeps this container in ${failReason}`;
      return this.containerStatus(c, { waiting: { reason: failReason, message } }, false, 0);
    });
    const notReady = statuses.filter((s) => !s.ready).map((s) => s.name);
    const allReady = notReady.length === 0;
    const phase = failReason && failReason !== 'CrashLoopBackOff' ? 'Pending' : 'Running';
    const readyCond = allReady
      ? { type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: now }
      : { type: 'Ready', status: 'False', lastProbeTime: null, lastTransitionTime: now, reason: 'ContainersNotReady', message: `containers with unready status: [${notReady.join(' ')}]` };
    const next = clone(pod);
    next.status = {
      ...status,
      phase,
      podIP: ip,
      podIPs: [{ ip }],
      conditions: [
        { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null, lastTransitionTime: now },
        { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: now },
        readyCond,
        { ...readyCond, type: 'ContainersReady' },
        { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now },
      ],
      containerStatuses: statuses,
      ...(spec.initContainers?.length
        ? {
            initContainerStatuses: spec.initContainers.map((c) =>
              this.containerStatus(c, { terminated: { exitCode: 0, reason: 'Completed', startedAt: now, finishedAt: now } }, true, 0),
            ),
          }
        : {}),
    } satisfies PodStatus;
    delete next.metadata.resourceVersion;
    this.store.update(podrt, next, { wholeObject: true, manager: 'kubelet' });
    for (const c of [...(spec.initContainers ?? []), ...containers]) {
      if (failing(c.name) && failReason !== 'CrashLoopBackOff') continue;
      this.event(next, 'Normal', 'Pulled', `Container image "${c.image}" already present on machine`, 'kubelet');
      this.event(next, 'Normal', 'Created', `Created container: ${c.name}`, 'kubelet');
      this.event(next, 'Normal', 'Started', `Started container ${c.name}`, 'kubelet');
    }
    if (failReason) {
      const app = containers.find((c) => failing(c.name));
      const msg =
        failReason === 'CrashLoopBackOff'
          ? `Back-off restarting failed container ${app?.name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`
          : failReason === 'ImagePullBackOff' || failReason === 'ErrImagePull'
            ? `Back-off pulling image "${app?.image}"`
            : `Error: ${failReason}`;
      this.event(next, 'Warning', failReason === 'CrashLoopBackOff' || failReason === 'ImagePullBackOff' ? 'BackOff' : 'Failed', msg, 'kubelet');
    }
  }

  /** CrashLoopBackOff pods restart every few ticks: restartCount keeps rising, as on a real node. */
  private crashLoop(pod: KubeObject): void {
    const status = (pod.status ?? {}) as PodStatus;
    const nowMs = this.store.now().getTime();
    let changed = false;
    const statuses = (status.containerStatuses ?? []).map((s) => {
      const finished = (s.lastState.terminated as { finishedAt?: string } | undefined)?.finishedAt;
      if (s.name === 'istio-proxy' || !finished || nowMs - Date.parse(finished) < 5 * this.opts.stepMs) return s;
      changed = true;
      const ts = new Date(nowMs).toISOString().replace(/\.\d+Z$/, 'Z');
      return { ...s, restartCount: s.restartCount + 1, lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: ts, finishedAt: ts } } };
    });
    if (!changed) return;
    const next = clone(pod);
    next.status = { ...status, containerStatuses: statuses };
    delete next.metadata.resourceVersion;
    this.store.update(this.rt('pods'), next, { wholeObject: true, manager: 'kubelet' });
  }

  // ------------------------------------------------------------------ endpoints

  private endpoints(): void {
    const eprt = this.rt('endpoints');
    const podrt = this.rt('pods');
    for (const svc of this.store.scan(this.rt('services'))) {
      const spec = (svc.spec ?? {}) as { selector?: Record<string, string>; ports?: { name?: string; port: number; targetPort?: number | string; protocol?: string }[] };
      if (!spec.selector || Object.keys(spec.selector).length === 0) continue;
      const pods = this.store.scan(podrt, svc.metadata.namespace).filter((p) => !p.metadata.deletionTimestamp && selectorObjectMatches({ matchLabels: spec.selector }, p.metadata.labels) && (p.status as PodStatus | undefined)?.podIP);
      const address = (p: KubeObject) => ({ ip: (p.status as PodStatus).podIP, nodeName: (p.spec as { nodeName?: string }).nodeName, targetRef: { kind: 'Pod', name: p.metadata.name, namespace: p.metadata.namespace, uid: p.metadata.uid } });
      const ready = pods.filter(isReady).map(address);
      const notReady = pods.filter((p) => !isReady(p)).map(address);
      const firstPod = pods[0];
      const ports = (spec.ports ?? []).map((sp) => {
        let port = sp.targetPort ?? sp.port;
        if (typeof port === 'string' && firstPod) {
          const named = ((firstPod.spec as { containers?: { ports?: { name?: string; containerPort: number }[] }[] }).containers ?? []).flatMap((c) => c.ports ?? []).find((cp) => cp.name === port);
          port = named?.containerPort ?? port;
        }
        return { ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP' };
      });
      const subsets = ready.length || notReady.length ? [{ ...(ready.length ? { addresses: ready } : {}), ...(notReady.length ? { notReadyAddresses: notReady } : {}), ports }] : undefined;
      const want: KubeObject = {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name: svc.metadata.name, namespace: svc.metadata.namespace, ...(svc.metadata.labels ? { labels: svc.metadata.labels } : {}) },
        ...(subsets ? { subsets } : {}),
      };
      const current = this.store.peek(eprt, svc.metadata.namespace, svc.metadata.name);
      if (!current) {
        this.store.create(eprt, want, { manager: 'kube-controller-manager' });
      } else if (!deepEqual(current.subsets, want.subsets) || !deepEqual(current.metadata.labels, want.metadata.labels)) {
        const next = clone(current);
        if (subsets) next.subsets = subsets;
        else delete next.subsets;
        if (want.metadata.labels) next.metadata.labels = want.metadata.labels;
        delete next.metadata.resourceVersion;
        this.store.update(eprt, next, { wholeObject: true, manager: 'kube-controller-manager' });
      }
    }
  }
}
