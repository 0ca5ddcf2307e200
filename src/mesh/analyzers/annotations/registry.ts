// Istio's annotations (istio.io/api annotation registry): where each may be placed, its maturity, and
// whether it is deprecated, plus the value checks the injector applies. Facts transcribed from Istio's
// published annotation reference; keep in step with istio/api when Istio adds annotations.

export type Maturity = 'Alpha' | 'Beta' | 'Stable';

export interface AnnotationDef {
  name: string;
  /** Kinds it belongs on; 'Any' for every kind. */
  resources: readonly string[];
  status?: Maturity;
  deprecated?: boolean;
  /** Set by Istio itself (injector, CNI, controllers), not by users. Informational: as Istio, the analyzers skip only ALWAYS_IGNORED_ANNOTATIONS. */
  setByIstio?: boolean;
}

const pod = (name: string, status: Maturity | undefined, extra: Partial<AnnotationDef> = {}): AnnotationDef => ({
  name,
  resources: ['Pod'],
  ...(status ? { status } : {}),
  ...extra,
});
const any = (name: string, status: Maturity | undefined, extra: Partial<AnnotationDef> = {}): AnnotationDef => ({
  name,
  resources: ['Any'],
  ...(status ? { status } : {}),
  ...extra,
});

const DEFS: AnnotationDef[] = [
  { name: 'alpha.istio.io/kubernetes-serviceaccounts', resources: ['Service'], status: 'Alpha' },
  { name: 'alpha.istio.io/canonical-serviceaccounts', resources: ['Service'], status: 'Alpha' },
  pod('ambient.istio.io/bypass-inbound-capture', 'Alpha'),
  pod('ambient.istio.io/dns-capture', 'Alpha'),
  pod('ambient.istio.io/redirection', 'Alpha', { setByIstio: true }),
  any('ambient.istio.io/waypoint-inbound-binding', 'Alpha'),
  any('galley.istio.io/analyze-suppress', 'Alpha'),
  any('gateway.istio.io/controller-version', undefined, { setByIstio: true }),
  any('gateway.istio.io/service-account', 'Alpha'),
  any('gateway.istio.io/name-override', 'Alpha'),
  pod('inject.istio.io/templates', 'Alpha'),
  any('install.operator.istio.io/chart-owner', 'Alpha'),
  any('install.operator.istio.io/owner-generation', 'Alpha'),
  any('install.operator.istio.io/version', 'Alpha'),
  { name: 'istio.io/dry-run', resources: ['AuthorizationPolicy'], status: 'Alpha' },
  any('istio.io/rev', undefined, { setByIstio: true }),
  { name: 'kubernetes.io/ingress.class', resources: ['Ingress'], status: 'Stable' },
  { name: 'networking.istio.io/exportTo', resources: ['Service'], status: 'Alpha' },
  { name: 'networking.istio.io/traffic-distribution', resources: ['Service'], status: 'Alpha' },
  { name: 'networking.istio.io/address-type', resources: ['Gateway'], status: 'Alpha' },
  { name: 'networking.istio.io/service-type', resources: ['Gateway'], status: 'Alpha' },
  pod('prometheus.istio.io/merge-metrics', 'Alpha'),
  pod('proxy.istio.io/config', 'Beta'),
  pod('proxy.istio.io/overrides', undefined, { setByIstio: true }),
  pod('readiness.status.sidecar.istio.io/applicationPorts', 'Alpha'),
  pod('readiness.status.sidecar.istio.io/failureThreshold', 'Alpha'),
  pod('readiness.status.sidecar.istio.io/initialDelaySeconds', 'Alpha'),
  pod('readiness.status.sidecar.istio.io/periodSeconds', 'Alpha'),
  pod('sidecar.istio.io/agentLogLevel', 'Alpha'),
  pod('sidecar.istio.io/bootstrapOverride', 'Alpha'),
  pod('sidecar.istio.io/componentLogLevel', 'Alpha'),
  pod('sidecar.istio.io/controlPlaneAuthPolicy', 'Alpha', { deprecated: true }),
  pod('sidecar.istio.io/discoveryAddress', 'Alpha', { deprecated: true }),
  pod('sidecar.istio.io/enableCoreDump', 'Alpha'),
  pod('sidecar.istio.io/extraStatTags', 'Alpha'),
  pod('sidecar.istio.io/inject', 'Beta', { deprecated: true }),
  pod('sidecar.istio.io/interceptionMode', 'Alpha'),
  pod('sidecar.istio.io/logLevel', 'Alpha'),
  pod('sidecar.istio.io/nativeSidecar', 'Alpha'),
  pod('sidecar.istio.io/proxyCPU', 'Alpha'),
  pod('sidecar.istio.io/proxyCPULimit', 'Alpha'),
  pod('sidecar.istio.io/proxyImage', 'Alpha'),
  pod('sidecar.istio.io/proxyImageType', 'Alpha'),
  pod('sidecar.istio.io/proxyMemory', 'Alpha'),
  pod('sidecar.istio.io/proxyMemoryLimit', 'Alpha'),
  pod('sidecar.istio.io/rewriteAppHTTPProbers', 'Alpha'),
  pod('sidecar.istio.io/statsCompression', 'Alpha'),
  pod('sidecar.istio.io/statsFlushInterval', 'Alpha'),
  pod('sidecar.istio.io/statsHistogramBuckets', 'Alpha'),
  pod('sidecar.istio.io/statsInclusionPrefixes', 'Alpha', { deprecated: true }),
  pod('sidecar.istio.io/statsInclusionRegexps', 'Alpha', { deprecated: true }),
  pod('sidecar.istio.io/statsInclusionSuffixes', 'Alpha', { deprecated: true }),
  pod('sidecar.istio.io/status', 'Alpha', { setByIstio: true }),
  pod('sidecar.istio.io/userVolume', 'Alpha'),
  pod('sidecar.istio.io/userVolumeMount', 'Alpha'),
  pod('status.sidecar.istio.io/port', 'Alpha'),
  any('topology.istio.io/controlPlaneClusters', 'Alpha'),
  { name: 'traffic.istio.io/nodeSelector', resources: ['Service'], status: 'Alpha' },
  pod('traffic.sidecar.istio.io/excludeInboundPorts', 'Alpha'),
  pod('traffic.sidecar.istio.io/excludeInterfaces', 'Alpha'),
  pod('traffic.sidecar.istio.io/excludeOutboundIPRanges', 'Alpha'),
  pod('traffic.sidecar.istio.io/excludeOutboundPorts', 'Alpha'),
  pod('traffic.sidecar.istio.io/includeInboundPorts', 'Alpha'),
  pod('traffic.sidecar.istio.io/includeOutboundIPRanges', 'Alpha'),
  pod('traffic.sidecar.istio.io/includeOutboundPorts', 'Alpha'),
  pod('traffic.sidecar.istio.io/kubevirtInterfaces', 'Alpha'),
];

const byName = new Map(DEFS.map((d) => [d.name, d]));

export function lookupAnnotation(name: string): AnnotationDef | undefined {
  return byName.get(name);
}

/** Annotations in Istio's namespace (`*istio.io/...`), plus the one Kubernetes annotation Istio documents. */
export function isIstioAnnotation(name: string): boolean {
  if (name === 'kubernetes.io/ingress.class') return true;
  return (name.split('/')[0] ?? '').endsWith('istio.io');
}

/**
 * maturity.AlwaysIgnoredAnnotations: set by Istio itself (the injector's status, the gateway controller's version, the
 * revision, ztunnel's redirection), so neither analyzer reports them.
 */
export const ALWAYS_IGNORED_ANNOTATIONS: ReadonlySet<string> = new Set([
  'sidecar.istio.io/status',
  'gateway.istio.io/controller-version',
  'istio.io/rev',
  // Not in every version of Istio's list; the pinned version's own test case (misannotated.yaml,
  // ignore-istio-annotations) expects no message for it: istio-cni writes it.
  'ambient.istio.io/redirection',
]);

/**
 * maturity's conditionallyIgnoredAnnotations: the injector writes these on a pod by default when Istio CNI does the
 * redirection (Istio takes a pod without an `istio-init` init container as one), so AlphaAnalyzer skips them there.
 */
export const CNI_DEFAULT_ANNOTATIONS: ReadonlySet<string> = new Set([
  'sidecar.istio.io/interceptionMode',
  'traffic.sidecar.istio.io/includeInboundPorts',
  'traffic.sidecar.istio.io/excludeInboundPorts',
  'traffic.sidecar.istio.io/includeOutboundIPRanges',
]);

const uint32 = (v: string) =>
  /^\d+$/.test(v) && Number(v) <= 0xffffffff
    ? undefined
    : `strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`;
const port = (v: string) => {
  if (!/^\d+$/.test(v)) return `failed parsing port ${JSON.stringify(v)}`;
  const n = Number(v);
  return n > 0 && n <= 65535 ? undefined : `port number ${n} must be in the range 1..65535`;
};
const portList = (v: string) => {
  if (v.trim() === '') return undefined;
  for (const p of v.split(',')) {
    const problem = port(p.trim());
    if (problem) return problem;
  }
  return undefined;
};
const cidr = (c: string) => /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/.test(c) || /^[0-9a-fA-F:]+\/\d{1,3}$/.test(c);
const cidrList = (v: string) => {
  if (v.trim() === '') return undefined;
  for (const c of v.split(',')) if (!cidr(c.trim())) return `invalid CIDR ${JSON.stringify(c.trim())}`;
  return undefined;
};
const starOr = (check: (v: string) => string | undefined) => (v: string) => (v.trim() === '*' ? undefined : check(v));

/** Value checks the sidecar injector applies (inject.AnnotationValidation); an error message, or undefined when valid. */
export const ANNOTATION_VALIDATION: Readonly<Record<string, (value: string) => string | undefined>> = {
  'readiness.status.sidecar.istio.io/initialDelaySeconds': uint32,
  'readiness.status.sidecar.istio.io/periodSeconds': uint32,
  'readiness.status.sidecar.istio.io/failureThreshold': uint32,
  'readiness.status.sidecar.istio.io/applicationPorts': portList,
  'status.sidecar.istio.io/port': (v) => (v === '0' ? undefined : port(v)),
  'sidecar.istio.io/interceptionMode': (v) =>
    ['REDIRECT', 'TPROXY', 'NONE'].includes(v) ? undefined : `interceptionMode invalid, use REDIRECT,TPROXY,NONE: ${v}`,
  'traffic.sidecar.istio.io/includeOutboundIPRanges': starOr(cidrList),
  'traffic.sidecar.istio.io/excludeOutboundIPRanges': cidrList,
  'traffic.sidecar.istio.io/includeInboundPorts': starOr(portList),
  'traffic.sidecar.istio.io/excludeInboundPorts': portList,
  'traffic.sidecar.istio.io/includeOutboundPorts': portList,
  'traffic.sidecar.istio.io/excludeOutboundPorts': portList,
};
