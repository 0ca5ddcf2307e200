// What the diagnostics read off pods, events and workloads, narrowed with zod at the edge: container
// statuses (regular and init, for native sidecars), events in core/v1 or events.k8s.io/v1 form, the
// workload's pod template annotations, and Kubernetes quantities.
import { z } from 'zod';
import type { KubeObject } from '../../kube/objects.ts';
import { refOf } from '../object-ref.ts';
import type { ObjectRef } from '../object-ref.ts';

const terminatedSchema = z.looseObject({
  reason: z.string().optional(),
  exitCode: z.number().optional(),
  startedAt: z.string().nullish(),
  finishedAt: z.string().nullish(),
});

const containerStatusSchema = z.looseObject({
  name: z.string(),
  ready: z.boolean().optional(),
  restartCount: z.number().optional(),
  state: z
    .looseObject({
      terminated: terminatedSchema.optional(),
      waiting: z.looseObject({ reason: z.string().optional() }).optional(),
    })
    .optional(),
  lastState: z.looseObject({ terminated: terminatedSchema.optional() }).optional(),
});
export type ContainerStatus = z.infer<typeof containerStatusSchema>;

const statusSchema = z.looseObject({
  phase: z.string().optional(),
  podIP: z.string().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
  conditions: z
    .array(z.looseObject({ type: z.string(), status: z.string(), reason: z.string().optional() }))
    .optional(),
  containerStatuses: z.array(containerStatusSchema).optional(),
  initContainerStatuses: z.array(containerStatusSchema).optional(),
});
export type PodStatusFacts = z.infer<typeof statusSchema>;

/** The pod's status as the diagnostics read it; undefined when it has none or it does not fit. */
export function statusOf(pod: KubeObject): PodStatusFacts | undefined {
  if (pod.status === undefined) return undefined;
  const parsed = statusSchema.safeParse(pod.status);
  return parsed.success ? parsed.data : undefined;
}

/** A container's status: among containerStatuses, or initContainerStatuses for native sidecars. */
export function containerStatus(pod: KubeObject, name: string, init = false): ContainerStatus | undefined {
  const status = statusOf(pod);
  const list = init ? status?.initContainerStatuses : status?.containerStatuses;
  return list?.find((c) => c.name === name);
}

/** "OOMKilled (exit 137) at 2026-…" for a container's last termination, if any. */
export function terminationText(t: z.infer<typeof terminatedSchema>): string {
  const parts = [t.reason ?? 'terminated', t.exitCode !== undefined ? `exit ${t.exitCode}` : undefined];
  return `${parts.filter(Boolean).join(', ')}${t.finishedAt ? ` at ${t.finishedAt}` : ''}`;
}

const eventSchema = z.looseObject({
  reason: z.string().optional(),
  message: z.string().optional(),
  note: z.string().optional(),
  type: z.string().optional(),
  count: z.number().optional(),
  involvedObject: z
    .looseObject({ kind: z.string().optional(), name: z.string().optional(), fieldPath: z.string().optional() })
    .optional(),
  regarding: z
    .looseObject({ kind: z.string().optional(), name: z.string().optional(), fieldPath: z.string().optional() })
    .optional(),
  lastTimestamp: z.string().nullish(),
  eventTime: z.string().nullish(),
});

export interface PodEvent {
  reason: string;
  message: string;
  count: number;
  /** `spec.containers{app}` when the event is about one container. */
  fieldPath?: string;
  at?: string;
}

/** Events about one pod (core/v1 involvedObject or events.k8s.io/v1 regarding), in the order given. */
export function eventsOf(events: readonly KubeObject[], pod: KubeObject): PodEvent[] {
  const out: PodEvent[] = [];
  for (const e of events) {
    const parsed = eventSchema.safeParse(e);
    if (!parsed.success) continue;
    const about = parsed.data.involvedObject ?? parsed.data.regarding;
    if (about?.kind !== 'Pod' || about.name !== pod.metadata.name) continue;
    if (e.metadata.namespace && pod.metadata.namespace && e.metadata.namespace !== pod.metadata.namespace) continue;
    out.push({
      reason: parsed.data.reason ?? '',
      message: parsed.data.message ?? parsed.data.note ?? '',
      count: parsed.data.count ?? 1,
      fieldPath: about.fieldPath,
      at: parsed.data.lastTimestamp ?? parsed.data.eventTime ?? undefined,
    });
  }
  return out;
}

export function eventText(e: PodEvent, pod: KubeObject): string {
  const times = e.count > 1 ? ` (×${e.count})` : '';
  return `event ${e.reason} on pod ${pod.metadata.name}${times}: ${e.message}`;
}

const templateSchema = z.looseObject({
  template: z
    .looseObject({
      metadata: z.looseObject({ annotations: z.record(z.string(), z.string()).optional() }).optional(),
    })
    .optional(),
  selector: z.looseObject({ matchLabels: z.record(z.string(), z.string()).optional() }).optional(),
});

/** The pod template's annotations of a Deployment, StatefulSet or DaemonSet (what new pods get). */
export function templateAnnotations(workload: KubeObject): Record<string, string> {
  const parsed = templateSchema.safeParse(workload.spec ?? {});
  return parsed.success ? (parsed.data.template?.metadata?.annotations ?? {}) : {};
}

export function workloadSelector(workload: KubeObject): Record<string, string> | undefined {
  const parsed = templateSchema.safeParse(workload.spec ?? {});
  const labels = parsed.success ? parsed.data.selector?.matchLabels : undefined;
  return labels && Object.keys(labels).length > 0 ? labels : undefined;
}

export function workloadTarget(workload: KubeObject): ObjectRef {
  return refOf(workload);
}

/** A strategic-merge patch that sets pod template annotations (new pods get them on the rollout it starts). */
export function templateAnnotationPatch(annotations: Record<string, string>): Record<string, unknown> {
  return { spec: { template: { metadata: { annotations } } } };
}

/** The annotations that decide injection: the workload's template when given, else the pod's own. */
export function injectionAnnotations(pod: KubeObject, workload: KubeObject | undefined): Record<string, string> {
  return workload ? templateAnnotations(workload) : (pod.metadata.annotations ?? {});
}

const memoryUnits: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  m: 1e-3,
};

/** A Kubernetes quantity in base units (bytes, cores); undefined when it is not one. */
export function parseQuantity(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  const m = /^([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T|m|n|u)?$/.exec(value.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? '';
  if (unit === 'n') return n * 1e-9;
  if (unit === 'u') return n * 1e-6;
  return n * (memoryUnits[unit] ?? 1);
}

/** Math.ceil without float noise: 0.35 × 1.2 × 1000 is 420.00000000000006, which is 420. */
function ceilClean(x: number): number {
  return Math.ceil(Number(x.toFixed(6)));
}

/** Cores → `250m` (whole millicores, rounded up to `step` millicores). */
export function formatCpu(cores: number, step = 10): string {
  const milli = ceilClean((cores * 1000) / step) * step;
  return `${milli}m`;
}

/** Bytes → `192Mi` (rounded up to `step` MiB). */
export function formatMemory(bytes: number, step = 16): string {
  const mib = ceilClean(bytes / 2 ** 20 / step) * step;
  return `${mib}Mi`;
}

export function mib(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)}Mi`;
}
