// Readiness for STRICT against the live cluster: the snapshot, the plaintext callers read from
// metrics, and meshTlsReadiness's verdict, plus what the metrics reading itself could not see.
// Used by `/mesh mtls` and by the mtls-strict preview, so both judge a namespace the same way.
import { count, truncate } from '../../blocks/block-kit.ts';
import type { KubeClient } from '../../kube/client.ts';
import { loadLiveSnapshot } from '../../mesh/live-snapshot.ts';
import { type MtlsReadiness, meshTlsReadiness } from '../../mesh/mtls-readiness.ts';
import type { MeshSnapshot } from '../../mesh/snapshot.ts';
import { type ProxySync, readProxySync } from '../../mesh/workload-sync.ts';
import { findProxyContainer } from '../../mesh/sidecar-proxy.ts';
import { type PlaintextPeer, plaintextPeers } from './plaintext-peers.ts';
import { type CallerSeen, type PlaintextScan, type ScanOptions, scanPlaintextCallers } from './plaintext-scan.ts';

export interface NamespaceReadiness {
  readiness: MtlsReadiness;
  scan: PlaintextScan;
  /** Callers with their recent counts (same order as readiness.plaintextCallers). */
  callers: CallerSeen[];
  /** Addresses (and pods) of plaintext callers, from the destinations' access logs when logging is on. */
  peers: PlaintextPeer[];
}

export function rootNamespaceOf(snapshot: MeshSnapshot): string {
  return snapshot.meshConfig.rootNamespace ?? 'istio-system';
}

export async function namespaceReadiness(
  kube: KubeClient,
  snapshot: MeshSnapshot,
  namespace: string,
  options: ScanOptions = {},
  /** Proxy sync status read already (one read for many namespaces); read for this namespace otherwise. */
  sync?: ProxySync,
): Promise<NamespaceReadiness> {
  const [scan, synced] = await Promise.all([
    scanPlaintextCallers(kube, snapshot, namespace, options),
    sync ?? readProxySync(kube, snapshot, { namespace }),
  ]);
  const readiness = meshTlsReadiness(snapshot, namespace, scan.callers, scan.nothingToRead, synced);
  if (scan.callers !== undefined && scan.unread.length > 0) {
    // A pod we could not read may be the one taking plaintext: that keeps the verdict at not ready.
    readiness.reasons.push(
      `The metrics of ${count(scan.unread.length, 'pod')} could not be read (${truncate(
        scan.unread.map((u) => `${u.pod}: ${u.reason}`).join('; '),
        300,
      )}), so plaintext callers to them cannot be ruled out.`,
    );
    readiness.ready = false;
    readiness.verdict = 'not ready';
  }
  const callers = (scan.callers ?? []).filter((c) => c.destinationNamespace === namespace);
  const unnamed = [...new Set(callers.filter((c) => !c.hasSidecar).map((c) => c.destinationWorkload))];
  const peers = unnamed.length ? await plaintextPeers(kube, snapshot, namespace, unnamed) : [];
  return { readiness, scan, callers, peers };
}

/** Namespaces with at least one pod carrying a sidecar: the ones a STRICT policy changes anything for. */
export function meshedNamespaces(snapshot: MeshSnapshot): string[] {
  const out = new Set<string>();
  for (const p of snapshot.list('Pod'))
    if (findProxyContainer(p) && p.metadata.namespace) out.add(p.metadata.namespace);
  return [...out].sort();
}

export interface RankedNamespace {
  namespace: string;
  ready: boolean;
  reasons: string[];
  /** Every workload already runs STRICT: nothing to migrate. */
  alreadyStrict: boolean;
}

/** Meshed namespaces ranked for the next migration: ready first, then by how few problems they have. */
export async function rankNamespaces(
  kube: KubeClient,
  options: ScanOptions = {},
  exclude: readonly string[] = [],
): Promise<RankedNamespace[]> {
  const snapshot = await loadLiveSnapshot(kube);
  const root = rootNamespaceOf(snapshot);
  const candidates = meshedNamespaces(snapshot).filter((n) => n !== root && !exclude.includes(n));
  const sync = candidates.length ? await readProxySync(kube, snapshot) : {};
  const checked = await Promise.all(candidates.map((n) => namespaceReadiness(kube, snapshot, n, options, sync)));
  return checked
    .map(({ readiness: r }) => ({
      namespace: r.namespace,
      ready: r.ready,
      reasons: r.reasons,
      alreadyStrict:
        r.workloads.length > 0 &&
        r.workloads.every((w) => w.mode === 'STRICT' && w.ports.every((p) => p.mode === 'STRICT')),
    }))
    .filter((r) => !r.alreadyStrict)
    .sort(
      (a, b) =>
        Number(b.ready) - Number(a.ready) ||
        a.reasons.length - b.reasons.length ||
        a.namespace.localeCompare(b.namespace),
    );
}
