// The small pieces every part of the sandbox's xDS shares: Envoy's @type URLs, JSON helpers, proto
// durations, Istio's config paths in metadata, SDS references, and how a DestinationRule's traffic
// policy becomes cluster fields (load balancer, circuit breakers, outlier detection, ISTIO_MUTUAL).
import type { KubeObject } from '../kube/objects.ts';

export type Json = Record<string, unknown>;

export const TYPE = {
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  cla: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  routeConfig: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
  hcm: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  tcpProxy: 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
  router: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  upstreamTls: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
  downstreamTls: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
  rawBuffer: 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer',
} as const;

export const ADS = { ads: {}, initial_fetch_timeout: '0s', resource_api_version: 'V3' };
export const MAX = 4294967295;

export const rec = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const strings = (v: unknown): string[] => list(v).filter((x): x is string => typeof x === 'string');

/** A Go duration (`30s`, `1m`, `1.5s`, `100ms`) as a proto Duration (`30s`, `60s`, `1.500s`). */
export function protoDuration(d: unknown): string | undefined {
  if (typeof d !== 'string') return undefined;
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  let total = 0;
  for (const m of d.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) total += Number(m[1]) * units[m[2]!]!;
  if (total === 0 && !/^0/.test(d)) return undefined;
  const whole = Number.isInteger(total);
  return `${whole ? total : total.toFixed(3)}s`;
}

export function configPath(kind: 'destination-rule' | 'virtual-service', obj: KubeObject): string {
  return `/apis/networking.istio.io/v1/namespaces/${obj.metadata.namespace}/${kind}/${obj.metadata.name}`;
}

/** Merge a subset's trafficPolicy over the rule's (field by field at the top, as Istio does). */
export function policyFor(rule: KubeObject | undefined, subset: Json | undefined, port: number): Json {
  const top = rec(rec(rule?.spec).trafficPolicy);
  const sub = rec(subset?.trafficPolicy);
  const merged: Json = { ...top, ...sub };
  const portLevel = list(merged.portLevelSettings)
    .map(rec)
    .find((s) => rec(s.port).number === port);
  return portLevel ? { ...merged, ...portLevel } : merged;
}

export function applyPolicy(cluster: Json, policy: Json): void {
  const lb = rec(policy.loadBalancer);
  const simple = lb.simple;
  if (simple === 'ROUND_ROBIN') delete cluster.lb_policy;
  else if (simple === 'RANDOM') cluster.lb_policy = 'RANDOM';
  const maglev = rec(rec(lb.consistentHash).maglev);
  if (lb.consistentHash !== undefined) {
    cluster.lb_policy = Object.keys(maglev).length > 0 || rec(lb.consistentHash).maglev ? 'MAGLEV' : 'RING_HASH';
    if (maglev.tableSize !== undefined) cluster.maglev_lb_config = { table_size: String(maglev.tableSize) };
  }
  const pool = rec(policy.connectionPool);
  const threshold: Json = {
    max_connections: Number(rec(pool.tcp).maxConnections ?? MAX),
    max_pending_requests: Number(rec(pool.http).http1MaxPendingRequests ?? MAX),
    max_requests: Number(rec(pool.http).http2MaxRequests ?? MAX),
    max_retries: Number(rec(pool.http).maxRetries ?? MAX),
    track_remaining: true,
  };
  cluster.circuit_breakers = { thresholds: [threshold] };
  const od = rec(policy.outlierDetection);
  if (Object.keys(od).length > 0) {
    const consecutive = od.consecutive5xxErrors ?? od.consecutiveErrors;
    cluster.outlier_detection = {
      ...(consecutive !== undefined ? { consecutive_5xx: Number(consecutive), enforcing_consecutive_5xx: 100 } : {}),
      ...(protoDuration(od.interval) ? { interval: protoDuration(od.interval) } : {}),
      ...(protoDuration(od.baseEjectionTime) ? { base_ejection_time: protoDuration(od.baseEjectionTime) } : {}),
      ...(od.maxEjectionPercent !== undefined ? { max_ejection_percent: Number(od.maxEjectionPercent) } : {}),
      enforcing_success_rate: 0,
    };
  }
}

export function sds(name: string): Json {
  return {
    name,
    sds_config: {
      api_config_source: {
        api_type: 'GRPC',
        transport_api_version: 'V3',
        grpc_services: [{ envoy_grpc: { cluster_name: 'sds-grpc' } }],
        set_node_on_first_message_only: true,
      },
      initial_fetch_timeout: '0s',
      resource_api_version: 'V3',
    },
  };
}

export function istioMutual(sni: string, peerIds: string[]): Json[] {
  return [
    {
      name: 'tlsMode-istio',
      match: { tlsMode: 'istio' },
      transport_socket: {
        name: 'envoy.transport_sockets.tls',
        typed_config: {
          '@type': TYPE.upstreamTls,
          common_tls_context: {
            tls_params: { tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3' },
            alpn_protocols: ['istio-peer-exchange', 'istio'],
            tls_certificate_sds_secret_configs: [sds('default')],
            combined_validation_context: {
              default_validation_context: { match_subject_alt_names: peerIds.map((exact) => ({ exact })) },
              validation_context_sds_secret_config: sds('ROOTCA'),
            },
          },
          sni,
        },
      },
    },
    {
      name: 'tlsMode-disabled',
      match: {},
      transport_socket: { name: 'envoy.transport_sockets.raw_buffer', typed_config: { '@type': TYPE.rawBuffer } },
    },
  ];
}
