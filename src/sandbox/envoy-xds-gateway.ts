// A gateway's listeners and routes: `0.0.0.0_<port>` per server of each Gateway whose selector matches
// the gateway pod, RDS `http.<port>` (or `https.<port>.<portName>.<gateway>.<namespace>` with TLS), the
// VirtualServices bound to the Gateway as virtual hosts, and SDS `kubernetes://<credentialName>` for
// TLS servers (the Secret is read from the gateway pod's namespace, as Istio's SDS reads it).
import { ADS, type Json, list, rec, TYPE } from './envoy-xds-base.ts';
import type { MeshWorld, ProxyRef } from './envoy-xds.ts';
import { addr, type BuiltRoutes, hcm, staticListeners, vsRoutes } from './envoy-xds-http.ts';
import { selects } from './mesh-policy.ts';
import type { Labels } from './traffic-pods.ts';

export function gatewayRoutes(world: MeshWorld, proxy: ProxyRef): BuiltRoutes {
  const gateways = world.gateways.filter(
    (g) =>
      selects(rec(rec(g.spec).selector) as Labels, proxy.labels) && Object.keys(rec(rec(g.spec).selector)).length > 0,
  );
  const listeners = new Map<number, Json>();
  const dynamicRoutes: Json[] = [];
  const credentials: string[] = [];
  for (const gw of gateways) {
    const gwNs = gw.metadata.namespace ?? '';
    const bound = world.virtualServices.filter((vs) =>
      list(rec(vs.spec).gateways).some(
        (g) => g === `${gwNs}/${gw.metadata.name}` || (g === gw.metadata.name && vs.metadata.namespace === gwNs),
      ),
    );
    for (const server of list(rec(gw.spec).servers).map(rec)) {
      const port = rec(server.port);
      const number = Number(port.number);
      const tls = rec(server.tls);
      const credential = typeof tls.credentialName === 'string' ? tls.credentialName : undefined;
      const routeName =
        credential || tls.mode
          ? `https.${number}.${String(port.name ?? '')}.${gw.metadata.name}.${gwNs}`
          : `http.${number}`;
      const hosts = list(server.hosts).map((h) => String(h).replace(/^[^/]*\//, ''));
      // A server's routes carry only the VirtualService hosts its own hosts admit.
      const admitted = (h: string) =>
        hosts.some((s) => s === '*' || s === h || (s.startsWith('*.') && h.endsWith(s.slice(1))) || h === '*');
      const vhosts = bound.flatMap((vs) =>
        list(rec(vs.spec).hosts)
          .filter((h) => admitted(String(h)))
          .map((h) => ({
            name: `${String(h)}:${number}`,
            domains: [String(h)],
            routes: vsRoutes(world, vs, `${String(h)}:${number}/*`, number),
            include_request_attempt_count: true,
          })),
      );
      dynamicRoutes.push({
        '@type': TYPE.routeConfig,
        name: routeName,
        virtual_hosts:
          vhosts.length > 0
            ? vhosts
            : [
                {
                  name: `blackhole:${number}`,
                  domains: ['*'],
                  routes: [{ name: 'default', match: { prefix: '/' }, direct_response: { status: 404 } }],
                },
              ],
        validate_clusters: false,
        max_direct_response_body_size_bytes: 1048576,
        ignore_port_in_host_matching: true,
      });
      const chain: Json = { filters: [hcm(`outbound_0.0.0.0_${number}`, { rds: routeName })] };
      if (credential) {
        credentials.push(`kubernetes://${credential}`);
        const sni = hosts.filter((h) => h !== '*');
        if (sni.length > 0) chain.filter_chain_match = { server_names: sni };
        chain.transport_socket = {
          name: 'envoy.transport_sockets.tls',
          typed_config: {
            '@type': TYPE.downstreamTls,
            common_tls_context: {
              alpn_protocols: ['h2', 'http/1.1'],
              tls_certificate_sds_secret_configs: [{ name: `kubernetes://${credential}`, sds_config: ADS }],
            },
            require_client_certificate: tls.mode === 'MUTUAL',
          },
        };
      }
      const listener = listeners.get(number) ?? {
        '@type': TYPE.listener,
        name: `0.0.0.0_${number}`,
        address: addr('0.0.0.0', number),
        filter_chains: [] as Json[],
        traffic_direction: 'OUTBOUND',
      };
      (listener.filter_chains as Json[]).push(chain);
      listeners.set(number, listener);
    }
  }
  const st = staticListeners();
  return {
    staticListeners: st.listeners,
    dynamicListeners: [...listeners.entries()].sort((a, b) => a[0] - b[0]).map(([, l]) => l),
    staticRoutes: st.routes,
    dynamicRoutes,
    credentials: [...new Set(credentials)],
  };
}
