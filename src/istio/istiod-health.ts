// How istiod itself is doing, for /mesh stale: replicas ready against desired, recent restarts, and
// replicas that did not answer their debug port.
import { isPodReady, lastTermination, restartCount } from '../mesh/pods.ts';
import type { MeshSyncRead } from './mesh-sync-read.ts';
import type { OwnerIndex } from './owner-index.ts';
import { cmp, type IstiodHealth, type IstiodPodHealth, type WorkloadRef } from './stale-report.ts';

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
    for (const d of read.snapshot.list('Deployment', read.istiodNamespace)) {
      if (d.metadata.labels?.app !== 'istiod') continue;
      deployments.set(`${read.istiodNamespace}/${d.metadata.name}`, {
        kind: 'Deployment',
        namespace: read.istiodNamespace,
        name: d.metadata.name,
      });
    }
  }
  let desired: number | undefined;
  for (const ref of deployments.values()) {
    const r = (read.snapshot.get('Deployment', ref.namespace, ref.name)?.spec as { replicas?: number } | undefined)
      ?.replicas;
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
  for (const f of read.merged.failures) {
    if (f.kind === 'unreachable' || f.kind === 'timeout')
      reasons.push(`${f.istiod} did not answer on port 15014 (${f.kind})`);
  }
  const health: IstiodHealth = {
    namespace: read.istiodNamespace,
    ready,
    pods,
    deployments: [...deployments.values()],
    unhealthy: reasons.length > 0,
    reasons,
  };
  if (desired !== undefined) health.desired = desired;
  return health;
}
