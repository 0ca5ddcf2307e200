// Envoy's own counters for the sandbox's sidecars, per cluster, from the same requests that write
// the access-log lines. Names from Envoy's cluster statistics reference
// (docs/root/configuration/upstream/cluster_manager/cluster_stats.rst): every cluster has a tree
// `cluster.<name>.` with upstream_cx_total, upstream_cx_connect_fail, upstream_cx_none_healthy,
// upstream_rq_total, upstream_rq_pending_total, upstream_rq_pending_failure_eject, upstream_rq_retry,
// upstream_rq_retry_limit_exceeded, ...; and the dynamic HTTP ones upstream_rq_completed,
// upstream_rq_<N>xx and upstream_rq_<code>, which count only the final response sent downstream
// (the router's chargeUpstreamCode, also for its local replies: no healthy upstream, resets).
// Counters only grow.
import type { PodRef } from './traffic-pods.ts';

/** One counter increment a request causes on one pod's sidecar. */
export interface StatIncrement {
  pod: PodRef;
  /** The full stat name, e.g. `cluster.outbound|8080||cart.shop.svc.cluster.local.upstream_rq_total`. */
  name: string;
  n?: number;
  /** Counted only the first time this key is seen on the pod: a pooled connection is opened once. */
  once?: string;
}

export function clusterStat(cluster: string, stat: string): string {
  return `cluster.${cluster}.${stat}`;
}

/** The router's charge for the final response code: upstream_rq_<code>, upstream_rq_<N>xx, upstream_rq_completed. */
export function chargeCode(pod: PodRef, cluster: string, code: number): StatIncrement[] {
  return [
    { pod, name: clusterStat(cluster, `upstream_rq_${code}`) },
    { pod, name: clusterStat(cluster, `upstream_rq_${Math.floor(code / 100)}xx`) },
    { pod, name: clusterStat(cluster, 'upstream_rq_completed') },
  ];
}

/** A request that reached an upstream host over a (pooled) connection and got `code` back. */
export function servedRequest(pod: PodRef, cluster: string, upstreamHost: string, code: number): StatIncrement[] {
  return [
    { pod, name: clusterStat(cluster, 'upstream_cx_total'), once: `${cluster} ${upstreamHost}` },
    { pod, name: clusterStat(cluster, 'upstream_rq_total') },
    ...chargeCode(pod, cluster, code),
  ];
}

export class EnvoyCounters {
  private readonly byPod = new Map<string, Map<string, number>>();
  private readonly seen = new Map<string, Set<string>>();

  add(s: StatIncrement): void {
    const key = `${s.pod.ns}/${s.pod.name}`;
    if (s.once !== undefined) {
      const seen = this.seen.get(key) ?? new Set<string>();
      this.seen.set(key, seen);
      const once = `${s.name} ${s.once}`;
      if (seen.has(once)) return;
      seen.add(once);
    }
    const m = this.byPod.get(key) ?? new Map<string, number>();
    this.byPod.set(key, m);
    m.set(s.name, (m.get(s.name) ?? 0) + (s.n ?? 1));
  }

  /** One pod's counters, sorted by name as Envoy's /stats lists them. */
  list(namespace: string, pod: string): Array<{ name: string; value: number }> {
    return [...(this.byPod.get(`${namespace}/${pod}`) ?? new Map<string, number>()).entries()]
      .map(([name, value]) => ({ name, value }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
