// Envoy's admin /clusters?format=json (envoy.admin.v3.Clusters): every upstream cluster the proxy
// knows, its endpoints and their health. Envoy writes proto field names and proto3 JSON, so uint64
// counters come as strings and zero values are left out. Istio names clusters
// `outbound|<port>|<subset>|<host>` and `inbound|<port>||`.
import { z } from 'zod';

const uint64 = z.union([z.string(), z.number()]).transform((v) => Number(v));

const hostStatusSchema = z.looseObject({
  address: z
    .looseObject({
      socket_address: z.looseObject({ address: z.string().default(''), port_value: z.number().optional() }).optional(),
      pipe: z.looseObject({ path: z.string() }).optional(),
      envoy_internal_address: z.looseObject({ server_listener_name: z.string().optional() }).optional(),
    })
    .optional(),
  hostname: z.string().optional(),
  stats: z.array(z.looseObject({ name: z.string(), value: uint64.optional() })).default([]),
  health_status: z
    .looseObject({
      eds_health_status: z.string().optional(),
      failed_active_health_check: z.boolean().optional(),
      failed_outlier_check: z.boolean().optional(),
      failed_active_degraded_check: z.boolean().optional(),
      pending_dynamic_removal: z.boolean().optional(),
    })
    .optional(),
  weight: z.number().optional(),
  priority: z.number().optional(),
  locality: z
    .looseObject({ region: z.string().optional(), zone: z.string().optional(), sub_zone: z.string().optional() })
    .optional(),
});

const clustersSchema = z.looseObject({
  cluster_statuses: z
    .array(
      z.looseObject({
        name: z.string(),
        added_via_api: z.boolean().optional(),
        host_statuses: z.array(hostStatusSchema).default([]),
      }),
    )
    .default([]),
});

export interface ClusterHost {
  /** `10.1.2.3:9080`, a pipe path, or `envoy://<listener>` for an internal address. */
  address: string;
  hostname?: string;
  /** EDS health as Envoy names it (HEALTHY, UNHEALTHY, DRAINING, TIMEOUT, DEGRADED, UNKNOWN). */
  edsHealth: string;
  failedOutlierCheck: boolean;
  failedActiveHealthCheck: boolean;
  /** Usable for traffic: healthy or unknown in EDS and not ejected by a health or outlier check. */
  healthy: boolean;
  weight?: number;
  priority: number;
  zone?: string;
  /** Per-host counters and gauges (cx_active, rq_total, rq_error, ...); absent ones are 0. */
  stats: Record<string, number>;
}

export interface ClusterStatus {
  name: string;
  addedViaApi: boolean;
  hosts: ClusterHost[];
}

function addressOf(h: z.infer<typeof hostStatusSchema>): string {
  const a = h.address;
  const socket = a?.socket_address;
  if (socket) return socket.port_value !== undefined ? `${socket.address}:${socket.port_value}` : socket.address;
  if (a?.pipe) return a.pipe.path;
  if (a?.envoy_internal_address) return `envoy://${a.envoy_internal_address.server_listener_name ?? ''}`;
  return '';
}

/** Parse /clusters?format=json (text or parsed JSON). */
export function parseClusters(input: string | unknown): ClusterStatus[] {
  const json = typeof input === 'string' ? (JSON.parse(input) as unknown) : input;
  return clustersSchema.parse(json).cluster_statuses.map((c) => ({
    name: c.name,
    addedViaApi: c.added_via_api ?? false,
    hosts: c.host_statuses.map((h) => {
      const hs = h.health_status ?? {};
      const edsHealth = hs.eds_health_status ?? 'UNKNOWN';
      const failedOutlierCheck = hs.failed_outlier_check ?? false;
      const failedActiveHealthCheck = hs.failed_active_health_check ?? false;
      const stats: Record<string, number> = {};
      for (const s of h.stats) stats[s.name] = s.value ?? 0;
      return {
        address: addressOf(h),
        ...(h.hostname ? { hostname: h.hostname } : {}),
        edsHealth,
        failedOutlierCheck,
        failedActiveHealthCheck,
        healthy:
          (edsHealth === 'HEALTHY' || edsHealth === 'UNKNOWN') && !failedOutlierCheck && !failedActiveHealthCheck,
        ...(h.weight !== undefined ? { weight: h.weight } : {}),
        priority: h.priority ?? 0,
        ...(h.locality?.zone ? { zone: h.locality.zone } : {}),
        stats,
      };
    }),
  }));
}

export interface IstioClusterName {
  direction: 'inbound' | 'outbound';
  port: number;
  subset: string;
  /** The service's FQDN for outbound clusters; empty for inbound ones. */
  host: string;
}

/** `outbound|9080|v1|reviews.bookinfo.svc.cluster.local` → its parts; undefined for Envoy's own clusters (`agent`, `BlackHoleCluster`, ...). */
export function parseIstioClusterName(name: string): IstioClusterName | undefined {
  const parts = name.split('|');
  if (parts.length !== 4 || (parts[0] !== 'inbound' && parts[0] !== 'outbound')) return undefined;
  const port = Number(parts[1]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { direction: parts[0], port, subset: parts[2]!, host: parts[3]! };
}
