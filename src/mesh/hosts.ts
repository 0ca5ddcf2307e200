// Host names the way Istio reads them in VirtualServices, DestinationRules and Gateways: a short
// name is completed with the object's own namespace (`reviews` in `bookinfo` becomes
// `reviews.bookinfo.svc.cluster.local`), anything with a dot is taken as written, `*` and `*.x`
// are wildcards. exportTo decides which namespaces see an object.

export const defaultDomainSuffix = 'cluster.local';

export function serviceFqdn(name: string, namespace: string, domain = defaultDomainSuffix): string {
  return `${name}.${namespace}.svc.${domain}`;
}

const ipLike = /^(\d{1,3}\.){3}\d{1,3}$|:/;

/** Istio's ResolveShortnameToFQDN: only dot-less names are completed with the namespace. */
export function resolveHost(host: string, namespace: string, domain = defaultDomainSuffix): string {
  if (host === '*' || ipLike.test(host) || host.includes('.')) return host;
  return serviceFqdn(host, namespace, domain);
}

/** Does a (possibly wildcard) host pattern cover a concrete host name? */
export function hostCovers(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*')) return host.endsWith(pattern.slice(1));
  return pattern === host;
}

/** Do two host names, either possibly a wildcard, overlap (Gateway server hosts vs VirtualService hosts)? */
export function hostsOverlap(a: string, b: string): boolean {
  return hostCovers(a, b) || hostCovers(b, a);
}

/** Gateway server hosts may carry a `namespace/` prefix that scopes which VirtualServices bind. */
export function gatewayHostPart(host: string): { namespace?: string; host: string } {
  const slash = host.indexOf('/');
  if (slash < 0) return { host };
  return { namespace: host.slice(0, slash), host: host.slice(slash + 1) };
}

export interface ExportScope {
  /** Every namespace sees it. */
  all: boolean;
  namespaces: string[];
  /** For people: "all namespaces", "only namespace bookinfo", "namespaces a, b". */
  text: string;
}

/** exportTo: absent or `*` is mesh-wide (Istio's default), `.` is the object's own namespace, `~` nobody. */
export function exportScope(exportTo: readonly string[] | undefined, ownNamespace: string): ExportScope {
  if (!exportTo || exportTo.length === 0 || exportTo.includes('*'))
    return { all: true, namespaces: [], text: 'all namespaces' };
  if (exportTo.includes('~')) return { all: false, namespaces: [], text: 'no namespace (exportTo ~)' };
  const namespaces = [...new Set(exportTo.map((n) => (n === '.' ? ownNamespace : n)))].sort();
  const text = namespaces.length === 1 ? `only namespace ${namespaces[0]}` : `namespaces ${namespaces.join(', ')}`;
  return { all: false, namespaces, text };
}

export function isVisibleFrom(scope: ExportScope, namespace: string): boolean {
  return scope.all || scope.namespaces.includes(namespace);
}
