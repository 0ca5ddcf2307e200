// One request of a traffic flow, judged as the mesh would: the destination's effective
// PeerAuthentication mode and the caller sidecar's DestinationRule decide between mTLS (200), plaintext
// (200, or refused under STRICT: `NR filter_chain_not_found` at the destination, a reset at the caller)
// and ISTIO_MUTUAL toward an endpoint without a sidecar (503 UF). The traces it leaves are returned in
// the order a mesh writes them: access-log lines and istio_requests_total series.
// The mTLS decisions come from the sandbox's own mesh-policy.ts, never from the bot's src/mesh.
import type { KubeObject } from '../kube/objects.ts';
import { accessLogLine } from './envoy-access-log.ts';
import { clientTlsFor, peerModeFor, serviceHost } from './mesh-policy.ts';
import { type Labels, type PodRef, type PodShape, proxyContainerName } from './traffic-pods.ts';

export interface Flow {
  /** Callers: Running pods in `namespace` labelled app=<app> (the ingress gateway is app=istio-ingressgateway). */
  from: { namespace: string; app: string };
  to: { namespace: string; service: string; port: number };
  /** Requests per tick per flow; default 1. */
  perTick?: number;
  path?: string;
}

export interface RequestInput {
  flow: Flow;
  caller: PodRef;
  dest: PodRef;
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
}

export interface RequestTraces {
  /** Log lines, in the order written: each to one container of one pod. */
  logs: { pod: PodRef; container: string; line: string }[];
  /** istio_requests_total increments, in order: the reporting pod and the series' labels. */
  requests: { pod: PodRef; labels: Labels }[];
}

/** What one request from `caller` to `dest` leaves behind. */
export function judgeRequest(r: RequestInput): RequestTraces {
  const { flow, caller, dest, targetPort, callerPort, requestId, at } = r;
  const enc = r.encoding;
  const fqdn = serviceHost(flow.to.service, flow.to.namespace);
  const traces: RequestTraces = { logs: [], requests: [] };
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
        { host: fqdn, serviceNamespace: flow.to.namespace, port: flow.to.port },
      ).tls
    : undefined;
  const sendsMtls = caller.sidecar && (tls === 'ISTIO_MUTUAL' || (tls === undefined && dest.sidecar));
  const start = at.toISOString();
  const authority = `${flow.to.service}.${flow.to.namespace}.svc.cluster.local:${flow.to.port}`;
  const path = flow.path ?? '/';
  const outboundCluster = `outbound|${flow.to.port}||${fqdn}`;
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
          downstream_local_address: `${dest.ip}:${targetPort}`,
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
            method: 'GET',
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
            upstream_host: `${dest.ip}:${targetPort}`,
            upstream_cluster: outboundCluster,
            downstream_local_address: `${fqdn}:${flow.to.port}`,
            downstream_remote_address: `${caller.ip}:${callerPort}`,
            route_name: 'default',
          },
          enc,
        ),
      });
      traces.requests.push({
        pod: caller,
        labels: requestLabels('source', caller, dest, flow, '503', 'UC', 'unknown'),
      });
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
    const reason = 'TLS_error:_268435703:SSL_routines:OPENSSL_internal:WRONG_VERSION_NUMBER';
    traces.logs.push({
      pod: caller,
      container: proxyContainerName,
      line: accessLogLine(
        {
          start_time: start,
          method: 'GET',
          path,
          protocol: 'HTTP/1.1',
          response_code: 503,
          response_flags: 'UF',
          response_code_details: `upstream_reset_before_response_started{connection_failure,${reason}}`,
          upstream_transport_failure_reason: reason,
          bytes_received: 0,
          bytes_sent: 190,
          duration: 2,
          user_agent: 'curl/8.5.0',
          request_id: requestId,
          authority,
          upstream_host: `${dest.ip}:${targetPort}`,
          upstream_cluster: outboundCluster,
          downstream_local_address: `${fqdn}:${flow.to.port}`,
          downstream_remote_address: `${caller.ip}:${callerPort}`,
          route_name: 'default',
        },
        enc,
      ),
    });
    traces.requests.push({ pod: caller, labels: requestLabels('source', caller, dest, flow, '503', 'UF', 'unknown') });
    return traces;
  }
  const policy = sendsMtls ? 'mutual_tls' : 'none';
  if (dest.sidecar) {
    traces.logs.push({
      pod: dest,
      container: proxyContainerName,
      line: accessLogLine(
        {
          start_time: start,
          method: 'GET',
          path,
          protocol: 'HTTP/1.1',
          response_code: 200,
          response_code_details: 'via_upstream',
          bytes_received: 0,
          bytes_sent: 358,
          duration: 3,
          upstream_service_time: 2,
          user_agent: 'curl/8.5.0',
          request_id: requestId,
          authority,
          upstream_host: `${dest.ip}:${targetPort}`,
          upstream_cluster: `inbound|${targetPort}||`,
          upstream_local_address: `127.0.0.6:${callerPort + 1}`,
          downstream_local_address: `${dest.ip}:${targetPort}`,
          downstream_remote_address: `${caller.ip}:${callerPort}`,
          requested_server_name: sendsMtls ? `outbound_.${flow.to.port}_._.${fqdn}` : undefined,
          route_name: 'default',
        },
        enc,
      ),
    });
    traces.requests.push({ pod: dest, labels: requestLabels('destination', caller, dest, flow, '200', '-', policy) });
  }
  if (caller.sidecar) {
    traces.logs.push({
      pod: caller,
      container: proxyContainerName,
      line: accessLogLine(
        {
          start_time: start,
          method: 'GET',
          path,
          protocol: 'HTTP/1.1',
          response_code: 200,
          response_code_details: 'via_upstream',
          bytes_received: 0,
          bytes_sent: 358,
          duration: 4,
          upstream_service_time: 3,
          user_agent: 'curl/8.5.0',
          request_id: requestId,
          authority,
          upstream_host: `${dest.ip}:${targetPort}`,
          upstream_cluster: outboundCluster,
          upstream_local_address: `${caller.ip}:${callerPort}`,
          downstream_local_address: `${fqdn}:${flow.to.port}`,
          downstream_remote_address: `${caller.ip}:${callerPort - 1}`,
          route_name: 'default',
        },
        enc,
      ),
    });
    traces.requests.push({ pod: caller, labels: requestLabels('source', caller, dest, flow, '200', '-', 'unknown') });
  }
  return traces;
}

function requestLabels(
  reporter: 'source' | 'destination',
  caller: PodRef,
  dest: PodRef,
  flow: Flow,
  code: string,
  flags: string,
  policy: string,
): Labels {
  // A caller without a sidecar has no peer metadata: the destination sees it as unknown.
  const known = caller.sidecar;
  return {
    reporter,
    source_workload: known ? caller.workload : 'unknown',
    source_workload_namespace: known ? caller.ns : 'unknown',
    source_principal: known && policy === 'mutual_tls' ? caller.principal : 'unknown',
    source_app: known ? caller.app : 'unknown',
    source_version: known ? caller.version : 'unknown',
    destination_workload: dest.workload,
    destination_workload_namespace: dest.ns,
    destination_principal: policy === 'mutual_tls' ? dest.principal : 'unknown',
    destination_app: dest.app,
    destination_version: dest.version,
    destination_service: serviceHost(flow.to.service, flow.to.namespace),
    destination_service_name: flow.to.service,
    destination_service_namespace: flow.to.namespace,
    request_protocol: 'http',
    response_code: code,
    grpc_response_status: '',
    response_flags: flags,
    connection_security_policy: policy,
  };
}
