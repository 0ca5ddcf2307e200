// The diagnosis behind /mesh stale, as plain data: which proxies are not in step with istiod and how
// (STALE, a NACK, disconnected, unknown), what that type of config points at, the config that changed
// last in their namespace, the obvious causes checked directly, what istiod logged and how istiod
// itself is doing, and which restarts would help. Pure: the cluster reads happen in mesh-sync-read.ts
// and the istiod log read below, so tests can pin every word without a cluster.
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/objects.ts';
import { matchesLabels } from '../kube/objects.ts';
import { analyze } from '../mesh/analyzers/index.ts';
import { controllerOf, isPodReady, lastTermination, restartCount } from '../mesh/pods.ts';
import type { MeshSnapshot } from '../mesh/snapshot.ts';
import type { IstiodFailure, IstiodSummary, MergedProxy, MergedSyncStatus } from './merge.ts';
import { istiodContainer, type MeshSyncRead } from './mesh-sync-read.ts';
import { type ConfigStatus, humanDuration, shortTypeName } from './proxy-status.ts';

export type Finding = 'STALE' | 'ERROR' | 'DISCONNECTED' | 'UNKNOWN';

export interface WorkloadRef {
  kind: string;
  namespace: string;
  name: string;
}

export interface ConfigChange {
  kind: string;
  namespace: string;
  name: string;
  /** ISO time of the last write to its spec (managedFields), else its creation. */
  changedAt: string;
  source: 'managedFields' | 'creationTimestamp';
  manager?: string;
}

export interface AffectedProxy {
  proxyId: string;
  pod: string;
  namespace: string;
  finding: Finding;
  /** Short type names that are STALE or ERROR (empty for DISCONNECTED/UNKNOWN). */
  types: string[];
  errors: Array<{ type: string; message: string }>;
  istiod?: string;
  /** Earliest unacknowledged push among the affected types (ISO). */
  since?: string;
  /** The pod's owner: ReplicaSet → Deployment where there is one. */
  owner?: WorkloadRef;
  suspect?: ConfigChange;
}

export interface NamespaceCounts {
  namespace: string;
  proxies: number;
  synced: number;
  stale: number;
  error: number;
  notSent: number;
  disconnected: number;
  unknown: number;
}

export interface Interpretation {
  type: string;
  status: 'STALE' | 'ERROR';
  proxies: number;
  text: string;
  /** For ERROR: the distinct NACK texts Envoy sent back. */
  errors?: string[];
}

export interface ObviousCause {
  /** Istio's message code when an Istio analyzer found it (IST0101, IST0173, ...). */
  code?: string;
  kind: string;
  namespace: string;
  name: string;
  text: string;
}

export interface LogGroup {
  level: string;
  /** The line with per-connection parts blanked, so repeats of one problem count together. */
  pattern: string;
  count: number;
  lastAt?: string;
  /** The newest matching line as logged (trimmed). */
  sample: string;
  istiods: string[];
}

export interface IstiodLogRead {
  istiod: string;
  ok: boolean;
  text?: string;
  error?: string;
}

export interface IstiodPodHealth {
  name: string;
  ready: boolean;
  restarts: number;
  lastTermination?: { reason: string; at?: string; container: string };
}

export interface IstiodHealth {
  namespace: string;
  desired?: number;
  ready: number;
  pods: IstiodPodHealth[];
  deployments: WorkloadRef[];
  unhealthy: boolean;
  reasons: string[];
}

export interface RestartSuggestion {
  target: WorkloadRef;
  why: string;
  forIstiod: boolean;
  pods: string[];
}

export interface StaleReport {
  namespace?: string;
  now: string;
  istiodNamespace: string;
  totals: Omit<NamespaceCounts, 'namespace'>;
  byNamespace: NamespaceCounts[];
  /** Short names of the types every connected proxy watches and has SYNCED (the all-clear line). */
  syncedTypes: string[];
  affected: AffectedProxy[];
  interpretations: Interpretation[];
  causes: ObviousCause[];
  logs: { groups: LogGroup[]; failures: Array<{ istiod: string; error: string }>; window: string };
  health: IstiodHealth;
  istiods: IstiodSummary[];
  failures: IstiodFailure[];
  noIstiod: boolean;
  /** Every istiod that was asked answered 404: ENABLE_DEBUG_ON_HTTP=false. */
  debugDisabled: boolean;
  restarts: RestartSuggestion[];
}

// What each type's trouble points at, in the words an SRE acts on.
const STALE_MEANING: Record<string, string> = {
  CDS: 'Clusters (CDS) not acknowledged: a *DestinationRule* problem. Check the DestinationRules for the hosts these workloads call: subsets, trafficPolicy, TLS settings.',
  LDS: 'Listeners (LDS) not acknowledged: a *VirtualService or Gateway* problem. Check the VirtualServices and Gateways that apply to these workloads (ports, hosts), and EnvoyFilters that patch listeners.',
  EDS: 'Endpoints (EDS) not acknowledged: *endpoint discovery*. Usually a Service whose selector matches no pods, or endpoints churning faster than Envoy acknowledges.',
  RDS: 'Routes (RDS) not acknowledged: *routes from a VirtualService*. Check its http routes, matches and destinations.',
  ECDS: 'Extension config (ECDS) not acknowledged: a *WasmPlugin or EnvoyFilter* extension that Envoy has not loaded.',
  SDS: 'Secrets (SDS) not acknowledged: *certificates*. Check the workload certificate and any credentialName the gateway uses.',
};

export const ISTIOD_LOG_WINDOW_SECONDS = 3600;
export const ISTIOD_LOG_LIMIT_BYTES = 512 * 1024;
export const ISTIOD_LOG_TAIL_LINES = 5000;

/** The last hour of each istiod's log, bounded in lines and bytes; a failed read is an answer, not a throw. */
export async function readIstiodLogs(kube: KubeClient, istiodNamespace: string, pods: readonly KubeObject[]): Promise<IstiodLogRead[]> {
  return Promise.all(
    pods.map(async (p): Promise<IstiodLogRead> => {
      const container = istiodContainer(p);
      try {
        const text = await kube.podLogs(istiodNamespace, p.metadata.name, {
          ...(container ? { container } : {}),
          sinceSeconds: ISTIOD_LOG_WINDOW_SECONDS,
          tailLines: ISTIOD_LOG_TAIL_LINES,
          limitBytes: ISTIOD_LOG_LIMIT_BYTES,
        });
        return { istiod: p.metadata.name, ok: true, text };
      } catch (err) {
        return { istiod: p.metadata.name, ok: false, error: (err as Error).message };
      }
    }),
  );
}

export interface DiagnoseInput {
  read: MeshSyncRead;
  namespace?: string;
  logs: readonly IstiodLogRead[];
  now: Date;
}

export function diagnoseStale({ read, namespace, logs, now }: DiagnoseInput): StaleReport {
  const { merged, snapshot, istiodNamespace } = read;
  const owners = new OwnerIndex(snapshot);
  const suspects = new Map<string, ConfigChange | undefined>();
  const suspectOf = (ns: string) => {
    if (!suspects.has(ns)) suspects.set(ns, latestConfigChange(snapshot, ns));
    return suspects.get(ns);
  };

  const affected: AffectedProxy[] = [];
  for (const p of merged.proxies) {
    const a = affectedOf(p);
    if (!a) continue;
    const pod = snapshot.get('Pod', p.namespace, p.pod);
    const owner = pod ? owners.workloadOf(pod) : undefined;
    if (owner) a.owner = owner;
    if (a.finding === 'STALE' || a.finding === 'ERROR') {
      const s = suspectOf(p.namespace);
      if (s) a.suspect = s;
    }
    affected.push(a);
  }
  affected.sort((a, b) => cmp(a.namespace, b.namespace) || FINDING_ORDER[a.finding] - FINDING_ORDER[b.finding] || cmp(a.proxyId, b.proxyId));

  const byNamespace = countByNamespace(merged);
  const totals = byNamespace.reduce(
    (t, n) => ({ proxies: t.proxies + n.proxies, synced: t.synced + n.synced, stale: t.stale + n.stale, error: t.error + n.error, notSent: t.notSent + n.notSent, disconnected: t.disconnected + n.disconnected, unknown: t.unknown + n.unknown }),
    { proxies: 0, synced: 0, stale: 0, error: 0, notSent: 0, disconnected: 0, unknown: 0 },
  );
  const troubled = affected.filter((a) => a.finding === 'STALE' || a.finding === 'ERROR');
  const health = istiodHealth(read, owners, now);
  const debugDisabled = merged.failures.length > 0 && merged.failures.length === merged.istiods.length && merged.failures.every((f) => f.kind === 'debug-disabled');

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
    restarts: restartSuggestions(affected, health, now),
  };
  if (namespace) report.namespace = namespace;
  return report;
}

const FINDING_ORDER: Record<Finding, number> = { ERROR: 0, STALE: 1, DISCONNECTED: 2, UNKNOWN: 3 };

function affectedOf(p: MergedProxy): AffectedProxy | undefined {
  const base = { proxyId: p.proxyId, pod: p.pod, namespace: p.namespace, types: [] as string[], errors: [] as Array<{ type: string; message: string }> };
  if (p.connection === 'DISCONNECTED') return { ...base, finding: 'DISCONNECTED' };
  if (p.connection === 'UNKNOWN') return { ...base, finding: 'UNKNOWN' };
  const row = p.row;
  if (!row) return undefined;
  const bad = row.xds.filter((x) => x.status === 'STALE' || x.status === 'ERROR');
  if (bad.length === 0) return undefined;
  const a: AffectedProxy = { ...base, istiod: row.istiod, finding: bad.some((x) => x.status === 'ERROR') ? 'ERROR' : 'STALE' };
  a.types = bad.map((x) => shortTypeName(x.typeUrl));
  a.errors = bad.filter((x) => x.lastError).map((x) => ({ type: shortTypeName(x.typeUrl), message: x.lastError as string }));
  const times = bad.map((x) => x.lastUpdated).filter((t): t is string => !!t && !Number.isNaN(Date.parse(t))).sort();
  if (times[0]) a.since = times[0];
  return a;
}

function countByNamespace(merged: MergedSyncStatus): NamespaceCounts[] {
  const map = new Map<string, NamespaceCounts>();
  for (const p of merged.proxies) {
    let c = map.get(p.namespace);
    if (!c) map.set(p.namespace, (c = { namespace: p.namespace, proxies: 0, synced: 0, stale: 0, error: 0, notSent: 0, disconnected: 0, unknown: 0 }));
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
  for (const p of merged.proxies) for (const x of p.row?.xds ?? []) if (x.status === 'SYNCED') seen.add(shortTypeName(x.typeUrl));
  const order = ['CDS', 'LDS', 'EDS', 'RDS'];
  return [...seen].sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || cmp(a, b));
}

function interpret(troubled: readonly AffectedProxy[]): Interpretation[] {
  const out: Interpretation[] = [];
  const errorsByType = new Map<string, Set<string>>();
  const staleByType = new Map<string, number>();
  const errorCount = new Map<string, number>();
  for (const a of troubled) {
    const erroring = new Set(a.errors.map((e) => e.type));
    for (const e of a.errors) {
      if (!errorsByType.has(e.type)) errorsByType.set(e.type, new Set());
      errorsByType.get(e.type)!.add(e.message);
    }
    for (const t of erroring) errorCount.set(t, (errorCount.get(t) ?? 0) + 1);
    for (const t of a.types) if (!erroring.has(t)) staleByType.set(t, (staleByType.get(t) ?? 0) + 1);
  }
  for (const [type, messages] of [...errorsByType].sort(([a], [b]) => cmp(a, b))) {
    out.push({
      type,
      status: 'ERROR',
      proxies: errorCount.get(type) ?? 0,
      text: `Envoy *rejected* (NACKed) the ${type} config istiod sent, and keeps running its previous config. A restart will not help: the new Envoy gets the same config and rejects it too. Fix the config the message names.`,
      errors: [...messages],
    });
  }
  for (const [type, n] of [...staleByType].sort(([a], [b]) => cmp(a, b))) {
    out.push({ type, status: 'STALE', proxies: n, text: STALE_MEANING[type] ?? `${type} pushed but not acknowledged by Envoy.` });
  }
  return out;
}

/** The Istio config in a namespace written most recently (what istiod turns into the xDS at issue). */
export function latestConfigChange(snapshot: MeshSnapshot, namespace: string): ConfigChange | undefined {
  let best: ConfigChange | undefined;
  for (const kind of ['VirtualService', 'DestinationRule', 'Gateway', 'ServiceEntry', 'Sidecar', 'EnvoyFilter']) {
    for (const obj of snapshot.list(kind, namespace)) {
      const c = changeOf(obj);
      if (c && (!best || c.changedAt > best.changedAt)) best = c;
    }
  }
  return best;
}

function changeOf(obj: KubeObject): ConfigChange | undefined {
  const base = { kind: obj.kind, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name };
  let at: string | undefined;
  let manager: string | undefined;
  // Status writes (e.g. istiod's own analysis status) are not config changes.
  for (const m of (obj.metadata.managedFields ?? []) as Array<{ time?: string; manager?: string; subresource?: string }>) {
    if (m.subresource || !m.time || Number.isNaN(Date.parse(m.time))) continue;
    if (!at || Date.parse(m.time) > Date.parse(at)) {
      at = new Date(Date.parse(m.time)).toISOString();
      manager = m.manager;
    }
  }
  if (at) return { ...base, changedAt: at, source: 'managedFields', ...(manager ? { manager } : {}) };
  const created = obj.metadata.creationTimestamp;
  if (created && !Number.isNaN(Date.parse(created))) return { ...base, changedAt: new Date(Date.parse(created)).toISOString(), source: 'creationTimestamp' };
  return undefined;
}

// Istio's own analyzers where one exists: a VirtualService host or subset that does not exist, and a
// DestinationRule subset that selects no pod.
const CAUSE_ANALYZERS = ['virtualservice.DestinationHostAnalyzer', 'virtualservice.DestinationRuleAnalyzer', 'destinationrule.SubsetSelectPodAnalyzer'];

export function obviousCauses(snapshot: MeshSnapshot, namespaces: ReadonlySet<string>): ObviousCause[] {
  const out: ObviousCause[] = [];
  for (const m of analyze(snapshot, { analyzers: CAUSE_ANALYZERS })) {
    if (!m.resource.namespace || !namespaces.has(m.resource.namespace) || m.level === 'Info') continue;
    out.push({ code: m.code, kind: m.resource.kind, namespace: m.resource.namespace, name: m.resource.name, text: m.text });
  }
  // Istio has no analyzer for this one: an empty Service is how EDS goes quiet.
  for (const ns of [...namespaces].sort()) {
    for (const svc of snapshot.list('Service', ns)) {
      const selector = (svc.spec as { selector?: Record<string, string> } | undefined)?.selector;
      if (!selector || Object.keys(selector).length === 0) continue;
      if (snapshot.list('Pod', ns).some((p) => !p.metadata.deletionTimestamp && matchesLabels(selector, p.metadata.labels))) continue;
      const sel = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
      out.push({ kind: 'Service', namespace: ns, name: svc.metadata.name, text: `The selector ${sel} matches no pod, so the Service has no endpoints.` });
    }
  }
  return out;
}

// A line is evidence when it says error, NACK or rejected (istiod's NACK line is "ACK ERROR").
const EVIDENCE = /\b(error|nack|nacked|rejected)\b/i;

/** Matching lines of every istiod log, grouped by their shape and counted, newest group first. */
export function groupLogLines(logs: readonly IstiodLogRead[]): { groups: LogGroup[]; failures: Array<{ istiod: string; error: string }> } {
  const groups = new Map<string, LogGroup>();
  const failures: Array<{ istiod: string; error: string }> = [];
  for (const l of logs) {
    if (!l.ok) {
      failures.push({ istiod: l.istiod, error: l.error ?? 'unknown error' });
      continue;
    }
    for (const raw of (l.text ?? '').split('\n')) {
      if (!raw || !EVIDENCE.test(raw)) continue;
      const parsed = parseLogLine(raw);
      const key = `${parsed.level}\u0000${parsed.pattern}`;
      const g = groups.get(key);
      if (!g) {
        groups.set(key, { level: parsed.level, pattern: parsed.pattern, count: 1, ...(parsed.time ? { lastAt: parsed.time } : {}), sample: parsed.message.slice(0, 500), istiods: [l.istiod] });
        continue;
      }
      g.count++;
      if (!g.istiods.includes(l.istiod)) g.istiods.push(l.istiod);
      if (parsed.time && (!g.lastAt || parsed.time >= g.lastAt)) {
        g.lastAt = parsed.time;
        g.sample = parsed.message.slice(0, 500);
      }
    }
  }
  const list = [...groups.values()];
  for (const g of list) g.istiods.sort();
  list.sort((a, b) => cmp(b.lastAt ?? '', a.lastAt ?? '') || b.count - a.count || cmp(a.pattern, b.pattern));
  return { groups: list, failures };
}

/** istiod's text format (`<time>\t<level>\t<scope>\t<msg>`) or its JSON format (--log_as_json). */
export function parseLogLine(line: string): { time?: string; level: string; message: string; pattern: string } {
  let time: string | undefined;
  let level = 'info';
  let message = line.trim();
  if (message.startsWith('{')) {
    try {
      const j = JSON.parse(message) as Record<string, unknown>;
      if (typeof j.time === 'string') time = j.time;
      if (typeof j.level === 'string') level = j.level;
      message = `${typeof j.scope === 'string' ? `${j.scope} ` : ''}${typeof j.msg === 'string' ? j.msg : message}`;
    } catch {
      // not JSON after all: treat as text
    }
  } else {
    const parts = message.split('\t');
    if (parts.length >= 4 && !Number.isNaN(Date.parse(parts[0]!.trim()))) {
      time = parts[0]!.trim();
      level = parts[1]!.trim();
      message = parts.slice(2).join(' ');
    }
  }
  if (time) time = new Date(Date.parse(time)).toISOString();
  return { ...(time ? { time } : {}), level, message, pattern: logPattern(message) };
}

/** Blanks what differs between repeats of one problem: connection IDs, addresses, nonces. */
export function logPattern(message: string): string {
  return message
    .replace(/(ACK ERROR|node:|connection for node:?)\s*\S+/g, '$1 <proxy>')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<id>')
    .replace(/\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b/g, '<addr>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
}

// An istiod container that ended this recently, for a reason other than a clean exit, counts against it.
const RECENT_TERMINATION_MS = 60 * 60_000;

export function istiodHealth(read: MeshSyncRead, owners: OwnerIndex, now: Date): IstiodHealth {
  const pods: IstiodPodHealth[] = read.istiodPods
    .filter((p) => !p.metadata.deletionTimestamp)
    .map((p) => {
      const h: IstiodPodHealth = { name: p.metadata.name, ready: isPodReady(p), restarts: restartCount(p) };
      const t = lastTermination(p);
      if (t) h.lastTermination = { reason: t.reason, container: t.container, ...(t.at ? { at: t.at } : {}) };
      return h;
    })
    .sort((a, b) => cmp(a.name, b.name));
  const deployments = new Map<string, WorkloadRef>();
  for (const p of read.istiodPods) {
    const w = owners.workloadOf(p);
    if (w?.kind === 'Deployment') deployments.set(`${w.namespace}/${w.name}`, w);
  }
  if (deployments.size === 0) {
    for (const d of read.snapshot.list('Deployment', read.istiodNamespace)) if (d.metadata.labels?.app === 'istiod') deployments.set(`${read.istiodNamespace}/${d.metadata.name}`, { kind: 'Deployment', namespace: read.istiodNamespace, name: d.metadata.name });
  }
  let desired: number | undefined;
  for (const ref of deployments.values()) {
    const r = (read.snapshot.get('Deployment', ref.namespace, ref.name)?.spec as { replicas?: number } | undefined)?.replicas;
    desired = (desired ?? 0) + (typeof r === 'number' ? r : 1);
  }
  const ready = pods.filter((p) => p.ready).length;
  const reasons: string[] = [];
  if (desired !== undefined && ready < desired) reasons.push(`${ready} of ${desired} istiod replicas ready`);
  for (const p of pods) {
    const t = p.lastTermination;
    if (t && t.reason !== 'Completed' && (!t.at || now.getTime() - Date.parse(t.at) < RECENT_TERMINATION_MS)) {
      reasons.push(`${p.name} restarted (${p.restarts}×), last ended ${t.reason}${t.at ? ` at ${t.at}` : ''}`);
    }
  }
  // A replica that is ready but does not answer its debug port is not well either.
  for (const f of read.merged.failures) if (f.kind === 'unreachable' || f.kind === 'timeout') reasons.push(`${f.istiod} did not answer on port 15014 (${f.kind})`);
  const health: IstiodHealth = { namespace: read.istiodNamespace, ready, pods, deployments: [...deployments.values()], unhealthy: reasons.length > 0, reasons };
  if (desired !== undefined) health.desired = desired;
  return health;
}

function restartSuggestions(affected: readonly AffectedProxy[], health: IstiodHealth, now: Date): RestartSuggestion[] {
  const out: RestartSuggestion[] = [];
  if (health.unhealthy) {
    for (const d of health.deployments) out.push({ target: d, forIstiod: true, pods: health.pods.map((p) => p.name), why: `istiod looks unhealthy: ${health.reasons.join('; ')}` });
  }
  // STALE and disconnected proxies come back in step with a fresh connection; a NACK does not (same config).
  const byOwner = new Map<string, RestartSuggestion>();
  for (const a of affected) {
    if ((a.finding !== 'STALE' && a.finding !== 'DISCONNECTED') || a.owner?.kind !== 'Deployment') continue;
    const key = `${a.owner.namespace}/${a.owner.name}`;
    let s = byOwner.get(key);
    if (!s) {
      const what = a.finding === 'STALE' ? `${a.types.join(', ')} STALE` : 'disconnected from istiod';
      s = { target: a.owner, forIstiod: false, pods: [], why: `Proxy ${a.proxyId} is ${what}${a.since ? ` for ${humanDuration(now.getTime() - Date.parse(a.since))}` : ''}; new pods connect afresh and get the current config.` };
      byOwner.set(key, s);
    }
    s.pods.push(a.pod);
  }
  return [...out, ...[...byOwner.values()].sort((a, b) => cmp(`${a.target.namespace}/${a.target.name}`, `${b.target.namespace}/${b.target.name}`))];
}

/** Pod → ReplicaSet → Deployment, through controller ownerReferences in the snapshot. */
export class OwnerIndex {
  private readonly snapshot: MeshSnapshot;
  constructor(snapshot: MeshSnapshot) {
    this.snapshot = snapshot;
  }

  workloadOf(pod: KubeObject): WorkloadRef | undefined {
    const ns = pod.metadata.namespace ?? '';
    const owner = controllerOf(pod);
    if (!owner) return undefined;
    if (owner.kind === 'ReplicaSet') {
      const rs = this.snapshot.get('ReplicaSet', ns, owner.name);
      const up = rs ? controllerOf(rs) : undefined;
      if (up?.kind === 'Deployment') return { kind: 'Deployment', namespace: ns, name: up.name };
      return { kind: 'ReplicaSet', namespace: ns, name: owner.name };
    }
    return { kind: owner.kind, namespace: ns, name: owner.name };
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
