// How the sidecar-resources fix sizes istio-proxy: the four injector annotations, Istio's chart defaults
// (values.global.proxy.resources) and the rule that turns observed usage into requests and limits.
import { formatCpu, formatMemory } from './pod-facts.ts';

export const RESOURCE_ANNOTATIONS = {
  cpuRequest: 'sidecar.istio.io/proxyCPU',
  memoryRequest: 'sidecar.istio.io/proxyMemory',
  cpuLimit: 'sidecar.istio.io/proxyCPULimit',
  memoryLimit: 'sidecar.istio.io/proxyMemoryLimit',
} as const;
export type Field = keyof typeof RESOURCE_ANNOTATIONS;

/** values.global.proxy.resources in Istio's charts: requests 100m / 128Mi, limits 2000m / 1024Mi. */
export const ISTIO_PROXY_DEFAULTS: Record<Field, number> = {
  cpuRequest: 0.1,
  memoryRequest: 128 * 2 ** 20,
  cpuLimit: 2,
  memoryLimit: 1024 * 2 ** 20,
};

/** How the fix sizes the proxy, said with every fix so an approver knows where the numbers come from. */
export const SIZING_RULE =
  'request = the highest observed usage × 1.2; limit = the larger of 2 × request and the observed peak × 1.5 ' +
  '(an OOM-killed proxy peaked at least at its memory limit); neither ever below the value set now nor below ' +
  "Istio's defaults (requests 100m / 128Mi, limits 2000m / 1024Mi); CPU rounded up to 10m (limits 100m), " +
  'memory to 16Mi (limits 64Mi)';

/** What sizing needs to know of one pod's proxy. */
export interface SizingFacts {
  resources: Partial<Record<Field, number>>;
  usage?: { cpu?: number; memory?: number };
  /** The proxy was OOM-killed or SIGKILLed: it peaked at least at its memory limit. */
  oom?: string;
  sigkill?: string;
}

/** The four annotations the fix sets, sized from what was observed (SIZING_RULE). */
export function proposedResources(facts: readonly SizingFacts[]): Record<string, string> {
  const maxOf = (xs: (number | undefined)[]) => Math.max(0, ...xs.filter((x): x is number => x !== undefined));
  const memUsed = maxOf(facts.map((f) => f.usage?.memory));
  const memPeak = Math.max(memUsed, maxOf(facts.map((f) => (f.oom || f.sigkill ? f.resources.memoryLimit : 0))));
  const cpuUsed = maxOf(facts.map((f) => f.usage?.cpu));
  const current = (field: Field) => maxOf(facts.map((f) => f.resources[field]));
  const memReq = Math.max(ISTIO_PROXY_DEFAULTS.memoryRequest, current('memoryRequest'), memUsed * 1.2);
  const memLim = Math.max(ISTIO_PROXY_DEFAULTS.memoryLimit, current('memoryLimit'), 2 * memReq, memPeak * 1.5);
  const cpuReq = Math.max(ISTIO_PROXY_DEFAULTS.cpuRequest, current('cpuRequest'), cpuUsed * 1.2);
  const cpuLim = Math.max(ISTIO_PROXY_DEFAULTS.cpuLimit, current('cpuLimit'), 2 * cpuReq, cpuUsed * 1.5);
  return {
    [RESOURCE_ANNOTATIONS.cpuRequest]: formatCpu(cpuReq, 10),
    [RESOURCE_ANNOTATIONS.memoryRequest]: formatMemory(memReq, 16),
    [RESOURCE_ANNOTATIONS.cpuLimit]: formatCpu(cpuLim, 100),
    [RESOURCE_ANNOTATIONS.memoryLimit]: formatMemory(memLim, 64),
  };
}
