// Host names the way Istio resolves them for analysis: short names become FQDNs in the referring
// object's namespace, visibility follows exportTo, and Kubernetes Services count as service entries.
import type { KubeObject } from '../../../kube/objects.ts';
import type { SnapshotReader } from '../../snapshot.ts';
import { annotations, memo, nsOf, num, rec, recs, spec, str, strMap, strs } from './fields.ts';
import { gvk } from './kinds.ts';

export const EXPORT_TO_ALL = '*';
export const EXPORT_TO_LOCAL = '.';
export const MESH_GATEWAY = 'mesh';

export function clusterDomain(snapshot: SnapshotReader): string {
  return str(snapshot.meshConfig['clusterDomain']) || 'cluster.local';
}

/** `reviews` in `default` → `reviews.default.svc.cluster.local`; wildcards and dotted names stay as they are. */
export function toFqdn(namespace: string, host: string, domain = 'cluster.local'): string {
  if (host.startsWith('*') || host.includes('.')) return host;
  return `${host}.${namespace}.svc.${domain}`;
}

const fqdnPattern = /^(.+)\.(.+)\.svc\.cluster\.local$/;

/** The Service a host names, as namespace/name, or undefined when the host is not `<name>.<ns>.svc.cluster.local`. */
export function serviceNameFromFqdn(fqdn: string): { namespace: string; name: string } | undefined {
  const m = fqdn.match(fqdnPattern);
  if (!m) return undefined;
  // The pattern is greedy on the name, like Istio's: `a.b.c.svc.cluster.local` → name `a.b`, namespace `c`.
  return { name: m[1] ?? '', namespace: m[2] ?? '' };
}

/** Istio's GetResourceNameFromHost: the FQDN's service, or the short name in the default namespace. */
export function resourceNameFromHost(defaultNamespace: string, host: string): string {
  const parsed = serviceNameFromFqdn(host);
  if (parsed) return `${parsed.namespace}/${parsed.name}`;
  return `${defaultNamespace}/${host}`;
}

export function scopedFqdn(scope: string, namespace: string, host: string, domain?: string): string {
  return `${scope}/${toFqdn(namespace, host, domain)}`;
}

/** Istio host matching (host.Name.Matches): wildcards match by suffix, either side may be the wildcard. */
export function hostMatches(a: string, b: string): boolean {
  const aw = a.startsWith('*');
  const bw = b.startsWith('*');
  if (aw && bw) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
  if (aw) return b.endsWith(a.slice(1));
  if (bw) return a.endsWith(b.slice(1));
  return a === b;
}

/** Does host `a` cover host `b` (host.Name.SubsetOf inverted): b is a, or b is inside a's wildcard. */
export function hostSubsetOf(b: string, a: string): boolean {
  if (a.startsWith('*')) {
    if (b.startsWith('*')) return b.slice(1).endsWith(a.slice(1));
    return b.endsWith(a.slice(1));
  }
  if (b.startsWith('*')) return false;
  return a === b;
}

/** Gateway server hosts (`ns/host`) visible to a namespace, namespace stripped (host.NamesForNamespace). */
export function namesForNamespace(hosts: readonly string[], namespace: string): string[] {
  const out: string[] = [];
  for (const h of hosts) {
    const slash = h.indexOf('/');
    if (slash >= 0) {
      const ns = h.slice(0, slash);
      if (ns !== namespace && ns !== '*') continue;
      out.push(h.slice(slash + 1));
    } else out.push(h);
  }
  return out;
}

export interface ServiceEntryLike {
  object: KubeObject;
  ports: { number: number; name: string; protocol: string }[];
  workloadSelector: Record<string, string>;
}

export interface HostIndex {
  exact: Map<string, ServiceEntryLike>;
  /** Wildcard hosts kept apart so a lookup scans only them, not every host. */
  wildcards: { scope: string; host: string; entry: ServiceEntryLike }[];
}

/** Istio's InitServiceEntryHostMap: every ServiceEntry host and Service FQDN, keyed by scope/fqdn. */
export function serviceEntryHosts(snapshot: SnapshotReader): HostIndex {
  return memo(snapshot, 'hosts.serviceEntryHosts', () => {
    const domain = clusterDomain(snapshot);
    const index: HostIndex = { exact: new Map(), wildcards: [] };
    const put = (scope: string, ns: string, host: string, entry: ServiceEntryLike) => {
      const key = scopedFqdn(scope, ns, host, domain);
      index.exact.set(key, entry);
      const fqdn = key.slice(scope.length + 1);
      if (fqdn.startsWith('*')) index.wildcards.push({ scope, host: fqdn, entry });
    };
    for (const se of snapshot.listOf(gvk.ServiceEntry)) {
      const s = spec(se);
      const ns = nsOf(se);
      const entry: ServiceEntryLike = {
        object: se,
        ports: recs(s['ports']).map((p) => ({
          number: num(p['number']) ?? 0,
          name: str(p['name']),
          protocol: str(p['protocol']),
        })),
        workloadSelector: strMap(rec(s['workloadSelector'])['labels']),
      };
      const exportTo = strs(s['exportTo']);
      for (const h of strs(s['hosts'])) {
        if (exportTo.length === 0 || exportTo.includes(EXPORT_TO_ALL)) {
          put(EXPORT_TO_ALL, ns, h, entry);
          continue;
        }
        for (const e of exportTo) put(e === EXPORT_TO_LOCAL ? ns : e, ns, h, entry);
      }
    }
    for (const svc of snapshot.listOf(gvk.Service)) {
      const ns = nsOf(svc);
      const entry: ServiceEntryLike = {
        object: svc,
        ports: recs(spec(svc)['ports']).map((p) => ({
          number: num(p['port']) ?? 0,
          name: str(p['name']),
          protocol: str(p['protocol']),
        })),
        workloadSelector: {},
      };
      const anno = annotations(svc)['networking.istio.io/exportTo'];
      const scopes = anno ? anno.split(',').map((s) => (s === EXPORT_TO_LOCAL ? ns : s)) : [EXPORT_TO_ALL];
      for (const scope of scopes) put(scope, ns, svc.metadata.name, entry);
    }
    return index;
  });
}

/** Istio's GetDestinationHost: the service entry (or Service) a host resolves to from a namespace. */
export function destinationHost(
  snapshot: SnapshotReader,
  sourceNs: string,
  exportTo: readonly string[],
  host: string,
): ServiceEntryLike | undefined {
  const index = serviceEntryHosts(snapshot);
  const domain = clusterDomain(snapshot);
  const all = index.exact.get(scopedFqdn(EXPORT_TO_ALL, sourceNs, host, domain));
  if (all) return all;
  const scopes = exportTo.length === 0 ? [sourceNs] : exportTo.map((e) => (e === EXPORT_TO_LOCAL ? sourceNs : e));
  for (const scope of scopes) {
    const hit = index.exact.get(scopedFqdn(scope, sourceNs, host, domain));
    if (hit) return hit;
  }
  const bare = host.startsWith('*') ? host.slice(1) : host;
  for (const w of index.wildcards) {
    if (w.scope !== EXPORT_TO_ALL && w.scope !== sourceNs) continue;
    if (bare.endsWith(w.host.slice(1))) return w.entry;
  }
  return undefined;
}

export function isExportToAll(exportTo: readonly string[]): boolean {
  return exportTo.length === 0 || exportTo.includes(EXPORT_TO_ALL);
}
