// Declared is not enforced: which of a workload's proxies do not have the config istiod computed for
// them. Read the way `/mesh status` and `/mesh stale` read it (src/istio: /debug/syncz from every ready
// istiod, merged with the pods that should hold an ADS connection), then reduced per proxy to what an
// answer about that config must say: SYNCED, STALE (sent, not acknowledged), NACK (rejected),
// DISCONNECTED (no ADS connection: it keeps whatever it had), or UNKNOWN (an istiod could not be read).
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/objects.ts';
import { readAllIstiods, readyIstiodPods } from '../istio/istiod-sync.ts';
import { istiodPodsOf, proxyPods } from '../istio/mesh-sync-read.ts';
import { type MergedProxy, type MergedSyncStatus, mergeSyncStatus } from '../istio/merge.ts';
import { humanDuration, shortTypeName } from '../istio/proxy-status.ts';
import type { MeshSnapshot } from './snapshot.ts';

export type ProxyConfigState = 'SYNCED' | 'STALE' | 'NACK' | 'DISCONNECTED' | 'UNKNOWN';

export interface ProxyDelivery {
  pod: string;
  namespace: string;
  state: ProxyConfigState;
  /** The istiod it is connected to, when connected. */
  istiod?: string;
  /** Short xDS type names (LDS, CDS, ...) not acknowledged (STALE) or rejected (NACK). */
  types: string[];
  /** The oldest push of those types (ISO 8601), when istiod said. */
  since?: string;
  /** Envoy's rejection, for a NACK. */
  error?: string;
  /** For UNKNOWN: the istiods that could not be read. */
  unreadIstiods?: string[];
}

export interface ConfigDelivery {
  /** One entry per pod asked about that should hold an ADS connection (Running, with a proxy). */
  proxies: ProxyDelivery[];
  /** Those that do not have the current config: STALE, NACK, DISCONNECTED. */
  behind: ProxyDelivery[];
  /** Those whose state could not be read. */
  unknown: ProxyDelivery[];
  /** Why nothing at all could be read (no istiod to ask), when so. */
  unread?: string;
}

/** The sync status as read for an answer: the merge, or why there is none. */
export interface ProxySync {
  merged?: MergedSyncStatus;
  unread?: string;
}

export interface ReadProxySyncOptions {
  /** Ask istiod only about proxies of this namespace (syncz ?namespace=). */
  namespace?: string;
  istiodNamespace?: string;
  timeoutMs?: number;
}

/** One syncz read per ready istiod, merged with the snapshot's pods; never throws for istiod's sake. */
export async function readProxySync(
  kube: KubeClient,
  snapshot: MeshSnapshot,
  opts: ReadProxySyncOptions = {},
): Promise<ProxySync> {
  const istiodNamespace = opts.istiodNamespace ?? 'istio-system';
  const istiods = readyIstiodPods(istiodPodsOf(snapshot, istiodNamespace));
  if (istiods.length === 0) return { unread: `no ready istiod pod in ${istiodNamespace} to ask for proxy sync status` };
  const answers = await readAllIstiods(kube, istiods, {
    istiodNamespace,
    timeoutMs: opts.timeoutMs ?? 5000,
    ...(opts.namespace ? { proxyNamespace: opts.namespace } : {}),
  });
  const pods = opts.namespace ? snapshot.list('Pod', opts.namespace) : snapshot.list('Pod');
  const merged = mergeSyncStatus(answers, proxyPods(pods), opts.namespace ? { namespace: opts.namespace } : {});
  if (merged.failures.length === answers.length) {
    const [f, ...more] = merged.failures;
    const why = `${f!.message.slice(0, 200)}${more.length ? `; and ${more.length} more istiod${more.length === 1 ? '' : 's'}` : ''}`;
    return { merged, unread: `no istiod could be read (${why})` };
  }
  return { merged };
}

function deliveryOf(p: MergedProxy): ProxyDelivery {
  const base = { pod: p.pod, namespace: p.namespace, types: [] as string[] };
  if (p.connection === 'DISCONNECTED') return { ...base, state: 'DISCONNECTED' };
  if (p.connection === 'UNKNOWN' || !p.row)
    return { ...base, state: 'UNKNOWN', unreadIstiods: (p.unreadIstiods ?? []).map((f) => f.istiod) };
  const rejected = p.row.xds.filter((x) => x.status === 'ERROR');
  const stale = p.row.xds.filter((x) => x.status === 'STALE');
  const pick = rejected.length ? rejected : stale;
  const since = pick
    .map((x) => x.lastUpdated)
    .filter((t): t is string => !!t)
    .sort()[0];
  return {
    ...base,
    istiod: p.row.istiod,
    state: rejected.length ? 'NACK' : stale.length ? 'STALE' : 'SYNCED',
    types: pick.map((x) => shortTypeName(x.typeUrl)).sort(),
    ...(since ? { since } : {}),
    ...(rejected[0]?.lastError ? { error: rejected[0].lastError } : {}),
  };
}

/** What the sync status says about these pods' proxies (pods without a running proxy are left out). */
export function configDelivery(sync: ProxySync, pods: readonly KubeObject[]): ConfigDelivery {
  const wanted = proxyPods(pods);
  const byId = new Map((sync.merged?.proxies ?? []).map((p) => [p.proxyId, p]));
  const proxies: ProxyDelivery[] = wanted.map((w) => {
    const hit = byId.get(`${w.name}.${w.namespace}`);
    if (hit) return deliveryOf(hit);
    // Not in the merge: nothing was read for it (no istiod asked, or outside the namespace asked about).
    return { pod: w.name, namespace: w.namespace, state: 'UNKNOWN', types: [] };
  });
  const out: ConfigDelivery = {
    proxies,
    behind: proxies.filter((p) => p.state === 'STALE' || p.state === 'NACK' || p.state === 'DISCONNECTED'),
    unknown: proxies.filter((p) => p.state === 'UNKNOWN'),
  };
  if (sync.unread) out.unread = sync.unread;
  return out;
}

/**
 * "STALE on LDS (sent 4m ago, not acknowledged)", "DISCONNECTED from istiod", for one proxy. Without `now`
 * (an answer whose clock is not known), no age is given.
 */
export function deliveryState(p: ProxyDelivery, now?: Date): string {
  const ago = p.since && now ? humanDuration(now.getTime() - Date.parse(p.since)) : undefined;
  switch (p.state) {
    case 'SYNCED':
      return `SYNCED${p.istiod ? ` with ${p.istiod}` : ''}`;
    case 'STALE':
      return `STALE on ${p.types.join(', ')} (${ago ? `sent ${ago} ago, ` : ''}not acknowledged)`;
    case 'NACK':
      return `rejected ${p.types.join(', ')} (NACK${ago ? ` ${ago} ago` : ''}${p.error ? `: ${p.error.slice(0, 160)}` : ''})`;
    case 'DISCONNECTED':
      return 'DISCONNECTED from istiod (no ADS connection: it keeps whatever config it had)';
    default:
      return p.unreadIstiods?.length
        ? `UNKNOWN (could not read ${p.unreadIstiods.join(', ')})`
        : 'UNKNOWN (no sync status read)';
  }
}

/** "reviews-v2-abc: STALE on LDS (…)", one per proxy that does not have the current config. */
export function behindLines(d: ConfigDelivery, now?: Date): string[] {
  return d.behind.map((p) => `${p.pod}: ${deliveryState(p, now)}`);
}

/** Why some proxies' state is not known, in one phrase; undefined when every proxy was read. */
export function unknownWhy(d: ConfigDelivery): string | undefined {
  if (d.unknown.length === 0) return undefined;
  if (d.unread) return d.unread;
  const istiods = [...new Set(d.unknown.flatMap((p) => p.unreadIstiods ?? []))];
  return istiods.length ? `istiod ${istiods.join(', ')} could not be read` : 'istiod reported nothing about them';
}
