// Everything that applies to a workload, in one typed answer: the model behind `/mesh describe pod`
// and `/mesh describe service`. Pure over a MeshSnapshot; rendering lives with the command.
import type { KubeObject } from '../kube/objects.ts';
import { matchesLabels } from '../kube/objects.ts';
import type { ConfigDump } from '../envoy/config-dump.ts';
import {
  destinationRulePathForService,
  parseIstioConfigPath,
  virtualServicePathForService,
} from '../envoy/config-dump.ts';
import type { MeshSnapshot } from './snapshot.ts';
import { authorizationFor } from './authorization.ts';
import type { AuthorizationView } from './authorization.ts';
import { parseField, podSpecSchema, podStatusSchema, serviceSpecSchema } from './istio-specs.ts';
import type { SpecProblem } from './istio-specs.ts';
import { effectivePeerAuthentication } from './peer-authentication.ts';
import type { EffectivePeerAuthentication } from './peer-authentication.ts';
import { protocolForPort, unclassifiedPortName } from './port-protocol.ts';
import type { PortProtocol } from './port-protocol.ts';
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
  targetPortOn,
  virtualServicesForService,
} from './traffic-routing.ts';
import type { DestinationRuleSummary, IngressExposure, ObjectRef, VirtualServiceSummary } from './traffic-routing.ts';
import { resolveWorkload } from './workload-ref.ts';
import type { WorkloadRef } from './workload-ref.ts';

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
  virtualServices: (VirtualServiceSummary & { service: string })[];
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

function portViews(svc: KubeObject, pod: KubeObject | undefined): ServicePortView[] {
  const spec = parseField(svc, serviceSpecSchema);
  return (spec?.ports ?? []).map((p) => ({
    name: p.name,
    port: p.port,
    targetPort: pod ? (targetPortOn(pod, p) ?? p.targetPort) : (p.targetPort ?? p.port),
    appProtocol: p.appProtocol,
    protocol: protocolForPort(p),
  }));
}

function labelsOf(pods: readonly KubeObject[]): Record<string, string>[] {
  return pods.map((p) => p.metadata.labels ?? {});
}

function routingWarnings(
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
  const destinationRules: PodDescription['destinationRules'] = [];
  for (const svc of services) {
    const name = svc.metadata.name;
    const svcSpec = parseField(svc, serviceSpecSchema);
    const svcPods = snapshot.podsMatching(ns, svcSpec?.selector);
    const drs = destinationRulesForService(snapshot, name, ns, podLabels, labelsOf(svcPods), problems);
    const vss = virtualServicesForService(snapshot, name, ns, subsetIndexOf(drs), problems);
    destinationRules.push(...drs.map((d) => ({ ...d, service: name })));
    virtualServices.push(...vss.map((v) => ({ ...v, service: name })));
    warnings.push(...routingWarnings(name, drs, vss, 'pod'));
  }

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

function dedupe(warnings: Warning[]): Warning[] {
  const seen = new Set<string>();
  return warnings.filter((w) => (seen.has(w.message) ? false : (seen.add(w.message), true)));
}

// --- service view ---

export interface ProxyPortView {
  port: number;
  virtualService?: { namespace: string; name: string; exists: boolean };
  destinationRule?: { namespace: string; name: string; exists: boolean };
}

export interface ServiceDescription {
  service: ObjectRef;
  selector: Record<string, string>;
  ports: ServicePortView[];
  pods: { pod: ObjectRef; phase?: string; hasSidecar: boolean; proxyReady?: boolean }[];
  /** Pods that are Running with a ready istio-proxy: the ones whose labels decide subsets (as istioctl does). */
  meshedPods: ObjectRef[];
  destinationRules: DestinationRuleSummary[];
  virtualServices: VirtualServiceSummary[];
  ingress: IngressExposure[];
  /** Effective mTLS for the first meshed pod (all pods of one Deployment share it). */
  peerAuthentication?: EffectivePeerAuthentication;
  authorization?: AuthorizationView;
  /** What a pod's Envoy config says, when a config_dump was supplied. */
  proxyView?: { pod: ObjectRef; ports: ProxyPortView[] };
  warnings: Warning[];
}

export interface DescribeServiceOptions {
  /** config_dump of the first meshed pod, to cross-check what the proxy actually received. */
  configDump?: ConfigDump;
}

export class ServiceNotFoundError extends Error {
  constructor(name: string, namespace: string) {
    super(`services "${name}" not found in namespace ${namespace}`);
    this.name = 'ServiceNotFoundError';
  }
}

export function describeService(
  snapshot: MeshSnapshot,
  name: string,
  namespace: string,
  options: DescribeServiceOptions = {},
): ServiceDescription {
  const svc = snapshot.get('Service', namespace, name);
  if (!svc) throw new ServiceNotFoundError(name, namespace);
  const problems: SpecProblem[] = [];
  const warnings: Warning[] = [];
  const spec = parseField(svc, serviceSpecSchema, problems);
  const selector = spec?.selector ?? {};
  const selected = Object.keys(selector).length ? snapshot.podsMatching(namespace, selector) : [];
  const pods = selected.map((p) => {
    const status = parseField(p, podStatusSchema, undefined, 'status');
    const proxyStatus = [...(status?.containerStatuses ?? []), ...(status?.initContainerStatuses ?? [])].find(
      (s) => s.name === proxyContainerName,
    );
    return {
      pod: refOf(p),
      phase: podPhase(p),
      hasSidecar: findProxyContainer(p) !== undefined,
      proxyReady: proxyStatus?.ready,
      obj: p,
    };
  });
  const meshed = pods.filter((p) => p.phase === 'Running' && p.hasSidecar && p.proxyReady !== false);
  if (selected.length === 0) warnings.push({ code: 'no-pods', message: `Service ${name} has no pods` });
  else if (meshed.length === 0)
    warnings.push({
      code: 'no-meshed-pods',
      message: `Service ${name} has no Istio pods (${selected.length} pods in service); inject a sidecar and restart them`,
    });
  for (const p of pods)
    if (!p.hasSidecar) warnings.push({ code: 'no-sidecar', message: `pod ${p.pod.name} has no Istio sidecar` });

  const ports = portViews(svc, undefined);
  for (const p of spec?.ports ?? []) {
    const what = unclassifiedPortName(p);
    if (what)
      warnings.push({
        code: 'unclassified-port',
        message: `port ${p.port}: Istio does not recognise the protocol in ${what}; it falls back to protocol sniffing`,
      });
  }
  const describedLabels = labelsOf((meshed.length ? meshed : pods).map((p) => p.obj));
  const drs = destinationRulesForService(snapshot, name, namespace, describedLabels, labelsOf(selected), problems);
  const vss = virtualServicesForService(snapshot, name, namespace, subsetIndexOf(drs), problems);
  warnings.push(...routingWarnings(name, drs, vss, 'service'));
  const first = meshed[0]?.obj;
  let proxyView: ServiceDescription['proxyView'];
  if (first && options.configDump) {
    proxyView = { pod: refOf(first), ports: [] };
    for (const p of spec?.ports ?? []) {
      const view: ProxyPortView = { port: p.port };
      const key = { name, namespace };
      const vsPath = parseIstioConfigPath(virtualServicePathForService(options.configDump, key, p.port) ?? '');
      if (vsPath)
        view.virtualService = {
          namespace: vsPath.namespace,
          name: vsPath.name,
          exists: !!snapshot.get('VirtualService', vsPath.namespace, vsPath.name),
        };
      const drPath = parseIstioConfigPath(destinationRulePathForService(options.configDump, key, p.port) ?? '');
      if (drPath)
        view.destinationRule = {
          namespace: drPath.namespace,
          name: drPath.name,
          exists: !!snapshot.get('DestinationRule', drPath.namespace, drPath.name),
        };
      for (const [kind, ref] of [
        ['virtual service', view.virtualService],
        ['destination rule', view.destinationRule],
      ] as const) {
        if (ref && !ref.exists)
          warnings.push({
            code: 'stale-proxy-config',
            message: `proxy is stale: it references the non-existent ${kind} ${ref.namespace}/${ref.name}`,
          });
      }
      proxyView.ports.push(view);
    }
  }
  for (const p of problems) warnings.push({ code: 'invalid-spec', message: `${p.object}: ${p.problem}` });
  return {
    service: refOf(svc),
    selector,
    ports,
    pods: pods.map(({ obj: _obj, ...rest }) => rest),
    meshedPods: meshed.map((p) => p.pod),
    destinationRules: drs,
    virtualServices: vss,
    ingress: ingressExposure(snapshot, vss),
    peerAuthentication: first
      ? effectivePeerAuthentication(snapshot, namespace, first.metadata.labels, [
          ...new Set(portViews(svc, first).flatMap((p) => (typeof p.targetPort === 'number' ? [p.targetPort] : []))),
        ])
      : undefined,
    authorization: first ? authorizationFor(snapshot, namespace, first.metadata.labels, [name]) : undefined,
    proxyView,
    warnings: dedupe(warnings),
  };
}

// --- one call for `/mesh describe pod ...` ---

export interface WorkloadDescription {
  /** How the pods were found ("Deployment bookinfo/reviews-v1 (2 pods)"). */
  via: string;
  pods: ObjectRef[];
  /** The pod described in full: the first Running one (pods of one workload share their config). */
  described: PodDescription;
}

/** Resolve what a person typed and describe the workload; throws WorkloadNotFoundError with suggestions. */
export function describeWorkload(
  snapshot: MeshSnapshot,
  ref: WorkloadRef,
  injectors?: InjectorFacts,
): WorkloadDescription {
  const resolved = resolveWorkload(snapshot, ref);
  const sorted = [...resolved.pods].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const first = sorted.find((p) => podPhase(p) === 'Running') ?? sorted[0]!;
  return { via: resolved.via, pods: sorted.map(refOf), described: describePod(snapshot, first, injectors) };
}
