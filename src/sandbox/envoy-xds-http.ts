// The HTTP pieces of the sandbox's listeners and routes, shared by sidecars (envoy-xds-routes.ts) and
// gateways (envoy-xds-gateway.ts): the connection manager, the bootstrap's static listeners, Istio's
// virtual-host domains, and VirtualService http routes as Envoy routes (match, cluster or weighted
// clusters, timeout, retries, `istio.config` metadata naming the VirtualService).
import type { KubeObject } from '../kube/objects.ts';
import { ADS, configPath, type Json, list, protoDuration, rec, TYPE } from './envoy-xds-base.ts';
import { fullHost, type MeshService, type MeshWorld } from './envoy-xds.ts';

export interface BuiltRoutes {
  staticListeners: Json[];
  dynamicListeners: Json[];
  /** Inline route configurations (they show in RoutesConfigDump's static_route_configs). */
  staticRoutes: Json[];
  dynamicRoutes: Json[];
  /** Gateway credentials its listeners ask SDS for (`kubernetes://<name>`), in the gateway's namespace. */
  credentials: string[];
}

export const addr = (address: string, port: number) => ({ socket_address: { address, port_value: port } });

export const routerFilter = { name: 'envoy.filters.http.router', typed_config: { '@type': TYPE.router } };

export const tcpProxy = (cluster: string): Json => ({
  name: 'envoy.filters.network.tcp_proxy',
  typed_config: { '@type': TYPE.tcpProxy, stat_prefix: cluster, cluster },
});

export function hcm(statPrefix: string, route: { rds: string } | { inline: Json }): Json {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': TYPE.hcm,
      stat_prefix: statPrefix,
      ...('rds' in route
        ? { rds: { config_source: ADS, route_config_name: route.rds } }
        : { route_config: route.inline }),
      http_filters: [routerFilter],
      server_name: 'istio-envoy',
      use_remote_address: false,
      normalize_path: true,
    },
  };
}

export function backendRoute(prefix: string, cluster: string, name?: string): Json {
  return {
    '@type': TYPE.routeConfig,
    ...(name ? { name } : {}),
    virtual_hosts: [{ name: 'backend', domains: ['*'], routes: [{ match: { prefix }, route: { cluster } }] }],
  };
}

export function staticListeners(): { listeners: Json[]; routes: Json[] } {
  const prom = backendRoute('/stats/prometheus', 'prometheus_stats');
  const health = backendRoute('/healthz/ready', 'agent');
  return {
    listeners: [
      {
        '@type': TYPE.listener,
        address: addr('0.0.0.0', 15090),
        filter_chains: [{ filters: [hcm('stats', { inline: prom })] }],
      },
      {
        '@type': TYPE.listener,
        address: addr('0.0.0.0', 15021),
        filter_chains: [{ filters: [hcm('agent', { inline: health })] }],
      },
    ],
    routes: [prom, health],
  };
}

/** Istio's domains for a service's virtual host: the FQDN, shorter forms (the short name only in the same namespace), the VIP. */
export function domainsFor(svc: MeshService, proxyNs: string): string[] {
  const out = [svc.host];
  if (svc.namespace === proxyNs) out.push(svc.name);
  out.push(`${svc.name}.${svc.namespace}.svc`, `${svc.name}.${svc.namespace}`);
  if (svc.clusterIP) out.push(svc.clusterIP);
  return out;
}

export function visibleTo(obj: KubeObject, namespace: string): boolean {
  const exportTo = list(rec(obj.spec).exportTo).filter((x): x is string => typeof x === 'string');
  if (exportTo.length === 0 || exportTo.includes('*')) return true;
  return exportTo.some((x) => (x === '.' ? obj.metadata.namespace === namespace : x === namespace));
}

export function matchOf(m: Json): Json {
  const uri = rec(m.uri);
  const out: Json = {};
  if (typeof uri.exact === 'string') out.path = uri.exact;
  else if (typeof uri.regex === 'string') out.safe_regex = { regex: uri.regex };
  else out.prefix = typeof uri.prefix === 'string' ? uri.prefix : '/';
  out.case_sensitive = true;
  const headers = Object.entries(rec(m.headers)).map(([name, v]) => {
    const h = rec(v);
    const sm =
      typeof h.exact === 'string'
        ? { exact: h.exact }
        : typeof h.prefix === 'string'
          ? { prefix: h.prefix }
          : { safe_regex: { regex: String(h.regex ?? '.*') } };
    return { name, string_match: sm };
  });
  if (headers.length > 0) out.headers = headers;
  return out;
}

/**
 * The cluster a route destination names, as Istio's GetDestinationCluster (pilot/pkg/networking/core/route):
 * the destination's port, else the Service's only port, else the port of the listener the route is built for.
 */
export function destinationCluster(world: MeshWorld, d: Json, vsNs: string, listenerPort: number): string {
  const host = fullHost(String(d.host ?? ''), vsNs);
  const svc = world.services.find((s) => s.host === host);
  const port = Number(rec(d.port).number ?? (svc?.ports.length === 1 ? svc.ports[0]!.port : listenerPort));
  return `outbound|${port}|${typeof d.subset === 'string' ? d.subset : ''}|${host}`;
}

export function routeAction(world: MeshWorld, http: Json, vsNs: string, listenerPort: number): Json {
  const dests = list(http.route).map(rec);
  const timeout = protoDuration(http.timeout) ?? '0s';
  const base: Json =
    dests.length === 1
      ? { cluster: destinationCluster(world, rec(dests[0]!.destination), vsNs, listenerPort) }
      : {
          weighted_clusters: {
            clusters: dests.map((d) => ({
              name: destinationCluster(world, rec(d.destination), vsNs, listenerPort),
              weight: Number(d.weight ?? 0),
            })),
          },
        };
  const retries = rec(http.retries);
  return {
    ...base,
    timeout,
    retry_policy: {
      retry_on:
        typeof retries.retryOn === 'string'
          ? retries.retryOn
          : 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
      num_retries: Number(retries.attempts ?? 2),
      retriable_status_codes: [503],
    },
    max_stream_duration: { max_stream_duration: '0s', grpc_timeout_header_max: '0s' },
  };
}

/** The routes of one VirtualService's http section: one Envoy route per match (or one catch-all). */
export function vsRoutes(world: MeshWorld, vs: KubeObject, operation: string, listenerPort: number): Json[] {
  const ns = vs.metadata.namespace ?? '';
  const out: Json[] = [];
  for (const http of list(rec(vs.spec).http).map(rec)) {
    const matches = list(http.match).map(rec);
    for (const m of matches.length > 0 ? matches : [{}]) {
      out.push({
        ...(typeof http.name === 'string' ? { name: http.name } : {}),
        match: matchOf(m),
        route: routeAction(world, http, ns, listenerPort),
        metadata: { filter_metadata: { istio: { config: configPath('virtual-service', vs) } } },
        decorator: { operation },
      });
    }
  }
  return out;
}

export function defaultRoute(svc: MeshService, port: number): Json {
  return {
    name: 'default',
    match: { prefix: '/' },
    route: {
      cluster: `outbound|${port}||${svc.host}`,
      timeout: '0s',
      retry_policy: {
        retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
        num_retries: 2,
        retriable_status_codes: [503],
      },
      max_stream_duration: { max_stream_duration: '0s', grpc_timeout_header_max: '0s' },
    },
    decorator: { operation: `${svc.host}:${port}/*` },
  };
}

export function meshVirtualService(world: MeshWorld, proxyNs: string, svc: MeshService): KubeObject | undefined {
  return world.virtualServices
    .filter((vs) => visibleTo(vs, proxyNs))
    .filter((vs) => {
      const gws = list(rec(vs.spec).gateways);
      return gws.length === 0 || gws.includes('mesh');
    })
    .sort((a, b) => (a.metadata.namespace === proxyNs ? -1 : 0) - (b.metadata.namespace === proxyNs ? -1 : 0))
    .find((vs) => list(rec(vs.spec).hosts).some((h) => fullHost(String(h), vs.metadata.namespace ?? '') === svc.host));
}
