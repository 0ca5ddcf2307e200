// The caller sidecar's own answers when a request never reaches a destination pod, with Envoy's
// response flags and details as its router writes them (source/common/router/router.cc,
// source/common/stream_info/utility.cc, the response_code_details reference):
//   - no route: 404 `NR` `route_not_found` (a VirtualService took the host, no http route matched);
//   - no cluster: 503 `NC` `cluster_not_found` (the route names a subset no DestinationRule defines,
//     so istiod built no cluster for it; upstream_cluster is empty);
//   - no healthy upstream: 503 `UH` `no_healthy_upstream`, body "no healthy upstream", no upstream
//     host; the cluster counts upstream_cx_none_healthy and the router charges the 503;
//   - a failed connection (ISTIO_MUTUAL toward a pod without a sidecar: the plaintext app answers the
//     TLS ClientHello, BoringSSL says WRONG_VERSION_NUMBER): retried per the route's policy (Istio's
//     default: 2 retries on connect-failure), then 503 with `URX,UF` (URX is set first, when the
//     retries run out) and `upstream_reset_before_response_started{remote_connection_failure|<reason>}`,
//     the reason in Envoy's new TLS failure format (ssl_socket.cc: `TLS_error:|<code>:<lib>:<func>:<reason>:TLS_error_end`)
//     with spaces written as `_` in both the details and %UPSTREAM_TRANSPORT_FAILURE_REASON%.
import { accessLogLine } from './envoy-access-log.ts';
import { type LabelTarget, requestLabels } from './traffic-labels.ts';
import { type PodRef, proxyContainerName } from './traffic-pods.ts';
import { chargeCode, clusterStat, type StatIncrement } from './traffic-stats.ts';

/** What a caller-side line needs to know about the request. */
export interface CallerSide {
  caller: PodRef;
  target: LabelTarget;
  start: string;
  method: string;
  path: string;
  authority: string;
  requestId: string;
  callerPort: number;
  /** The service's FQDN and port, as the caller's outbound listener saw them. */
  fqdn: string;
  port: number;
  routeName: string;
  encoding: 'TEXT' | 'JSON';
}

export interface CallerFailure {
  log: { pod: PodRef; container: string; line: string };
  labels: ReturnType<typeof requestLabels>;
  stats: StatIncrement[];
}

/** The reason BoringSSL gives when a TLS ClientHello is answered in plaintext, as Envoy records it. */
export const WRONG_VERSION_REASON =
  'TLS_error:|268435703:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER:TLS_error_end';

const underscored = (s: string) => s.replace(/\s/g, '_');

function line(
  c: CallerSide,
  f: { code: number; flags: string; details: string; bytesSent: number; cluster?: string; host?: string } & {
    reason?: string;
    duration?: number;
  },
): string {
  return accessLogLine(
    {
      start_time: c.start,
      method: c.method,
      path: c.path,
      protocol: 'HTTP/1.1',
      response_code: f.code,
      response_flags: f.flags,
      response_code_details: f.details,
      upstream_transport_failure_reason: f.reason,
      bytes_received: 0,
      bytes_sent: f.bytesSent,
      duration: f.duration ?? 0,
      user_agent: 'curl/8.5.0',
      request_id: c.requestId,
      authority: c.authority,
      upstream_host: f.host,
      upstream_cluster: f.cluster,
      downstream_local_address: `${c.fqdn}:${c.port}`,
      downstream_remote_address: `${c.caller.ip}:${c.callerPort}`,
      route_name: c.routeName,
    },
    c.encoding,
  );
}

function failure(c: CallerSide, logLine: string, code: number, flags: string, stats: StatIncrement[]): CallerFailure {
  return {
    log: { pod: c.caller, container: proxyContainerName, line: logLine },
    labels: requestLabels('source', c.caller, undefined, c.target, String(code), flags, 'unknown'),
    stats,
  };
}

export function noRoute(c: CallerSide): CallerFailure {
  const l = line(c, { code: 404, flags: 'NR', details: 'route_not_found', bytesSent: 0 });
  return failure(c, l, 404, 'NR', []);
}

export function noCluster(c: CallerSide): CallerFailure {
  // No cluster, so no cluster stats: only the router's own no_cluster counter, which is not per cluster.
  const l = line(c, { code: 503, flags: 'NC', details: 'cluster_not_found', bytesSent: 0 });
  return failure(c, l, 503, 'NC', []);
}

export function noHealthyUpstream(c: CallerSide, cluster: string): CallerFailure {
  const body = 'no healthy upstream';
  const l = line(c, { code: 503, flags: 'UH', details: 'no_healthy_upstream', bytesSent: body.length, cluster });
  return failure(c, l, 503, 'UH', [
    { pod: c.caller, name: clusterStat(cluster, 'upstream_cx_none_healthy') },
    ...chargeCode(c.caller, cluster, 503),
  ]);
}

/** A connection that fails on every attempt (the first and each retry), each to `upstreamHost`. */
export function connectionFailure(
  c: CallerSide,
  cluster: string,
  dest: PodRef,
  upstreamHost: string,
  retries: number,
  reason = WRONG_VERSION_REASON,
): CallerFailure {
  const flags = retries > 0 ? 'URX,UF' : 'UF';
  const body =
    `upstream connect error or disconnect/reset before headers. ${retries > 0 ? 'retried and the latest ' : ''}` +
    `reset reason: remote connection failure, transport failure reason: ${reason}`;
  const l = line(c, {
    code: 503,
    flags,
    details: `upstream_reset_before_response_started{remote_connection_failure|${underscored(reason)}}`,
    reason: underscored(reason),
    bytesSent: body.length,
    cluster,
    host: upstreamHost,
    duration: 2 + retries * 25,
  });
  const attempts = retries + 1;
  const stats: StatIncrement[] = [
    { pod: c.caller, name: clusterStat(cluster, 'upstream_cx_total'), n: attempts },
    { pod: c.caller, name: clusterStat(cluster, 'upstream_cx_connect_fail'), n: attempts },
    { pod: c.caller, name: clusterStat(cluster, 'upstream_rq_pending_total'), n: attempts },
    { pod: c.caller, name: clusterStat(cluster, 'upstream_rq_pending_failure_eject'), n: attempts },
    ...chargeCode(c.caller, cluster, 503),
  ];
  if (retries > 0) {
    stats.push({ pod: c.caller, name: clusterStat(cluster, 'upstream_rq_retry'), n: retries });
    stats.push({ pod: c.caller, name: clusterStat(cluster, 'upstream_rq_retry_limit_exceeded') });
  }
  return {
    log: { pod: c.caller, container: proxyContainerName, line: l },
    // The endpoint's metadata comes with EDS, so the caller still names the destination workload.
    labels: requestLabels('source', c.caller, dest, c.target, '503', flags, 'unknown'),
    stats,
  };
}
