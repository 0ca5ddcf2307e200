// What the pod and the service views of a workload share: the warnings they carry, the ports a Service
// exposes (with the protocol Istio sees), and the warnings about subsets and routes.
import type { KubeObject } from '../kube/objects.ts';
import { parseField, serviceSpecSchema } from './istio-specs.ts';
import { protocolForPort } from './port-protocol.ts';
import type { PortProtocol } from './port-protocol.ts';
import { targetPortOn } from './traffic-routing.ts';
import type { DestinationRuleSummary, ObjectRef, VirtualServiceSummary } from './traffic-routing.ts';

export type WarningCode =
  | 'no-sidecar'
  | 'injection-mismatch'
  | 'not-running'
  | 'container-not-ready'
  | 'no-service'
  | 'unclassified-port'
  | 'subset-selects-no-pods'
  | 'pod-in-no-subset'
  | 'route-subset'
  | 'route-to-empty-subset'
  | 'no-route-reaches-pod'
  | 'invalid-spec'
  | 'no-pods'
  | 'no-meshed-pods'
  | 'stale-proxy-config'
  | 'mtls-differs'
  | 'proxy-config'
  | 'reserved-uid'
  | 'telemetry-labels';

export interface Warning {
  code: WarningCode;
  message: string;
}

export interface ServicePortView {
  name?: string;
  port: number;
  /** The pod port it targets (for a pod), or the targetPort as written (for a service). */
  targetPort?: number | string;
  appProtocol?: string;
  protocol: PortProtocol;
}

export interface ServiceBacking {
  service: ObjectRef;
  ports: ServicePortView[];
}

export function portViews(svc: KubeObject, pod: KubeObject | undefined): ServicePortView[] {
  const spec = parseField(svc, serviceSpecSchema);
  return (spec?.ports ?? []).map((p) => ({
    name: p.name,
    port: p.port,
    targetPort: pod ? (targetPortOn(pod, p) ?? p.targetPort) : (p.targetPort ?? p.port),
    appProtocol: p.appProtocol,
    protocol: protocolForPort(p),
  }));
}

export function labelsOf(pods: readonly KubeObject[]): Record<string, string>[] {
  return pods.map((p) => p.metadata.labels ?? {});
}

export function routingWarnings(
  svcName: string,
  drs: readonly DestinationRuleSummary[],
  vss: readonly VirtualServiceSummary[],
  describedPods: 'pod' | 'service',
): Warning[] {
  const out: Warning[] = [];
  for (const dr of drs) {
    for (const s of dr.subsetsSelectingNoPods) {
      out.push({
        code: 'subset-selects-no-pods',
        message: `DestinationRule ${dr.ref.namespace}/${dr.ref.name}: subset ${s} selects no pod of service ${svcName}`,
      });
    }
    if (dr.matchingSubsets.length === 0 && dr.nonMatchingSubsets.length > 0) {
      out.push({
        code: 'pod-in-no-subset',
        message: `the ${describedPods === 'pod' ? 'pod matches' : 'pods match'} no subset of DestinationRule ${dr.ref.namespace}/${dr.ref.name} (subsets: ${dr.nonMatchingSubsets.join(', ')}); routes to a subset never reach ${describedPods === 'pod' ? 'it' : 'them'}`,
      });
    }
  }
  for (const vs of vss) {
    for (const w of vs.warnings) {
      const code: WarningCode = w.startsWith('no route')
        ? 'no-route-reaches-pod'
        : w.includes('selects no pods')
          ? 'route-to-empty-subset'
          : 'route-subset';
      out.push({ code, message: `VirtualService ${vs.ref.namespace}/${vs.ref.name}: ${w}` });
    }
  }
  return out;
}

export function dedupe(warnings: Warning[]): Warning[] {
  const seen = new Set<string>();
  return warnings.filter((w) => (seen.has(w.message) ? false : (seen.add(w.message), true)));
}

export interface VirtualServiceBinding {
  /** Bound to `mesh` (no `gateways`, or `mesh` among them): sidecar callers get these routes. */
  sidecar: VirtualServiceSummary[];
  /**
   * Bound only to gateways (no `mesh`): they route at those gateways, never for sidecar callers. Only the
   * ones that route to what is described (for a pod: a route reaches it; for a service: a route sends to it).
   */
  gateway: VirtualServiceSummary[];
  /** The ones whose warnings count for what is described. */
  warnFrom: VirtualServiceSummary[];
}

/**
 * Splits the VirtualServices that concern a service by where Istio applies them. A VirtualService whose
 * `gateways` is set without the reserved `mesh` does not apply to sidecars, so it is not listed for every
 * workload its hosts happen to cover (`hosts: ["*"]` at an ingress): only for the workloads it routes to.
 */
export function splitByBinding(
  vss: readonly VirtualServiceSummary[],
  described: 'pod' | 'service',
): VirtualServiceBinding {
  const sidecar = vss.filter((v) => v.appliesToSidecars);
  const routing = vss.filter((v) => !v.appliesToSidecars && v.routesToService);
  const gateway = described === 'pod' ? routing.filter((v) => v.routes.some((r) => r.reachesPod)) : routing;
  // A gateway route to this service's other subsets is still worth a warning about dead subsets, but not
  // "no route reaches these pods": that VirtualService is simply not listed for them.
  const quiet = routing
    .filter((v) => !gateway.includes(v))
    .map((v) => ({ ...v, warnings: v.warnings.filter((w) => !w.startsWith('no route')) }));
  return { sidecar, gateway, warnFrom: [...sidecar, ...gateway, ...quiet] };
}
