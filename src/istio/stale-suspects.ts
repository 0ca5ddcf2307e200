// The config behind a proxy's trouble, for /mesh stale: follow what the NACK names (a cluster → its
// Service, port and DestinationRule subset; a listener or route → its port, Gateway or VirtualService)
// to the objects that build it, keep only changes made before the push that went wrong, and name the
// field Envoy's text points at. With nothing named (a STALE type), only a change of a kind that builds
// that type, shortly before the push, is a suspect. Otherwise: no config change precedes this.
import type { KubeObject } from '../kube/objects.ts';
import { matchesLabels } from '../kube/objects.ts';
import { exportScope, hostCovers, isVisibleFrom, resolveHost } from '../mesh/hosts.ts';
import type { MeshSnapshot } from '../mesh/snapshot.ts';
import {
  type ClusterName,
  clusterFieldHints,
  type ListenerName,
  type NamedResource,
  namedInNack,
  pointsAtFilter,
  resourceWords,
  type RouteName,
  serviceOfHost,
} from './stale-evidence.ts';
import type { ConfigChange, Suspect } from './stale-report.ts';

/** A STALE type's suspect changed at most this long before the push (istiod pushes within seconds of a change). */
export const TYPE_ONLY_WINDOW_MS = 15 * 60_000;
/** managedFields times are whole seconds (rounded down); istiod's clock may run a little ahead of the API server's. */
const CLOCK_SKEW_MS = 2_000;

/** Kinds istiod builds each type from, for a STALE type with nothing named. */
const TYPE_KINDS: Record<string, readonly string[]> = {
  CDS: ['DestinationRule', 'ServiceEntry', 'Service', 'Sidecar', 'EnvoyFilter'],
  EDS: ['Service', 'ServiceEntry', 'DestinationRule'],
  LDS: ['VirtualService', 'Gateway', 'Sidecar', 'EnvoyFilter', 'Service', 'ServiceEntry'],
  RDS: ['VirtualService', 'Gateway', 'Sidecar', 'EnvoyFilter', 'ServiceEntry'],
  ECDS: ['EnvoyFilter'],
  SDS: ['Gateway'],
};

export interface SuspectQuery {
  namespace: string;
  /** The affected pods (their labels decide which selectors apply). */
  pods: readonly KubeObject[];
  /** 'router' for gateways. */
  proxyType?: string;
  types: readonly string[];
  errors: ReadonlyArray<{ type: string; message: string }>;
  /** The earliest unacknowledged push (ISO); changes after it are not suspects. */
  since: string;
}

export interface SuspectAnswer {
  named: NamedResource[];
  suspect?: Suspect;
}

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : {});
const recs = (v: unknown): Rec[] => (Array.isArray(v) ? v.map(rec) : []);
const specOf = (o: KubeObject) => rec(o.spec);
const nsOf = (o: KubeObject) => o.metadata.namespace ?? '';

interface Candidate {
  obj: KubeObject;
  builds?: string;
  field?: { path: string; value?: string };
}

export function findSuspect(snapshot: MeshSnapshot, q: SuspectQuery): SuspectAnswer {
  const named = q.errors.flatMap((e) => namedInNack(e.type, e.message));
  const deadline = Date.parse(q.since) + CLOCK_SKEW_MS;
  const before = (c: ConfigChange) => Date.parse(c.changedAt) <= deadline;
  if (named.length) {
    const candidates = named.flatMap((n) => candidatesFor(snapshot, q, n));
    const ranked = candidates
      .map((c) => ({ c, change: changeOf(c.obj) }))
      .filter((x): x is { c: Candidate; change: ConfigChange } => !!x.change && before(x.change));
    const best = ranked.find((x) => x.c.field) ?? ranked[0];
    return best ? { named, suspect: suspectOf(best.change, best.c, 'named', q.since) } : { named };
  }
  const kinds = new Set(q.types.flatMap((t) => TYPE_KINDS[t] ?? []));
  let newest: { change: ConfigChange; obj: KubeObject } | undefined;
  for (const kind of kinds) {
    for (const obj of snapshot.list(kind)) {
      if (!appliesTo(obj, q, snapshot.rootNamespace)) continue;
      const change = changeOf(obj);
      if (!change || !before(change) || Date.parse(change.changedAt) < deadline - TYPE_ONLY_WINDOW_MS) continue;
      if (!newest || change.changedAt > newest.change.changedAt) newest = { change, obj };
    }
  }
  return newest ? { named, suspect: suspectOf(newest.change, { obj: newest.obj }, 'type', q.since) } : { named };
}

function suspectOf(change: ConfigChange, c: Candidate, via: Suspect['via'], since: string): Suspect {
  return {
    ...change,
    via,
    ...(c.builds ? { builds: c.builds } : {}),
    ...(c.field ? { field: c.field } : {}),
    leadMs: Math.max(0, Date.parse(since) - Date.parse(change.changedAt)),
  };
}

/** Does a config object reach these proxies at all (namespace, exportTo, selectors)? */
function appliesTo(obj: KubeObject, q: SuspectQuery, root: string): boolean {
  const ns = nsOf(obj);
  const s = specOf(obj);
  const anyPod = (sel: Record<string, string> | undefined) =>
    q.pods.length === 0 || q.pods.some((p) => matchesLabels(sel, p.metadata.labels));
  switch (obj.kind) {
    case 'Service':
      return ns === q.namespace;
    case 'Sidecar':
    case 'EnvoyFilter': {
      if (ns !== q.namespace && ns !== root) return false;
      const sel = rec(s['workloadSelector'])['labels'] as Record<string, string> | undefined;
      return anyPod(sel);
    }
    case 'Gateway':
      return q.proxyType === 'router' && anyPod(rec(s['selector']) as Record<string, string>);
    case 'DestinationRule': {
      const sel = rec(s['workloadSelector'])['matchLabels'] as Record<string, string> | undefined;
      if (sel) return ns === q.namespace && anyPod(sel);
      return isVisibleFrom(exportScope(s['exportTo'] as string[] | undefined, ns), q.namespace);
    }
    default:
      return isVisibleFrom(exportScope(s['exportTo'] as string[] | undefined, ns), q.namespace);
  }
}

function candidatesFor(snapshot: MeshSnapshot, q: SuspectQuery, n: NamedResource): Candidate[] {
  const r = n.resource;
  const builds = resourceWords(r);
  const found =
    r.type === 'cluster'
      ? clusterCandidates(snapshot, q, r, n.detail)
      : r.type === 'listener'
        ? listenerCandidates(snapshot, q, r, n.detail)
        : routeCandidates(snapshot, q, r, n.detail);
  return found.map((c) => ({ ...c, builds }));
}

function clusterCandidates(snapshot: MeshSnapshot, q: SuspectQuery, r: ClusterName, detail: string): Candidate[] {
  const root = snapshot.rootNamespace;
  if (r.direction === 'inbound')
    return snapshot
      .list('Sidecar', q.namespace)
      .filter((o) => appliesTo(o, q, root))
      .map((obj) => ({ obj }));
  const svc = serviceOfHost(r.host);
  // Istio's precedence: a rule selecting the workload, the proxy's namespace, the service's, the root namespace.
  const rank = (dr: KubeObject) => {
    const s = specOf(dr);
    const selected = rec(s['workloadSelector'])['matchLabels'] ? 0 : 1;
    const ns = nsOf(dr);
    const where = ns === q.namespace ? 0 : ns === svc?.namespace ? 1 : ns === root ? 2 : 3;
    const wildcard = String(s['host'] ?? '').includes('*') ? 1 : 0;
    return selected * 100 + where * 10 + wildcard;
  };
  const hints = clusterFieldHints(detail);
  // A subset's cluster exists only because a rule defines that subset.
  const rules = snapshot
    .list('DestinationRule')
    .filter((dr) => hostCovers(resolveHost(String(specOf(dr)['host'] ?? ''), nsOf(dr)), r.host))
    .filter((dr) => !r.subset || recs(specOf(dr)['subsets']).some((x) => x['name'] === r.subset))
    .filter((dr) => appliesTo(dr, q, root))
    .sort((a, b) => rank(a) - rank(b));
  const out: Candidate[] = rules.map((dr) => {
    const field = locateField(dr, r.subset, r.port, hints);
    return field ? { obj: dr, field } : { obj: dr };
  });
  for (const se of snapshot.list('ServiceEntry')) {
    const hosts = (specOf(se)['hosts'] as string[] | undefined) ?? [];
    if (hosts.some((h) => hostCovers(h, r.host)) && appliesTo(se, q, root)) out.push({ obj: se });
  }
  const service = svc ? snapshot.get('Service', svc.namespace, svc.name) : undefined;
  if (service) out.push({ obj: service });
  return out;
}

/** The deepest path of one of `hints` a DestinationRule sets for this subset and port, most specific first. */
export function locateField(
  dr: KubeObject,
  subset: string,
  port: number,
  hints: readonly string[][],
): { path: string; value?: string } | undefined {
  const s = specOf(dr);
  const bases: Array<{ obj: Rec; path: string }> = [];
  const addPolicy = (tp: unknown, path: string) => {
    if (!tp || typeof tp !== 'object') return;
    recs(rec(tp)['portLevelSettings']).forEach((pl, j) => {
      if (rec(pl['port'])['number'] === port) bases.push({ obj: pl, path: `${path}.portLevelSettings[${j}]` });
    });
    bases.push({ obj: rec(tp), path });
  };
  recs(s['subsets']).forEach((x, i) => {
    if (subset && x['name'] === subset) addPolicy(x['trafficPolicy'], `spec.subsets[${i}].trafficPolicy`);
  });
  addPolicy(s['trafficPolicy'], 'spec.trafficPolicy');
  let best: { path: string; value: unknown; depth: number } | undefined;
  for (const hint of hints) {
    for (const base of bases) {
      let at: unknown = base.obj;
      let depth = 0;
      for (const key of hint) {
        const next = rec(at)[key];
        if (next === undefined) break;
        at = next;
        depth++;
      }
      if (depth === 0) continue;
      const path = `${base.path}.${hint.slice(0, depth).join('.')}`;
      if (depth === hint.length) return { path, ...valueText(at) };
      if (!best || depth > best.depth) best = { path, value: at, depth };
    }
  }
  return best ? { path: best.path, ...valueText(best.value) } : undefined;
}

function valueText(v: unknown): { value?: string } {
  if (v === undefined || v === null) return {};
  const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return { value: text.length > 120 ? `${text.slice(0, 119)}…` : text };
}

// What an EnvoyFilter patch applies to, by the xDS type it changes.
const LISTENER_PATCHES = new Set(['LISTENER', 'FILTER_CHAIN', 'NETWORK_FILTER', 'HTTP_FILTER', 'LISTENER_FILTER']);
const ROUTE_PATCHES = new Set(['ROUTE_CONFIGURATION', 'VIRTUAL_HOST', 'HTTP_ROUTE']);

/** EnvoyFilters with a patch of that kind for this port (one naming the port first), pointing at the patch. */
function envoyFilterCandidates(
  snapshot: MeshSnapshot,
  q: SuspectQuery,
  applyTo: ReadonlySet<string>,
  port?: number,
): Candidate[] {
  const onPort: Candidate[] = [];
  const anyPort: Candidate[] = [];
  for (const ef of snapshot.list('EnvoyFilter')) {
    if (!appliesTo(ef, q, snapshot.rootNamespace)) continue;
    const patches = recs(specOf(ef)['configPatches']);
    const fits = patches
      .map((p, i) => ({ i, p, portNumber: rec(rec(p['match'])['listener'])['portNumber'] }))
      .filter((x) => applyTo.has(String(x.p['applyTo'] ?? '')));
    const exact = fits.find((x) => port !== undefined && x.portNumber === port);
    const loose = fits.find((x) => x.portNumber === undefined);
    const pick = exact ?? loose;
    if (pick) (exact ? onPort : anyPort).push({ obj: ef, field: { path: `spec.configPatches[${pick.i}]` } });
  }
  return [...onPort, ...anyPort];
}

function gatewaysOn(snapshot: MeshSnapshot, q: SuspectQuery, port: number, name?: string, ns?: string): Candidate[] {
  const out: Candidate[] = [];
  for (const gw of snapshot.list('Gateway')) {
    if (name && (gw.metadata.name !== name || nsOf(gw) !== ns)) continue;
    if (!name && !appliesTo(gw, q, snapshot.rootNamespace)) continue;
    const i = recs(specOf(gw)['servers']).findIndex((s) => rec(s['port'])['number'] === port);
    if (i >= 0) out.push({ obj: gw, field: { path: `spec.servers[${i}]` } });
  }
  return out;
}

/** VirtualServices bound to the mesh (sidecars) or to these gateways, for hosts on this port. */
function virtualServicesFor(
  snapshot: MeshSnapshot,
  q: SuspectQuery,
  port: number,
  gateways: readonly KubeObject[],
  host?: string,
): Candidate[] {
  const hostsOnPort = new Set(
    snapshot
      .list('Service')
      .filter((s) => recs(specOf(s)['ports']).some((p) => p['port'] === port))
      .map((s) => `${s.metadata.name}.${nsOf(s)}.svc.cluster.local`),
  );
  const gwNames = new Set(gateways.map((g) => `${nsOf(g)}/${g.metadata.name}`));
  const out: Candidate[] = [];
  for (const vs of snapshot.list('VirtualService')) {
    if (!appliesTo(vs, q, snapshot.rootNamespace)) continue;
    const s = specOf(vs);
    const bound = ((s['gateways'] as string[] | undefined) ?? ['mesh']).map((g) =>
      g === 'mesh' || g.includes('/') ? g : `${nsOf(vs)}/${g}`,
    );
    const forProxy = gateways.length ? bound.some((g) => gwNames.has(g)) : bound.includes('mesh');
    if (!forProxy) continue;
    const hosts = ((s['hosts'] as string[] | undefined) ?? []).map((h) => resolveHost(h, nsOf(vs)));
    const matches = host
      ? hosts.some((h) => hostCovers(h, host) || hostCovers(host, h))
      : gateways.length > 0 || hosts.some((h) => [...hostsOnPort].some((x) => hostCovers(h, x)));
    if (matches) out.push({ obj: vs });
  }
  return out;
}

function listenerCandidates(snapshot: MeshSnapshot, q: SuspectQuery, r: ListenerName, detail: string): Candidate[] {
  const filters = pointsAtFilter(detail) ? envoyFilterCandidates(snapshot, q, LISTENER_PATCHES, r.port) : [];
  if (r.inbound || r.port === undefined)
    return [...filters, ...snapshot.list('Sidecar', q.namespace).map((obj) => ({ obj }))];
  if (q.proxyType === 'router') {
    const gws = gatewaysOn(snapshot, q, r.port);
    return [
      ...filters,
      ...gws,
      ...virtualServicesFor(
        snapshot,
        q,
        r.port,
        gws.map((g) => g.obj),
      ),
    ];
  }
  const services = snapshot
    .list('Service')
    .filter((s) => recs(specOf(s)['ports']).some((p) => p['port'] === r.port))
    .filter((s) => !r.address || r.address === '0.0.0.0' || specOf(s)['clusterIP'] === r.address);
  return [
    ...filters,
    ...virtualServicesFor(snapshot, q, r.port, []),
    ...snapshot.list('Sidecar', q.namespace).map((obj) => ({ obj })),
    ...services.filter((s) => appliesTo(s, q, snapshot.rootNamespace)).map((obj) => ({ obj })),
  ];
}

function routeCandidates(snapshot: MeshSnapshot, q: SuspectQuery, r: RouteName, detail: string): Candidate[] {
  const filters = pointsAtFilter(detail) ? envoyFilterCandidates(snapshot, q, ROUTE_PATCHES, r.port) : [];
  if (r.gateway) {
    const gws = gatewaysOn(snapshot, q, r.port, r.gateway.name, r.gateway.namespace);
    return [
      ...filters,
      ...virtualServicesFor(
        snapshot,
        q,
        r.port,
        gws.map((g) => g.obj),
      ),
      ...gws,
    ];
  }
  if (r.inbound) return [...filters, ...snapshot.list('Sidecar', q.namespace).map((obj) => ({ obj }))];
  return [...filters, ...virtualServicesFor(snapshot, q, r.port, [], r.host)];
}

/** When an object's spec was last written (managedFields, status writes left out), else its creation. */
export function changeOf(obj: KubeObject): ConfigChange | undefined {
  const base = { kind: obj.kind, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name };
  let at: string | undefined;
  let manager: string | undefined;
  // Status writes (e.g. istiod's own analysis status) are not config changes.
  for (const m of (obj.metadata.managedFields ?? []) as Array<{
    time?: string;
    manager?: string;
    subresource?: string;
  }>) {
    if (m.subresource || !m.time || Number.isNaN(Date.parse(m.time))) continue;
    if (!at || Date.parse(m.time) > Date.parse(at)) {
      at = new Date(Date.parse(m.time)).toISOString();
      manager = m.manager;
    }
  }
  if (at) return { ...base, changedAt: at, source: 'managedFields', ...(manager ? { manager } : {}) };
  const created = obj.metadata.creationTimestamp;
  if (created && !Number.isNaN(Date.parse(created)))
    return { ...base, changedAt: new Date(Date.parse(created)).toISOString(), source: 'creationTimestamp' };
  return undefined;
}
