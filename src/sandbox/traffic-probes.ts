// The kubelet's readiness probes that go through a sidecar (probe rewrite off), as that sidecar's access log
// and istio_requests_total show them, once per probe period: from the node's IP in plaintext, with the
// kubelet's user agent (kube-probe/<minor>), to the pod IP and the probe's port. Judged by pod-probes.ts,
// as the sandbox's kubelet judges them: 200, 403 rbac_access_denied_matched_policy[...] when an
// AuthorizationPolicy denies it (Envoy's RBAC filter answers "RBAC: access denied", 19 bytes), or, under
// STRICT, no filter chain (NR filter_chain_not_found, no request counted). Rewritten probes go to
// pilot-agent on 15020, which Envoy never sees, so they leave nothing here.
import { randomUUID } from 'node:crypto';
import { accessLogLine } from './envoy-access-log.ts';
import { NODE_IP, readinessResults } from './pod-probes.ts';
import type { SandboxStore } from './store.ts';
import { type Labels, type PodRef, podRef, proxyContainerName } from './traffic-pods.ts';

export const KUBE_PROBE_AGENT = 'kube-probe/1.32';

export interface ProbeTraces {
  logs: { pod: PodRef; container: string; line: string }[];
  requests: { pod: PodRef; labels: Labels }[];
}

export class KubeletProbeTraffic {
  private readonly store: SandboxStore;
  /** When each pod's container was last probed (ms of the traffic model's clock). */
  private readonly last = new Map<string, number>();
  private port = 52000;

  constructor(store: SandboxStore) {
    this.store = store;
  }

  /** The probes due at `at`, and what they leave. */
  traces(at: Date, encoding: 'TEXT' | 'JSON'): ProbeTraces {
    const out: ProbeTraces = { logs: [], requests: [] };
    const nowMs = at.getTime();
    for (const pod of this.store.list('Pod')) {
      if ((pod.status as { phase?: string } | undefined)?.phase !== 'Running' || pod.metadata.deletionTimestamp)
        continue;
      for (const r of readinessResults(this.store, pod)) {
        if (!r.throughSidecar) continue;
        const key = `${pod.metadata.uid}/${r.container}`;
        const containers = (
          pod.spec as { containers?: { name: string; readinessProbe?: { periodSeconds?: number } }[] }
        ).containers;
        const period = (containers?.find((c) => c.name === r.container)?.readinessProbe?.periodSeconds ?? 10) * 1000;
        const seen = this.last.get(key);
        if (seen !== undefined && nowMs - seen < period) continue;
        this.last.set(key, nowMs);
        const dest = podRef(pod);
        const port = this.port++ > 60000 ? (this.port = 52000) : this.port;
        const local = `${dest.ip}:${r.port}`;
        const remote = `${NODE_IP}:${port}`;
        const start = at.toISOString();
        if (r.code === undefined) {
          out.logs.push({
            pod: dest,
            container: proxyContainerName,
            line: accessLogLine(
              {
                start_time: start,
                response_code: 0,
                response_flags: 'NR',
                response_code_details: r.details,
                bytes_received: 0,
                bytes_sent: 0,
                duration: 0,
                downstream_local_address: local,
                downstream_remote_address: remote,
              },
              encoding,
            ),
          });
          continue;
        }
        const denied = r.code === 403;
        out.logs.push({
          pod: dest,
          container: proxyContainerName,
          line: accessLogLine(
            {
              start_time: start,
              method: 'GET',
              path: r.path,
              protocol: 'HTTP/1.1',
              response_code: r.code,
              response_code_details: r.details,
              bytes_received: 0,
              bytes_sent: denied ? 19 : 2,
              duration: denied ? 0 : 1,
              upstream_service_time: denied ? undefined : 1,
              user_agent: KUBE_PROBE_AGENT,
              request_id: randomUUID(),
              authority: local,
              upstream_host: denied ? undefined : local,
              upstream_cluster: `inbound|${r.port}||`,
              upstream_local_address: denied ? undefined : `127.0.0.6:${port + 1}`,
              downstream_local_address: local,
              downstream_remote_address: remote,
              route_name: 'default',
            },
            encoding,
          ),
        });
        out.requests.push({ pod: dest, labels: probeLabels(dest, String(r.code)) });
      }
    }
    return out;
  }
}

/** A plaintext request from outside the mesh to the pod's IP: no peer, no service. */
function probeLabels(dest: PodRef, code: string): Labels {
  return {
    reporter: 'destination',
    source_workload: 'unknown',
    source_workload_namespace: 'unknown',
    source_principal: 'unknown',
    source_app: 'unknown',
    source_version: 'unknown',
    destination_workload: dest.workload,
    destination_workload_namespace: dest.ns,
    destination_principal: 'unknown',
    destination_app: dest.app,
    destination_version: dest.version,
    destination_service: 'unknown',
    destination_service_name: 'unknown',
    destination_service_namespace: 'unknown',
    request_protocol: 'http',
    response_code: code,
    grpc_response_status: '',
    response_flags: '-',
    connection_security_policy: 'none',
  };
}
