// The routing half of the traffic model: which VirtualService route a request follows, which
// destination of a weighted route it lands on, and which pods a DestinationRule subset selects.
// The sandbox's own reading of Istio (istio.io reference for VirtualService and DestinationRule,
// pilot's default retry policy in pilot/pkg/networking/core/route/retry/retry.go), kept apart from
// the bot's src/mesh and src/istio.
//
// What is modelled, and how far:
//   - a VirtualService applies to a sidecar when its `gateways` is empty or names `mesh`; to a
//     gateway pod when it names a Gateway (`name` = the VirtualService's namespace, or `ns/name`)
//     whose selector picks that pod;
//   - visibility: `exportTo` empty or `*` = everywhere, `.` = its own namespace, else the namespaces
//     listed (meshConfig.defaultVirtualServiceExportTo is not read: the default is Istio's, `*`);
//   - hosts: short names are completed with the VirtualService's namespace, `*` and `*.suffix`
//     wildcards match; an exact host beats a wildcard, then the oldest object wins (istiod's
//     conflict rule for sidecars; gateways merge every matching VirtualService, oldest first);
//   - the first http route whose match list is empty or has one entry that matches: uri
//     (exact/prefix/regex), method, headers (exact/prefix/regex), withoutHeaders, port,
//     sourceLabels, sourceNamespace, gateways; other conditions are not read and do not block;
//   - weights: a lone destination takes everything; otherwise a missing weight is 0 and the
//     weights are shares of their sum; request n lands at (n × stride) mod sum, a stride coprime
//     with the sum, so any run of `sum` requests splits exactly by weight and the shares interleave;
//   - retries: the route's `retries.attempts` (0 disables), else Istio's default of 2.
import type { KubeObject } from '../kube/objects.ts';
import { type ClientDecision, clientTlsFor, hostMatches, qualifyHost, selects } from './mesh-policy.ts';
import type { Labels } from './traffic-pods.ts';

export const DEFAULT_RETRIES = 2;

export interface RouteQuery {
  /** The caller: its namespace and labels; `gateways` = `ns/name` of the Gateways selecting it (gateway pods only). */
  caller: { namespace: string; labels: Labels; gateways?: string[] };
  /** The FQDN the caller asked for, the service's namespace, and the service port. */
  host: string;
  serviceNamespace: string;
  port: number;
  path: string;
  method: string;
  headers: Labels;
  /** The request's index in its flow: picks the weighted destination. */
  index: number;
}

export interface RouteDecision {
  /** `namespace/name` of the VirtualService that routed the request, if one did. */
  virtualService?: string;
  /** The http route's name, else Istio's `default` for the implicit route. */
  routeName: string;
  /** Where the request goes: an FQDN, a service port, and a subset when the route names one. */
  destination: { host: string; port: number; subset?: string };
  /** Retries Envoy makes on connect failures. */
  retries: number;
  /** A VirtualService took the host but none of its routes matched: Envoy answers 404 NR. */
  noRoute?: boolean;
}

function record(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function strings(v: unknown): string[] {
  return list(v).filter((x): x is string => typeof x === 'string');
}

function age(o: KubeObject): number {
  return Date.parse(o.metadata.creationTimestamp ?? '') || 0;
}

function exportedTo(vs: KubeObject, namespace: string): boolean {
  const to = strings(record(vs.spec).exportTo);
  if (to.length === 0 || to.includes('*')) return true;
  return to.some((x) => (x === '.' ? vs.metadata.namespace === namespace : x === namespace));
}

/** `name` means the VirtualService's own namespace; `mesh` stays `mesh`. */
function gatewayRefs(names: string[], vsNamespace: string): string[] {
  return names.map((g) => (g === 'mesh' || g.includes('/') ? g : `${vsNamespace}/${g}`));
}

function appliesTo(vs: KubeObject, caller: RouteQuery['caller']): boolean {
  const refs = gatewayRefs(strings(record(vs.spec).gateways), vs.metadata.namespace ?? '');
  if (!caller.gateways) return refs.length === 0 || refs.includes('mesh');
  return refs.some((r) => caller.gateways?.includes(r));
}

function stringMatch(m: unknown, value: string | undefined): boolean {
  const rule = record(m);
  if (value === undefined) return false;
  if (typeof rule.exact === 'string') return value === rule.exact;
  if (typeof rule.prefix === 'string') return value.startsWith(rule.prefix);
  if (typeof rule.regex === 'string') {
    try {
      return new RegExp(`^(?:${rule.regex})$`).test(value);
    } catch {
      return false;
    }
  }
  return true;
}

function matchApplies(m: Record<string, unknown>, q: RouteQuery, vsNamespace: string): boolean {
  if (m.uri !== undefined) {
    const ignoreCase = m.ignoreUriCase === true;
    const path = ignoreCase ? q.path.toLowerCase() : q.path;
    const uri = ignoreCase
      ? Object.fromEntries(Object.entries(record(m.uri)).map(([k, v]) => [k, String(v).toLowerCase()]))
      : m.uri;
    if (!stringMatch(uri, path)) return false;
  }
  if (m.method !== undefined && !stringMatch(m.method, q.method)) return false;
  for (const [name, rule] of Object.entries(record(m.headers)))
    if (!stringMatch(rule, q.headers[name.toLowerCase()])) return false;
  for (const [name, rule] of Object.entries(record(m.withoutHeaders)))
    if (stringMatch(rule, q.headers[name.toLowerCase()])) return false;
  if (typeof m.port === 'number' && m.port !== q.port) return false;
  if (m.sourceLabels !== undefined && !selects(record(m.sourceLabels) as Labels, q.caller.labels)) return false;
  if (typeof m.sourceNamespace === 'string' && m.sourceNamespace !== q.caller.namespace) return false;
  const gws = strings(m.gateways);
  if (gws.length > 0) {
    const refs = gatewayRefs(gws, vsNamespace);
    const mine = q.caller.gateways ?? ['mesh'];
    if (!refs.some((r) => mine.includes(r))) return false;
  }
  return true;
}

/** A stride coprime with `total` near its golden section, so consecutive requests spread across the shares. */
function strideFor(total: number): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  for (let s = Math.max(1, Math.round(total * 0.618)); s < total + 2; s++) if (gcd(s, total) === 1) return s;
  return 1;
}

/** The destination a weighted route gives request `index`. */
export function pickWeighted<T extends { weight?: number }>(destinations: T[], index: number): T | undefined {
  if (destinations.length <= 1) return destinations[0];
  const weights = destinations.map((d) => (typeof d.weight === 'number' && d.weight > 0 ? d.weight : 0));
  const total = weights.reduce((a, b) => a + b, 0);
  if (total === 0) return destinations[0];
  let at = (Math.abs(index) * strideFor(total)) % total;
  for (let i = 0; i < destinations.length; i++) {
    at -= weights[i] ?? 0;
    if (at < 0) return destinations[i];
  }
  return destinations[destinations.length - 1];
}

/** The route a request takes; without an applicable VirtualService, the Service itself on the same port. */
export function routeFor(virtualServices: readonly KubeObject[], q: RouteQuery): RouteDecision {
  const plain: RouteDecision = {
    routeName: 'default',
    destination: { host: q.host, port: q.port },
    retries: DEFAULT_RETRIES,
  };
  const candidates = virtualServices
    .filter((vs) => exportedTo(vs, q.caller.namespace) && appliesTo(vs, q.caller))
    .map((vs) => {
      const hosts = strings(record(vs.spec).hosts).map((h) => qualifyHost(h, vs.metadata.namespace ?? ''));
      return { vs, exact: hosts.includes(q.host), any: hosts.some((h) => hostMatches(h, q.host)) };
    })
    .filter((c) => c.any)
    .sort((a, b) => Number(b.exact) - Number(a.exact) || age(a.vs) - age(b.vs));
  if (candidates.length === 0) return plain;
  // A sidecar takes one VirtualService per host; a gateway merges them, oldest first.
  const chosen = q.caller.gateways ? candidates : candidates.slice(0, 1);
  for (const { vs } of chosen) {
    const ns = vs.metadata.namespace ?? '';
    for (const route of list(record(vs.spec).http)) {
      const r = record(route);
      const matches = list(r.match).map(record);
      if (matches.length > 0 && !matches.some((m) => matchApplies(m, q, ns))) continue;
      const dests = list(r.route)
        .map(record)
        .map((d): Record<string, unknown> & { weight?: number } => ({
          ...record(d.destination),
          weight: typeof d.weight === 'number' ? d.weight : undefined,
        }));
      const picked = pickWeighted(dests, q.index);
      if (!picked) continue;
      const host = qualifyHost(String(picked.host ?? ''), ns);
      const port = record(picked.port).number;
      const attempts = record(r.retries).attempts;
      return {
        virtualService: `${ns}/${vs.metadata.name}`,
        routeName: typeof r.name === 'string' && r.name !== '' ? r.name : 'default',
        destination: {
          host,
          port: typeof port === 'number' ? port : q.port,
          subset: typeof picked.subset === 'string' && picked.subset !== '' ? picked.subset : undefined,
        },
        retries: typeof attempts === 'number' ? Math.max(0, attempts) : DEFAULT_RETRIES,
      };
    }
  }
  const first = chosen[0]!.vs;
  return { ...plain, virtualService: `${first.metadata.namespace}/${first.metadata.name}`, noRoute: true };
}

export interface SubsetDecision {
  /** The DestinationRule that applies to the caller for this host (`namespace/name`). */
  rule?: string;
  /** The subset's labels; undefined when the subset is not defined (no cluster: Envoy answers 503 NC). */
  labels?: Labels;
}

/**
 * The labels a subset adds to the Service's selector, from the DestinationRule the caller's sidecar
 * applies toward the host (the same lookup as its TLS mode: mesh-policy.ts clientTlsFor).
 */
export function subsetLabels(
  destinationRules: readonly KubeObject[],
  caller: { namespace: string; labels: Labels },
  target: { host: string; serviceNamespace: string; port: number },
  subset: string,
): SubsetDecision {
  const decision: ClientDecision = clientTlsFor(destinationRules, caller, target);
  if (!decision.by) return {};
  const [ns, name] = decision.by.split('/') as [string, string];
  // istiod merges the subsets of rules for the same host in one namespace: the deciding rule first.
  const rules = destinationRules
    .filter((r) => r.metadata.namespace === ns)
    .filter((r) => r.metadata.name === name || qualifyHost(String(record(r.spec).host ?? ''), ns) === target.host)
    .sort((a, b) => Number(b.metadata.name === name) - Number(a.metadata.name === name) || age(a) - age(b));
  const found = rules.flatMap((r) => list(record(r.spec).subsets).map(record)).find((s) => s.name === subset);
  if (!found) return { rule: decision.by };
  const labels = Object.fromEntries(
    Object.entries(record(found.labels)).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
  return { rule: decision.by, labels };
}

/** The `ns/name` of every Gateway whose selector picks a pod with these labels (in any namespace). */
export function gatewaysSelecting(gateways: readonly KubeObject[], labels: Labels): string[] {
  return gateways
    .filter((g) => {
      const sel = record(record(g.spec).selector) as Labels;
      return Object.keys(sel).length > 0 && selects(sel, labels);
    })
    .map((g) => `${g.metadata.namespace}/${g.metadata.name}`);
}

/** `<name>.<namespace>.svc.cluster.local` back to the Service it names; undefined for any other host. */
export function parseServiceHost(host: string): { name: string; namespace: string } | undefined {
  const m = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local$/.exec(host);
  return m ? { name: m[1]!, namespace: m[2]! } : undefined;
}
