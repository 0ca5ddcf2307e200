// What the sandbox's controllers and its kubelet share: the store, their options, the lag that makes
// them trail the objects they watch (none while settling), Events, ownership, and the object shapes
// they read and write.
import { randomBytes } from 'node:crypto';
import type { KubeObject, OwnerReference } from '../kube/objects.ts';
import type { PodLogBook } from './pod-logs.ts';
import type { ResourceType } from './resource-types.ts';
import type { LabelSelectorObject } from './selectors.ts';
import type { SandboxStore } from './store.ts';

/** The one node the sandbox's scheduler assigns pods to. */
export const NODE_NAME = 'sandbox-node-1';

export type Obj = Record<string, unknown>;

export interface PodStatus {
  phase?: string;
  conditions?: {
    type: string;
    status: string;
    reason?: string;
    message?: string;
    lastTransitionTime?: string;
    lastProbeTime?: null;
  }[];
  containerStatuses?: ContainerStatus[];
  initContainerStatuses?: ContainerStatus[];
  podIP?: string;
  podIPs?: { ip: string }[];
  hostIP?: string;
  hostIPs?: { ip: string }[];
  startTime?: string;
  qosClass?: string;
}

export interface ContainerStatus {
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

export interface DeploymentSpec {
  replicas?: number;
  selector?: LabelSelectorObject;
  template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Obj };
  strategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string } };
  progressDeadlineSeconds?: number;
  paused?: boolean;
}

export function controllerRef(o: KubeObject): OwnerReference | undefined {
  return o.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** The ownerReference an apps/v1 controller puts on what it creates, naming `owner` (of `kind`). */
export function controllerOwner(kind: 'Deployment' | 'ReplicaSet', owner: KubeObject): OwnerReference {
  return {
    apiVersion: 'apps/v1',
    kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid as string,
    controller: true,
    blockOwnerDeletion: true,
  } as OwnerReference;
}

export function isReady(pod: KubeObject): boolean {
  return ((pod.status as PodStatus | undefined)?.conditions ?? []).some(
    (c) => c.type === 'Ready' && c.status === 'True',
  );
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

export class ControllerContext {
  readonly store: SandboxStore;
  readonly opts: ControllerOptions;
  /** While settling, time is taken to have passed: no lag. */
  settling = false;

  constructor(store: SandboxStore, opts: ControllerOptions) {
    this.store = store;
    this.opts = opts;
  }

  /** True once `since` lies the controllers' lag in the past (always while settling). */
  lagged(map: Map<string, number>, key: string): boolean {
    if (this.settling) return true;
    const first = map.get(key) ?? Date.now();
    map.set(key, first);
    return Date.now() - first >= (this.opts.lagMs ?? 0);
  }

  rt(name: string): ResourceType {
    return this.store.resourceType(name);
  }

  nowIso(): string {
    return this.store
      .now()
      .toISOString()
      .replace(/\.\d+Z$/, 'Z');
  }

  event(involved: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, component: string): void {
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

  /** The live (not terminating) objects of a type that `owner` controls. */
  ownedBy(rt: ResourceType, owner: KubeObject): KubeObject[] {
    return this.store
      .scan(rt, owner.metadata.namespace)
      .filter((o) => controllerRef(o)?.uid === owner.metadata.uid && !o.metadata.deletionTimestamp);
  }
}
