// The diagnosis behind /mesh stale, as plain data: which proxies are not in step with istiod and how
// (STALE, a NACK, disconnected, unknown), grouped by namespace and cause, what that type of config
// points at, the config change the evidence leads to (or that none precedes the trouble), the obvious
// causes checked directly, what istiod logged and how istiod itself is doing, and the fix for each
// cause. Pure: the cluster reads happen in mesh-sync-read.ts and the istiod log read in istiod-logs.ts,
// so tests can pin every word without a cluster.
// The parts live beside this file: the report's shape (stale-report.ts), what the trouble points at
// (stale-causes.ts), what a NACK names (stale-evidence.ts) and the config behind it (stale-suspects.ts),
// groups and fixes (stale-groups.ts), istiod's logs (istiod-logs.ts) and health (istiod-health.ts),
// pod owners (owner-index.ts).
import type { MergedProxy, MergedSyncStatus } from './merge.ts';
import type { MeshSyncRead } from './mesh-sync-read.ts';
import { groupLogLines } from './istiod-logs.ts';
import { istiodHealth } from './istiod-health.ts';
import { OwnerIndex } from './owner-index.ts';
import { type ConfigStatus, shortTypeName } from './proxy-status.ts';
import { interpret, obviousCauses } from './stale-causes.ts';
import { groupTrouble, restartSuggestions } from './stale-groups.ts';
import {
  type AffectedProxy,
  cmp,
  type Finding,
  type IstiodLogRead,
  type NamespaceCounts,
  type StaleReport,
} from './stale-report.ts';

export type {
  AffectedProxy,
  ConfigChange,
  Finding,
  Interpretation,
  IstiodHealth,
  IstiodLogRead,
  IstiodPodHealth,
  LogGroup,
  NamespaceCounts,
  ObviousCause,
  RestartSuggestion,
  StaleReport,
  Suspect,
  TroubleGroup,
  WorkloadRef,
} from './stale-report.ts';
export {
  ISTIOD_LOG_LIMIT_BYTES,
  ISTIOD_LOG_TAIL_LINES,
  ISTIOD_LOG_WINDOW_SECONDS,
  groupLogLines,
  logPattern,
  parseLogLine,
  readIstiodLogs,
} from './istiod-logs.ts';
export { istiodHealth } from './istiod-health.ts';
export { OwnerIndex } from './owner-index.ts';
export { obviousCauses } from './stale-causes.ts';
export { changeOf, findSuspect } from './stale-suspects.ts';

export interface DiagnoseInput {
  read: MeshSyncRead;
  namespace?: string;
  logs: readonly IstiodLogRead[];
  now: Date;
}

export function diagnoseStale({ read, namespace, logs, now }: DiagnoseInput): StaleReport {
  const { merged, snapshot, istiodNamespace } = read;
  const owners = new OwnerIndex(snapshot);

  const affected: AffectedProxy[] = [];
  for (const p of merged.proxies) {
    const a = affectedOf(p);
    if (!a) continue;
    const pod = snapshot.get('Pod', p.namespace, p.pod);
    const owner = pod ? owners.workloadOf(pod) : undefined;
    if (owner) a.owner = owner;
    affected.push(a);
  }
  affected.sort(
    (a, b) =>
      cmp(a.namespace, b.namespace) || FINDING_ORDER[a.finding] - FINDING_ORDER[b.finding] || cmp(a.proxyId, b.proxyId),
  );

  const byNamespace = countByNamespace(merged);
  const totals = byNamespace.reduce(
    (t, n) => ({
      proxies: t.proxies + n.proxies,
      synced: t.synced + n.synced,
      stale: t.stale + n.stale,
      error: t.error + n.error,
      notSent: t.notSent + n.notSent,
      disconnected: t.disconnected + n.disconnected,
      unknown: t.unknown + n.unknown,
    }),
    { proxies: 0, synced: 0, stale: 0, error: 0, notSent: 0, disconnected: 0, unknown: 0 },
  );
  const troubled = affected.filter((a) => a.finding === 'STALE' || a.finding === 'ERROR');
  const health = istiodHealth(read, owners, now);
  const connected = merged.proxies.filter((p) => p.connection === 'CONNECTED').length;
  const { groups, massStale } = groupTrouble({ affected, snapshot, istiods: merged.istiods, connected, now });
  const debugDisabled =
    merged.failures.length > 0 &&
    merged.failures.length === merged.istiods.length &&
    merged.failures.every((f) => f.kind === 'debug-disabled');

  const report: StaleReport = {
    now: now.toISOString(),
    istiodNamespace,
    totals,
    byNamespace,
    syncedTypes: syncedTypes(merged),
    affected,
    interpretations: interpret(troubled),
    causes: troubled.length ? obviousCauses(snapshot, new Set(troubled.map((a) => a.namespace))) : [],
    logs: { ...groupLogLines(logs), window: '1h' },
    health,
    istiods: merged.istiods,
    failures: merged.failures,
    noIstiod: merged.noIstiod,
    debugDisabled,
    restarts: restartSuggestions(groups, health, now, massStale),
    groups,
  };
  if (massStale) report.massStale = massStale;
  if (namespace) report.namespace = namespace;
  return report;
}

const FINDING_ORDER: Record<Finding, number> = { ERROR: 0, STALE: 1, DISCONNECTED: 2, UNKNOWN: 3 };

function affectedOf(p: MergedProxy): AffectedProxy | undefined {
  const base = {
    proxyId: p.proxyId,
    pod: p.pod,
    namespace: p.namespace,
    types: [] as string[],
    errors: [] as Array<{ type: string; message: string }>,
  };
  if (p.connection === 'DISCONNECTED') return { ...base, finding: 'DISCONNECTED' };
  if (p.connection === 'UNKNOWN') return { ...base, finding: 'UNKNOWN' };
  const row = p.row;
  if (!row) return undefined;
  const bad = row.xds.filter((x) => x.status === 'STALE' || x.status === 'ERROR');
  if (bad.length === 0) return undefined;
  const a: AffectedProxy = {
    ...base,
    istiod: row.istiod,
    ...(row.proxyType ? { proxyType: row.proxyType } : {}),
    finding: bad.some((x) => x.status === 'ERROR') ? 'ERROR' : 'STALE',
  };
  a.types = bad.map((x) => shortTypeName(x.typeUrl));
  a.errors = bad
    .filter((x) => x.lastError)
    .map((x) => ({ type: shortTypeName(x.typeUrl), message: x.lastError as string }));
  const times = bad
    .map((x) => x.lastUpdated)
    .filter((t): t is string => !!t && !Number.isNaN(Date.parse(t)))
    .sort();
  if (times[0]) a.since = times[0];
  return a;
}

function countByNamespace(merged: MergedSyncStatus): NamespaceCounts[] {
  const map = new Map<string, NamespaceCounts>();
  for (const p of merged.proxies) {
    let c = map.get(p.namespace);
    if (!c)
      map.set(
        p.namespace,
        (c = {
          namespace: p.namespace,
          proxies: 0,
          synced: 0,
          stale: 0,
          error: 0,
          notSent: 0,
          disconnected: 0,
          unknown: 0,
        }),
      );
    c.proxies++;
    if (p.connection === 'DISCONNECTED') c.disconnected++;
    else if (p.connection === 'UNKNOWN') c.unknown++;
    else {
      const statuses = new Set<ConfigStatus>(p.row?.xds.map((x) => x.status) ?? []);
      if (statuses.has('ERROR')) c.error++;
      else if (statuses.has('STALE')) c.stale++;
      else if (statuses.has('NOT_SENT')) c.notSent++;
      else c.synced++;
    }
  }
  return [...map.values()].sort((a, b) => cmp(a.namespace, b.namespace));
}

function syncedTypes(merged: MergedSyncStatus): string[] {
  const seen = new Set<string>();
  for (const p of merged.proxies)
    for (const x of p.row?.xds ?? []) if (x.status === 'SYNCED') seen.add(shortTypeName(x.typeUrl));
  const order = ['CDS', 'LDS', 'EDS', 'RDS'];
  return [...seen].sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || cmp(a, b));
}
