// The sandbox's scheduler and kubelet for its one node: unscheduled pods get spec.nodeName, then
// start (Pending while their containers are created, then Running with a pod IP), or keep failing
// when the template says `sandbox.meshops.dev/fail-start: <reason>` (CrashLoopBackOff pods restart
// every few ticks); graceful deletes finish after the controllers' lag. With no node it does nothing.
// Running pods' readiness probes are judged each tick (kubelet-probes.ts), and the template's
// `sandbox.meshops.dev/restarts.<container>` gives a container a restart history (kubelet-faults.ts).
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../kube/objects.ts';
import {
  type ContainerStatus,
  type ControllerContext,
  NODE_NAME,
  type Obj,
  type PodStatus,
} from './controller-context.ts';
import { historyEvents, withHistory } from './kubelet-faults.ts';
import { ReadinessProber, readyCondition } from './kubelet-probes.ts';
import { clone } from './patch.ts';

export const FAIL_START_ANNOTATION = 'sandbox.meshops.dev/fail-start';
const HOST_IP = '172.18.0.2';

type Container = { name: string; image?: string; resources?: { limits?: { memory?: string } } };

export class Kubelet {
  private readonly ctx: ControllerContext;
  private ipCounter = 10;
  /** When the kubelet first saw each pod marked for graceful deletion, by uid. */
  private readonly terminatingSince = new Map<string, number>();
  private readonly prober: ReadinessProber;

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
    this.prober = new ReadinessProber(ctx);
  }

  private allocateIp(): string {
    const used = new Set(
      this.ctx.store.scan(this.ctx.rt('pods')).map((p) => (p.status as PodStatus | undefined)?.podIP),
    );
    for (;;) {
      const n = this.ipCounter++;
      const ip = `10.244.${Math.floor(n / 250) % 250}.${(n % 250) + 2}`;
      if (!used.has(ip)) return ip;
    }
  }

  /** One step over every pod. */
  tick(): void {
    // No node: nothing schedules pods or runs them (unscheduled pods are deleted at once by the API server).
    if (this.ctx.opts.nodes === false) return;
    const podrt = this.ctx.rt('pods');
    for (const pod of this.ctx.store.scan(podrt)) {
      if (pod.metadata.deletionTimestamp) {
        // A graceful delete: the kubelet stops the containers, then removes the pod for good.
        if (this.ctx.lagged(this.terminatingSince, pod.metadata.uid as string)) {
          this.terminatingSince.delete(pod.metadata.uid as string);
          this.prober.forget(pod.metadata.uid as string);
          this.ctx.store.remove(podrt, pod.metadata.namespace, pod.metadata.name);
          this.ctx.opts.logs?.forgetPod(pod.metadata.namespace as string, pod.metadata.name);
        }
        continue;
      }
      const spec = (pod.spec ?? {}) as { nodeName?: string; containers?: Container[]; initContainers?: Container[] };
      const status = (pod.status ?? {}) as PodStatus;
      const failReason = pod.metadata.annotations?.[FAIL_START_ANNOTATION];
      const now = this.ctx.nowIso();
      if (!spec.nodeName) {
        const next = clone(pod);
        (next.spec as { nodeName?: string }).nodeName = NODE_NAME;
        next.status = {
          ...status,
          phase: 'Pending',
          conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now }],
        };
        delete next.metadata.resourceVersion;
        this.ctx.store.update(podrt, next, { wholeObject: true, manager: 'kube-scheduler' });
        continue;
      }
      if (!status.containerStatuses) {
        const assigned = `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${spec.nodeName}`;
        this.ctx.event(pod, 'Normal', 'Scheduled', assigned, 'default-scheduler');
        // First step: scheduled, containers being created.
        const next = clone(pod);
        const unready = `containers with unready status: [${(spec.containers ?? []).map((c) => c.name).join(' ')}]`;
        next.status = {
          ...status,
          phase: 'Pending',
          hostIP: HOST_IP,
          hostIPs: [{ ip: HOST_IP }],
          startTime: now,
          conditions: [
            { type: 'PodReadyToStartContainers', status: 'False', lastProbeTime: null, lastTransitionTime: now },
            { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: now },
            {
              type: 'Ready',
              status: 'False',
              lastProbeTime: null,
              lastTransitionTime: now,
              reason: 'ContainersNotReady',
              message: unready,
            },
            {
              type: 'ContainersReady',
              status: 'False',
              lastProbeTime: null,
              lastTransitionTime: now,
              reason: 'ContainersNotReady',
              message: unready,
            },
            { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now },
          ],
          containerStatuses: (spec.containers ?? []).map((c) =>
            this.containerStatus(c, { waiting: { reason: 'ContainerCreating' } }, false, 0),
          ),
        } satisfies PodStatus;
        delete next.metadata.resourceVersion;
        this.ctx.store.update(podrt, next, { wholeObject: true, manager: 'kubelet' });
        continue;
      }
      const wasStarted = status.podIP !== undefined;
      if (!wasStarted) {
        this.startPod(pod, failReason);
        continue;
      }
      if (failReason === 'CrashLoopBackOff') this.crashLoop(pod);
      else if (!failReason) this.prober.probe(pod);
    }
  }

  private containerStatus(
    c: Container,
    state: Obj,
    ready: boolean,
    restartCount: number,
    lastState: Obj = {},
  ): ContainerStatus {
    const image = c.image ?? '';
    const started = 'running' in state;
    return {
      name: c.name,
      image,
      imageID:
        started || restartCount > 0
          ? `${image.split(':')[0]}@sha256:${Buffer.from(image).toString('hex').padEnd(64, '0').slice(0, 64)}`
          : '',
      ...(started || restartCount > 0 ? { containerID: `containerd://${randomBytes(32).toString('hex')}` } : {}),
      ready,
      started,
      restartCount,
      state,
      lastState,
    };
  }

  private startPod(pod: KubeObject, failReason: string | undefined): void {
    const podrt = this.ctx.rt('pods');
    const spec = (pod.spec ?? {}) as { containers?: Container[]; initContainers?: Container[] };
    const status = (pod.status ?? {}) as PodStatus;
    const now = this.ctx.nowIso();
    const ip = this.allocateIp();
    const failing = (name: string) => failReason !== undefined && name !== 'istio-proxy';
    const containers = spec.containers ?? [];
    const statuses = containers.map((c) => {
      if (!failing(c.name))
        return withHistory(pod, this.containerStatus(c, { running: { startedAt: now } }, true, 0), now);
      if (failReason === 'CrashLoopBackOff') {
        return this.containerStatus(
          c,
          {
            waiting: {
              reason: 'CrashLoopBackOff',
              message: `back-off 10s restarting failed container=${c.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`,
            },
          },
          false,
          1,
          { terminated: { exitCode: 1, reason: 'Error', startedAt: now, finishedAt: now } },
        );
      }
      const pulling = failReason === 'ImagePullBackOff' || failReason === 'ErrImagePull';
      const message = pulling
        ? `Back-off pulling image "${c.image}"`
        : `the sandbox keeps this container in ${failReason}`;
      return this.containerStatus(c, { waiting: { reason: failReason, message } }, false, 0);
    });
    const phase = failReason && failReason !== 'CrashLoopBackOff' ? 'Pending' : 'Running';
    const readyCond = readyCondition(statuses, now);
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
              this.containerStatus(
                c,
                { terminated: { exitCode: 0, reason: 'Completed', startedAt: now, finishedAt: now } },
                true,
                0,
              ),
            ),
          }
        : {}),
    } satisfies PodStatus;
    delete next.metadata.resourceVersion;
    this.ctx.store.update(podrt, next, { wholeObject: true, manager: 'kubelet' });
    for (const c of [...(spec.initContainers ?? []), ...containers]) {
      if (failing(c.name) && failReason !== 'CrashLoopBackOff') continue;
      this.ctx.event(next, 'Normal', 'Pulled', `Container image "${c.image}" already present on machine`, 'kubelet');
      this.ctx.event(next, 'Normal', 'Created', `Created container: ${c.name}`, 'kubelet');
      this.ctx.event(next, 'Normal', 'Started', `Started container ${c.name}`, 'kubelet');
    }
    historyEvents(this.ctx, next, containers);
    if (failReason) {
      const app = containers.find((c) => failing(c.name));
      const msg =
        failReason === 'CrashLoopBackOff'
          ? `Back-off restarting failed container ${app?.name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`
          : failReason === 'ImagePullBackOff' || failReason === 'ErrImagePull'
            ? `Back-off pulling image "${app?.image}"`
            : `Error: ${failReason}`;
      this.ctx.event(
        next,
        'Warning',
        failReason === 'CrashLoopBackOff' || failReason === 'ImagePullBackOff' ? 'BackOff' : 'Failed',
        msg,
        'kubelet',
      );
    }
  }

  /** CrashLoopBackOff pods restart every few ticks: restartCount keeps rising, as on a real node. */
  private crashLoop(pod: KubeObject): void {
    const status = (pod.status ?? {}) as PodStatus;
    const nowMs = this.ctx.store.now().getTime();
    let changed = false;
    const statuses = (status.containerStatuses ?? []).map((s) => {
      const finished = (s.lastState.terminated as { finishedAt?: string } | undefined)?.finishedAt;
      if (s.name === 'istio-proxy' || !finished || nowMs - Date.parse(finished) < 5 * this.ctx.opts.stepMs) return s;
      changed = true;
      const ts = new Date(nowMs).toISOString().replace(/\.\d+Z$/, 'Z');
      return {
        ...s,
        restartCount: s.restartCount + 1,
        lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: ts, finishedAt: ts } },
      };
    });
    if (!changed) return;
    const next = clone(pod);
    next.status = { ...status, containerStatuses: statuses };
    delete next.metadata.resourceVersion;
    this.ctx.store.update(this.ctx.rt('pods'), next, { wholeObject: true, manager: 'kubelet' });
  }
}
