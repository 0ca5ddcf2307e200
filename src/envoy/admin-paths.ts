// The admin requests istioctl proxy-config makes, one per view (istioctl/pkg/proxyconfig/proxyconfig.go:
// edsPath, secretPath, clusterPath, listenerPath, routePath, bootstrapPath; `endpoints` reads
// /clusters?format=json through setupPodClustersWriter). meshops asks Envoy the same questions so that
// its tables are the ones istioctl would print for the same proxy.
export type ProxyConfigView = 'clusters' | 'listeners' | 'routes' | 'endpoints' | 'bootstrap' | 'secrets' | 'all';

export const PROXY_CONFIG_PATHS: Readonly<Record<ProxyConfigView, string>> = {
  clusters: '/config_dump?mask=dynamic_active_clusters,dynamic_warming_clusters,static_clusters',
  listeners: '/config_dump?mask=dynamic_listeners,static_listeners',
  routes: '/config_dump?mask=dynamic_route_configs,static_route_configs',
  endpoints: '/clusters?format=json',
  bootstrap: '/config_dump?mask=bootstrap',
  secrets: '/config_dump?mask=dynamic_active_secrets,dynamic_warming_secrets',
  all: '/config_dump?include_eds=true',
};

/** The whole dump with EDS, as `proxy-config all -o json` reads it. */
export const FULL_DUMP_PATH = PROXY_CONFIG_PATHS.all;

/** Endpoint health (EDS status, outlier and active health checks), read beside a view that needs it. */
export const CLUSTER_HEALTH_PATH = PROXY_CONFIG_PATHS.endpoints;

/** The clusters alone, read beside `routes` to tell a route to a cluster the proxy does not have. */
export const CLUSTER_NAMES_PATH = PROXY_CONFIG_PATHS.clusters;
