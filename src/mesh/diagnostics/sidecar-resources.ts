// Sidecar resources: is the istio-proxy container OOM-killed or running at its limits, and is the cause the
// injector's annotation gotcha? Istio's injection template renders the proxy's resources from the four
// annotations sidecar.istio.io/proxyCPU, proxyMemory (requests), proxyCPULimit, proxyMemoryLimit when ANY of
// them is set, and only then falls back to values.global.proxy.resources — so setting one drops the mesh
// defaults for the other three (injection-template.yaml, `resources:` block). Statuses come from
// containerStatuses, or initContainerStatuses when istio-proxy is a native sidecar. Usage comes from
// metrics.k8s.io PodMetrics when the caller could read them, else Envoy's server.memory_heap_size /
// server.memory_allocated gauges (Envoy's own heap only, without pilot-agent).
import { z } from 'zod';
import type { KubeObject } from '../../kube/objects.ts';
import { findProxyContainer, proxyContainerName, sidecarScope } from '../sidecar-proxy.ts';
import type { MeshSnapshot } from '../snapshot.ts';
import {
  containerStatus,
  formatCpu,
  mib,
  parseQuantity,
  statusOf,
  templateAnnotationPatch,
  templateAnnotations,
  terminationText,
  workloadSelector,
  workloadTarget,
} from './pod-facts.ts';
import { RESOURCE_ANNOTATIONS, SIZING_RULE, proposedResources } from './proxy-sizing.ts';
import type { Field } from './proxy-sizing.ts';
import { couldNotCheck, isUnreadable, result } from './types.ts';
import type { DiagnosticResult, Finding, Fix, Readable } from './types.ts';

/** Config sizes above which the proxy's memory is mostly configuration (a Sidecar resource would cut it). */
export const LARGE_CONFIG = { clusters: 500, listeners: 200 };

const NEAR_LIMIT = 0.9;

export interface Usage {
  cpu?: number;
  memory?: number;
  source: string;
}

export interface SidecarResourcesInput {
  pods: readonly KubeObject[];
  /** The Deployment (or StatefulSet, DaemonSet) owning the pods: its pod template is what the fix patches. */
  workload?: KubeObject;
  /** metrics.k8s.io PodMetrics of the pods (containers[].usage), when the API is served and readable. */
  podMetrics?: Readable<readonly KubeObject[]>;
  /** Envoy's gauges per pod name, in bytes: server.memory_allocated and server.memory_heap_size. */
  envoyMemory?: Readable<Record<string, { allocated?: number; heapSize?: number }>>;
  /** The proxy's config size per pod name (clusters and listeners in its config dump). */
  configSize?: Readable<Record<string, { clusters?: number; listeners?: number }>>;
  /** For the Sidecar resource that scopes the pods (config size advice). */
  snapshot?: MeshSnapshot;
}

const podMetricsSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string() }),
  containers: z
    .array(
      z.looseObject({
        name: z.string(),
        usage: z.looseObject({ cpu: z.string().optional(), memory: z.string().optional() }).optional(),
      }),
    )
    .default([]),
});

function usageFor(pod: KubeObject, input: SidecarResourcesInput): Usage | undefined {
  if (input.podMetrics && !isUnreadable(input.podMetrics)) {
    for (const m of input.podMetrics) {
      const parsed = podMetricsSchema.safeParse(m);
      if (!parsed.success || parsed.data.metadata.name !== pod.metadata.name) continue;
      const c = parsed.data.containers.find((x) => x.name === proxyContainerName);
      if (c?.usage)
        return { cpu: parseQuantity(c.usage.cpu), memory: parseQuantity(c.usage.memory), source: 'metrics.k8s.io' };
    }
  }
  if (input.envoyMemory && !isUnreadable(input.envoyMemory)) {
    const g = input.envoyMemory[pod.metadata.name];
    const memory = g?.heapSize ?? g?.allocated;
    if (memory !== undefined) return { memory, source: 'Envoy server.memory_heap_size' };
  }
  return undefined;
}

interface ProxyFacts {
  pod: KubeObject;
  native: boolean;
  resources: Partial<Record<Field, number>>;
  restarts?: number;
  oom?: string;
  sigkill?: string;
  usage?: Usage;
  annotations: Record<string, string>;
}

function proxyFacts(pod: KubeObject, input: SidecarResourcesInput): ProxyFacts | undefined {
  const proxy = findProxyContainer(pod);
  if (!proxy) return undefined;
  const res = proxy.container.resources;
  const resources: Partial<Record<Field, number>> = {
    cpuRequest: parseQuantity(res?.requests?.cpu),
    memoryRequest: parseQuantity(res?.requests?.memory),
    cpuLimit: parseQuantity(res?.limits?.cpu),
    memoryLimit: parseQuantity(res?.limits?.memory),
  };
  const status = containerStatus(pod, proxyContainerName, proxy.native);
  const last = status?.lastState?.terminated ?? status?.state?.terminated;
  const facts: ProxyFacts = {
    pod,
    native: proxy.native,
    resources,
    restarts: status?.restartCount,
    usage: usageFor(pod, input),
    annotations: pod.metadata.annotations ?? {},
  };
  if (last?.reason === 'OOMKilled') facts.oom = terminationText(last);
  else if (last?.exitCode === 137) facts.sigkill = terminationText(last);
  return facts;
}

function pct(used: number, of: number): string {
  return `${Math.round((used / of) * 100)}%`;
}

function usageText(f: ProxyFacts): string | undefined {
  const u = f.usage;
  if (!u) return undefined;
  const parts: string[] = [];
  if (u.memory !== undefined) {
    const lim = f.resources.memoryLimit;
    parts.push(`memory ${mib(u.memory)}${lim ? ` of its ${mib(lim)} limit (${pct(u.memory, lim)})` : ' (no limit)'}`);
  }
  if (u.cpu !== undefined) {
    const lim = f.resources.cpuLimit;
    parts.push(`CPU ${formatCpu(u.cpu, 1)}${lim ? ` of its ${formatCpu(lim, 1)} limit` : ' (no limit)'}`);
  }
  return parts.length ? `pod ${f.pod.metadata.name}: istio-proxy uses ${parts.join(', ')} (${u.source})` : undefined;
}

function resourcesFix(workload: KubeObject | undefined, facts: readonly ProxyFacts[]): Fix | undefined {
  if (!workload) return undefined;
  const annotations = proposedResources(facts);
  const values = Object.entries(annotations)
    .map(([k, v]) => `${k.replace('sidecar.istio.io/', '')}=${v}`)
    .join(', ');
  return {
    kind: 'strategic-merge-patch',
    target: workloadTarget(workload),
    patch: templateAnnotationPatch(annotations),
    why: `sets all four proxy resource annotations (${values}) so none falls back to nothing; sizing: ${SIZING_RULE}. New pods get them on the rollout the patch starts`,
  };
}

function gotcha(facts: readonly ProxyFacts[], template: Record<string, string> | undefined) {
  const fields = Object.keys(RESOURCE_ANNOTATIONS) as Field[];
  const setIn = (anno: Record<string, string>) => fields.filter((f) => anno[RESOURCE_ANNOTATIONS[f]] !== undefined);
  const evidence: string[] = [];
  let confirmed = false;
  let seen = false;
  for (const f of facts) {
    const set = setIn(f.annotations);
    if (set.length === 0 || set.length === fields.length) continue;
    seen = true;
    const dropped = fields.filter((x) => !set.includes(x));
    const absent = dropped.filter((x) => f.resources[x] === undefined);
    if (absent.length) confirmed = true;
    const setText = set.map((x) => `${RESOURCE_ANNOTATIONS[x]}=${f.annotations[RESOURCE_ANNOTATIONS[x]]}`).join(', ');
    evidence.push(
      `pod ${f.pod.metadata.name}: only ${setText} set; ` +
        (absent.length
          ? `its istio-proxy has no ${absent.map(fieldWords).join(', ')}`
          : `its istio-proxy still has ${dropped.map(fieldWords).join(', ')} (set by something else, a LimitRange?)`),
    );
  }
  if (template) {
    const set = setIn(template);
    if (set.length > 0 && set.length < fields.length && !seen) {
      seen = true;
      evidence.push(
        `the pod template sets only ${set.map((x) => RESOURCE_ANNOTATIONS[x]).join(', ')}: new pods will get no ${fields
          .filter((x) => !set.includes(x))
          .map(fieldWords)
          .join(', ')}`,
      );
    }
  }
  return seen ? { evidence, confirmed } : undefined;
}

function fieldWords(f: Field): string {
  return {
    cpuRequest: 'CPU request',
    memoryRequest: 'memory request',
    cpuLimit: 'CPU limit',
    memoryLimit: 'memory limit',
  }[f];
}

export function diagnoseSidecarResources(input: SidecarResourcesInput): DiagnosticResult {
  const check = 'sidecar-resources' as const;
  const unread: string[] = [];
  const notes: string[] = [];
  if (input.pods.length === 0) return couldNotCheck(check, 'no pods were given to look at');
  const facts = input.pods.map((p) => proxyFacts(p, input)).filter((f): f is ProxyFacts => f !== undefined);
  if (facts.length === 0)
    return couldNotCheck(check, `none of the ${input.pods.length} pods runs an istio-proxy container`);
  for (const pod of input.pods) {
    const status = statusOf(pod);
    if (!status) unread.push(`pod ${pod.metadata.name} has no status: its restarts and OOM kills are unknown`);
    for (const c of status?.containerStatuses ?? []) {
      if (c.name === proxyContainerName) continue;
      const t = c.lastState?.terminated ?? c.state?.terminated;
      if (t?.reason === 'OOMKilled')
        notes.push(
          `pod ${pod.metadata.name}: container ${c.name} was OOM-killed (${terminationText(t)}) — that is the application, not the sidecar; raise ${c.name}'s own memory limit`,
        );
    }
  }
  if (facts.every((f) => f.restarts === undefined))
    return couldNotCheck(check, 'no pod reports a status for its istio-proxy container', notes, unread);
  if (isUnreadable(input.podMetrics)) unread.push(`pod metrics (metrics.k8s.io): ${input.podMetrics.unreadable}`);
  if (isUnreadable(input.envoyMemory)) unread.push(`Envoy memory gauges: ${input.envoyMemory.unreadable}`);
  if (facts.every((f) => !f.usage))
    unread.push('no usage figures for istio-proxy (neither PodMetrics nor Envoy gauges): usage against limits unknown');
  unread.push('CPU throttling is not visible here (metrics.k8s.io reports usage, not throttled periods)');

  const fix = resourcesFix(input.workload, facts);
  if (!input.workload) notes.push('no owning workload was given, so no fix is proposed');
  const pods = (list: readonly ProxyFacts[]) => list.map((f) => f.pod.metadata.name);
  const usageEvidence = facts.map(usageText).filter((x): x is string => x !== undefined);
  const findings: Finding[] = [];
  const base = { check, ...(fix ? { fix } : {}) };

  const oom = facts.filter((f) => f.oom);
  if (oom.length) {
    findings.push({
      ...base,
      title: 'istio-proxy is OOM-killed',
      cause: `the sidecar ran out of memory and was killed in ${oom.length} of ${facts.length} pods; while it restarts the pod's traffic fails (503s, resets)`,
      evidence: [
        ...oom.map(
          (f) =>
            `pod ${f.pod.metadata.name}: istio-proxy last terminated ${f.oom}, restarted ${f.restarts ?? '?'} times, memory limit ${f.resources.memoryLimit ? mib(f.resources.memoryLimit) : 'none'}${f.native ? ' (native sidecar: initContainerStatuses)' : ''}`,
        ),
        ...usageEvidence,
      ],
      confidence: 'high',
      pods: pods(oom),
    });
  }
  const killed = facts.filter((f) => f.sigkill);
  if (killed.length) {
    findings.push({
      ...base,
      title: 'istio-proxy was killed (exit 137)',
      cause:
        'the sidecar was killed with SIGKILL but Kubernetes did not record OOMKilled: the kernel OOM killer outside the cgroup, a failed liveness probe or a node-level kill',
      evidence: [
        ...killed.map((f) => `pod ${f.pod.metadata.name}: istio-proxy last terminated ${f.sigkill}`),
        ...usageEvidence,
      ],
      confidence: 'medium',
      pods: pods(killed),
    });
  }
  const near = facts.filter(
    (f) =>
      !f.oom &&
      f.usage?.memory !== undefined &&
      f.resources.memoryLimit !== undefined &&
      f.usage.memory >= NEAR_LIMIT * f.resources.memoryLimit,
  );
  if (near.length) {
    findings.push({
      ...base,
      title: 'istio-proxy is at its memory limit',
      cause: `the sidecar uses ${Math.round(NEAR_LIMIT * 100)}% or more of its memory limit: the next config push or traffic peak gets it OOM-killed`,
      evidence: near.map(usageText).filter((x): x is string => x !== undefined),
      confidence: 'medium',
      pods: pods(near),
    });
  }
  const cpuHot = facts.filter(
    (f) =>
      f.usage?.cpu !== undefined &&
      f.resources.cpuLimit !== undefined &&
      f.usage.cpu >= NEAR_LIMIT * f.resources.cpuLimit,
  );
  for (const f of cpuHot)
    notes.push(`pod ${f.pod.metadata.name}: istio-proxy's CPU is at its limit, so it is probably throttled`);

  const g = gotcha(facts, input.workload ? templateAnnotations(input.workload) : undefined);
  if (g) {
    findings.push({
      ...base,
      title: 'one proxy resource annotation dropped the mesh defaults',
      cause:
        "Istio's injector uses the sidecar.istio.io/proxyCPU, proxyMemory, proxyCPULimit and proxyMemoryLimit annotations as the whole resources block when any of them is set: the mesh defaults for the others are dropped, so the proxy runs without those requests or limits",
      evidence: g.evidence,
      confidence: g.confirmed ? 'high' : 'low',
      pods: pods(facts.filter((f) => Object.values(RESOURCE_ANNOTATIONS).some((a) => f.annotations[a] !== undefined))),
    });
  }
  const config = configFinding(input, facts, unread, notes);
  if (config) findings.push(config);
  if (findings.length === 0) {
    const restarts = facts.reduce((n, f) => n + (f.restarts ?? 0), 0);
    notes.push(
      `istio-proxy was not OOM-killed in any of the ${facts.length} pods (${restarts} restarts in all)`,
      ...usageEvidence,
    );
  }
  return result(check, findings, notes, unread);
}

function configFinding(
  input: SidecarResourcesInput,
  facts: readonly ProxyFacts[],
  unread: string[],
  notes: string[],
): Finding | undefined {
  if (isUnreadable(input.configSize)) {
    unread.push(`the proxies' config size: ${input.configSize.unreadable}`);
    return undefined;
  }
  if (!input.configSize) return undefined;
  const sizes = input.configSize;
  const large = facts.filter((f) => {
    const s = sizes[f.pod.metadata.name];
    return (s?.clusters ?? 0) >= LARGE_CONFIG.clusters || (s?.listeners ?? 0) >= LARGE_CONFIG.listeners;
  });
  if (large.length === 0) return undefined;
  const first = large[0] as ProxyFacts;
  const scope = input.snapshot ? sidecarScope(input.snapshot, first.pod) : undefined;
  const evidence = large.map((f) => {
    const s = sizes[f.pod.metadata.name];
    return `pod ${f.pod.metadata.name}: ${s?.clusters ?? '?'} clusters, ${s?.listeners ?? '?'} listeners in its config`;
  });
  if (scope && scope.level !== 'none') {
    notes.push(`${evidence.join('; ')} — already scoped: ${scope.text}`);
    return undefined;
  }
  if (scope) evidence.push(scope.text);
  else unread.push('no mesh snapshot: whether a Sidecar resource scopes these pods is unknown');
  const ns = first.pod.metadata.namespace ?? 'default';
  const selector = input.workload ? workloadSelector(input.workload) : undefined;
  const name = `${input.workload?.metadata.name ?? first.pod.metadata.name}-egress`;
  const istioNs = input.snapshot?.istioNamespace ?? 'istio-system';
  const fix: Fix | undefined = selector
    ? {
        kind: 'create',
        target: { kind: 'Sidecar', namespace: ns, name },
        object: {
          apiVersion: 'networking.istio.io/v1',
          kind: 'Sidecar',
          metadata: { name, namespace: ns },
          spec: { workloadSelector: { labels: selector }, egress: [{ hosts: ['./*', `${istioNs}/*`] }] },
        },
        why: `limits this workload's proxy to the services of its own namespace and ${istioNs}, so it stops holding config for the whole mesh; add the other hosts it calls (namespace/host) before applying`,
      }
    : undefined;
  return {
    check: 'sidecar-resources',
    title: "the proxy's config is large",
    cause: `the proxy holds configuration for every service it can see (${LARGE_CONFIG.clusters}+ clusters or ${LARGE_CONFIG.listeners}+ listeners), and its memory grows with it; a Sidecar resource limiting egress hosts would cut it`,
    evidence,
    confidence: facts.some((f) => f.oom) ? 'medium' : 'low',
    pods: large.map((f) => f.pod.metadata.name),
    ...(fix ? { fix } : {}),
  };
}
