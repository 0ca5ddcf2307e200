// Affected proxies grouped by namespace and cause for /mesh stale, and the fix for each cause: the
// config for a NACK (new pods get the same config), new pods for a STALE or disconnected proxy, and
// istiod itself when so many proxies are STALE at once that it is the common factor. With hundreds of
// proxies the answer stays one line per (namespace, cause), and the restarts it offers spread over
// the causes, largest first, instead of filling up from the first namespace.
import type { KubeObject } from '../kube/objects.ts';
import type { MeshSnapshot } from '../mesh/snapshot.ts';
import type { IstiodSummary } from './merge.ts';
import { humanDuration } from './proxy-status.ts';
import { resourceWords } from './stale-evidence.ts';
import {
  type AffectedProxy,
  cmp,
  type Finding,
  type IstiodHealth,
  type RestartSuggestion,
  type TroubleGroup,
  type WorkloadRef,
} from './stale-report.ts';
import { findSuspect } from './stale-suspects.ts';

/** STALE on at least this many proxies, and this share of the connected ones, points at istiod. */
export const MASS_STALE_MIN = 20;
export const MASS_STALE_SHARE = 0.1;
/** One istiod replica whose proxies are this STALE (at least MASS_REPLICA_MIN of them) is the common factor. */
const MASS_REPLICA_SHARE = 0.5;
const MASS_REPLICA_MIN = 5;

const FINDING_ORDER: Record<Finding, number> = { ERROR: 0, STALE: 1, DISCONNECTED: 2, UNKNOWN: 3 };

export interface GroupInput {
  affected: readonly AffectedProxy[];
  snapshot: MeshSnapshot;
  istiods: readonly IstiodSummary[];
  /** Proxies connected to some istiod (the base of the STALE share). */
  connected: number;
  now: Date;
}

export function groupTrouble({ affected, snapshot, istiods, connected, now }: GroupInput): {
  groups: TroubleGroup[];
  massStale?: string;
} {
  const byKey = new Map<string, { group: TroubleGroup; members: AffectedProxy[] }>();
  for (const a of affected) {
    const errors = [...new Map(a.errors.map((e) => [e.type, e.message])).entries()].sort(([x], [y]) => cmp(x, y));
    const message = errors.map(([, m]) => m).join('\n') || undefined;
    const key = [a.namespace, a.finding, a.types.join(','), message ?? ''].join('\u0000');
    let g = byKey.get(key);
    if (!g) {
      g = {
        group: {
          namespace: a.namespace,
          finding: a.finding,
          types: [...a.types],
          ...(message ? { message } : {}),
          named: [],
          noPriorChange: false,
          proxies: [],
          workloads: [],
          fix: a.finding === 'ERROR' ? 'config' : a.finding === 'UNKNOWN' ? 'istiod' : 'restart',
        },
        members: [],
      };
      byKey.set(key, g);
    }
    g.members.push(a);
    g.group.proxies.push(a.proxyId);
    if (a.since && (!g.group.since || a.since < g.group.since)) g.group.since = a.since;
  }

  const stale = affected.filter((a) => a.finding === 'STALE');
  const massStale = massStaleWhy(stale, istiods, connected);
  for (const { group, members } of byKey.values()) {
    group.proxies.sort(cmp);
    group.workloads = workloadsOf(members);
    if (group.finding === 'STALE' && massStale) group.fix = 'istiod';
    if (group.finding !== 'STALE' && group.finding !== 'ERROR') continue;
    const pods = members
      .map((m) => snapshot.get('Pod', m.namespace, m.pod))
      .filter((p): p is KubeObject => p !== undefined);
    const errors = [...new Map(members[0]!.errors.map((e) => [e.type, e])).values()];
    const proxyType = members[0]!.proxyType;
    const answer = findSuspect(snapshot, {
      namespace: group.namespace,
      pods,
      ...(proxyType ? { proxyType } : {}),
      types: group.types,
      errors,
      since: group.since ?? now.toISOString(),
    });
    group.named = answer.named.map((n) => ({ resource: resourceWords(n.resource), detail: n.detail }));
    if (answer.suspect) {
      group.suspect = answer.suspect;
      for (const m of members) m.suspect = answer.suspect;
    } else group.noPriorChange = true;
  }
  const groups = [...byKey.values()]
    .map((g) => g.group)
    .sort(
      (a, b) =>
        FINDING_ORDER[a.finding] - FINDING_ORDER[b.finding] ||
        b.proxies.length - a.proxies.length ||
        cmp(a.namespace, b.namespace) ||
        cmp(a.types.join(','), b.types.join(',')),
    );
  return massStale ? { groups, massStale } : { groups };
}

function workloadsOf(members: readonly AffectedProxy[]): TroubleGroup['workloads'] {
  const byKey = new Map<string, WorkloadRef & { pods: string[] }>();
  for (const m of members) {
    if (!m.owner) continue;
    const key = `${m.owner.kind}/${m.owner.namespace}/${m.owner.name}`;
    const w = byKey.get(key) ?? { ...m.owner, pods: [] };
    w.pods.push(m.pod);
    byKey.set(key, w);
  }
  return [...byKey.values()].sort((a, b) => b.pods.length - a.pods.length || cmp(a.name, b.name));
}

/** Why istiod, not each workload, is the fix for the STALE proxies; undefined when their staleness is their own. */
function massStaleWhy(
  stale: readonly AffectedProxy[],
  istiods: readonly IstiodSummary[],
  connected: number,
): string | undefined {
  const namespaces = new Set(stale.map((a) => a.namespace)).size;
  if (stale.length >= MASS_STALE_MIN && stale.length >= MASS_STALE_SHARE * connected) {
    const share = Math.round((100 * stale.length) / Math.max(1, connected));
    return `${stale.length} of ${connected} connected proxies (${share}%) are STALE at once, in ${namespaces} namespace${namespaces === 1 ? '' : 's'}: istiod's pushes are not being acknowledged, which new pods would not change`;
  }
  for (const i of istiods) {
    if (!i.ok || i.proxies === 0) continue;
    const on = stale.filter((a) => a.istiod === i.istiod).length;
    if (on >= MASS_REPLICA_MIN && on >= MASS_REPLICA_SHARE * i.proxies)
      return `${on} of the ${i.proxies} proxies connected to ${i.istiod} are STALE, while the other replicas' proxies are in step: that replica is the common factor`;
  }
  return undefined;
}

/**
 * The restarts that help: istiod when it is unhealthy or the common factor of mass staleness; else one per
 * Deployment of a STALE or disconnected proxy (a NACK comes back with the same config), taken in turn from
 * each cause, largest first, so the few buttons a message carries cover as many causes as they can.
 */
export function restartSuggestions(
  groups: readonly TroubleGroup[],
  health: IstiodHealth,
  now: Date,
  massStale: string | undefined,
): RestartSuggestion[] {
  const out: RestartSuggestion[] = [];
  const reasons = [...(health.unhealthy ? [`istiod looks unhealthy: ${health.reasons.join('; ')}`] : [])];
  if (massStale) reasons.push(massStale);
  if (reasons.length) {
    for (const d of health.deployments)
      out.push({ target: d, forIstiod: true, pods: health.pods.map((p) => p.name), why: reasons.join('. ') });
  }
  const queues = groups
    .filter((g) => g.fix === 'restart')
    .map((g) => g.workloads.filter((w) => w.kind === 'Deployment').map((w) => ({ g, w })));
  const seen = new Set<string>();
  for (let i = 0; queues.some((q) => q.length > i); i++) {
    for (const q of queues) {
      const item = q[i];
      if (!item) continue;
      const key = `${item.w.namespace}/${item.w.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(restartOf(item.g, item.w, now));
    }
  }
  return out;
}

function restartOf(g: TroubleGroup, w: WorkloadRef & { pods: string[] }, now: Date): RestartSuggestion {
  const what = g.finding === 'STALE' ? `${g.types.join(', ')} STALE` : 'disconnected from istiod';
  const since = g.since ? ` for ${humanDuration(now.getTime() - Date.parse(g.since))}` : '';
  const who =
    w.pods.length === 1
      ? `Proxy ${w.pods[0]}.${w.namespace} is`
      : `${w.pods.length} proxies of ${w.namespace}/${w.name} are`;
  return {
    target: { kind: w.kind, namespace: w.namespace, name: w.name },
    forIstiod: false,
    pods: [...w.pods].sort(cmp),
    why: `${who} ${what}${since}; new pods connect afresh and get the current config.`,
  };
}
