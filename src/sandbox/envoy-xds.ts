// What istiod would push to one proxy, from the sandbox's store, in Envoy's own JSON (proto field
// names): the services the proxy sees (exportTo, the Sidecar resource's egress hosts), its CDS clusters
// (`outbound|<port>|<subset>|<fqdn>` per service port and DestinationRule subset, `inbound|<port>||`
// per port of the pod's own services, Istio's BlackHoleCluster / PassthroughCluster /
// InboundPassthroughCluster, the bootstrap's static clusters) and their EDS endpoints (Running and
// Ready pods selected by the service and the subset's labels). Listeners and routes: envoy-xds-routes.ts.
// The DestinationRule choice is the sandbox's own (mesh-policy.ts), never the bot's.
import type { KubeObject } from '../kube/objects.ts';
import { clientTlsFor, qualifyHost, selects, serviceHost } from './mesh-policy.ts';
import type { MeshConfigView } from './mesh-ca.ts';
import { containerPortFor, type Labels } from './traffic-pods.ts';
import {
  ADS,
  applyPolicy,
  configPath,
  istioMutual,
  type Json,
  list,
  MAX,
  policyFor,
  rec,
  strings,
  TYPE,
} from './envoy-xds-base.ts';
export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol: 'HTTP' | 'TCP';
}

export interface MeshService {
  name: string;
  namespace: string;
  host: string;
  clusterIP?: string;
  selector?: Labels;
  ports: ServicePort[];
  exportTo: string[];
}

/** One proxy: a sidecar or a gateway ("router") pod. */
export interface ProxyRef {
  pod: KubeObject;
  namespace: string;
  name: string;
  ip: string;
  labels: Labels;
  serviceAccount: string;
  type: 'sidecar' | 'router';
}

/** The store as istiod reads it for one push. */
export interface MeshWorld {
  mesh: MeshConfigView;
  services: MeshService[];
  pods: KubeObject[];
  destinationRules: KubeObject[];
  virtualServices: KubeObject[];
  gateways: KubeObject[];
  sidecars: KubeObject[];
  peerAuthentications: KubeObject[];
  /** EndpointSlices: the endpoints of Services without a selector (default/kubernetes, the API server). */
  endpointSlices?: KubeObject[];
  secret: (namespace: string, name: string) => KubeObject | undefined;
}

/** Istio's protocol from the port's appProtocol or name prefix (`http-web`, `grpc`, `tcp-db`); unnamed ports are sniffed, here HTTP. */
export function portProtocol(p: { name?: string; appProtocol?: string }): 'HTTP' | 'TCP' {
  const label = (p.appProtocol ?? p.name ?? '').toLowerCase();
  if (label === '') return 'HTTP';
  const prefix = label.split('-')[0]!;
  return ['http', 'http2', 'grpc', 'grpc-web', 'h2c'].includes(prefix) ? 'HTTP' : 'TCP';
}

export function meshService(svc: KubeObject): MeshService {
  const spec = rec(svc.spec);
  const ns = svc.metadata.namespace ?? '';
  const exportTo = (svc.metadata.annotations?.['networking.istio.io/exportTo'] ?? '*')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const ip = typeof spec.clusterIP === 'string' && spec.clusterIP !== 'None' ? spec.clusterIP : undefined;
  const selector = rec(spec.selector) as Labels;
  return {
    name: svc.metadata.name,
    namespace: ns,
    host: serviceHost(svc.metadata.name, ns),
    ...(ip ? { clusterIP: ip } : {}),
    ...(Object.keys(selector).length > 0 ? { selector } : {}),
    ports: list(spec.ports).map((raw) => {
      const p = rec(raw) as { name?: string; port?: number; targetPort?: number | string; appProtocol?: string };
      return {
        ...(p.name ? { name: p.name } : {}),
        port: Number(p.port),
        ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}),
        protocol: portProtocol(p),
      };
    }),
    exportTo,
  };
}

function exportedTo(exportTo: string[], ownNamespace: string, to: string): boolean {
  if (exportTo.length === 0 || exportTo.includes('*')) return true;
  return exportTo.some((x) => (x === '.' ? ownNamespace === to : x === to));
}

/** The Sidecar resource that applies to the proxy: its namespace's with a matching selector, else its namespace's default, else the root namespace's. */
export function sidecarFor(world: MeshWorld, proxy: ProxyRef): KubeObject | undefined {
  if (proxy.type !== 'sidecar') return undefined;
  const sel = (s: KubeObject) => rec(rec(s.spec).workloadSelector).labels as Labels | undefined;
  const own = world.sidecars.filter((s) => s.metadata.namespace === proxy.namespace);
  return (
    own.find((s) => sel(s) && selects(sel(s), proxy.labels)) ??
    own.find((s) => !sel(s)) ??
    world.sidecars.find((s) => s.metadata.namespace === world.mesh.rootNamespace && !sel(s))
  );
}

function egressAllows(hosts: string[], proxyNs: string, svc: MeshService): boolean {
  return hosts.some((h) => {
    const [ns, host] = h.includes('/') ? (h.split('/', 2) as [string, string]) : ['*', h];
    const nsOk = ns === '*' || (ns === '.' ? svc.namespace === proxyNs : ns !== '~' && ns === svc.namespace);
    const hostOk = host === '*' || host === svc.host || (host.startsWith('*.') && svc.host.endsWith(host.slice(1)));
    return nsOk && hostOk;
  });
}

/** The services in the proxy's config: exported to its namespace and, when a Sidecar applies, named by its egress hosts. */
export function visibleServices(world: MeshWorld, proxy: ProxyRef): MeshService[] {
  const sidecar = sidecarFor(world, proxy);
  const egress = sidecar ? list(rec(sidecar.spec).egress).flatMap((e) => strings(rec(e).hosts)) : undefined;
  return world.services
    .filter((s) => exportedTo(s.exportTo, s.namespace, proxy.namespace))
    .filter((s) => !egress || egressAllows(egress, proxy.namespace, s))
    .sort((a, b) => a.host.localeCompare(b.host));
}

export function isReady(pod: KubeObject): boolean {
  const status = rec(pod.status);
  if (status.phase !== 'Running' || typeof status.podIP !== 'string' || pod.metadata.deletionTimestamp) return false;
  return list(status.conditions).some((c) => rec(c).type === 'Ready' && rec(c).status === 'True');
}

export interface ClusterEndpoint {
  /** The pod behind the endpoint; absent for an endpoint a Service without a selector lists (its EndpointSlice). */
  pod?: KubeObject;
  address: string;
  port: number;
}

export interface BuiltCluster {
  cluster: Json;
  /** Hosts for EDS clusters (and static ones with a load assignment); undefined for ORIGINAL_DST and BlackHole. */
  endpoints?: ClusterEndpoint[];
  /** A pipe or fixed socket address for static clusters. */
  staticAddress?: Json;
  /** From the bootstrap (static_clusters), not CDS. */
  static: boolean;
}

/** Which DestinationRule a proxy applies toward a host, by the sandbox's own precedence. */
function destinationRuleFor(world: MeshWorld, proxy: ProxyRef, svc: MeshService, port: number): KubeObject | undefined {
  const decision = clientTlsFor(
    world.destinationRules,
    { namespace: proxy.namespace, labels: proxy.labels },
    { host: svc.host, serviceNamespace: svc.namespace, port },
    world.mesh.rootNamespace,
  );
  if (!decision.by) return undefined;
  const [ns, name] = decision.by.split('/') as [string, string];
  return world.destinationRules.find((r) => r.metadata.namespace === ns && r.metadata.name === name);
}

/** The pods behind a service port (and subset labels), Running and Ready, with the container port reached. */
export function serviceEndpoints(
  world: MeshWorld,
  svc: MeshService,
  port: ServicePort,
  subset?: Labels,
): ClusterEndpoint[] {
  if (!svc.selector) return subset ? [] : sliceEndpoints(world, svc, port);
  return world.pods
    .filter((p) => p.metadata.namespace === svc.namespace && selects(svc.selector, p.metadata.labels))
    .filter((p) => !subset || selects(subset, p.metadata.labels))
    .filter(isReady)
    .map((p) => ({
      pod: p,
      address: String(rec(p.status).podIP),
      port: containerPortFor(p, port) ?? port.port,
    }))
    .sort((a, b) => a.address.localeCompare(b.address));
}

/**
 * A Service without a selector: its endpoints are the ready ones of the EndpointSlices labelled with its name, as
 * istiod's EndpointSlice controller reads them (the port matched by the Service port's name).
 */
function sliceEndpoints(world: MeshWorld, svc: MeshService, port: ServicePort): ClusterEndpoint[] {
  const out: ClusterEndpoint[] = [];
  for (const slice of world.endpointSlices ?? []) {
    if (slice.metadata.namespace !== svc.namespace) continue;
    if (slice.metadata.labels?.['kubernetes.io/service-name'] !== svc.name) continue;
    const ports = list((slice as Json).ports).map(rec);
    const matched = ports.find((p) => (p.name ?? '') === (port.name ?? ''));
    if (!matched || typeof matched.port !== 'number') continue;
    for (const ep of list((slice as Json).endpoints).map(rec)) {
      if (rec(ep.conditions).ready === false) continue;
      for (const address of list(ep.addresses)) out.push({ address: String(address), port: matched.port });
    }
  }
  return out.sort((a, b) => a.address.localeCompare(b.address));
}

function serviceAccountsOf(eps: ClusterEndpoint[], trustDomain: string): string[] {
  const ids = eps.flatMap((e) =>
    !e.pod
      ? []
      : [
          `spiffe://${trustDomain}/ns/${e.pod.metadata.namespace}/sa/${String(rec(e.pod.spec).serviceAccountName ?? 'default')}`,
        ],
  );
  return [...new Set(ids)].sort();
}

function outboundCluster(
  world: MeshWorld,
  svc: MeshService,
  port: ServicePort,
  rule: KubeObject | undefined,
  subset: Json | undefined,
): BuiltCluster {
  const subsetName = typeof subset?.name === 'string' ? subset.name : '';
  const name = `outbound|${port.port}|${subsetName}|${svc.host}`;
  const labels = subset ? (rec(subset.labels) as Labels) : undefined;
  const endpoints = serviceEndpoints(world, svc, port, labels);
  const policy = policyFor(rule, subset, port.port);
  const cluster: Json = {
    '@type': TYPE.cluster,
    name,
    type: 'EDS',
    eds_cluster_config: { eds_config: ADS, service_name: name },
    connect_timeout: '10s',
    lb_policy: 'LEAST_REQUEST',
  };
  applyPolicy(cluster, policy);
  const tlsMode = rec(policy.tls).mode;
  if (tlsMode !== 'DISABLE' && tlsMode !== 'SIMPLE' && tlsMode !== 'MUTUAL')
    cluster.transport_socket_matches = istioMutual(
      `outbound_.${port.port}_.${subsetName}_.${svc.host}`,
      serviceAccountsOf(serviceEndpoints(world, svc, port), world.mesh.trustDomain),
    );
  cluster.common_lb_config = {};
  const istio: Json = { services: [{ host: svc.host, name: svc.name, namespace: svc.namespace }] };
  if (rule) istio.config = configPath('destination-rule', rule);
  if (subsetName) istio.subset = subsetName;
  cluster.metadata = { filter_metadata: { istio } };
  return { cluster, endpoints, static: false };
}

/** The ports of the proxy's own pod that its services reach, for inbound clusters and listeners. */
export function inboundPorts(
  world: MeshWorld,
  proxy: ProxyRef,
): Array<{ port: number; protocol: 'HTTP' | 'TCP'; services: MeshService[] }> {
  const byPort = new Map<number, { port: number; protocol: 'HTTP' | 'TCP'; services: MeshService[] }>();
  for (const svc of world.services) {
    if (svc.namespace !== proxy.namespace || !svc.selector || !selects(svc.selector, proxy.labels)) continue;
    for (const p of svc.ports) {
      const target = containerPortFor(proxy.pod, p) ?? p.port;
      const entry = byPort.get(target) ?? { port: target, protocol: p.protocol, services: [] };
      entry.services.push(svc);
      byPort.set(target, entry);
    }
  }
  return [...byPort.values()].sort((a, b) => a.port - b.port);
}

function staticCluster(name: string, address: Json, extra: Json = {}): BuiltCluster {
  return {
    cluster: {
      '@type': TYPE.cluster,
      name,
      type: 'STATIC',
      connect_timeout: name.endsWith('-grpc') ? '1s' : '0.250s',
      ...extra,
      load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address } }] }] },
    },
    staticAddress: address,
    static: true,
  };
}

const originalDst = (name: string, bind: boolean): BuiltCluster => ({
  cluster: {
    '@type': TYPE.cluster,
    name,
    type: 'ORIGINAL_DST',
    connect_timeout: '10s',
    lb_policy: 'CLUSTER_PROVIDED',
    circuit_breakers: {
      thresholds: [
        { max_connections: MAX, max_pending_requests: MAX, max_requests: MAX, max_retries: MAX, track_remaining: true },
      ],
    },
    ...(bind ? { upstream_bind_config: { source_address: { address: '127.0.0.6', port_value: 0 } } } : {}),
    cleanup_interval: '60s',
  },
  static: false,
});

/** Every cluster the proxy has: the bootstrap's static ones, then CDS (sorted by name, as istiod sends them). */
export function buildClusters(world: MeshWorld, proxy: ProxyRef): BuiltCluster[] {
  const out: BuiltCluster[] = [
    staticCluster('agent', { socket_address: { address: '127.0.0.1', port_value: 15020 } }),
    staticCluster('prometheus_stats', { socket_address: { address: '127.0.0.1', port_value: 15000 } }),
    staticCluster('sds-grpc', { pipe: { path: './var/run/secrets/workload-spiffe-uds/socket' } }),
    staticCluster('xds-grpc', { pipe: { path: './etc/istio/proxy/XDS' } }),
  ];
  const dynamic: BuiltCluster[] = [];
  for (const svc of visibleServices(world, proxy)) {
    for (const port of svc.ports) {
      const rule = destinationRuleFor(world, proxy, svc, port.port);
      dynamic.push(outboundCluster(world, svc, port, rule, undefined));
      for (const subset of list(rec(rule?.spec).subsets).map(rec))
        if (typeof subset.name === 'string') dynamic.push(outboundCluster(world, svc, port, rule, subset));
    }
  }
  if (proxy.type === 'sidecar') {
    for (const p of inboundPorts(world, proxy)) {
      const c = originalDst(`inbound|${p.port}||`, true);
      c.cluster.metadata = {
        filter_metadata: {
          istio: { services: p.services.map((s) => ({ host: s.host, name: s.name, namespace: s.namespace })) },
        },
      };
      dynamic.push(c);
    }
    dynamic.push(originalDst('InboundPassthroughCluster', true));
  }
  dynamic.push({
    cluster: { '@type': TYPE.cluster, name: 'BlackHoleCluster', type: 'STATIC', connect_timeout: '10s' },
    static: false,
  });
  dynamic.push(originalDst('PassthroughCluster', false));
  dynamic.sort((a, b) => String(a.cluster.name).localeCompare(String(b.cluster.name)));
  return [...out, ...dynamic];
}

/** The ClusterLoadAssignment Envoy reports for a cluster under include_eds. */
export function loadAssignment(c: BuiltCluster): Json {
  const name = String(rec(c.cluster.eds_cluster_config).service_name ?? c.cluster.name);
  const lbEndpoints: Json[] = [];
  if (c.staticAddress)
    lbEndpoints.push({
      endpoint: { address: c.staticAddress, health_check_config: {} },
      health_status: 'HEALTHY',
      load_balancing_weight: 1,
    });
  for (const e of c.endpoints ?? []) {
    if (!e.pod) {
      lbEndpoints.push({
        endpoint: { address: { socket_address: { address: e.address, port_value: e.port } }, health_check_config: {} },
        health_status: 'HEALTHY',
        load_balancing_weight: 1,
      });
      continue;
    }
    const labels = e.pod.metadata.labels ?? {};
    const workload = [
      labels['app.kubernetes.io/name'] ?? labels.app ?? '',
      e.pod.metadata.namespace ?? '',
      labels['service.istio.io/canonical-name'] ?? labels.app ?? '',
      labels['service.istio.io/canonical-revision'] ?? labels.version ?? 'latest',
      'Kubernetes',
    ].join(';');
    lbEndpoints.push({
      endpoint: { address: { socket_address: { address: e.address, port_value: e.port } }, health_check_config: {} },
      health_status: 'HEALTHY',
      metadata: { filter_metadata: { istio: { workload } } },
      load_balancing_weight: 1,
    });
  }
  return {
    '@type': TYPE.cla,
    cluster_name: name,
    ...(lbEndpoints.length > 0
      ? { endpoints: [{ locality: {}, lb_endpoints: lbEndpoints, load_balancing_weight: lbEndpoints.length }] }
      : {}),
    policy: { overprovisioning_factor: 140 },
  };
}

/** The host part of a VirtualService or Gateway host, completed against the object's namespace. */
export function fullHost(host: string, namespace: string): string {
  return qualifyHost(host, namespace);
}
