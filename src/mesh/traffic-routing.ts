// Which VirtualServices and DestinationRules concern a Service (and the pods behind it), summarized
// as plain data plus words: route matches, weights, subsets, traffic policies.
import type { KubeObject } from '../kube/objects.ts';
import { matchesLabels } from '../kube/objects.ts';
import type { MeshSnapshot } from './snapshot.ts';
import { exportScope, hostCovers, hostsOverlap, resolveHost, serviceFqdn, gatewayHostPart } from './hosts.ts';
import type { ExportScope } from './hosts.ts';
import {
  destinationRuleSpecSchema,
  gatewaySpecSchema,
  parseField,
  podSpecSchema,
  serviceSpecSchema,
  serviceStatusSchema,
  virtualServiceSpecSchema,
} from './istio-specs.ts';
import type {
  HttpMatch,
  HttpRoute,
  PortTrafficPolicy,
  SpecProblem,
  StringMatch,
  TcpRoute,
  TrafficPolicy,
} from './istio-specs.ts';
import { convertProtocol } from './port-protocol.ts';

export interface ObjectRef {
  kind: string;
  namespace: string;
  name: string;
}

export function refOf(obj: KubeObject): ObjectRef {
  return { kind: obj.kind, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name };
}

export function refText(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}

// --- VirtualService ---

export interface UriMatch {
  kind: 'exact' | 'prefix' | 'regex';
  value: string;
}

export interface RouteMatch {
  uri?: UriMatch;
  ignoreUriCase: boolean;
  headers: { name: string; match: UriMatch }[];
  /** Other conditions in words (method, authority, query params, port, source labels, gateways, SNI). */
  other: string[];
  text: string;
}

export interface RouteDestinationSummary {
  host: string;
  fqdn: string;
  subset?: string;
  port?: number;
  /** Percent of this route's traffic; a lone destination without weight gets 100. */
  weight: number;
  /** The destination is the service being described. */
  toThisService: boolean;
  /** For a subset of this service: does the subset select the pod(s) being described? */
  subsetSelectsPod?: boolean;
}

export interface RouteSummary {
  kind: 'http' | 'tls' | 'tcp';
  index: number;
  name?: string;
  /** Empty: the route matches everything that reaches it. */
  matches: RouteMatch[];
  destinations: RouteDestinationSummary[];
  /** Some traffic of this route lands on the described pod(s). */
  reachesPod: boolean;
  /** Fault injection, retries, timeout, rewrite, redirect, mirror, in words. */
  extras: string[];
  text: string;
}

export interface VirtualServiceSummary {
  ref: ObjectRef;
  hosts: string[];
  /** `mesh` when absent (sidecars); otherwise the Gateways it binds to, as namespace/name or `mesh`. */
  gateways: string[];
  appliesToSidecars: boolean;
  exportTo: ExportScope;
  /** The VirtualService captures traffic addressed to the service (its hosts cover the service FQDN). */
  hostsCoverService: boolean;
  /** Some route sends traffic to the service. */
  routesToService: boolean;
  routes: RouteSummary[];
  warnings: string[];
}

function stringMatchOf(sm: StringMatch | undefined): UriMatch | undefined {
  if (!sm) return undefined;
  if (sm.exact !== undefined) return { kind: 'exact', value: sm.exact };
  if (sm.prefix !== undefined) return { kind: 'prefix', value: sm.prefix };
  if (sm.regex !== undefined) return { kind: 'regex', value: sm.regex };
  return undefined;
}

function stringMatchWords(m: UriMatch): string {
  if (m.kind === 'exact') return `is ${m.value}`;
  if (m.kind === 'prefix') return `starts with ${m.value}`;
  return `matches regex ${m.value}`;
}

function summarizeHttpMatch(m: HttpMatch): RouteMatch {
  const uri = stringMatchOf(m.uri);
  const headers = Object.entries(m.headers ?? {})
    .map(([name, sm]) => ({ name, match: stringMatchOf(sm) }))
    .filter((h): h is { name: string; match: UriMatch } => h.match !== undefined)
    .sort((a, b) => a.name.localeCompare(b.name));
  const other: string[] = [];
  const method = stringMatchOf(m.method);
  if (method) other.push(`method ${stringMatchWords(method)}`);
  const authority = stringMatchOf(m.authority);
  if (authority) other.push(`authority ${stringMatchWords(authority)}`);
  const scheme = stringMatchOf(m.scheme);
  if (scheme) other.push(`scheme ${stringMatchWords(scheme)}`);
  for (const [name, sm] of Object.entries(m.queryParams ?? {})) {
    const q = stringMatchOf(sm);
    if (q) other.push(`query ${name} ${stringMatchWords(q)}`);
  }
  if (m.port !== undefined) other.push(`port ${m.port}`);
  if (m.sourceLabels) other.push(`from workloads labelled ${labelText(m.sourceLabels)}`);
  if (m.sourceNamespace) other.push(`from namespace ${m.sourceNamespace}`);
  if (m.gateways) other.push(`via gateways ${m.gateways.join(', ')}`);
  const parts: string[] = [];
  if (uri) parts.push(`URI ${stringMatchWords(uri)}${m.ignoreUriCase ? ' (any case)' : ''}`);
  for (const h of headers) parts.push(`header ${h.name} ${stringMatchWords(h.match)}`);
  parts.push(...other);
  return { uri, ignoreUriCase: m.ignoreUriCase ?? false, headers, other, text: parts.join(' and ') || 'everything' };
}

function summarizeL4Match(m: NonNullable<TcpRoute['match']>[number]): RouteMatch {
  const other: string[] = [];
  if (m.port !== undefined) other.push(`port ${m.port}`);
  if (m.sniHosts) other.push(`SNI ${m.sniHosts.join(', ')}`);
  if (m.destinationSubnets) other.push(`destination subnets ${m.destinationSubnets.join(', ')}`);
  if (m.sourceLabels) other.push(`from workloads labelled ${labelText(m.sourceLabels)}`);
  if (m.gateways) other.push(`via gateways ${m.gateways.join(', ')}`);
  return { ignoreUriCase: false, headers: [], other, text: other.join(' and ') || 'everything' };
}

export function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function httpExtras(route: HttpRoute): string[] {
  const out: string[] = [];
  const f = route.fault;
  if (f?.delay) out.push(`fault: delay ${f.delay.fixedDelay ?? '?'} for ${f.delay.percentage?.value ?? 100}% of requests`);
  if (f?.abort) {
    const what = f.abort.httpStatus !== undefined ? `HTTP ${f.abort.httpStatus}` : `gRPC ${f.abort.grpcStatus ?? '?'}`;
    out.push(`fault: abort with ${what} for ${f.abort.percentage?.value ?? 100}% of requests`);
  }
  if (route.retries) {
    const r = route.retries;
    out.push(
      `retries: ${r.attempts ?? 'default'} attempts${r.perTryTimeout ? `, ${r.perTryTimeout} per try` : ''}${r.retryOn ? ` on ${r.retryOn}` : ''}`,
    );
  }
  if (route.timeout) out.push(`timeout: ${route.timeout}`);
  if (route.rewrite?.uri !== undefined) out.push(`rewrite URI to ${route.rewrite.uri}`);
  if (route.rewrite?.authority !== undefined) out.push(`rewrite authority to ${route.rewrite.authority}`);
  if (route.redirect) out.push(`redirect (${Object.entries(route.redirect).map(([k, v]) => `${k}=${String(v)}`).join(', ')})`);
  if (route.mirror) out.push(`mirror to ${route.mirror.host}${route.mirror.subset ? ` subset ${route.mirror.subset}` : ''}`);
  return out;
}

/** The subsets of a service's DestinationRule(s) that select any of the given pods' labels. */
export interface SubsetIndex {
  matching: Set<string>;
  nonMatching: Set<string>;
  /** Subsets that select no pod of the service at all: traffic sent there fails (503, no healthy upstream). */
  empty: Set<string>;
  /** A DestinationRule defines subsets for the service at all. */
  hasRule: boolean;
}

function summarizeRoute(
  kind: RouteSummary['kind'],
  index: number,
  route: HttpRoute | TcpRoute,
  vsNamespace: string,
  svcFqdn: string,
  subsets: SubsetIndex,
): RouteSummary {
  const dests = route.route ?? [];
  const destinations: RouteDestinationSummary[] = dests.map((d) => {
    const fqdn = resolveHost(d.destination.host, vsNamespace);
    const toThisService = fqdn === svcFqdn;
    const subset = d.destination.subset;
    return {
      host: d.destination.host,
      fqdn,
      subset,
      port: d.destination.port?.number,
      weight: d.weight ?? (dests.length === 1 ? 100 : 0),
      toThisService,
      subsetSelectsPod: toThisService && subset !== undefined ? subsets.matching.has(subset) : undefined,
    };
  });
  const matches =
    kind === 'http'
      ? ((route as HttpRoute).match ?? []).map(summarizeHttpMatch)
      : ((route as TcpRoute).match ?? []).map(summarizeL4Match);
  const reachesPod = destinations.some((d) => d.toThisService && d.weight > 0 && (d.subset === undefined || d.subsetSelectsPod === true));
  const extras = kind === 'http' ? httpExtras(route as HttpRoute) : [];
  const when = matches.length === 0 ? 'everything' : matches.map((m) => m.text).join(', or ');
  const to = destinations
    .map((d) => `${d.host}${d.subset ? ` subset ${d.subset}` : ''}${d.port ? ` port ${d.port}` : ''} (${d.weight}%)`)
    .join(', ');
  const name = kind === 'http' ? (route as HttpRoute).name : undefined;
  const text = `${kind.toUpperCase()} route ${name ?? `#${index + 1}`}: ${when} → ${to || 'no destination'}${extras.length ? `; ${extras.join('; ')}` : ''}`;
  return { kind, index, name, matches, destinations, reachesPod, extras, text };
}

/**
 * VirtualServices that concern a service: their hosts cover the service's FQDN, or one of their
 * routes sends traffic to it. Subset facts come from `subsets` (the pods' view of the DRs).
 */
export function virtualServicesForService(
  snapshot: MeshSnapshot,
  svcName: string,
  svcNamespace: string,
  subsets: SubsetIndex,
  problems: SpecProblem[] = [],
): VirtualServiceSummary[] {
  const fqdn = serviceFqdn(svcName, svcNamespace);
  const out: VirtualServiceSummary[] = [];
  for (const vs of snapshot.list('VirtualService')) {
    const spec = parseField(vs, virtualServiceSpecSchema, problems);
    if (!spec) continue;
    const ns = vs.metadata.namespace ?? '';
    const exportTo = exportScope(spec.exportTo, ns);
    const hostsCoverService = spec.hosts.some((h) => hostCovers(resolveHost(h, ns), fqdn));
    const routes: RouteSummary[] = [
      ...(spec.http ?? []).map((r, i) => summarizeRoute('http', i, r, ns, fqdn, subsets)),
      ...(spec.tls ?? []).map((r, i) => summarizeRoute('tls', i, r, ns, fqdn, subsets)),
      ...(spec.tcp ?? []).map((r, i) => summarizeRoute('tcp', i, r, ns, fqdn, subsets)),
    ];
    const routesToService = routes.some((r) => r.destinations.some((d) => d.toThisService));
    if (!hostsCoverService && !routesToService) continue;
    const gateways = (spec.gateways && spec.gateways.length > 0 ? spec.gateways : ['mesh']).map((g) =>
      g === 'mesh' || g.includes('/') ? g : `${ns}/${g}`,
    );
    const warnings: string[] = [];
    for (const r of routes) {
      for (const d of r.destinations) {
        if (!d.toThisService || d.subset === undefined) continue;
        if (!subsets.hasRule) warnings.push(`route to subset ${d.subset} but no DestinationRule defines subsets for ${d.host}`);
        else if (!subsets.matching.has(d.subset) && !subsets.nonMatching.has(d.subset)) {
          warnings.push(`route to unknown subset ${d.subset} of ${d.host}`);
        } else if (subsets.empty.has(d.subset) && d.weight > 0) {
          warnings.push(`${r.name ?? `${r.kind.toUpperCase()} route #${r.index + 1}`} sends ${d.weight}% to subset ${d.subset}, which selects no pods: those requests fail (503, no healthy upstream)`);
        }
      }
    }
    if (routesToService && !routes.some((r) => r.reachesPod)) warnings.push('no route of this VirtualService sends traffic to these pods');
    // A VirtualService bound only to gateways (no `mesh`) routes at those gateways; sidecar callers never see it.
    if (hostsCoverService && !routesToService && routes.length > 0 && gateways.includes('mesh')) {
      warnings.push(`no route sends traffic to ${svcName}: it captures requests for the service and sends them all elsewhere (for callers in ${exportTo.text})`);
    }
    out.push({
      ref: refOf(vs),
      hosts: [...spec.hosts],
      gateways,
      appliesToSidecars: gateways.includes('mesh'),
      exportTo,
      hostsCoverService,
      routesToService,
      routes,
      warnings: [...new Set(warnings)],
    });
  }
  return out.sort((a, b) => refText(a.ref).localeCompare(refText(b.ref)));
}

// --- DestinationRule ---

export type ShortPolicy = 'load balancer' | 'connection pool' | 'outlier detection';

export interface PolicySummary {
  tlsMode?: string;
  /** Present ones, in istioctl's order: load balancer, connection pool, outlier detection. */
  policies: ShortPolicy[];
  /** Each setting in words. */
  details: string[];
}

export interface PortPolicySummary extends PolicySummary {
  port: number;
}

export interface DestinationRuleSummary {
  ref: ObjectRef;
  host: string;
  hostMatch: 'exact' | 'wildcard';
  exportTo: ExportScope;
  matchingSubsets: string[];
  nonMatchingSubsets: string[];
  /** Subsets whose labels select no pod of the service at all. */
  subsetsSelectingNoPods: string[];
  trafficPolicy?: PolicySummary;
  portLevel: PortPolicySummary[];
  /** Traffic policy of the subset(s) the described pods fall into, when they have one. */
  subsetPolicies: { subset: string; policy: PolicySummary; portLevel: PortPolicySummary[] }[];
}

function compactJson(v: unknown): string {
  return JSON.stringify(v).replace(/"([^"]+)":/g, '$1: ').replace(/"/g, '');
}

function summarizePolicy(tp: TrafficPolicy | PortTrafficPolicy): PolicySummary {
  const policies: ShortPolicy[] = [];
  const details: string[] = [];
  if (tp.loadBalancer) {
    policies.push('load balancer');
    const simple = tp.loadBalancer.simple;
    details.push(`load balancer ${typeof simple === 'string' ? simple : compactJson(tp.loadBalancer)}`);
  }
  if (tp.connectionPool) {
    policies.push('connection pool');
    details.push(`connection pool ${compactJson(tp.connectionPool)}`);
  }
  if (tp.outlierDetection) {
    policies.push('outlier detection');
    details.push(`outlier detection ${compactJson(tp.outlierDetection)}`);
  }
  const tlsMode = tp.tls ? (tp.tls.mode ?? 'DISABLE') : undefined;
  if (tlsMode) details.unshift(`TLS mode ${tlsMode}`);
  return { tlsMode, policies, details };
}

function portLevelOf(tp: TrafficPolicy | undefined): PortPolicySummary[] {
  return (tp?.portLevelSettings ?? []).map((p) => ({ port: p.port?.number ?? 0, ...summarizePolicy(p) }));
}

/**
 * DestinationRules whose host covers the service, exact host first. `podLabels` are the labels of
 * the pods being described (a subset "matches" when it selects any of them); `servicePodLabels`
 * are all the service's pods, to find subsets that select nothing.
 */
export function destinationRulesForService(
  snapshot: MeshSnapshot,
  svcName: string,
  svcNamespace: string,
  podLabels: readonly Record<string, string>[],
  servicePodLabels: readonly Record<string, string>[],
  problems: SpecProblem[] = [],
): DestinationRuleSummary[] {
  const fqdn = serviceFqdn(svcName, svcNamespace);
  const out: DestinationRuleSummary[] = [];
  for (const dr of snapshot.list('DestinationRule')) {
    const spec = parseField(dr, destinationRuleSpecSchema, problems);
    if (!spec) continue;
    const ns = dr.metadata.namespace ?? '';
    const host = resolveHost(spec.host, ns);
    if (!hostCovers(host, fqdn)) continue;
    const matchingSubsets: string[] = [];
    const nonMatchingSubsets: string[] = [];
    const subsetsSelectingNoPods: string[] = [];
    const subsetPolicies: DestinationRuleSummary['subsetPolicies'] = [];
    for (const s of spec.subsets ?? []) {
      const selects = (labels: Record<string, string>) => matchesLabels(s.labels ?? {}, labels);
      if (podLabels.some(selects)) {
        matchingSubsets.push(s.name);
        if (s.trafficPolicy) subsetPolicies.push({ subset: s.name, policy: summarizePolicy(s.trafficPolicy), portLevel: portLevelOf(s.trafficPolicy) });
      } else nonMatchingSubsets.push(s.name);
      if (!servicePodLabels.some(selects)) subsetsSelectingNoPods.push(s.name);
    }
    out.push({
      ref: refOf(dr),
      host: spec.host,
      hostMatch: host === fqdn ? 'exact' : 'wildcard',
      exportTo: exportScope(spec.exportTo, ns),
      matchingSubsets,
      nonMatchingSubsets,
      subsetsSelectingNoPods,
      trafficPolicy: spec.trafficPolicy ? summarizePolicy(spec.trafficPolicy) : undefined,
      portLevel: portLevelOf(spec.trafficPolicy),
      subsetPolicies,
    });
  }
  return out.sort((a, b) => (a.hostMatch === b.hostMatch ? refText(a.ref).localeCompare(refText(b.ref)) : a.hostMatch === 'exact' ? -1 : 1));
}

export function subsetIndexOf(rules: readonly DestinationRuleSummary[]): SubsetIndex {
  const matching = new Set<string>();
  const nonMatching = new Set<string>();
  const empty = new Set<string>();
  for (const r of rules) {
    r.matchingSubsets.forEach((s) => matching.add(s));
    r.nonMatchingSubsets.forEach((s) => nonMatching.add(s));
    r.subsetsSelectingNoPods.forEach((s) => empty.add(s));
  }
  return { matching, nonMatching, empty, hasRule: rules.some((r) => r.matchingSubsets.length + r.nonMatchingSubsets.length > 0) };
}

// --- Ingress exposure ---

export interface IngressExposure {
  gateway: ObjectRef;
  /** The gateway Service in front of the gateway pods. */
  service: ObjectRef;
  /** `http://1.1.1.1`, `https://lb.example.com:8443`. */
  url: string;
  virtualService: ObjectRef;
}

/**
 * Where a service is reachable from outside: VirtualServices bound to a Gateway whose selector picks
 * gateway pods (in any namespace, Istio's default), whose server hosts overlap the VirtualService's
 * hosts, fronted by a Service with an address.
 */
export function ingressExposure(snapshot: MeshSnapshot, virtualServices: readonly VirtualServiceSummary[]): IngressExposure[] {
  const out: IngressExposure[] = [];
  const seen = new Set<string>();
  for (const vs of virtualServices) {
    if (!vs.routes.some((r) => r.reachesPod)) continue;
    for (const gw of vs.gateways) {
      if (gw === 'mesh') continue;
      const [gwNs, gwName] = gw.split('/', 2) as [string, string];
      const gateway = snapshot.get('Gateway', gwNs, gwName);
      if (!gateway) continue;
      const spec = parseField(gateway, gatewaySpecSchema);
      if (!spec || !spec.selector) continue;
      const hostsBind = spec.servers.some((s) =>
        s.hosts.some((h) => {
          const part = gatewayHostPart(h);
          if (part.namespace && part.namespace !== '*' && part.namespace !== vs.ref.namespace) return false;
          return vs.hosts.some((vh) => hostsOverlap(part.host, resolveHost(vh, vs.ref.namespace)));
        }),
      );
      if (!hostsBind) continue;
      const selector = spec.selector;
      const gwPods = snapshot.list('Pod').filter((p) => matchesLabels(selector, p.metadata.labels) && podPhase(p) === 'Running');
      const gwNamespaces = [...new Set(gwPods.map((p) => p.metadata.namespace ?? ''))];
      for (const ns of gwNamespaces) {
        for (const svc of snapshot.list('Service', ns)) {
          const svcSpec = parseField(svc, serviceSpecSchema);
          if (!svcSpec?.selector || Object.keys(svcSpec.selector).length === 0) continue;
          const selected = gwPods.filter((p) => p.metadata.namespace === ns && matchesLabels(svcSpec.selector, p.metadata.labels));
          if (selected.length === 0) continue;
          const address = addressOf(svc, selected[0]!);
          for (const port of svcSpec.ports ?? []) {
            if ((port.protocol ?? 'TCP') !== 'TCP') continue;
            const { protocol } = convertProtocol(port);
            const scheme = protocol === 'HTTP' || protocol === 'HTTP2' ? 'http' : protocol === 'HTTPS' ? 'https' : undefined;
            if (!scheme) continue;
            const defaultPort = scheme === 'http' ? 80 : 443;
            const url = `${scheme}://${address}${port.port === defaultPort ? '' : `:${port.port}`}`;
            const key = `${gw}|${ns}/${svc.metadata.name}|${url}|${refText(vs.ref)}`;
            if (seen.has(key)) continue;
            seen.add(key);
            out.push({ gateway: { kind: 'Gateway', namespace: gwNs, name: gwName }, service: refOf(svc), url, virtualService: vs.ref });
          }
        }
      }
    }
  }
  return out.sort((a, b) => a.url.localeCompare(b.url));
}

function addressOf(svc: KubeObject, pod: KubeObject): string {
  const status = parseField(svc, serviceStatusSchema, undefined, 'status');
  const ingress = status?.loadBalancer?.ingress?.[0];
  if (ingress?.ip) return ingress.ip;
  if (ingress?.hostname) return ingress.hostname;
  const podStatus = pod.status as { hostIP?: unknown } | undefined;
  if (typeof podStatus?.hostIP === 'string' && podStatus.hostIP) return podStatus.hostIP;
  return 'unknown';
}

export function podPhase(pod: KubeObject): string | undefined {
  const status = pod.status as { phase?: unknown } | undefined;
  return typeof status?.phase === 'string' ? status.phase : undefined;
}

/** The container port a Service port targets on a pod: a number as is, a name looked up in the pod. */
export function targetPortOn(pod: KubeObject, port: { port: number; targetPort?: number | string }): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const spec = parseField(pod, podSpecSchema);
  for (const c of spec?.containers ?? []) for (const p of c.ports ?? []) if (p.name === target) return p.containerPort;
  return undefined;
}
