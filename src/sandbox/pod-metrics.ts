// metrics.k8s.io/v1beta1 as metrics-server serves it: PodMetrics (namespaced, `pods`) and NodeMetrics
// (cluster, `nodes`), read-only (get and list, with label and field selectors; anything else 405),
// computed at each request from the pods as they are, never stored (no resourceVersion, no watch).
// Served only when the sandbox is started with `metricsServer: true` (the demo does), as a cluster
// serves it only with metrics-server installed.
// A pod has metrics once it runs and every container has started; usage is the pod template's
// sandbox-only knob `sandbox.meshops.dev/usage.<container>: "cpu=<quantity> memory=<quantity>"`, else
// a small idle figure (istio-proxy 4m / 41Mi, other containers 2m / 24Mi). CPU is written in nanocores
// and memory in KiB, as metrics-server writes them; the window is its 15 s resolution.
import type { ServerResponse } from 'node:http';
import type { KubeObject } from '../kube/objects.ts';
import { ApiError, methodNotAllowed } from './api-errors.ts';
import { sendJson } from './api-io.ts';
import type { HandlerContext } from './api-objects.ts';
import type { ResourcePath } from './api-routing.ts';
import { memoryBytes } from './kubelet-faults.ts';
import type { ResourceType } from './resource-types.ts';
import { matchesFilter, parseFieldSelector, parseLabelSelector } from './selectors.ts';

export const METRICS_GROUP = 'metrics.k8s.io';
export const USAGE_ANNOTATION_PREFIX = 'sandbox.meshops.dev/usage.';
const API_VERSION = 'metrics.k8s.io/v1beta1';
const WINDOW = '15s';

function metricsType(kind: string, plural: string, namespaced: boolean): ResourceType {
  return {
    group: METRICS_GROUP,
    versions: ['v1beta1'],
    kind,
    listKind: `${kind}List`,
    plural,
    singular: '',
    shortNames: [],
    categories: [],
    namespaced,
    verbs: ['get', 'list'],
    subresources: [],
    custom: false,
    generation: false,
  };
}

/** The two resources metrics-server registers, as its discovery document lists them. */
export const METRICS_RESOURCE_TYPES: readonly ResourceType[] = [
  metricsType('NodeMetrics', 'nodes', false),
  metricsType('PodMetrics', 'pods', true),
];

const IDLE: Record<string, { cpu: string; memory: string }> = {
  'istio-proxy': { cpu: '4m', memory: '41Mi' },
  '': { cpu: '2m', memory: '24Mi' },
};

/** CPU in cores from a quantity ("310m", "1", "250000000n"); undefined if unreadable. */
function cpuCores(q: string | undefined): number | undefined {
  const m = q?.match(/^(\d+(?:\.\d+)?)(m|u|n)?$/);
  if (!m) return undefined;
  const scale = { m: 1e-3, u: 1e-6, n: 1e-9 }[m[2] as 'm' | 'u' | 'n'] ?? 1;
  return Number(m[1]) * scale;
}

/** A container's usage: the knob's figures, else the idle default; in nanocores and bytes. */
export function containerUsage(pod: KubeObject, container: string): { cpu: number; memory: number } {
  const raw = pod.metadata.annotations?.[`${USAGE_ANNOTATION_PREFIX}${container}`] ?? '';
  const knob = Object.fromEntries(
    raw
      .split(/[\s,]+/)
      .map((kv) => kv.split('=') as [string, string])
      .filter((kv) => kv.length === 2),
  );
  const idle = IDLE[container] ?? (IDLE[''] as { cpu: string; memory: string });
  const cpu = cpuCores(knob.cpu) ?? (cpuCores(idle.cpu) as number);
  const memory = memoryBytes(knob.memory) ?? (memoryBytes(idle.memory) as number);
  return { cpu: Math.round(cpu * 1e9), memory };
}

type Status = { phase?: string; containerStatuses?: { name: string; started?: boolean }[] };

function measured(pod: KubeObject): boolean {
  const st = pod.status as Status | undefined;
  const started = st?.containerStatuses ?? [];
  return st?.phase === 'Running' && started.length > 0 && started.every((c) => c.started === true);
}

function stamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

export function podMetrics(pod: KubeObject, now: Date): KubeObject {
  const statuses = (pod.status as Status | undefined)?.containerStatuses ?? [];
  return {
    kind: 'PodMetrics',
    apiVersion: API_VERSION,
    metadata: {
      name: pod.metadata.name,
      namespace: pod.metadata.namespace,
      creationTimestamp: stamp(now),
      ...(pod.metadata.labels ? { labels: pod.metadata.labels } : {}),
    },
    timestamp: stamp(new Date(now.getTime() - 5000)),
    window: WINDOW,
    containers: statuses.map((c) => {
      const u = containerUsage(pod, c.name);
      return { name: c.name, usage: { cpu: `${u.cpu}n`, memory: `${Math.round(u.memory / 1024)}Ki` } };
    }),
  } as KubeObject;
}

function nodeMetrics(node: KubeObject, pods: readonly KubeObject[], now: Date): KubeObject {
  let cpu = 150_000_000;
  let memory = 1024 ** 3;
  for (const pod of pods) {
    if ((pod.spec as { nodeName?: string } | undefined)?.nodeName !== node.metadata.name) continue;
    for (const c of (pod.status as Status | undefined)?.containerStatuses ?? []) {
      const u = containerUsage(pod, c.name);
      cpu += u.cpu;
      memory += u.memory;
    }
  }
  return {
    kind: 'NodeMetrics',
    apiVersion: API_VERSION,
    metadata: {
      name: node.metadata.name,
      creationTimestamp: stamp(now),
      ...(node.metadata.labels ? { labels: node.metadata.labels } : {}),
    },
    timestamp: stamp(new Date(now.getTime() - 5000)),
    window: WINDOW,
    usage: { cpu: `${cpu}n`, memory: `${Math.round(memory / 1024)}Ki` },
  } as KubeObject;
}

/** A metrics.k8s.io request: get or list (label and field selectors); other verbs 405. */
export function metricsRequest(
  ctx: HandlerContext,
  res: ServerResponse,
  rt: ResourceType,
  p: ResourcePath,
  verb: string,
  params: URLSearchParams,
): void {
  if (verb !== 'get' && verb !== 'list') throw methodNotAllowed();
  const now = ctx.store.now();
  const pods = ctx.store.scan(ctx.store.resourceType('pods')).filter(measured);
  const all =
    rt.plural === 'nodes'
      ? ctx.store.scan(ctx.store.resourceType('nodes')).map((n) => nodeMetrics(n, pods, now))
      : pods
          .filter((x) => p.namespace === undefined || x.metadata.namespace === p.namespace)
          .map((x) => podMetrics(x, now));
  if (verb === 'get') {
    const found = all.find((m) => m.metadata.name === p.name);
    if (!found) {
      // metrics-server names the resource podmetrics/nodemetrics, and a pod by namespace/name.
      const resource = rt.plural === 'nodes' ? 'nodemetrics' : 'podmetrics';
      const name = p.namespace ? `${p.namespace}/${p.name}` : String(p.name);
      throw new ApiError(404, 'NotFound', `${resource}.${METRICS_GROUP} "${name}" not found`, {
        name,
        group: METRICS_GROUP,
        kind: resource,
      });
    }
    return sendJson(res, 200, found);
  }
  const filter = {
    labels: parseLabelSelector(params.get('labelSelector') ?? ''),
    fields: parseFieldSelector(params.get('fieldSelector') ?? ''),
  };
  sendJson(res, 200, {
    kind: `${rt.kind}List`,
    apiVersion: API_VERSION,
    metadata: {},
    items: all.filter((m) => matchesFilter(filter, m)),
  });
}
