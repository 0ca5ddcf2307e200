// The model behind a simulated istiod: the xDS type URLs it tracks, the proxies connected to it
// and, per type, the sent and acked nonces, the send time and the last NACK; its options, its ports,
// the shape of its /debug/syncz entries, and the demo NACK texts.

// The sandbox imports nothing from the bot's code, so the xDS type URLs it needs are spelled here.
export const TYPE_URL = {
  CDS: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  LDS: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  EDS: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  RDS: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  ECDS: 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig',
} as const;

/** One element of /debug/syncz as istiod marshals it (pilot/pkg/xds/debug.go SyncStatus). */
export interface SynczEntry {
  cluster_id: string;
  proxy: string;
  proxy_type: string;
  istio_version: string;
  [legacyNonce: `${string}_${'sent' | 'acked'}`]: string;
  resources: Record<string, { sent?: string; acked?: string; sentTime: string; lastError?: string }>;
}

export const ISTIOD_MONITORING_PORT = 15014;
export const ISTIOD_READY_PORT = 8080;

/** What a sidecar or gateway watches by default (no wasm, so no ECDS). */
export const DEFAULT_WATCHED_TYPES: readonly string[] = [TYPE_URL.CDS, TYPE_URL.LDS, TYPE_URL.EDS, TYPE_URL.RDS];

export interface SimWatch {
  sent?: string;
  acked?: string;
  sentTime?: Date;
  lastError?: string;
}

export interface SimProxy {
  id: string;
  proxyType: 'sidecar' | 'router';
  clusterId: string;
  istioVersion: string;
  connectionId: string;
  connectedAt: Date;
  peerAddress: string;
  watches: Map<string, SimWatch>;
}

export interface IstiodSimOptions {
  podName: string;
  /** Istio version this istiod reports (default 1.24.2). */
  version?: string;
  clusterId?: string;
  /** false: istiod started with ENABLE_DEBUG_ON_HTTP=false, so /debug/* is not served at all. */
  debugOnHttp?: boolean;
  /** false: /ready answers 503 (e.g. caches not synced). */
  ready?: boolean;
  now?: () => Date;
  nonce?: () => string;
}

export interface ConnectOptions {
  proxyType?: 'sidecar' | 'router';
  istioVersion?: string;
  clusterId?: string;
  /** Type URLs the proxy watches; default CDS, LDS, EDS, RDS. */
  types?: readonly string[];
  /** Push and ACK every watched type at once (default true): the proxy starts SYNCED. */
  synced?: boolean;
  peerAddress?: string;
}

/** Envoy NACK texts of the kind istiod records as LastError (realistic shapes, demo names). */
export const DEMO_NACK_MESSAGES = {
  LDS:
    'Error adding/updating listener(s) 0.0.0.0_9080: Proto constraint validation failed ' +
    '(HttpConnectionManagerValidationError.HttpFilters[3]: embedded message failed validation | caused by ' +
    'HttpFilterValidationError.Name: value length must be at least 1 characters)',
  // What Envoy's CDS answers for a MAGLEV cluster whose table size is not prime (MaglevLoadBalancer,
  // cds_api_helper's "<cluster>: <error>"): the demo's DestinationRule reviews-affinity sets tableSize 65536.
  CDS:
    'Error adding/updating cluster(s) outbound|9080|v2|reviews.bookinfo.svc.cluster.local: ' +
    'The table size of maglev must be prime number',
} as const;

export interface IstiodLogEntry {
  time: Date;
  level: 'info' | 'warn' | 'error';
  scope: string;
  message: string;
}

/** Byte-wise string order, as Go's sort of strings. */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
