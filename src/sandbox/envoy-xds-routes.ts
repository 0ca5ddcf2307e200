// Listeners and routes istiod would push to one proxy (see envoy-xds.ts for clusters). A sidecar:
// `virtualOutbound` (15001), `virtualInbound` (15006, a filter chain per inbound port: mTLS, and
// plaintext unless the port is STRICT), `0.0.0.0_<port>` per outbound HTTP port with RDS route
// `<port>`, `<clusterIP>_<port>` per outbound TCP port; inline routes `inbound|<port>||`. A gateway:
// `0.0.0.0_<port>` per Gateway server selecting it, RDS `http.<port>` or, with TLS,
// `https.<port>.<portName>.<gateway>.<namespace>` and SDS `kubernetes://<credentialName>`. Routes
// follow the VirtualServices bound to the mesh or the gateway; without one, a service gets Istio's
// `default` route. Both get the bootstrap's static listeners on 15090 (prometheus) and 15021 (health).
import { peerModeFor } from './mesh-policy.ts';
import { type Json, sds, TYPE } from './envoy-xds-base.ts';
import { inboundPorts, type MeshService, type MeshWorld, type ProxyRef, visibleServices } from './envoy-xds.ts';
import { gatewayRoutes } from './envoy-xds-gateway.ts';
import {
  addr,
  type BuiltRoutes,
  defaultRoute,
  domainsFor,
  hcm,
  meshVirtualService,
  staticListeners,
  tcpProxy,
  vsRoutes,
} from './envoy-xds-http.ts';

export type { BuiltRoutes } from './envoy-xds-http.ts';

function sidecarRoutes(world: MeshWorld, proxy: ProxyRef, services: MeshService[]): BuiltRoutes {
  const dynamicListeners: Json[] = [];
  const dynamicRoutes: Json[] = [];
  const httpPorts = new Map<number, MeshService[]>();
  for (const svc of services)
    for (const p of svc.ports) {
      if (p.protocol === 'HTTP') httpPorts.set(p.port, [...(httpPorts.get(p.port) ?? []), svc]);
      else if (svc.clusterIP) {
        const cluster = `outbound|${p.port}||${svc.host}`;
        dynamicListeners.push({
          '@type': TYPE.listener,
          name: `${svc.clusterIP}_${p.port}`,
          address: addr(svc.clusterIP, p.port),
          filter_chains: [{ filters: [tcpProxy(cluster)] }],
          bind_to_port: false,
          traffic_direction: 'OUTBOUND',
        });
      }
    }
  for (const [port, svcs] of [...httpPorts.entries()].sort((a, b) => a[0] - b[0])) {
    dynamicListeners.push({
      '@type': TYPE.listener,
      name: `0.0.0.0_${port}`,
      address: addr('0.0.0.0', port),
      filter_chains: [{ filters: [hcm(`outbound_0.0.0.0_${port}`, { rds: String(port) })] }],
      bind_to_port: false,
      traffic_direction: 'OUTBOUND',
    });
    const vhosts = svcs.map((svc) => {
      const vs = meshVirtualService(world, proxy.namespace, svc);
      const op = `${svc.host}:${port}/*`;
      const routes = vs ? vsRoutes(world, vs, op, port) : [defaultRoute(svc, port)];
      return {
        name: `${svc.host}:${port}`,
        domains: domainsFor(svc, proxy.namespace),
        routes,
        include_request_attempt_count: true,
      };
    });
    const passthrough = world.mesh.outboundMode === 'ALLOW_ANY' ? 'PassthroughCluster' : 'BlackHoleCluster';
    vhosts.push({
      name: world.mesh.outboundMode === 'ALLOW_ANY' ? 'allow_any' : 'block_all',
      domains: ['*'],
      routes: [{ name: 'allow_any', match: { prefix: '/' }, route: { cluster: passthrough, timeout: '0s' } } as Json],
      include_request_attempt_count: true,
    });
    dynamicRoutes.push({
      '@type': TYPE.routeConfig,
      name: String(port),
      virtual_hosts: vhosts,
      validate_clusters: false,
      max_direct_response_body_size_bytes: 1048576,
      ignore_port_in_host_matching: true,
    });
  }
  // Inbound: one filter chain per port, mTLS always, plaintext unless the port is STRICT.
  const staticRoutes: Json[] = [];
  const inboundChains: Json[] = [
    {
      filter_chain_match: { destination_port: 15006 },
      filters: [tcpProxy('BlackHoleCluster')],
      name: 'virtualInbound-blackhole',
    },
  ];
  for (const p of inboundPorts(world, proxy)) {
    const mode = peerModeFor(
      world.peerAuthentications,
      { namespace: proxy.namespace, labels: proxy.labels },
      p.port,
      world.mesh.rootNamespace,
    ).mode;
    const cluster = `inbound|${p.port}||`;
    const inline: Json = {
      '@type': TYPE.routeConfig,
      name: cluster,
      virtual_hosts: [
        {
          name: `inbound|http|${p.port}`,
          domains: ['*'],
          routes: [
            {
              name: 'default',
              match: { prefix: '/' },
              route: { cluster, timeout: '0s' },
              decorator: { operation: `${p.services[0]?.host ?? ''}:${p.port}/*` },
            },
          ],
        },
      ],
      validate_clusters: false,
    };
    const filters = p.protocol === 'HTTP' ? [hcm(`inbound_0.0.0.0_${p.port}`, { inline })] : [tcpProxy(cluster)];
    if (p.protocol === 'HTTP') staticRoutes.push(inline);
    inboundChains.push({
      filter_chain_match: { destination_port: p.port, transport_protocol: 'tls' },
      filters,
      transport_socket: {
        name: 'envoy.transport_sockets.tls',
        typed_config: {
          '@type': TYPE.downstreamTls,
          common_tls_context: {
            tls_certificate_sds_secret_configs: [sds('default')],
            combined_validation_context: {
              default_validation_context: {},
              validation_context_sds_secret_config: sds('ROOTCA'),
            },
            alpn_protocols: ['h2', 'http/1.1'],
          },
          require_client_certificate: true,
        },
      },
      name: `0.0.0.0_${p.port}`,
    });
    if (mode !== 'STRICT')
      inboundChains.push({
        filter_chain_match: { destination_port: p.port, transport_protocol: 'raw_buffer' },
        filters,
        name: `0.0.0.0_${p.port}`,
      });
  }
  inboundChains.push({
    filter_chain_match: { transport_protocol: 'raw_buffer' },
    filters: [tcpProxy('InboundPassthroughCluster')],
    name: 'virtualInbound',
  });
  dynamicListeners.push(
    {
      '@type': TYPE.listener,
      name: 'virtualInbound',
      address: addr('0.0.0.0', 15006),
      filter_chains: inboundChains,
      listener_filters: [
        { name: 'envoy.filters.listener.original_dst' },
        { name: 'envoy.filters.listener.tls_inspector' },
      ],
      traffic_direction: 'INBOUND',
    },
    {
      '@type': TYPE.listener,
      name: 'virtualOutbound',
      address: addr('0.0.0.0', 15001),
      filter_chains: [
        {
          filter_chain_match: { destination_port: 15001 },
          filters: [tcpProxy('BlackHoleCluster')],
          name: 'virtualOutbound-blackhole',
        },
        {
          filters: [tcpProxy(world.mesh.outboundMode === 'ALLOW_ANY' ? 'PassthroughCluster' : 'BlackHoleCluster')],
          name: 'virtualOutbound-catchall-tcp',
        },
      ],
      use_original_dst: true,
      traffic_direction: 'OUTBOUND',
    },
  );
  const st = staticListeners();
  return {
    staticListeners: st.listeners,
    dynamicListeners,
    staticRoutes: [...st.routes, ...staticRoutes],
    dynamicRoutes,
    credentials: [],
  };
}

export function buildRoutes(world: MeshWorld, proxy: ProxyRef): BuiltRoutes {
  return proxy.type === 'router'
    ? gatewayRoutes(world, proxy)
    : sidecarRoutes(world, proxy, visibleServices(world, proxy));
}
