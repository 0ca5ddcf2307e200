// Metrics name a caller without a sidecar only as "unknown". The destination sidecar's access log
// (when access logging is on) has its address: an inbound entry without a requested server name came
// in plaintext. Addresses are matched to pods by podIP, so people see which pod is calling.
import type { KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/objects.ts';
import type { MeshSnapshot } from '../../mesh/snapshot.ts';
import { findProxyContainer, proxyContainerName } from '../../mesh/sidecar-proxy.ts';
import { parseAccessLogLine } from '../../envoy/access-log.ts';
import { mapBounded } from './bounded-map.ts';
import { workloadNameOf } from '../../mesh/mtls-readiness.ts';

export interface PlaintextPeer {
  address: string;
  /** The pod with that IP, when the cluster has one. */
  pod?: { namespace: string; name: string; hasSidecar: boolean };
  /** The destination workload whose log showed it. */
  destinationWorkload: string;
  requests: number;
}

/** Plaintext peers of the given destination workloads in a namespace, from their last `tailLines` log lines. */
export async function plaintextPeers(
  kube: KubeClient,
  snapshot: MeshSnapshot,
  namespace: string,
  destinationWorkloads: readonly string[],
  tailLines = 500,
): Promise<PlaintextPeer[]> {
  const wanted = new Set(destinationWorkloads);
  const pods = snapshot.list('Pod', namespace).filter((p) => wanted.has(workloadNameOf(p)) && findProxyContainer(p));
  const byIp = new Map<string, KubeObject>();
  for (const p of snapshot.list('Pod')) {
    const ip = (p.status as { podIP?: string } | undefined)?.podIP;
    if (ip) byIp.set(ip, p);
  }
  const found = new Map<string, PlaintextPeer>();
  await mapBounded(pods, 8, async (pod) => {
    let text: string;
    try {
      text = await kube.podLogs(namespace, pod.metadata.name, { container: proxyContainerName, tailLines });
    } catch {
      return; // No log, no names: the metrics still count the caller.
    }
    const destination = workloadNameOf(pod);
    for (const line of text.split('\n')) {
      const e = parseAccessLogLine(line);
      if (!e?.upstreamCluster?.startsWith('inbound|') || e.requestedServerName || e.responseCode === 0) continue;
      const address = e.downstreamRemoteAddress?.replace(/:\d+$/, '');
      if (!address || address.startsWith('127.')) continue;
      const key = `${destination}\u0000${address}`;
      const peer = found.get(key);
      if (peer) {
        peer.requests++;
        continue;
      }
      const owner = byIp.get(address);
      found.set(key, {
        address,
        destinationWorkload: destination,
        requests: 1,
        pod: owner
          ? {
              namespace: owner.metadata.namespace ?? '',
              name: owner.metadata.name,
              hasSidecar: findProxyContainer(owner) !== undefined,
            }
          : undefined,
      });
    }
  });
  return [...found.values()].sort((a, b) => b.requests - a.requests || a.address.localeCompare(b.address));
}
