// The sidecar side of a pod: is there an istio-proxy, would the injector have added one, which
// revision and version runs, which proxy settings apply (annotations over meshConfig.defaultConfig),
// and which Sidecar resource scopes it (workload selector, else namespace default, else root).
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { KubeObject } from '../kube/objects.ts';
import { matchesLabels } from '../kube/objects.ts';
import type { MeshSnapshot } from './snapshot.ts';
import { parseField, podSpecSchema, sidecarSpecSchema } from './istio-specs.ts';
import type { Container, SpecProblem } from './istio-specs.ts';
import { refOf } from './traffic-routing.ts';
import type { ObjectRef } from './traffic-routing.ts';

export const proxyContainerName = 'istio-proxy';

export interface InjectionStatus {
  /** The pod runs an istio-proxy container (regular or native sidecar init container). */
  hasSidecar: boolean;
  /** Would the injector inject a new pod here, given the namespace and pod labels? */
  wouldInject: boolean;
  /** The revision the injector would use, when the labels name one. */
  revision?: string;
  reason: string;
  /** The pod is an Istio gateway: its istio-proxy is the gateway itself, not an injected sidecar. */
  gateway: boolean;
  /** The injector should have run but the pod has no proxy (or the reverse): restart it, or fix labels. */
  mismatch?: string;
}

export interface ProxySetting<T> {
  value: T;
  /** `annotation proxy.istio.io/config`, `annotation sidecar.istio.io/proxyCPU`, `meshConfig.defaultConfig`, `default`. */
  from: string;
}

export interface ProxySettings {
  holdApplicationUntilProxyStarts: ProxySetting<boolean>;
  cpuRequest?: ProxySetting<string>;
  memoryRequest?: ProxySetting<string>;
  cpuLimit?: ProxySetting<string>;
  memoryLimit?: ProxySetting<string>;
  /** The proxy.istio.io/config annotation, parsed (YAML or JSON ProxyConfig). */
  proxyConfigAnnotation?: Record<string, unknown>;
  problems: string[];
}

export interface SidecarVersion {
  image?: string;
  /** The image tag, e.g. `1.24.2` or `1.24.2-distroless`. */
  tag?: string;
  /** Revision from the pod's `istio.io/rev` annotation or the injector's sidecar.istio.io/status. */
  revision: string;
  /** The `istio.io/rev` label on the pod, if any. */
  revisionLabel?: string;
}

export interface SidecarScope {
  level: 'workload' | 'namespace' | 'root' | 'none';
  sidecar?: ObjectRef;
  egressHosts: string[];
  outboundTrafficPolicy?: string;
  text: string;
}

/** The istio-proxy container: a regular container, or an init container (native sidecar mode). */
export function findProxyContainer(pod: KubeObject): { container: Container; native: boolean } | undefined {
  const spec = parseField(pod, podSpecSchema);
  const regular = spec?.containers.find((c) => c.name === proxyContainerName);
  if (regular) return { container: regular, native: false };
  const init = spec?.initContainers?.find((c) => c.name === proxyContainerName);
  if (init) return { container: init, native: true };
  return undefined;
}

const sidecarStatusSchema = z.looseObject({ revision: z.string().optional() });

/**
 * istioctl's GetRevisionFromPodAnnotation: the `istio.io/rev` annotation when present, else the
 * `revision` inside the injector's `sidecar.istio.io/status` JSON, else "".
 */
export function revisionFromPodAnnotations(annotations: Record<string, string> | undefined): string {
  const anno = annotations ?? {};
  if ('istio.io/rev' in anno) return anno['istio.io/rev'] ?? '';
  const raw = anno['sidecar.istio.io/status'];
  if (!raw) return '';
  try {
    const parsed = sidecarStatusSchema.safeParse(JSON.parse(raw));
    return parsed.success ? (parsed.data.revision ?? '') : '';
  } catch {
    return '';
  }
}

/**
 * Injection policy as Istio documents it (the injector webhook's selectors): a namespace labelled
 * `istio-injection=disabled` never injects; `istio-injection=enabled` injects unless the pod says
 * `sidecar.istio.io/inject=false`; a namespace `istio.io/rev` label injects that revision (when
 * istio-injection is absent); otherwise the pod's own `sidecar.istio.io/inject=true` or
 * `istio.io/rev` label opts it in. The annotation form of sidecar.istio.io/inject is deprecated but
 * still opts a selected pod out.
 */
export function injectionStatus(pod: KubeObject, namespaceObj: KubeObject | undefined): InjectionStatus {
  const nsLabels = namespaceObj?.metadata.labels ?? {};
  const podLabels = pod.metadata.labels ?? {};
  const podAnno = pod.metadata.annotations ?? {};
  const hasSidecar = findProxyContainer(pod) !== undefined;
  const podInject = podLabels['sidecar.istio.io/inject'] ?? podAnno['sidecar.istio.io/inject'];
  const podOptOut = podInject === 'false';
  const nsInjection = nsLabels['istio-injection'];
  const nsRev = nsLabels['istio.io/rev'];
  let wouldInject = false;
  let revision: string | undefined;
  let reason: string;
  if (nsInjection === 'disabled') {
    reason = 'namespace label istio-injection=disabled';
  } else if (nsInjection === 'enabled') {
    wouldInject = !podOptOut;
    reason = podOptOut
      ? 'namespace istio-injection=enabled, but the pod opts out (sidecar.istio.io/inject=false)'
      : 'namespace label istio-injection=enabled';
  } else if (nsRev) {
    wouldInject = !podOptOut;
    revision = nsRev;
    reason = podOptOut
      ? `namespace istio.io/rev=${nsRev}, but the pod opts out`
      : `namespace label istio.io/rev=${nsRev}`;
  } else if (podLabels['istio.io/rev'] && !podOptOut) {
    wouldInject = true;
    revision = podLabels['istio.io/rev'];
    reason = `pod label istio.io/rev=${revision}`;
  } else if (podLabels['sidecar.istio.io/inject'] === 'true') {
    wouldInject = true;
    reason = 'pod label sidecar.istio.io/inject=true';
  } else {
    reason = podOptOut
      ? 'pod opts out (sidecar.istio.io/inject=false)'
      : 'no injection label on the namespace or the pod';
  }
  // Gateways run istio-proxy as their main container (Helm/operator installs) or are injected with the
  // gateway template; either way "sidecar without injection" is expected there.
  const gateway =
    ['ingressgateway', 'egressgateway'].includes(podLabels.istio ?? '') ||
    (podAnno['inject.istio.io/templates'] ?? '').split(',').includes('gateway') ||
    podLabels['gateway.networking.k8s.io/gateway-name'] !== undefined;
  let mismatch: string | undefined;
  if (gateway) return { hasSidecar, wouldInject, revision, reason: `${reason} (an Istio gateway)`, gateway };
  if (wouldInject && !hasSidecar)
    mismatch = 'injection is enabled but the pod has no sidecar: it was probably created before the label; restart it';
  if (!wouldInject && hasSidecar)
    mismatch =
      'the pod has a sidecar although injection is not enabled for it now (manual injection, or labels changed since)';
  return { hasSidecar, wouldInject, revision, reason, gateway, mismatch };
}

export function sidecarVersion(pod: KubeObject): SidecarVersion {
  const proxy = findProxyContainer(pod);
  const image = proxy?.container.image;
  // The tag follows the last ':' after the last '/', so registry ports are not mistaken for tags.
  const lastPart = image?.slice(image.lastIndexOf('/') + 1);
  const colon = lastPart?.lastIndexOf(':') ?? -1;
  const tag = lastPart && colon >= 0 ? lastPart.slice(colon + 1).replace(/@.*$/, '') : undefined;
  return {
    image,
    tag,
    revision: revisionFromPodAnnotations(pod.metadata.annotations),
    revisionLabel: pod.metadata.labels?.['istio.io/rev'],
  };
}

function quantity(v: string | number | undefined): string | undefined {
  return v === undefined ? undefined : String(v);
}

export function proxySettings(pod: KubeObject, meshDefaultConfig: Record<string, unknown> | undefined): ProxySettings {
  const anno = pod.metadata.annotations ?? {};
  const problems: string[] = [];
  let proxyConfigAnnotation: Record<string, unknown> | undefined;
  const raw = anno['proxy.istio.io/config'];
  if (raw !== undefined) {
    try {
      const parsed = z.record(z.string(), z.unknown()).safeParse(parseYaml(raw));
      if (parsed.success) proxyConfigAnnotation = parsed.data;
      else problems.push('annotation proxy.istio.io/config is not a mapping');
    } catch (err) {
      problems.push(`annotation proxy.istio.io/config does not parse: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  let hold: ProxySetting<boolean> = { value: false, from: 'default' };
  const meshHold = meshDefaultConfig?.holdApplicationUntilProxyStarts;
  if (typeof meshHold === 'boolean') hold = { value: meshHold, from: 'meshConfig.defaultConfig' };
  const podHold = proxyConfigAnnotation?.holdApplicationUntilProxyStarts;
  if (typeof podHold === 'boolean') hold = { value: podHold, from: 'annotation proxy.istio.io/config' };

  const proxy = findProxyContainer(pod);
  const res = proxy?.container.resources;
  const pick = (annotation: string, actual: string | number | undefined): ProxySetting<string> | undefined => {
    if (anno[annotation] !== undefined) return { value: anno[annotation]!, from: `annotation ${annotation}` };
    const q = quantity(actual);
    return q === undefined ? undefined : { value: q, from: 'istio-proxy container resources' };
  };
  return {
    holdApplicationUntilProxyStarts: hold,
    cpuRequest: pick('sidecar.istio.io/proxyCPU', res?.requests?.cpu),
    memoryRequest: pick('sidecar.istio.io/proxyMemory', res?.requests?.memory),
    cpuLimit: pick('sidecar.istio.io/proxyCPULimit', res?.limits?.cpu),
    memoryLimit: pick('sidecar.istio.io/proxyMemoryLimit', res?.limits?.memory),
    proxyConfigAnnotation,
    problems,
  };
}

function olderFirst(a: KubeObject, b: KubeObject): number {
  const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
  return ta !== tb ? ta - tb : a.metadata.name.localeCompare(b.metadata.name);
}

/** Which Sidecar resource configures this workload's proxy. */
export function sidecarScope(snapshot: MeshSnapshot, pod: KubeObject, problems: SpecProblem[] = []): SidecarScope {
  const ns = pod.metadata.namespace ?? '';
  const rootNamespace = snapshot.meshConfig.rootNamespace ?? 'istio-system';
  const parsed = (list: readonly KubeObject[]) =>
    [...list]
      .sort(olderFirst)
      .map((obj) => ({ obj, spec: parseField(obj, sidecarSpecSchema, problems) }))
      .filter((x): x is { obj: KubeObject; spec: NonNullable<typeof x.spec> } => x.spec !== undefined);
  const local = parsed(snapshot.list('Sidecar', ns));
  const selected = local.find(
    (s) => s.spec.workloadSelector?.labels && matchesLabels(s.spec.workloadSelector.labels, pod.metadata.labels),
  );
  const nsDefault = local.find((s) => !s.spec.workloadSelector?.labels);
  const rootDefault = parsed(snapshot.list('Sidecar', rootNamespace)).find((s) => !s.spec.workloadSelector?.labels);
  const pick = selected
    ? { level: 'workload' as const, s: selected }
    : nsDefault
      ? { level: 'namespace' as const, s: nsDefault }
      : rootDefault
        ? { level: 'root' as const, s: rootDefault }
        : undefined;
  if (!pick) {
    return {
      level: 'none',
      egressHosts: [],
      text: 'no Sidecar resource: the proxy gets configuration for every service it can see',
    };
  }
  const egressHosts = (pick.s.spec.egress ?? []).flatMap((e) => e.hosts);
  const ref = refOf(pick.s.obj);
  const how = {
    workload: 'selects this workload',
    namespace: 'is the namespace default',
    root: 'is the mesh-wide default in the root namespace',
  }[pick.level];
  return {
    level: pick.level,
    sidecar: ref,
    egressHosts,
    outboundTrafficPolicy: pick.s.spec.outboundTrafficPolicy?.mode,
    text: `Sidecar ${ref.namespace}/${ref.name} ${how}${egressHosts.length ? `; egress limited to ${egressHosts.join(', ')}` : ''}`,
  };
}
