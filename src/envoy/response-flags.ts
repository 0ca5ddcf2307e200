// Envoy's response flags (%RESPONSE_FLAGS% in an access-log line), short and long names as Envoy prints
// them (source/common/stream_info/utility.h, ResponseFlagUtils::ALL_RESPONSE_STRINGS_FLAGS), what Envoy
// says each means (docs/root/configuration/observability/access_log/usage.rst, "RESPONSE_FLAGS"), and
// what it usually means in an Istio mesh, with where to look next.

export interface ResponseFlag {
  /** As in the access log: UH, UF, NR … */
  short: string;
  /** Envoy's long name (the `%RESPONSE_FLAGS_LONG%` operator): NoHealthyUpstream … */
  long: string;
  /** Envoy's own meaning. */
  envoy: string;
  /** What it usually is in an Istio mesh, and what to check. */
  istio: string;
}

const FLAGS: readonly ResponseFlag[] = [
  {
    short: 'UH',
    long: 'NoHealthyUpstream',
    envoy: 'no healthy upstream hosts in the upstream cluster (503)',
    istio:
      'the cluster has no endpoint to send to: a DestinationRule subset whose labels select no pod, a Service with no ready pods, or every endpoint ejected by outlier detection. Check `/mesh proxy-config endpoints` for the cluster and the subset labels against the pods.',
  },
  {
    short: 'UF',
    long: 'UpstreamConnectionFailure',
    envoy: 'the connection to the upstream failed (503)',
    istio:
      'often an mTLS mismatch: a DestinationRule with ISTIO_MUTUAL toward a pod without a sidecar (the TLS handshake meets plaintext; upstream_transport_failure_reason says so), or a caller without a sidecar into a STRICT PeerAuthentication. Otherwise the pod does not listen on the port.',
  },
  {
    short: 'UO',
    long: 'UpstreamOverflow',
    envoy: 'upstream overflow: circuit breaking (503)',
    istio:
      "the DestinationRule's connectionPool limits (maxConnections, http1MaxPendingRequests, http2MaxRequests, maxRequestsPerConnection) were reached: raise them or scale the destination.",
  },
  {
    short: 'NR',
    long: 'NoRouteFound',
    envoy: 'no route configured for the request (404), or no matching filter chain for a downstream connection',
    istio:
      'on an outbound request: no VirtualService or route for this host and port (a host or port mismatch, or a Sidecar resource that does not import the host). On an inbound listener with `filter_chain_not_found`: a plaintext connection into a STRICT PeerAuthentication (the caller has no sidecar).',
  },
  {
    short: 'URX',
    long: 'UpstreamRetryLimitExceeded',
    envoy: 'the upstream retry limit (HTTP) or maximum connect attempts (TCP) was reached',
    istio:
      "every attempt failed: the VirtualService's retries (Istio retries twice by default) ran out. Look at the destination's own errors; more retries only add load.",
  },
  {
    short: 'NC',
    long: 'NoClusterFound',
    envoy: 'upstream cluster not found',
    istio:
      'a route points to a cluster Envoy does not have: usually a VirtualService subset that no DestinationRule defines, or a host that is not in the registry.',
  },
  {
    short: 'DT',
    long: 'DurationTimeout',
    envoy: 'a request or connection exceeded max_connection_duration or max_downstream_connection_duration',
    istio:
      "a connection lived past its configured maximum duration (DestinationRule's connectionPool idle/duration settings or an EnvoyFilter).",
  },
  {
    short: 'DC',
    long: 'DownstreamConnectionTermination',
    envoy: 'downstream connection termination',
    istio: 'the caller went away before the answer: its own timeout was shorter than the time the destination took.',
  },
  {
    short: 'LH',
    long: 'FailedLocalHealthCheck',
    envoy: 'the local service failed a health check request (503)',
    istio: 'the local app fails its health check as Envoy sees it: look at the pod readiness and its probe.',
  },
  {
    short: 'UT',
    long: 'UpstreamRequestTimeout',
    envoy: 'upstream request timeout (504)',
    istio:
      "the VirtualService's `timeout` (or perTryTimeout) passed before the destination answered: the destination is slow, or the timeout is too short.",
  },
  {
    short: 'LR',
    long: 'LocalReset',
    envoy: 'connection local reset (503)',
    istio:
      'this Envoy reset the stream itself (often on a timeout or an overload); look at the same request on the other side.',
  },
  {
    short: 'UR',
    long: 'UpstreamRemoteReset',
    envoy: 'upstream remote reset (503)',
    istio:
      'the destination reset the stream: the app crashed or closed it, or an idle connection was reused after the app dropped it.',
  },
  {
    short: 'UC',
    long: 'UpstreamConnectionTermination',
    envoy: 'upstream connection termination (503)',
    istio:
      "the destination closed the connection before answering: a reused connection that the app's keepalive closed, the app restarting, or a STRICT destination refusing a plaintext caller (its own log shows NR filter_chain_not_found).",
  },
  {
    short: 'DI',
    long: 'DelayInjected',
    envoy: 'the request was delayed by fault injection',
    istio: 'a VirtualService `fault.delay` is in effect for this route: intended only while testing.',
  },
  {
    short: 'FI',
    long: 'FaultInjected',
    envoy: 'the request was aborted by fault injection with the configured response code',
    istio: 'a VirtualService `fault.abort` answers these requests: remove it when the test is over.',
  },
  {
    short: 'RL',
    long: 'RateLimited',
    envoy: 'the request was rate limited locally by the HTTP rate limit filter (429)',
    istio: 'a local or global rate limit (EnvoyFilter) refused it: the caller is over its limit.',
  },
  {
    short: 'UAEX',
    long: 'UnauthorizedExternalService',
    envoy: 'the request was denied by the external authorization service',
    istio:
      'a CUSTOM AuthorizationPolicy sent it to the ext_authz provider (meshConfig.extensionProviders), which said no.',
  },
  {
    short: 'RLSE',
    long: 'RateLimitServiceError',
    envoy: 'the request was rejected because of an error in the rate limit service',
    istio: "the rate limit service could not be reached or failed; check it and the filter's failure mode.",
  },
  {
    short: 'SI',
    long: 'StreamIdleTimeout',
    envoy: 'stream idle timeout (408)',
    istio:
      'nothing moved on the stream for the idle timeout (default 5 minutes; DestinationRule idleTimeout or an EnvoyFilter).',
  },
  {
    short: 'IH',
    long: 'InvalidEnvoyRequestHeaders',
    envoy: 'the request set an invalid value for a strictly checked header (400)',
    istio: 'an x-envoy-* header (retry or timeout) with a value Envoy refuses: fix the caller.',
  },
  {
    short: 'DPE',
    long: 'DownstreamProtocolError',
    envoy: 'the downstream request had an HTTP protocol error',
    istio:
      "the caller speaks another protocol than the port's: check the Service port's name or appProtocol (http, http2, grpc, tcp).",
  },
  {
    short: 'UMSDR',
    long: 'UpstreamMaxStreamDurationReached',
    envoy: 'the upstream request reached its max stream duration',
    istio: "the route's max stream duration passed (VirtualService timeout on a stream, or an EnvoyFilter).",
  },
  {
    short: 'RFCF',
    long: 'ResponseFromCacheFilter',
    envoy: 'the response was served by the cache filter',
    istio: 'an HTTP cache filter (EnvoyFilter) answered; not an error.',
  },
  {
    short: 'NFCF',
    long: 'NoFilterConfigFound',
    envoy: 'no filter config was found (an ECDS filter whose config has not arrived)',
    istio:
      "a WasmPlugin or extension whose config istiod has not delivered or that failed to load: check the proxy with `/mesh stale` and istiod's log.",
  },
  {
    short: 'UPE',
    long: 'UpstreamProtocolError',
    envoy: 'the upstream response had an HTTP protocol error',
    istio:
      "the destination answers in another protocol than declared: the Service port's name or appProtocol (http vs http2/grpc) does not match the app.",
  },
  {
    short: 'OM',
    long: 'OverloadManagerTerminated',
    envoy: 'the Overload Manager terminated the request',
    istio: 'the proxy is out of memory or connections by its overload settings: give the sidecar more resources.',
  },
  {
    short: 'DF',
    long: 'DnsResolutionFailed',
    envoy: 'the request was terminated because DNS resolution failed',
    istio: 'a DNS-resolved ServiceEntry or dynamic forward proxy host did not resolve: check the host name.',
  },
  {
    short: 'DO',
    long: 'DropOverload',
    envoy: 'the request was dropped by the drop-overload policy',
    istio: 'the load balancer shed the request on purpose (drop overload from the control plane).',
  },
];

const BY_SHORT = new Map(FLAGS.map((f) => [f.short, f]));
const BY_LONG = new Map(FLAGS.map((f) => [f.long.toLowerCase(), f]));

/** Every flag Envoy defines, in Envoy's documentation order. */
export function allResponseFlags(): readonly ResponseFlag[] {
  return FLAGS;
}

/** A flag by its short (`UH`) or long (`NoHealthyUpstream`) name, any case. */
export function responseFlag(name: string): ResponseFlag | undefined {
  return BY_SHORT.get(name.toUpperCase()) ?? BY_LONG.get(name.toLowerCase());
}

/** NR at an inbound listener: no filter chain took a plaintext connection (STRICT mTLS). */
export function isFilterChainNotFound(details: string | undefined): boolean {
  return details === 'filter_chain_not_found';
}
