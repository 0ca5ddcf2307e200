// The service view: the model behind `/mesh describe service`. Pure over a MeshSnapshot (and, when one
// is given, a pod's config_dump); rendering lives with the command.
import type { ConfigDump } from '../envoy/config-dump.ts';
import type { KubeObject } from '../kube/objects.ts';
import {
  destinationRulePathForService,
  parseIstioConfigPath,
  virtualServicePathForService,
} from '../envoy/config-dump.ts';
import { count } from '../blocks/count.ts';
import type { MeshSnapshot } from './snapshot.ts';
import { authorizationFor } from './authorization.ts';
import type { AuthorizationView } from './authorization.ts';
import { parseField, podStatusSchema, serviceSpecSchema } from './istio-specs.ts';
import type { SpecProblem } from './istio-specs.ts';
import { effectivePeerAuthentication } from './peer-authentication.ts';
import type { EffectivePeerAuthentication } from './peer-authentication.ts';
import { unclassifiedPortName } from './port-protocol.ts';
import { findProxyContainer, proxyContainerName } from './sidecar-proxy.ts';
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
import type { ServicePortView, Warning } from './workload-common.ts';
import { type ConfigDelivery, configDelivery, type ProxySync } from './workload-sync.ts';

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
  /** VirtualServices sidecar callers get (bound to `mesh`). */
  virtualServices: VirtualServiceSummary[];
  /** VirtualServices bound only to gateways that route to this service: how it is exposed, not sidecar routing. */
  gatewayVirtualServices: VirtualServiceSummary[];
  ingress: IngressExposure[];
  /** Effective mTLS for the first meshed pod; a warning says so when other pods get another. */
  peerAuthentication?: EffectivePeerAuthentication;
  /** Whether each pod's proxy has the config istiod computed for it; absent when sync status was not read. */
  delivery?: ConfigDelivery;
  authorization?: AuthorizationView;
  /** What a pod's Envoy config says, when a config_dump was supplied. */
  proxyView?: { pod: ObjectRef; ports: ProxyPortView[] };
  warnings: Warning[];
}

export interface DescribeServiceOptions {
  /** config_dump of the first meshed pod, to cross-check what the proxy actually received. */
  configDump?: ConfigDump;
  /** Proxy sync status, to say which of its pods' proxies do not have the config described. */
  sync?: ProxySync;
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
      message: `Service ${name} has no Istio pods (${count(selected.length, 'pod')} in the service); inject a sidecar and restart them`,
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
  const bound = splitByBinding(
    virtualServicesForService(snapshot, name, namespace, subsetIndexOf(drs), problems),
    'service',
  );
  warnings.push(...routingWarnings(name, drs, bound.warnFrom, 'service'));
  const first = meshed[0]?.obj;
  const targetPorts = (pod: KubeObject) => [
    ...new Set(portViews(svc, pod).flatMap((p) => (typeof p.targetPort === 'number' ? [p.targetPort] : []))),
  ];
  const peerAuthentication = first
    ? effectivePeerAuthentication(snapshot, namespace, first.metadata.labels, targetPorts(first))
    : undefined;
  if (peerAuthentication)
    warnings.push(...mtlsSplitWarnings(snapshot, namespace, meshed, peerAuthentication, targetPorts));
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
    virtualServices: bound.sidecar,
    gatewayVirtualServices: bound.gateway,
    ingress: ingressExposure(snapshot, [...bound.sidecar, ...bound.gateway]),
    peerAuthentication,
    ...(options.sync ? { delivery: configDelivery(options.sync, selected) } : {}),
    authorization: first ? authorizationFor(snapshot, namespace, first.metadata.labels, [name]) : undefined,
    proxyView,
    warnings: dedupe(warnings),
  };
}

function portModes(pa: EffectivePeerAuthentication): string {
  return pa.ports.length
    ? pa.ports.map((p) => `${p.port} ${p.mode} (${p.decidedBy.text})`).join('; ')
    : `${pa.workloadMode} (${pa.decidedBy.text})`;
}

/** The service's pods do not all get the first one's mTLS (a workload-level policy selects some): say which. */
function mtlsSplitWarnings(
  snapshot: MeshSnapshot,
  namespace: string,
  meshed: readonly { pod: ObjectRef; obj: KubeObject }[],
  firstPa: EffectivePeerAuthentication,
  targetPorts: (pod: KubeObject) => number[],
): Warning[] {
  const mine = portModes(firstPa);
  const others = new Map<string, string[]>();
  for (const m of meshed.slice(1)) {
    const words = portModes(
      effectivePeerAuthentication(snapshot, namespace, m.obj.metadata.labels, targetPorts(m.obj)),
    );
    if (words !== mine) others.set(words, [...(others.get(words) ?? []), m.pod.name]);
  }
  return [...others].map(([words, pods]) => ({
    code: 'mtls-differs' as const,
    message: `not every pod gets the mTLS shown below (that of ${meshed[0]!.pod.name}): ${pods.join(', ')} get ${words}`,
  }));
}
