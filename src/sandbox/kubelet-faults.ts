// Sandbox-only fault knobs the kubelet honours (pod template annotations; documented in README.md):
// `sandbox.meshops.dev/restarts.<container>: "<count> <reason> <exitCode>"` gives the container a past:
// restartCount <count> and lastState.terminated with that reason and exit code (e.g. "4 OOMKilled 137"
// for a sidecar killed by its memory cgroup, "2 Error 1" for an app that exited at cold start), and the
// events such a past leaves: the kubelet's BackOff ("Back-off restarting failed container ...", counted
// once per restart) and, for OOMKilled, node-problem-detector's OOMKilling on the Node (kernel-monitor).
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../kube/objects.ts';
import { type ContainerStatus, type ControllerContext, NODE_NAME } from './controller-context.ts';

export const RESTARTS_ANNOTATION_PREFIX = 'sandbox.meshops.dev/restarts.';

/** Process ids for the kernel's OOM messages: one per kill the node has seen. */
let nextPid = 4100;

export interface RestartHistory {
  count: number;
  reason: string;
  exitCode: number;
}

/** The restart history the pod's annotation gives a container; undefined when absent or unreadable. */
export function restartHistory(pod: KubeObject, container: string): RestartHistory | undefined {
  const raw = pod.metadata.annotations?.[`${RESTARTS_ANNOTATION_PREFIX}${container}`];
  const m = raw?.trim().match(/^(\d+)\s+([A-Za-z]+)\s+(\d+)$/);
  if (!m) return undefined;
  return { count: Number(m[1]), reason: m[2] as string, exitCode: Number(m[3]) };
}

/** A started container's status with the history applied: restarts and its last termination. */
export function withHistory(pod: KubeObject, s: ContainerStatus, startedAt: string): ContainerStatus {
  const h = restartHistory(pod, s.name);
  if (!h || h.count === 0) return s;
  return {
    ...s,
    restartCount: h.count,
    lastState: { terminated: { exitCode: h.exitCode, reason: h.reason, startedAt, finishedAt: startedAt } },
  };
}

/** An event with a count, as the kubelet's recorder aggregates repeats of the same event. */
export function countedEvent(
  ctx: ControllerContext,
  involved: KubeObject,
  e: { type: 'Normal' | 'Warning'; reason: string; message: string; component: string; count: number },
): string | undefined {
  const ns = involved.metadata.namespace ?? 'default';
  if (!ctx.store.peek(ctx.rt('namespaces'), undefined, ns)) return undefined;
  const ts = ctx.nowIso();
  const name = `${involved.metadata.name}.${randomBytes(8).toString('hex')}`;
  ctx.store.create(ctx.rt('events'), {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: ns },
    involvedObject: {
      apiVersion: involved.apiVersion,
      kind: involved.kind,
      name: involved.metadata.name,
      ...(involved.metadata.namespace ? { namespace: ns } : {}),
      uid: involved.metadata.uid,
      resourceVersion: involved.metadata.resourceVersion,
    },
    reason: e.reason,
    message: e.message,
    type: e.type,
    count: e.count,
    firstTimestamp: ts,
    lastTimestamp: ts,
    source: { component: e.component, host: NODE_NAME },
    reportingComponent: e.component,
    reportingInstance: NODE_NAME,
  });
  return name;
}

/** The events a started pod's restart histories leave. */
export function historyEvents(
  ctx: ControllerContext,
  pod: KubeObject,
  containers: { name: string; resources?: { limits?: { memory?: string } } }[],
): void {
  const node = ctx.store.peek(ctx.rt('nodes'), undefined, NODE_NAME);
  for (const c of containers) {
    const h = restartHistory(pod, c.name);
    if (!h || h.count === 0) continue;
    const where = `${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;
    countedEvent(ctx, pod, {
      type: 'Warning',
      reason: 'BackOff',
      message: `Back-off restarting failed container ${c.name} in pod ${where}`,
      component: 'kubelet',
      count: h.count,
    });
    if (h.reason !== 'OOMKilled' || !node) continue;
    // Envoy is the process the memory cgroup's OOM killer picks in istio-proxy; in an app container, its own.
    const process = c.name === 'istio-proxy' ? 'envoy' : c.name;
    const rssKb = Math.round((memoryBytes(c.resources?.limits?.memory) ?? 1024 ** 3) / 1024);
    countedEvent(ctx, node, {
      type: 'Warning',
      reason: 'OOMKilling',
      message: `Memory cgroup out of memory: Killed process ${nextPid++} (${process}) total-vm:1418544kB, anon-rss:${rssKb}kB, file-rss:0kB, shmem-rss:0kB, UID:${c.name === 'istio-proxy' ? 1337 : 1000} pgtables:1024kB oom_score_adj:${c.name === 'istio-proxy' ? 999 : 984}`,
      component: 'kernel-monitor',
      count: h.count,
    });
  }
}

const UNITS: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 };

/** A memory quantity in bytes (the binary and decimal suffixes Kubernetes objects use); undefined if unreadable. */
export function memoryBytes(q: string | undefined): number | undefined {
  const m = q?.match(/^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/);
  return m ? Number(m[1]) * (UNITS[m[2] ?? ''] ?? 1) : undefined;
}
