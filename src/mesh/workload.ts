// Everything that applies to a workload, in one typed answer: the model behind `/mesh describe pod`
// and `/mesh describe service`. Pure over a MeshSnapshot; rendering lives with the command.
// The pod view is here; the service view is in service-description.ts, what both share in workload-common.ts.
import type { KubeObject } from '../kube/objects.ts';
import { matchesLabels } from '../kube/objects.ts';
import type { MeshSnapshot } from './snapshot.ts';
import { authorizationFor } from './authorization.ts';
import type { AuthorizationView } from './authorization.ts';
import { parseField, podSpecSchema, podStatusSchema, serviceSpecSchema } from './istio-specs.ts';
import type { SpecProblem } from './istio-specs.ts';
import { effectivePeerAuthentication } from './peer-authentication.ts';
import type { EffectivePeerAuthentication } from './peer-authentication.ts';
import { unclassifiedPortName } from './port-protocol.ts';
import { type InjectorFacts, missingSidecarCause } from './injection-diagnosis.ts';
import {
  findProxyContainer,
  injectionStatus,
  proxyContainerName,
  proxySettings,
  sidecarScope,
  sidecarVersion,
} from './sidecar-proxy.ts';
import type { InjectionStatus, ProxySettings, SidecarScope, SidecarVersion } from './sidecar-proxy.ts';
import {
  destinationRulesForService,
  ingressExposure,
  podPhase,
  refOf,
  subsetIndexOf,
  virtualServicesForService,
} from './traffic-routing.ts';
import type { DestinationRuleSummary, IngressExposure, ObjectRef, VirtualServiceSummary } from './traffic-routing.ts';
import { dedupe, labelsOf, portViews, routingWarnings, splitByBinding } from './workload-common.ts';
import type { ServiceBacking, Warning } from './workload-common.ts';
import { resolveWorkload } from './workload-ref.ts';
import { type ConfigDelivery, configDelivery, type ProxySync } from './workload-sync.ts';
import { groupPods, type PodVariant } from './workload-variants.ts';
import type { WorkloadRef } from './workload-ref.ts';

export type { ServiceBacking, ServicePortView, Warning, WarningCode } from './workload-common.ts';
export type { PodDifference, PodVariant } from './workload-variants.ts';
export type { ConfigDelivery, ProxyDelivery, ProxySync } from './workload-sync.ts';
export {
  type DescribeServiceOptions,
  describeService,
  type ProxyPortView,
  type ServiceDescription,
  ServiceNotFoundError,
} from './service-description.ts';

export interface SidecarView {
  injection: InjectionStatus;
  version?: SidecarVersion;
  settings?: ProxySettings;
  scope: SidecarScope;
  nativeSidecar: boolean;
}

export interface PodDescription {
  pod: ObjectRef;
  phase?: string;
  labels: Record<string, string>;
  containerPorts: { container: string; port: number; protocol: string; name?: string }[];
  containersNotReady: string[];
  services: ServiceBacking[];
  /** VirtualServices sidecar callers get (bound to `mesh`), for the services this pod backs. */
  virtualServices: (VirtualServiceSummary & { service: string })[];
  /** VirtualServices bound only to gateways with a route that reaches this pod: how it is exposed. */
  gatewayVirtualServices: (VirtualServiceSummary & { service: string })[];
  /** Where those gateways answer (URLs), for routes that reach this pod. */
  ingress: IngressExposure[];
  destinationRules: (DestinationRuleSummary & { service: string })[];
  peerAuthentication: EffectivePeerAuthentication;
  authorization: AuthorizationView;
  sidecar: SidecarView;
  warnings: Warning[];
}

function podFacts(pod: KubeObject) {
  const spec = parseField(pod, podSpecSchema);
  const status = parseField(pod, podStatusSchema, undefined, 'status');
  const containerPorts = (spec?.containers ?? [])
    .filter((c) => c.name !== proxyContainerName)
    .flatMap((c) =>
      (c.ports ?? []).map((p) => ({
        container: c.name,
        port: p.containerPort,
        protocol: p.protocol ?? 'TCP',
        name: p.name,
      })),
    );
  const notReady = [...(status?.containerStatuses ?? []), ...(status?.initContainerStatuses ?? [])]
    .filter((s) => s.ready === false)
    .map((s) => s.name);
  return { containerPorts, notReady, phase: status?.phase };
}

function servicesSelecting(snapshot: MeshSnapshot, pod: KubeObject): KubeObject[] {
  return snapshot.list('Service', pod.metadata.namespace ?? '').filter((svc) => {
    const spec = parseField(svc, serviceSpecSchema);
    return (
      spec?.selector !== undefined &&
      Object.keys(spec.selector).length > 0 &&
      matchesLabels(spec.selector, pod.metadata.labels)
    );
  });
}

export function describePod(snapshot: MeshSnapshot, pod: KubeObject, injectors?: InjectorFacts): PodDescription {
  const ns = pod.metadata.namespace ?? '';
  const problems: SpecProblem[] = [];
  const warnings: Warning[] = [];
  const { containerPorts, notReady, phase } = podFacts(pod);
  if (phase && phase !== 'Running') warnings.push({ code: 'not-running', message: `pod is ${phase}, not Running` });
  for (const c of notReady) warnings.push({ code: 'container-not-ready', message: `container ${c} is not ready` });

  const services = servicesSelecting(snapshot, pod);
  if (services.length === 0) {
    warnings.push({
      code: 'no-service',
      message: 'no Service selects this pod: Istio routes and reports mesh traffic by Service',
    });
  }
  const backing: ServiceBacking[] = services.map((svc) => ({ service: refOf(svc), ports: portViews(svc, pod) }));
  for (const b of backing) {
    for (const p of b.ports) {
      const what = unclassifiedPortName({ name: p.name, port: p.port, appProtocol: p.appProtocol });
      if (what) {
        warnings.push({
          code: 'unclassified-port',
          message: `Service ${b.service.name} port ${p.port}: Istio does not recognise the protocol in ${what}; it falls back to protocol sniffing. Name it <protocol>[-suffix] (http, http2, grpc, tcp, tls, ...) or set appProtocol`,
        });
      }
    }
  }

  const podLabels = [pod.metadata.labels ?? {}];
  const virtualServices: PodDescription['virtualServices'] = [];
  const gatewayVirtualServices: PodDescription['gatewayVirtualServices'] = [];
  const destinationRules: PodDescription['destinationRules'] = [];
  for (const svc of services) {
    const name = svc.metadata.name;
    const svcSpec = parseField(svc, serviceSpecSchema);
    const svcPods = snapshot.podsMatching(ns, svcSpec?.selector);
    const drs = destinationRulesForService(snapshot, name, ns, podLabels, labelsOf(svcPods), problems);
    const vss = splitByBinding(virtualServicesForService(snapshot, name, ns, subsetIndexOf(drs), problems), 'pod');
    destinationRules.push(...drs.map((d) => ({ ...d, service: name })));
    virtualServices.push(...vss.sidecar.map((v) => ({ ...v, service: name })));
    gatewayVirtualServices.push(...vss.gateway.map((v) => ({ ...v, service: name })));
    warnings.push(...routingWarnings(name, drs, vss.warnFrom, 'pod'));
  }
  const ingress = ingressExposure(snapshot, [...virtualServices, ...gatewayVirtualServices]);

  const targetPorts = new Set<number>(containerPorts.map((p) => p.port));
  for (const b of backing) for (const p of b.ports) if (typeof p.targetPort === 'number') targetPorts.add(p.targetPort);
  const peerAuthentication = effectivePeerAuthentication(snapshot, ns, pod.metadata.labels, [...targetPorts], problems);
  const authorization = authorizationFor(
    snapshot,
    ns,
    pod.metadata.labels,
    services.map((s) => s.metadata.name),
    problems,
  );
  if (!findProxyContainer(pod)) {
    authorization.summary.unshift('This pod has no sidecar, so nothing below is enforced on its traffic.');
  }

  const injection = injectionStatus(pod, snapshot.get('Namespace', undefined, ns));
  const proxy = findProxyContainer(pod);
  const sidecar: SidecarView = {
    injection,
    version: proxy ? sidecarVersion(pod) : undefined,
    settings: proxy ? proxySettings(pod, snapshot.meshConfig.defaultConfig) : undefined,
    scope: sidecarScope(snapshot, pod, problems),
    nativeSidecar: proxy?.native ?? false,
  };
  if (!proxy) {
    warnings.push({
      code: 'no-sidecar',
      message: `pod has no Istio sidecar (${injection.reason}): it is outside the mesh; mTLS, routing and authorization policies are not enforced on it`,
    });
  }
  if (proxy) warnings.push(...podRequirementWarnings(pod));
  if (injection.mismatch) {
    const message =
      injection.wouldInject && !proxy
        ? missingSidecarCause(snapshot, pod, injection.reason, injectors)
        : injection.mismatch;
    warnings.push({ code: 'injection-mismatch', message });
  }
  for (const p of sidecar.settings?.problems ?? []) warnings.push({ code: 'proxy-config', message: p });
  for (const p of problems) warnings.push({ code: 'invalid-spec', message: `${p.object}: ${p.problem}` });

  return {
    pod: refOf(pod),
    phase,
    labels: pod.metadata.labels ?? {},
    containerPorts,
    containersNotReady: notReady,
    services: backing,
    virtualServices,
    gatewayVirtualServices,
    ingress,
    destinationRules,
    peerAuthentication,
    authorization,
    sidecar,
    warnings: dedupe(warnings),
  };
}

// Istio's pod requirements (istio.io/latest/docs/ops/deployment/application-requirements/): UID 1337
// belongs to the proxy, and telemetry wants a service name and version label.
function podRequirementWarnings(pod: KubeObject): Warning[] {
  const out: Warning[] = [];
  const spec = parseField(pod, podSpecSchema);
  const uids = [
    spec?.securityContext?.runAsUser,
    ...(spec?.containers ?? []).filter((c) => c.name !== proxyContainerName).map((c) => c.securityContext?.runAsUser),
  ];
  if (uids.includes(1337))
    out.push({
      code: 'reserved-uid',
      message: 'user ID 1337 is reserved for the sidecar proxy; the app must run as another UID',
    });
  const labels = pod.metadata.labels ?? {};
  const hasName = ['service.istio.io/canonical-name', 'app.kubernetes.io/name', 'app'].some((k) => k in labels);
  const hasVersion = ['service.istio.io/canonical-revision', 'app.kubernetes.io/version', 'version'].some(
    (k) => k in labels,
  );
  if (!hasName || !hasVersion) {
    out.push({
      code: 'telemetry-labels',
      message: `add ${[!hasName && 'an `app`', !hasVersion && 'a `version`'].filter(Boolean).join(' and ')} label so Istio telemetry names this workload`,
    });
  }
  return out;
}

// --- one call for `/mesh describe pod ...` ---

export interface WorkloadDescription {
  /** How the pods were found ("Deployment bookinfo/reviews-v1 (2 pods)"). */
  via: string;
  pods: ObjectRef[];
  /** The pod described in full: the first Running one. */
  described: PodDescription;
  /** Pods that get exactly the described pod's configuration (itself first). */
  sameAsDescribed: ObjectRef[];
  /** The other pods, grouped by the configuration they get, each with what differs from the described pod. */
  variants: PodVariant[];
  /** Whether each pod's proxy has the config istiod computed for it; absent when sync status was not read. */
  delivery?: ConfigDelivery;
}

/**
 * Resolve what a person typed and describe the workload; throws WorkloadNotFoundError with suggestions.
 * Every pod is described, so pods that get a different configuration (another subset, another policy)
 * are told apart instead of one pod standing for all. `sync`: proxy sync status, to say which proxies
 * do not have the config described.
 */
export function describeWorkload(
  snapshot: MeshSnapshot,
  ref: WorkloadRef,
  injectors?: InjectorFacts,
  sync?: ProxySync,
): WorkloadDescription {
  const resolved = resolveWorkload(snapshot, ref);
  const sorted = [...resolved.pods].sort(
    (a, b) =>
      (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') ||
      a.metadata.name.localeCompare(b.metadata.name),
  );
  const first = sorted.find((p) => podPhase(p) === 'Running') ?? sorted[0]!;
  const described = describePod(snapshot, first, injectors);
  const others = sorted.filter((p) => p !== first).map((p) => describePod(snapshot, p, injectors));
  const grouping = groupPods(described, [described, ...others]);
  return {
    via: resolved.via,
    pods: sorted.map(refOf),
    described,
    sameAsDescribed: grouping.same,
    variants: grouping.variants,
    ...(sync ? { delivery: configDelivery(sync, sorted) } : {}),
  };
}
