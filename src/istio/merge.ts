// Merges the syncz answers of several istiod replicas into one view of the mesh. A proxy holds one
// ADS connection, so it appears in one answer. A pod with a sidecar that appears in no answer is
// DISCONNECTED, unless some istiod could not be read: then we cannot know, and it is UNKNOWN, with
// the istiods that failed and why. Never healthy by default.
import type { IstiodAnswer, IstiodFailureKind } from './istiod-sync.ts';
import type { ConfigStatus, ProxyStatusRow } from './proxy-status.ts';

export interface SidecarPodRef {
  namespace: string;
  name: string;
}

export type ProxyConnection = 'CONNECTED' | 'DISCONNECTED' | 'UNKNOWN';

export interface IstiodFailure {
  istiod: string;
  kind: IstiodFailureKind;
  message: string;
}

export interface MergedProxy {
  proxyId: string;
  pod: string;
  namespace: string;
  connection: ProxyConnection;
  /** The status row, when CONNECTED. */
  row?: ProxyStatusRow;
  /** When UNKNOWN: the istiods that could not be read; the proxy may be connected to one of them. */
  unreadIstiods?: IstiodFailure[];
  /** Other istiods that also listed this proxy (a reconnect in flight); `row` is the freshest. */
  alsoListedBy?: string[];
  /** False for proxies istiod knows but the pod list does not (e.g. outside the scope listed). */
  hasPod: boolean;
}

export interface IstiodSummary {
  istiod: string;
  ok: boolean;
  /** Proxies this istiod reported (after the namespace filter). */
  proxies: number;
  failure?: IstiodFailure;
}

export interface MergedSyncStatus {
  /** Sorted by proxy ID, as istioctl sorts. */
  proxies: MergedProxy[];
  istiods: IstiodSummary[];
  failures: IstiodFailure[];
  /** No istiod was asked at all: say so rather than call every proxy disconnected in silence. */
  noIstiod: boolean;
}

export interface MergeOptions {
  /** Keep only proxies and pods of this namespace. */
  namespace?: string;
}

export function mergeSyncStatus(
  answers: readonly IstiodAnswer[],
  sidecarPods: readonly SidecarPodRef[],
  opts: MergeOptions = {},
): MergedSyncStatus {
  const inScope = (ns: string) => !opts.namespace || ns === opts.namespace;
  const failures: IstiodFailure[] = [];
  const istiods: IstiodSummary[] = [];
  const byId = new Map<string, { row: ProxyStatusRow; others: string[] }>();

  for (const a of answers) {
    if (!a.ok) {
      const f = { istiod: a.istiod, kind: a.kind, message: a.message };
      failures.push(f);
      istiods.push({ istiod: a.istiod, ok: false, proxies: 0, failure: f });
      continue;
    }
    const rows = a.rows.filter((r) => inScope(r.namespace));
    istiods.push({ istiod: a.istiod, ok: true, proxies: rows.length });
    for (const row of rows) {
      const seen = byId.get(row.proxyId);
      if (!seen) {
        byId.set(row.proxyId, { row, others: [] });
      } else if (fresher(row, seen.row)) {
        byId.set(row.proxyId, { row, others: [...seen.others, seen.row.istiod] });
      } else {
        seen.others.push(row.istiod);
      }
    }
  }

  const podIds = new Set<string>();
  const proxies: MergedProxy[] = [];
  for (const p of sidecarPods) {
    if (!inScope(p.namespace)) continue;
    const proxyId = `${p.name}.${p.namespace}`;
    if (podIds.has(proxyId)) continue;
    podIds.add(proxyId);
    const hit = byId.get(proxyId);
    if (hit) {
      proxies.push(connected(hit.row, hit.others, true));
    } else if (failures.length > 0) {
      proxies.push({
        proxyId,
        pod: p.name,
        namespace: p.namespace,
        connection: 'UNKNOWN',
        unreadIstiods: failures,
        hasPod: true,
      });
    } else {
      proxies.push({ proxyId, pod: p.name, namespace: p.namespace, connection: 'DISCONNECTED', hasPod: true });
    }
  }
  for (const [id, hit] of byId) if (!podIds.has(id)) proxies.push(connected(hit.row, hit.others, false));
  proxies.sort((a, b) => (a.proxyId < b.proxyId ? -1 : a.proxyId > b.proxyId ? 1 : 0));
  return { proxies, istiods, failures, noIstiod: answers.length === 0 };
}

function connected(row: ProxyStatusRow, others: string[], hasPod: boolean): MergedProxy {
  const m: MergedProxy = {
    proxyId: row.proxyId,
    pod: row.pod,
    namespace: row.namespace,
    connection: 'CONNECTED',
    row,
    hasPod,
  };
  if (others.length > 0) m.alsoListedBy = [...others].sort();
  return m;
}

/** The answer with the latest push wins; equal pushes fall back to istiod name order for stability. */
function fresher(a: ProxyStatusRow, b: ProxyStatusRow): boolean {
  const la = latestPush(a);
  const lb = latestPush(b);
  return la !== lb ? la > lb : a.istiod < b.istiod;
}

function latestPush(r: ProxyStatusRow): number {
  let t = 0;
  for (const x of r.xds) if (x.lastUpdated) t = Math.max(t, Date.parse(x.lastUpdated) || 0);
  return t;
}

const SEVERITY: Record<ConfigStatus, number> = { UNKNOWN: 0, SYNCED: 1, NOT_SENT: 2, STALE: 3, ERROR: 4 };

/** The worst status among a proxy's watched types (ERROR > STALE > NOT_SENT > SYNCED). */
export function worstStatus(row: ProxyStatusRow): ConfigStatus {
  let worst: ConfigStatus = 'UNKNOWN';
  for (const x of row.xds) if (SEVERITY[x.status] > SEVERITY[worst]) worst = x.status;
  return worst;
}

/** The proxies that need a look: STALE or ERROR on some type, DISCONNECTED, or UNKNOWN. */
export function unhealthyProxies(merged: MergedSyncStatus): MergedProxy[] {
  return merged.proxies.filter(
    (p) => p.connection !== 'CONNECTED' || (p.row && SEVERITY[worstStatus(p.row)] >= SEVERITY.STALE),
  );
}
