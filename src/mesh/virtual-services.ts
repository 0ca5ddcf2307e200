// Which VirtualServices concern a Service (and the pods behind it), summarized as plain data plus
// words: route matches, weights, subsets, fault injection, retries and the like.
import type { MeshSnapshot } from './snapshot.ts';
import type { SubsetIndex } from './destination-rules.ts';
import { exportScope, hostCovers, resolveHost, serviceFqdn } from './hosts.ts';
import type { ExportScope } from './hosts.ts';
import { parseField, virtualServiceSpecSchema } from './istio-specs.ts';
import type { HttpMatch, HttpRoute, SpecProblem, StringMatch, TcpRoute } from './istio-specs.ts';
import { refOf, refText } from './object-ref.ts';
import type { ObjectRef } from './object-ref.ts';

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
  if (f?.delay)
    out.push(`fault: delay ${f.delay.fixedDelay ?? '?'} for ${f.delay.percentage?.value ?? 100}% of requests`);
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
  if (route.redirect)
    out.push(
      `redirect (${Object.entries(route.redirect)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(', ')})`,
    );
  if (route.mirror)
    out.push(`mirror to ${route.mirror.host}${route.mirror.subset ? ` subset ${route.mirror.subset}` : ''}`);
  return out;
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
  const reachesPod = destinations.some(
    (d) => d.toThisService && d.weight > 0 && (d.subset === undefined || d.subsetSelectsPod === true),
  );
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
        if (!subsets.hasRule)
          warnings.push(`route to subset ${d.subset} but no DestinationRule defines subsets for ${d.host}`);
        else if (!subsets.matching.has(d.subset) && !subsets.nonMatching.has(d.subset)) {
          warnings.push(`route to unknown subset ${d.subset} of ${d.host}`);
        } else if (subsets.empty.has(d.subset) && d.weight > 0) {
          const route = r.name ?? `${r.kind.toUpperCase()} route #${r.index + 1}`;
          warnings.push(
            `${route} sends ${d.weight}% to subset ${d.subset}, which selects no pods: those requests fail (503, no healthy upstream)`,
          );
        }
      }
    }
    if (routesToService && !routes.some((r) => r.reachesPod))
      warnings.push('no route of this VirtualService sends traffic to these pods');
    // A VirtualService bound only to gateways (no `mesh`) routes at those gateways; sidecar callers never see it.
    if (hostsCoverService && !routesToService && routes.length > 0 && gateways.includes('mesh')) {
      warnings.push(
        `no route sends traffic to ${svcName}: it captures requests for the service and sends them all elsewhere (for callers in ${exportTo.text})`,
      );
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
