// The parts of an Envoy admin /config_dump that tell which Istio objects shaped a proxy's config:
// routes and clusters carry `metadata.filter_metadata.istio.config`, a path such as
// `/apis/networking.istio.io/v1alpha3/namespaces/default/virtual-service/bookinfo`. Only the fields
// we read are validated; everything else passes through untouched.
import { z } from 'zod';

const istioMetadata = z
  .looseObject({
    filter_metadata: z
      .looseObject({
        istio: z.looseObject({ config: z.string().optional(), subset: z.string().optional() }).optional(),
      })
      .optional(),
  })
  .optional();

const routeSchema = z.looseObject({
  match: z.record(z.string(), z.unknown()).optional(),
  route: z
    .looseObject({
      cluster: z.string().optional(),
      weighted_clusters: z
        .looseObject({ clusters: z.array(z.looseObject({ name: z.string() })).default([]) })
        .optional(),
    })
    .optional(),
  metadata: istioMetadata,
});

const routeConfigSchema = z.looseObject({
  name: z.string().default(''),
  virtual_hosts: z
    .array(
      z.looseObject({
        name: z.string().optional(),
        domains: z.array(z.string()).default([]),
        routes: z.array(routeSchema).default([]),
      }),
    )
    .default([]),
});

const routesDumpSchema = z.looseObject({
  '@type': z.literal('type.googleapis.com/envoy.admin.v3.RoutesConfigDump'),
  dynamic_route_configs: z.array(z.looseObject({ route_config: routeConfigSchema })).default([]),
});

const clusterSchema = z.looseObject({ name: z.string(), metadata: istioMetadata });
const clustersDumpSchema = z.looseObject({
  '@type': z.literal('type.googleapis.com/envoy.admin.v3.ClustersConfigDump'),
  dynamic_active_clusters: z.array(z.looseObject({ cluster: clusterSchema })).default([]),
});

const listenersDumpSchema = z.looseObject({
  '@type': z.literal('type.googleapis.com/envoy.admin.v3.ListenersConfigDump'),
  dynamic_listeners: z.array(z.looseObject({ name: z.string().optional() })).default([]),
});

const configDumpSchema = z.looseObject({ configs: z.array(z.looseObject({ '@type': z.string() })).default([]) });

export type RouteConfig = z.infer<typeof routeConfigSchema>;
export type EnvoyRoute = z.infer<typeof routeSchema>;
export type EnvoyCluster = z.infer<typeof clusterSchema>;

export interface ConfigDump {
  routeConfigs: RouteConfig[];
  clusters: EnvoyCluster[];
  listenerNames: string[];
}

/** Parse a config_dump (JSON text or parsed). `{}` is valid and holds nothing, as istioctl treats it. */
export function parseConfigDump(input: string | unknown): ConfigDump {
  const json = typeof input === 'string' ? (JSON.parse(input) as unknown) : input;
  const dump = configDumpSchema.parse(json);
  const out: ConfigDump = { routeConfigs: [], clusters: [], listenerNames: [] };
  for (const cfg of dump.configs) {
    const type = cfg['@type'];
    if (type === 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump') {
      out.routeConfigs.push(...routesDumpSchema.parse(cfg).dynamic_route_configs.map((d) => d.route_config));
    } else if (type === 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump') {
      out.clusters.push(...clustersDumpSchema.parse(cfg).dynamic_active_clusters.map((d) => d.cluster));
    } else if (type === 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump') {
      out.listenerNames.push(
        ...listenersDumpSchema.parse(cfg).dynamic_listeners.flatMap((l) => (l.name ? [l.name] : [])),
      );
    }
  }
  return out;
}

export interface IstioConfigPath {
  group: string;
  version: string;
  namespace: string;
  /** Istio's kebab-case kind: `virtual-service`, `destination-rule`, ... */
  kind: string;
  name: string;
}

// Older proxies write `/apis/networking/v1alpha3/...`, newer ones `/apis/networking.istio.io/...`.
const configPathRe = /^\/apis\/([a-z.]+)\/(v[0-9a-z]+)\/namespaces\/([^/]+)\/([a-z-]+)\/([^/]+)$/;

export function parseIstioConfigPath(path: string): IstioConfigPath | undefined {
  const m = path.match(configPathRe);
  if (!m) return undefined;
  return { group: m[1]!, version: m[2]!, namespace: m[3]!, kind: m[4]!, name: m[5]! };
}

export interface ServiceKey {
  name: string;
  namespace: string;
}

const fqdnRe = /^([^.]+)\.([^.]+)\.svc\.cluster\.local$/;

function clusterOf(route: EnvoyRoute): string {
  return route.route?.cluster ?? route.route?.weighted_clusters?.clusters[0]?.name ?? '';
}

/**
 * Does this route send traffic to the service on `port`? Either its virtual host's domains name
 * `<svc>.<ns>.svc.cluster.local`, or (gateways, whose domains are `*`) its cluster is
 * `outbound|<port>|<subset>|<svc>.<ns>.svc.cluster.local`.
 */
export function routeTargetsService(
  route: EnvoyRoute,
  domains: readonly string[],
  svc: ServiceKey,
  port: number,
): boolean {
  for (const d of domains) {
    const m = d.replace(/:\d+$/, '').match(fqdnRe);
    if (m && m[1] === svc.name && m[2] === svc.namespace) return true;
  }
  const parts = clusterOf(route).split('|');
  if (parts.length !== 4 || parts[0] !== 'outbound' || parts[1] !== String(port)) return false;
  const m = parts[3]!.match(fqdnRe);
  return m !== null && m[1] === svc.name && m[2] === svc.namespace;
}

/**
 * istioctl's getIstioVirtualServicePathForSvcFromRoute: among route configs named after the port or
 * starting `http.`/`https.`, the Istio config path of the first route that targets the service.
 */
export function virtualServicePathForService(dump: ConfigDump, svc: ServiceKey, port: number): string | undefined {
  for (const rc of dump.routeConfigs) {
    if (rc.name !== String(port) && !rc.name.startsWith('http.') && !rc.name.startsWith('https.')) continue;
    for (const vh of rc.virtual_hosts) {
      for (const route of vh.routes) {
        if (routeTargetsService(route, vh.domains, svc, port)) return route.metadata?.filter_metadata?.istio?.config;
      }
    }
  }
  return undefined;
}

/** The DestinationRule path on an outbound cluster for the service and port (any subset). */
export function destinationRulePathForService(dump: ConfigDump, svc: ServiceKey, port: number): string | undefined {
  const fqdn = `${svc.name}.${svc.namespace}.svc.cluster.local`;
  for (const c of dump.clusters) {
    const parts = c.name.split('|');
    if (parts.length !== 4 || parts[0] !== 'outbound' || parts[1] !== String(port) || parts[3] !== fqdn) continue;
    const path = c.metadata?.filter_metadata?.istio?.config;
    if (path) return path;
  }
  return undefined;
}
