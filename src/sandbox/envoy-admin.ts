// Envoy's admin API (port 15000) in every sidecar and gateway pod of the sandbox, as a real Istio
// proxy serves it: bound to 127.0.0.1, so `kubectl port-forward` reaches it and pods/proxy is refused.
// The config is what istiod would push from the store at the moment of the request (envoy-xds.ts,
// envoy-xds-routes.ts), the dump and its query parameters as Envoy's handler reads them
// (envoy-config-dump.ts), the other views in envoy-admin-views.ts. Workload certificates come from the
// sandbox's mesh CA (mesh-ca.ts), whose root this fleet publishes as istio-ca-root-cert. Pods are
// followed as the traffic model follows them: an admin endpoint per pod with an istio-proxy
// container, registered when the pod appears and gone when it is deleted.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../kube/objects.ts';
import { type AdminAnswer, configDump, type ProxySnapshot } from './envoy-config-dump.ts';
import { buildRoutes } from './envoy-xds-routes.ts';
import { type Json, rec, TYPE } from './envoy-xds-base.ts';
import { buildClusters, meshService, type MeshWorld, type ProxyRef } from './envoy-xds.ts';
import {
  certsJson,
  clustersJson,
  clustersText,
  clusterViews,
  proxyStats,
  statsJson,
  statsPrometheus,
  statsText,
} from './envoy-admin-views.ts';
import { certificateDetails, MeshCa, publishMeshRoot, readMeshConfig, type WorkloadCertificate } from './mesh-ca.ts';
import type { Sandbox } from './server-types.ts';
import { bootstrapOf, ENVOY_ADMIN_PORT, help, SERVED, serverInfo, text } from './envoy-admin-bootstrap.ts';
import { hasSidecar, proxyContainerName, type PodShape } from './traffic-pods.ts';

export { ENVOY_ADMIN_PORT } from './envoy-admin-bootstrap.ts';
const REDACTED = Buffer.from('[redacted]').toString('base64');

export interface EnvoyAdminOptions {
  now?: () => Date;
  /** Envoy counters from the traffic model, per proxy (`cluster.<name>.upstream_rq_503`, …). */
  stats?: (namespace: string, pod: string) => Array<{ name: string; value: number }>;
  /** Host addresses (`ip` or `ip:port`) the proxy's outlier detection has ejected. */
  eject?: (namespace: string, pod: string) => string[];
}

interface ProxyState {
  startedAt: Date;
  cert?: WorkloadCertificate;
}

const iso = (d: Date) => d.toISOString();
const b64 = (s: string) => Buffer.from(s).toString('base64');

export class EnvoyAdminFleet {
  readonly ca: MeshCa;
  private readonly sandbox: Sandbox;
  private readonly options: EnvoyAdminOptions;
  private readonly now: () => Date;
  private readonly proxies = new Map<string, ProxyState>();
  private pushes = 1;
  private pushedAt: Date;
  private readonly stops: Array<() => void> = [];

  constructor(sandbox: Sandbox, options: EnvoyAdminOptions = {}) {
    this.sandbox = sandbox;
    this.options = options;
    this.now = options.now ?? (() => new Date());
    this.pushedAt = this.now();
    this.ca = new MeshCa(readMeshConfig(sandbox.store).trustDomain, this.now());
    this.stops.push(publishMeshRoot(sandbox.store, this.ca.rootPem));
    for (const p of sandbox.store.list('Pod')) this.serve(p);
    this.stops.push(
      sandbox.store.subscribe((e) => {
        const kind = e.object.kind;
        if (kind === 'Pod') {
          if (e.type === 'DELETED') this.forget(e.object);
          else this.serve(e.object);
        }
        if (kind !== 'Event' && kind !== 'Lease') {
          // istiod pushes on config and endpoint changes; the version counts them.
          this.pushes++;
          this.pushedAt = this.now();
        }
      }),
    );
  }

  /** The admin endpoints now served, as `namespace/pod`. */
  served(): string[] {
    return [...this.proxies.keys()].sort();
  }

  stop(): void {
    for (const s of this.stops.splice(0)) s();
    for (const k of this.proxies.keys()) {
      const [ns, pod] = k.split('/') as [string, string];
      this.sandbox.podEndpoints.unregister(ns, pod, ENVOY_ADMIN_PORT);
    }
    this.proxies.clear();
  }

  private serve(pod: KubeObject): void {
    const ns = pod.metadata.namespace ?? '';
    const key = `${ns}/${pod.metadata.name}`;
    if (this.proxies.has(key) || !hasSidecar(pod)) return;
    this.proxies.set(key, { startedAt: this.now() });
    this.sandbox.podEndpoints.register(
      ns,
      pod.metadata.name,
      ENVOY_ADMIN_PORT,
      (req, res) => this.handle(ns, pod.metadata.name, req, res),
      { localhostOnly: true },
    );
  }

  private forget(pod: KubeObject): void {
    const ns = pod.metadata.namespace ?? '';
    this.proxies.delete(`${ns}/${pod.metadata.name}`);
    this.sandbox.podEndpoints.unregister(ns, pod.metadata.name, ENVOY_ADMIN_PORT);
  }

  private world(): MeshWorld {
    const store = this.sandbox.store;
    const listed = (kind: string): KubeObject[] => {
      try {
        return store.list(kind);
      } catch {
        return [];
      }
    };
    return {
      mesh: readMeshConfig(store),
      services: listed('Service').map(meshService),
      pods: listed('Pod'),
      destinationRules: listed('DestinationRule'),
      virtualServices: listed('VirtualService'),
      gateways: listed('Gateway'),
      sidecars: listed('Sidecar'),
      peerAuthentications: listed('PeerAuthentication'),
      endpointSlices: listed('EndpointSlice'),
      secret: (ns, name) => store.get('Secret', ns, name),
    };
  }

  private proxyRef(pod: KubeObject): ProxyRef {
    const spec = (pod.spec ?? {}) as PodShape;
    const container = (spec.containers as Array<{ name: string; args?: string[] }> | undefined)?.find(
      (c) => c.name === proxyContainerName,
    );
    return {
      pod,
      namespace: pod.metadata.namespace ?? '',
      name: pod.metadata.name,
      ip: String(rec(pod.status).podIP ?? ''),
      labels: pod.metadata.labels ?? {},
      serviceAccount: spec.serviceAccountName ?? 'default',
      type: container?.args?.[1] === 'router' ? 'router' : 'sidecar',
    };
  }

  /** The workload certificate, renewed after half its life or when the identity changed. */
  private workloadCert(state: ProxyState, spiffeId: string, now: Date): WorkloadCertificate {
    const c = state.cert;
    if (c && c.spiffeId === spiffeId && now.getTime() < (c.notBefore.getTime() + c.notAfter.getTime()) / 2) return c;
    state.cert = this.ca.issueWorkload(spiffeId, now);
    return state.cert;
  }

  private snapshot(pod: KubeObject, state: ProxyState, now: Date) {
    const world = this.world();
    const proxy = this.proxyRef(pod);
    const clusters = buildClusters(world, proxy);
    const routes = buildRoutes(world, proxy);
    const spiffeId = `spiffe://${world.mesh.trustDomain}/ns/${proxy.namespace}/sa/${proxy.serviceAccount}`;
    const cert = this.workloadCert(state, spiffeId, now);
    const active: Json[] = [
      {
        name: 'default',
        version_info: iso(cert.notBefore),
        last_updated: iso(cert.notBefore),
        secret: {
          '@type': TYPE.secret,
          name: 'default',
          tls_certificate: {
            certificate_chain: { inline_bytes: b64(cert.chainPem) },
            private_key: { inline_bytes: REDACTED },
          },
        },
      },
      {
        name: 'ROOTCA',
        version_info: iso(state.startedAt),
        last_updated: iso(state.startedAt),
        secret: {
          '@type': TYPE.secret,
          name: 'ROOTCA',
          validation_context: { trusted_ca: { inline_bytes: b64(this.ca.rootPem) } },
        },
      },
    ];
    const warming: Json[] = [];
    const credentials: Array<{ name: string; pem: string }> = [];
    for (const name of [...routes.credentials].sort()) {
      const secret = world.secret(proxy.namespace, name.slice('kubernetes://'.length));
      const data = rec((secret as { data?: unknown } | undefined)?.data);
      // As istiod's SDS reads a credential: a certificate and a key (tls.crt/tls.key, or cert/key).
      const crt =
        typeof data['tls.crt'] === 'string' ? data['tls.crt'] : typeof data.cert === 'string' ? data.cert : undefined;
      const key = typeof data['tls.key'] === 'string' ? data['tls.key'] : data.key;
      if (!crt || typeof key !== 'string') {
        // istiod sends nothing for a credential it cannot read ("failed to fetch key and certificate for …"):
        // Envoy keeps asking, the secret stays warming.
        warming.push({
          name,
          version_info: 'uninitialized',
          last_updated: iso(state.startedAt),
          secret: { '@type': TYPE.secret, name },
        });
        continue;
      }
      credentials.push({ name, pem: Buffer.from(crt, 'base64').toString('utf8') });
      active.push({
        name,
        version_info: secret?.metadata.resourceVersion ?? '1',
        last_updated: iso(this.pushedAt),
        secret: {
          '@type': TYPE.secret,
          name,
          tls_certificate: { certificate_chain: { inline_bytes: crt }, private_key: { inline_bytes: REDACTED } },
        },
      });
    }
    const bootstrap = bootstrapOf(
      proxy,
      world,
      routes.staticListeners,
      clusters.filter((c) => c.static).map((c) => c.cluster),
    );
    const dump: ProxySnapshot = {
      bootstrap,
      startedAt: iso(state.startedAt),
      version: `${iso(this.pushedAt).replace(/\.\d+Z$/, 'Z')}/${this.pushes}`,
      updatedAt: iso(this.pushedAt),
      clusters,
      routes,
      secrets: { active, warming },
    };
    return { world, proxy, dump, cert, credentials };
  }

  private handle(namespace: string, podName: string, req: IncomingMessage, res: ServerResponse): void {
    const answer = this.answer(namespace, podName, req);
    res.writeHead(answer.status, { 'content-type': answer.contentType, 'x-content-type-options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : answer.body);
  }

  /** One admin request, answered from the store as it is now. */
  answer(namespace: string, podName: string, req: { method?: string; url?: string }): AdminAnswer {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1:15000');
    const state = this.proxies.get(`${namespace}/${podName}`);
    const pod = this.sandbox.store.get('Pod', namespace, podName);
    if (!state || !pod) return { status: 503, contentType: 'text/plain', body: 'no healthy upstream' };
    const path = url.pathname;
    if (!SERVED.has(path)) return text(404, `invalid path. ${help()}`);
    if (req.method && req.method !== 'GET' && req.method !== 'HEAD')
      return text(405, `Method ${req.method} not allowed.`);
    const now = this.now();
    const q = url.searchParams;
    if (path === '/ready') return text(200, 'LIVE\n');
    const snap = this.snapshot(pod, state, now);
    const ejected = new Set(this.options.eject?.(namespace, podName) ?? []);
    const views = clusterViews(snap.dump.clusters, ejected);
    switch (path) {
      case '/config_dump':
        return configDump(snap.dump, q);
      case '/clusters':
        return q.get('format') === 'json'
          ? { status: 200, contentType: 'application/json', body: clustersJson(views) }
          : text(200, clustersText(views));
      case '/certs': {
        const contexts = [
          { ca: certificateDetails(this.ca.rootPem), chain: certificateDetails(snap.cert.leafPem) },
          ...snap.credentials.map((c) => ({ chain: certificateDetails(c.pem) })),
        ];
        return { status: 200, contentType: 'application/json', body: certsJson(contexts, now) };
      }
      case '/server_info':
        return { status: 200, contentType: 'application/json', body: serverInfo(snap.dump, state.startedAt, now) };
      default: {
        const stats = proxyStats({
          views,
          listeners: snap.dump.routes.dynamicListeners.length + snap.dump.routes.staticListeners.length,
          uptimeSeconds: Math.floor((now.getTime() - state.startedAt.getTime()) / 1000),
          certSecondsLeft: (snap.cert.notAfter.getTime() - now.getTime()) / 1000,
          extra: this.options.stats?.(namespace, podName) ?? [],
        });
        let shown = stats;
        const filter = q.get('filter');
        if (filter) {
          let re: RegExp;
          try {
            re = new RegExp(filter);
          } catch {
            return text(400, `Invalid re2 regex`);
          }
          shown = shown.filter((s) => re.test(s.name));
        }
        if (q.has('usedonly')) shown = shown.filter((s) => s.value !== 0);
        if (path === '/stats/prometheus')
          return {
            status: 200,
            contentType: 'text/plain; charset=UTF-8',
            body: statsPrometheus(
              shown,
              views.map((v) => v.name),
            ),
          };
        return q.get('format') === 'json'
          ? { status: 200, contentType: 'application/json', body: statsJson(shown) }
          : text(200, statsText(shown));
      }
    }
  }
}
