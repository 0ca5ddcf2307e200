// An Istio proxy's bootstrap (node id `sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local`, or `router~…`
// for a gateway; node metadata; the static listeners and clusters; ADS over xds-grpc; the admin
// listener on 127.0.0.1:15000), /server_info, and Envoy's help text for paths it does not serve.
import type { AdminAnswer, ProxySnapshot } from './envoy-config-dump.ts';
import { type Json, rec } from './envoy-xds-base.ts';
import type { MeshWorld, ProxyRef } from './envoy-xds.ts';
import { proxyContainerName } from './traffic-pods.ts';

export const ENVOY_ADMIN_PORT = 15000;
/** The Envoy build an Istio 1.24 proxy carries (nominal: the sandbox runs no Envoy). */
const ENVOY_VERSION = { major_number: 1, minor_number: 32, patch: 3 };

export function bootstrapOf(proxy: ProxyRef, world: MeshWorld, staticListeners: Json[], staticClusters: Json[]): Json {
  const image = ((proxy.pod.spec as { containers?: Array<{ name: string; image?: string }> }).containers ?? []).find(
    (c) => c.name === proxyContainerName,
  )?.image;
  const istioVersion = image?.split(':')[1] ?? 'unknown';
  const app = proxy.labels['service.istio.io/canonical-name'] ?? proxy.labels.app ?? proxy.name;
  return {
    node: {
      id: `${proxy.type}~${proxy.ip}~${proxy.name}.${proxy.namespace}~${proxy.namespace}.svc.cluster.local`,
      cluster: `${app}.${proxy.namespace}`,
      metadata: {
        CLUSTER_ID: 'Kubernetes',
        ISTIO_VERSION: istioVersion,
        LABELS: proxy.labels,
        MESH_ID: world.mesh.trustDomain,
        NAME: proxy.name,
        NAMESPACE: proxy.namespace,
        SERVICE_ACCOUNT: proxy.serviceAccount,
        WORKLOAD_NAME: app,
        INSTANCE_IPS: proxy.ip,
        PROXY_CONFIG: { discoveryAddress: 'istiod.istio-system.svc:15012', proxyAdminPort: ENVOY_ADMIN_PORT },
      },
      user_agent_name: 'envoy',
      user_agent_build_version: {
        version: ENVOY_VERSION,
        metadata: { 'build.type': 'RELEASE', 'revision.status': 'Clean', 'ssl.version': 'BoringSSL' },
      },
    },
    static_resources: {
      listeners: staticListeners,
      clusters: staticClusters,
    },
    dynamic_resources: {
      lds_config: { ads: {}, initial_fetch_timeout: '0s', resource_api_version: 'V3' },
      cds_config: { ads: {}, initial_fetch_timeout: '0s', resource_api_version: 'V3' },
      ads_config: {
        api_type: 'GRPC',
        set_node_on_first_message_only: true,
        transport_api_version: 'V3',
        grpc_services: [{ envoy_grpc: { cluster_name: 'xds-grpc' } }],
      },
    },
    admin: {
      access_log: [
        {
          name: 'envoy.access_loggers.file',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
            path: '/dev/null',
          },
        },
      ],
      profile_path: '/var/lib/istio/data/envoy.prof',
      address: { socket_address: { address: '127.0.0.1', port_value: ENVOY_ADMIN_PORT } },
    },
  };
}

export function serverInfo(dump: ProxySnapshot, startedAt: Date, now: Date): string {
  const up = `${Math.floor((now.getTime() - startedAt.getTime()) / 1000)}s`;
  const node = rec(dump.bootstrap.node);
  const v = ENVOY_VERSION;
  return `${JSON.stringify(
    {
      version: `istio-sandbox/${v.major_number}.${v.minor_number}.${v.patch}/Clean/RELEASE/BoringSSL`,
      state: 'LIVE',
      hot_restart_version: 'disabled',
      command_line_options: {
        base_id: '1',
        concurrency: 2,
        config_path: 'etc/istio/proxy/envoy-rev.json',
        local_address_ip_version: 'v4',
        log_level: 'warning',
        component_log_level: 'misc:error',
        log_format: '%Y-%m-%dT%T.%fZ\t%l\tenvoy %n %g:%#\t%v\tthread=%t',
        service_cluster: String(node.cluster ?? ''),
        service_node: String(node.id ?? ''),
        drain_time: '45s',
        parent_shutdown_time: '60s',
        mode: 'Serve',
        disable_hot_restart: true,
        drain_strategy: 'Immediate',
      },
      uptime_current_epoch: up,
      uptime_all_epochs: up,
      node,
    },
    null,
    1,
  )}\n`;
}
export const SERVED = new Set([
  '/certs',
  '/clusters',
  '/config_dump',
  '/ready',
  '/server_info',
  '/stats',
  '/stats/prometheus',
]);
const HELP: Array<[string, string]> = [
  ['/certs', 'print certs on machine'],
  ['/clusters', 'upstream cluster status'],
  ['/config_dump', 'dump current Envoy configs (experimental)'],
  ['/ready', 'print server state, return 200 if LIVE, otherwise return 503'],
  ['/server_info', 'print server version/status information'],
  ['/stats', 'print server stats'],
  ['/stats/prometheus', 'print server stats in prometheus format'],
];

/** Envoy's help text (the handlers served here). */
export function help(): string {
  return `admin commands are:\n${HELP.map(([p, h]) => `  ${p}: ${h}\n`).join('')}`;
}

export function text(status: number, body: string): AdminAnswer {
  return { status, contentType: 'text/plain; charset=UTF-8', body };
}
