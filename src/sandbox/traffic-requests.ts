// One request of a traffic flow, judged as the mesh would once routing has picked where it goes
// (traffic-routing.ts): the destination's effective PeerAuthentication mode and the caller
// sidecar's DestinationRule decide between mTLS (200), plaintext (200, or refused under STRICT:
// `NR filter_chain_not_found` at the destination, a reset at the caller) and ISTIO_MUTUAL toward an
// endpoint without a sidecar (503 URX,UF after the retries); a request with no route, no cluster or
// no healthy endpoint gets the caller sidecar's own answer (traffic-failures.ts). The traces it leaves
// are returned in the order a mesh writes them: access-log lines, istio_requests_total series and
// Envoy's cluster counters. The mTLS decisions come from the sandbox's own mesh-policy.ts.
import type { KubeObject } from '../kube/objects.ts';
import { accessLogLine } from './envoy-access-log.ts';
import { clientTlsFor, peerModeFor, serviceHost } from './mesh-policy.ts';
import { type CallerSide, connectionFailure, noCluster, noHealthyUpstream, noRoute } from './traffic-failures.ts';
import { requestLabels } from './traffic-labels.ts';
import { type Labels, type PodRef, type PodShape, proxyContainerName } from './traffic-pods.ts';
import { chargeCode, clusterStat, type StatIncrement, servedRequest } from './traffic-stats.ts';
import type { ServedAnswer } from './traffic-served.ts';

export interface Flow {
  /** Callers: Running pods in `namespace` labelled app=<app> (the ingress gateway is app=istio-ingressgateway). */
  from: { namespace: string; app: string };
  to: { namespace: string; service: string; port: number };
  /** Requests per tick per flow; default 1. */
  perTick?: number;
  path?: string;
  /** Request headers (lower-case names), for VirtualService header matches. */
  headers?: Labels;
  method?: string;
}

export interface RequestInput {
  flow: Flow;
  caller: PodRef;
  /** The pod the request lands on; absent when the cluster has no Running and Ready endpoint. */
  dest?: PodRef;
  /** Where routing sent it: the service, its port and the subset (flow.to without a VirtualService). */
  target: { service: string; namespace: string; port: number; subset?: string };
  /** Routing found no http route (404 NR), or a subset with no cluster (503 NC). */
  outcome?: 'no_route' | 'no_cluster';
  routeName?: string;
  /** Retries on connect failure; Istio's default 2. */
  retries?: number;
  /** The container port the Service port reaches on `dest`. */
  targetPort: number;
  /** The caller's source port for this connection. */
  callerPort: number;
  requestId: string;
  at: Date;
  encoding: 'TEXT' | 'JSON';
  /** The store's PeerAuthentications and DestinationRules, as they are now. */
  peerAuthentications: readonly KubeObject[];
  destinationRules: readonly KubeObject[];
  /** The app's answer when its pod carries the sandbox knob (traffic-served.ts); else 200 in 3 ms. */
  answer?: ServedAnswer;
}

export interface RequestTraces {
  /** Log lines, in the order written: each to one container of one pod. */
  logs: { pod: PodRef; container: string; line: string }[];
  /** istio_requests_total increments, in order: the reporting pod and the series' labels. */
  requests: { pod: PodRef; labels: Labels; durationMs?: number }[];
  /** Envoy counter increments on the sidecars involved. */
  stats: StatIncrement[];
}

/** `outbound|<port>|<subset>|<fqdn>`: the cluster istiod builds for a service port (and subset). */
export function outboundCluster(fqdn: string, port: number, subset?: string): string {
  return `outbound|${port}|${subset ?? ''}|${fqdn}`;
}

/** What one request from `caller` leaves behind. */
export function judgeRequest(r: RequestInput): RequestTraces {
  const { flow, caller, targetPort, callerPort, requestId, at, target } = r;
  const enc = r.encoding;
  const fqdn = serviceHost(target.service, target.namespace);
  const traces: RequestTraces = { logs: [], requests: [], stats: [] };
  const start = at.toISOString();
  const authority = `${flow.to.service}.${flow.to.namespace}.svc.cluster.local:${flow.to.port}`;
  const path = flow.path ?? '/';
  const method = flow.method ?? 'GET';
  const cluster = outboundCluster(fqdn, target.port, target.subset);
  const side: CallerSide = {
    caller,
    target,
    start,
    method,
    path,
    authority,
    requestId,
    callerPort,
    fqdn: serviceHost(flow.to.service, flow.to.namespace),
    port: flow.to.port,
    routeName: r.routeName ?? 'default',
    encoding: enc,
  };
  const local = (f: ReturnType<typeof noRoute>) => {
    traces.logs.push(f.log);
    traces.requests.push({ pod: caller, labels: f.labels });
    traces.stats.push(...f.stats);
    return traces;
  };
  if (caller.sidecar && r.outcome === 'no_route') return local(noRoute(side));
  // No cluster, so no cluster metadata: Istio's stats filter names the destination service from the request's
  // host header (its outbound default), i.e. the service asked for, not the host the route named.
  if (caller.sidecar && r.outcome === 'no_cluster')
    return local(noCluster({ ...side, target: { service: flow.to.service, namespace: flow.to.namespace } }));
  const dest = r.dest;
  if (!dest) return caller.sidecar ? local(noHealthyUpstream(side, cluster)) : traces;
  const mode = peerModeFor(
    r.peerAuthentications,
    { namespace: dest.ns, labels: dest.pod.metadata.labels },
    targetPort,
  ).mode;
  // The caller's sidecar: its DestinationRule's tls mode, else auto mTLS (mTLS exactly when the endpoint has a sidecar).
  const tls = caller.sidecar
    ? clientTlsFor(
        r.destinationRules,
        { namespace: caller.ns, labels: caller.pod.metadata.labels },
        { host: fqdn, serviceNamespace: target.namespace, port: target.port },
      ).tls
    : undefined;
  const sendsMtls = caller.sidecar && (tls === 'ISTIO_MUTUAL' || (tls === undefined && dest.sidecar));
  const upstreamHost = `${dest.ip}:${targetPort}`;
  const refused = dest.sidecar && mode === 'STRICT' && !sendsMtls;
  const callerContainer = caller.sidecar
    ? proxyContainerName
    : (((caller.pod.spec ?? {}) as PodShape).containers?.[0]?.name ?? 'app');
  if (refused) {
    // Plaintext into STRICT: no filter chain takes the connection; nothing is counted as a request.
    traces.logs.push({
      pod: dest,
      container: proxyContainerName,
      line: accessLogLine(
        {
          start_time: start,
          response_code: 0,
          response_flags: 'NR',
          response_code_details: 'filter_chain_not_found',
          bytes_received: 0,
          bytes_sent: 0,
          duration: 0,
          downstream_local_address: upstreamHost,
          downstream_remote_address: `${caller.ip}:${callerPort}`,
        },
        enc,
      ),
    });
    if (caller.sidecar) {
      traces.logs.push({
        pod: caller,
        container: proxyContainerName,
        line: accessLogLine(
          {
            start_time: start,
            method,
            path,
            protocol: 'HTTP/1.1',
            response_code: 503,
            response_flags: 'UC',
            response_code_details: 'upstream_reset_before_response_started{connection_termination}',
            bytes_received: 0,
            bytes_sent: 95,
            duration: 1,
            user_agent: 'curl/8.5.0',
            request_id: requestId,
            authority,
            upstream_host: upstreamHost,
            upstream_cluster: cluster,
            downstream_local_address: `${side.fqdn}:${flow.to.port}`,
            downstream_remote_address: `${caller.ip}:${callerPort}`,
            route_name: side.routeName,
          },
          enc,
        ),
      });
      traces.requests.push({
        pod: caller,
        labels: requestLabels('source', caller, dest, target, '503', 'UC', 'unknown'),
      });
      // The connection was made and the request sent; the peer closed it before any response.
      traces.stats.push(
        { pod: caller, name: clusterStat(cluster, 'upstream_cx_total') },
        { pod: caller, name: clusterStat(cluster, 'upstream_rq_total') },
        { pod: caller, name: clusterStat(cluster, 'upstream_cx_destroy_remote_with_active_rq') },
        ...chargeCode(caller, cluster, 503),
      );
    } else {
      traces.logs.push({
        pod: caller,
        container: callerContainer,
        line: `${start} ERROR request to http://${authority}${path} failed: read ECONNRESET (connection reset by peer)`,
      });
    }
    return traces;
  }
  if (sendsMtls && !dest.sidecar) {
    // ISTIO_MUTUAL toward an endpoint without a sidecar: the app answers the TLS handshake in plaintext.
    return local(connectionFailure(side, cluster, dest, upstreamHost, r.retries ?? 2));
  }
  const policy = sendsMtls ? 'mutual_tls' : 'none';
  const code = r.answer?.code ?? 200;
  const destMs = r.answer ? Math.round(r.answer.appMs) + 2 : 3;
  if (dest.sidecar) {
    const inbound = `inbound|${targetPort}||`;
    traces.logs.push({
      pod: dest,
      container: proxyContainerName,
      line: accessLogLine(
        {
          start_time: start,
          method,
          path,
          protocol: 'HTTP/1.1',
          response_code: code,
          response_code_details: 'via_upstream',
          bytes_received: 0,
          bytes_sent: 358,
          duration: destMs,
          upstream_service_time: destMs - 1,
          user_agent: 'curl/8.5.0',
          request_id: requestId,
          authority,
          upstream_host: upstreamHost,
          upstream_cluster: inbound,
          upstream_local_address: `127.0.0.6:${callerPort + 1}`,
          downstream_local_address: upstreamHost,
          downstream_remote_address: `${caller.ip}:${callerPort}`,
          requested_server_name: sendsMtls ? `outbound_.${target.port}_.${target.subset ?? ''}_.${fqdn}` : undefined,
          route_name: 'default',
        },
        enc,
      ),
    });
    traces.requests.push({
      pod: dest,
      labels: requestLabels('destination', caller, dest, target, String(code), '-', policy),
      durationMs: destMs,
    });
    traces.stats.push(...servedRequest(dest, inbound, upstreamHost, code));
  }
  if (caller.sidecar) {
    traces.logs.push({
      pod: caller,
      container: proxyContainerName,
      line: accessLogLine(
        {
          start_time: start,
          method,
          path,
          protocol: 'HTTP/1.1',
          response_code: code,
          response_code_details: 'via_upstream',
          bytes_received: 0,
          bytes_sent: 358,
          duration: destMs + 1,
          upstream_service_time: destMs,
          user_agent: 'curl/8.5.0',
          request_id: requestId,
          authority,
          upstream_host: upstreamHost,
          upstream_cluster: cluster,
          upstream_local_address: `${caller.ip}:${callerPort}`,
          downstream_local_address: `${side.fqdn}:${flow.to.port}`,
          downstream_remote_address: `${caller.ip}:${callerPort - 1}`,
          route_name: side.routeName,
        },
        enc,
      ),
    });
    traces.requests.push({
      pod: caller,
      labels: requestLabels('source', caller, dest, target, String(code), '-', 'unknown'),
      durationMs: destMs + 1,
    });
    traces.stats.push(...servedRequest(caller, cluster, upstreamHost, code));
  }
  return traces;
}
