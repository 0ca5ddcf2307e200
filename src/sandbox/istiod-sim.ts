// A simulated istiod pod's HTTP side: port 15014 (monitoring and debug: /debug/syncz,
// /debug/connections, /version, /metrics) and port 8080 (/ready). Its state is a model tests and
// seeds drive: which proxies are connected and, per xDS type, the sent and acked nonces, the send
// time and the last NACK. Answers follow pilot/pkg/xds/debug.go: debug endpoints answer 401 to
// callers that are not localhost (allowAuthenticatedOrLocalhost), and are absent (404) when istiod
// runs with ENABLE_DEBUG_ON_HTTP=false.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../kube/objects.ts';
import { isLocalhostCaller, type PodEndpoints } from './pod-endpoints.ts';

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

const LEGACY_NONCE_FIELDS = [
  ['cluster', TYPE_URL.CDS], ['listener', TYPE_URL.LDS], ['route', TYPE_URL.RDS],
  ['endpoint', TYPE_URL.EDS], ['extensionconfig', TYPE_URL.ECDS],
] as const;

// Debug endpoints istiod registers behind allowAuthenticatedOrLocalhost (pilot/pkg/xds/debug.go);
// syncz and connections are modelled, the rest answer 501 to a localhost caller.
const DEBUG_PATHS: ReadonlySet<string> = new Set([
  '/debug/ecdsz', '/debug/edsz', '/debug/ndsz', '/debug/adsz', '/debug/syncz', '/debug/registryz', '/debug/endpointz',
  '/debug/endpointShardz', '/debug/cachez', '/debug/configz', '/debug/sidecarz', '/debug/resourcesz', '/debug/instancesz',
  '/debug/ambientz', '/debug/krtz', '/debug/authorizationz', '/debug/telemetryz', '/debug/config_dump', '/debug/push_status',
  '/debug/pushcontext', '/debug/connections', '/debug/inject', '/debug/mesh', '/debug/clusterz', '/debug/networkz',
  '/debug/mcsz', '/debug/list',
]);

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
  CDS:
    'Error adding/updating cluster(s) outbound|9080|v2|reviews.bookinfo.svc.cluster.local: ' +
    'Proto constraint validation failed (ClusterValidationError.LbPolicy: value must be one of the defined enum values)',
} as const;

export interface IstiodLogEntry {
  time: Date;
  level: 'info' | 'warn' | 'error';
  scope: string;
  message: string;
}

/** Short names as istiod prints them in its logs (v3.GetShortType). */
const SHORT_TYPE: Record<string, string> = {
  [TYPE_URL.CDS]: 'CDS', [TYPE_URL.LDS]: 'LDS', [TYPE_URL.EDS]: 'EDS', [TYPE_URL.RDS]: 'RDS', [TYPE_URL.ECDS]: 'ECDS',
};

// istiod's log keeps growing; the simulator keeps the tail, as a container log would be read.
const MAX_LOG_ENTRIES = 5000;

export class IstiodSim {
  readonly podName: string;
  readonly version: string;
  readonly clusterId: string;
  debugOnHttp: boolean;
  ready: boolean;
  private readonly now: () => Date;
  private readonly nonce: () => string;
  private readonly proxies = new Map<string, SimProxy>();
  private connectionCounter = 0;
  // The plain /debug/syncz body, kept until the model changes: a big mesh asks for it repeatedly.
  private synczBody: string | undefined;
  private readonly logEntries: IstiodLogEntry[] = [];

  constructor(opts: IstiodSimOptions) {
    this.podName = opts.podName;
    this.version = opts.version ?? '1.24.2';
    this.clusterId = opts.clusterId ?? 'Kubernetes';
    this.debugOnHttp = opts.debugOnHttp ?? true;
    this.ready = opts.ready ?? true;
    this.now = opts.now ?? (() => new Date());
    this.nonce = opts.nonce ?? randomUUID;
  }

  /** A proxy (`<pod>.<namespace>`) opens its ADS stream to this istiod. */
  connect(proxyId: string, opts: ConnectOptions = {}): SimProxy {
    const connectedAt = this.now();
    this.connectionCounter += 1;
    const proxy: SimProxy = {
      id: proxyId,
      proxyType: opts.proxyType ?? 'sidecar',
      clusterId: opts.clusterId ?? this.clusterId,
      istioVersion: opts.istioVersion ?? this.version,
      connectionId: `${proxyId}-${this.connectionCounter}`,
      connectedAt,
      peerAddress: opts.peerAddress ?? `10.244.${(this.connectionCounter >> 8) & 0xff}.${this.connectionCounter & 0xff}:${40000 + (this.connectionCounter % 20000)}`,
      watches: new Map((opts.types ?? DEFAULT_WATCHED_TYPES).map((t) => [t, {}])),
    };
    this.proxies.set(proxyId, proxy);
    this.synczBody = undefined;
    this.log('info', 'ads', `ADS: new connection for node:${proxy.connectionId}`);
    if (opts.synced ?? true) {
      for (const t of proxy.watches.keys()) {
        this.push(proxyId, t);
        this.ack(proxyId, t);
      }
    }
    return proxy;
  }

  disconnect(proxyId: string): boolean {
    const p = this.proxies.get(proxyId);
    if (p) this.log('info', 'ads', `ADS: ${JSON.stringify(p.peerAddress)} ${p.connectionId} terminated`);
    this.synczBody = undefined;
    return this.proxies.delete(proxyId);
  }

  /** How many proxies are connected. */
  get size(): number {
    return this.proxies.size;
  }

  connected(): string[] {
    return [...this.proxies.keys()].sort();
  }

  proxy(proxyId: string): SimProxy | undefined {
    return this.proxies.get(proxyId);
  }

  /** istiod pushes a type (default: every watched type): new nonce, not yet acknowledged. */
  push(proxyId: string, typeUrl?: string, at?: Date): void {
    for (const w of this.watchesOf(proxyId, typeUrl)) {
      w.sent = this.nonce();
      w.sentTime = at ?? this.now();
      this.synczBody = undefined;
    }
  }

  /** Envoy ACKs the last push of a type (default: every watched type). */
  ack(proxyId: string, typeUrl?: string): void {
    for (const w of this.watchesOf(proxyId, typeUrl)) {
      w.acked = w.sent;
      this.synczBody = undefined;
      delete w.lastError;
    }
  }

  /** Envoy NACKs the last push of a type: the acked nonce stays the old one, the error is kept. */
  nack(proxyId: string, typeUrl: string, message: string): void {
    for (const w of this.watchesOf(proxyId, typeUrl)) w.lastError = message;
    this.synczBody = undefined;
    const conId = this.proxies.get(proxyId)!.connectionId;
    // pilot/pkg/xds ShouldRespond: Envoy's error_detail, gRPC code INTERNAL as Envoy sends it.
    this.log('warn', 'ads', `ADS:${SHORT_TYPE[typeUrl] ?? typeUrl}: ACK ERROR ${conId} Internal:${message}`);
  }

  /** Add a line to istiod's log (e.g. errors a scenario wants the bot to find). */
  log(level: IstiodLogEntry['level'], scope: string, message: string, at?: Date): void {
    this.logEntries.push({ time: at ?? this.now(), level, scope, message });
    if (this.logEntries.length > MAX_LOG_ENTRIES) this.logEntries.splice(0, this.logEntries.length - MAX_LOG_ENTRIES);
  }

  /**
   * The log as istiod writes it: `<time, microseconds>\t<level>\t<scope>\t<message>`. With
   * `kubeletTime`, each line is prefixed with its RFC 3339 time and a space, the form the sandbox's
   * setPodLogs takes the line's time from (so sinceSeconds and tailLines select as on a cluster).
   */
  logLines(opts: { kubeletTime?: boolean } = {}): string[] {
    return this.logEntries.map((e) => {
      const iso = e.time.toISOString();
      const line = `${iso.replace(/\.(\d{3})Z$/, '.$1000Z')}\t${e.level}\t${e.scope}\t${e.message}`;
      return opts.kubeletTime ? `${iso} ${line}` : line;
    });
  }

  /** The JSON body of /debug/syncz, in istiod's SyncStatus shape, sorted as istiod sorts clients. */
  syncz(namespace?: string): SynczEntry[] {
    const out: SynczEntry[] = [];
    for (const p of this.sortedProxies()) {
      if (namespace && p.id.slice(p.id.lastIndexOf('.') + 1) !== namespace) continue;
      // Key order, omitted empties and the zero time follow Go's encoding/json for SyncStatus.
      const entry: Record<string, unknown> = { cluster_id: p.clusterId, proxy: p.id, proxy_type: p.proxyType, istio_version: p.istioVersion };
      for (const [name, t] of LEGACY_NONCE_FIELDS) {
        const w = p.watches.get(t);
        if (w?.sent) entry[`${name}_sent`] = w.sent;
        if (w?.acked) entry[`${name}_acked`] = w.acked;
      }
      const resources: SynczEntry['resources'] = {};
      for (const [t, w] of p.watches) {
        const r: SynczEntry['resources'][string] = {} as SynczEntry['resources'][string];
        if (w.sent) r.sent = w.sent;
        if (w.acked) r.acked = w.acked;
        r.sentTime = w.sentTime ? w.sentTime.toISOString() : '0001-01-01T00:00:00Z';
        if (w.lastError) r.lastError = w.lastError;
        resources[t] = r;
      }
      entry.resources = resources;
      out.push(entry as unknown as SynczEntry);
    }
    return out;
  }

  /** Clients as istiod's SortedClients lists them: by connection ID. */
  private sortedProxies(): SimProxy[] {
    return [...this.proxies.values()].sort((a, b) => cmp(a.connectionId, b.connectionId));
  }

  /** Handler for port 15014. */
  readonly monitoringHandler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://istiod');
    const path = url.pathname;
    if (path === '/version') {
      text(res, 200, `${this.version}-6f3f4c0d3b5e0a2c1c1d7a4c8b9f0e2d3a4b5c6d-go1.23.4-Clean-${this.version}`);
      return;
    }
    if (path === '/metrics') {
      text(res, 200, `# TYPE pilot_xds gauge\npilot_xds{version="${this.version}"} ${this.proxies.size}\n`);
      return;
    }
    if (path === '/ready') {
      this.readyHandler(req, res);
      return;
    }
    if (this.debugOnHttp && path === '/debug') {
      // The index is registered without the auth wrapper in debug.go.
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<html><head><title>Pilot Debug Console</title></head><body><table id="endpoints">${[...DEBUG_PATHS].map((p) => `<tr><td><a href='${p}'>${p}</a></td></tr>`).join('')}</table></body></html>\n`);
      return;
    }
    if (this.debugOnHttp && DEBUG_PATHS.has(path)) {
      if (!isLocalhostCaller(req)) {
        // allowAuthenticatedOrLocalhost: no token we accept, not from localhost: bare 401.
        res.writeHead(401);
        res.end();
        return;
      }
      if (path === '/debug/syncz') {
        const namespace = url.searchParams.get('namespace') ?? undefined;
        if (namespace || url.searchParams.has('pretty')) {
          json(res, this.syncz(namespace), url.searchParams.has('pretty'));
        } else {
          this.synczBody ??= JSON.stringify(this.syncz());
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(this.synczBody);
        }
        return;
      }
      if (path === '/debug/connections') {
        const clients = this.sortedProxies();
        json(res, {
          totalClients: clients.length,
          clients: clients.map((c) => ({ connectionId: c.connectionId, connectedAt: c.connectedAt.toISOString(), address: c.peerAddress })),
        }, url.searchParams.has('pretty'));
        return;
      }
      text(res, 501, `${path} is not simulated by the sandbox's istiod\n`);
      return;
    }
    // Go's ServeMux for an unregistered path (all of /debug/* when ENABLE_DEBUG_ON_HTTP=false).
    text(res, 404, '404 page not found\n');
  };

  /** Handler for port 8080 (the readiness probe). */
  readonly readyHandler = (_req: IncomingMessage, res: ServerResponse): void => {
    if (this.ready) text(res, 200, '');
    else text(res, 503, 'istiod is not ready\n');
  };

  /** Serve this istiod's ports for pod `namespace/podName` on the sandbox's pod network. */
  registerOn(endpoints: PodEndpoints, namespace = 'istio-system'): void {
    endpoints.register(namespace, this.podName, ISTIOD_MONITORING_PORT, this.monitoringHandler);
    endpoints.register(namespace, this.podName, ISTIOD_READY_PORT, this.readyHandler);
  }

  private watchesOf(proxyId: string, typeUrl?: string): SimWatch[] {
    const p = this.proxies.get(proxyId);
    if (!p) throw new Error(`proxy ${proxyId} is not connected to ${this.podName}`);
    if (typeUrl === undefined) return [...p.watches.values()];
    const w = p.watches.get(typeUrl);
    if (!w) throw new Error(`proxy ${proxyId} does not watch ${typeUrl}`);
    return [w];
  }
}

export interface ProxyPodRef {
  namespace: string;
  name: string;
  proxyType?: 'sidecar' | 'router';
  istioVersion?: string;
}

export interface MeshSyncScenario {
  /** Istiod pod names; proxies are dealt round-robin across them (sorted by proxy ID). */
  istiods: readonly string[];
  /** Pods that run an Istio proxy. */
  pods: readonly ProxyPodRef[];
  /** Proxy IDs (`<pod>.<namespace>`) left STALE on LDS: pushed, never acknowledged. */
  staleLds?: readonly string[];
  /** Proxy IDs that NACKed a type, with Envoy's message (default: DEMO_NACK_MESSAGES for that type). */
  nack?: readonly { proxyId: string; type: 'CDS' | 'LDS'; message?: string }[];
  /** Proxy IDs with a sidecar but connected to no istiod. */
  disconnected?: readonly string[];
  /** How long ago the unacknowledged pushes went out (default 4 minutes). */
  staleForMs?: number;
  istiodOptions?: Omit<IstiodSimOptions, 'podName'>;
}

/** Builds the istiods of a demo mesh: everything synced, then the scenario's faults applied. */
export function buildMeshSync(s: MeshSyncScenario): IstiodSim[] {
  if (s.istiods.length === 0) throw new Error('a mesh needs at least one istiod');
  const sims = s.istiods.map((podName) => new IstiodSim({ ...s.istiodOptions, podName }));
  const now = s.istiodOptions?.now ?? (() => new Date());
  const disconnected = new Set(s.disconnected ?? []);
  const ids = s.pods.map((p) => ({ id: `${p.name}.${p.namespace}`, p })).sort((a, b) => cmp(a.id, b.id));
  const owner = new Map<string, IstiodSim>();
  let i = 0;
  for (const { id, p } of ids) {
    if (disconnected.has(id)) continue;
    const sim = sims[i++ % sims.length]!;
    const opts: ConnectOptions = {};
    if (p.proxyType) opts.proxyType = p.proxyType;
    if (p.istioVersion) opts.istioVersion = p.istioVersion;
    sim.connect(id, opts);
    owner.set(id, sim);
  }
  const pushedAt = new Date(now().getTime() - (s.staleForMs ?? 4 * 60_000));
  const ownerOf = (id: string): IstiodSim => {
    const sim = owner.get(id);
    if (!sim) throw new Error(`scenario names ${id}, which is not a connected proxy of this mesh`);
    return sim;
  };
  for (const id of s.staleLds ?? []) ownerOf(id).push(id, TYPE_URL.LDS, pushedAt);
  for (const n of s.nack ?? []) {
    const sim = ownerOf(n.proxyId);
    sim.push(n.proxyId, TYPE_URL[n.type], pushedAt);
    sim.nack(n.proxyId, TYPE_URL[n.type], n.message ?? DEMO_NACK_MESSAGES[n.type]);
  }
  return sims;
}

function json(res: ServerResponse, body: unknown, pretty: boolean): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body));
}

function text(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(body);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What the fleet needs of the sandbox store: the pods, and word when they change. */
export interface PodSource {
  list(kind: 'Pod', namespace?: string): KubeObject[];
  subscribe(listener: (e: { object: KubeObject }) => void): () => void;
}

export interface IstiodFleetOptions {
  istiodNamespace?: string;
  istiodOptions?: Omit<IstiodSimOptions, 'podName'>;
  /**
   * Receives an istiod's whole log after each change, e.g.
   * `(pod, lines) => sandbox.setPodLogs('istio-system', pod, 'discovery', lines)`.
   */
  logSink?: (istiodPod: string, lines: string[]) => void;
}

/** Faults to inject into proxies connected now, chosen by `<namespace>/<pod-name-prefix>`. */
export interface FleetFaults {
  staleLds?: readonly string[];
  nackCds?: readonly string[];
  nackLds?: readonly string[];
  /** Proxies that drop their ADS connection and stay away until their pod is replaced. */
  disconnected?: readonly string[];
  staleForMs?: number;
}

/**
 * Keeps simulated istiods in step with the sandbox's pods, for the demo and integration tests: one
 * IstiodSim per running istiod pod (served on its ports), every running pod with an istio-proxy
 * container connected, SYNCED, to the least-loaded istiod. Pods that go away disconnect; the proxies
 * of an istiod that goes away reconnect elsewhere. Faults are injected into proxies connected at the
 * time, so a restarted workload's new pods come up healthy, as after a real rollout restart.
 */
export class IstiodFleet {
  private readonly source: PodSource;
  private readonly endpoints: PodEndpoints;
  private readonly ns: string;
  private readonly simOptions: Omit<IstiodSimOptions, 'podName'>;
  private readonly logSink: ((istiodPod: string, lines: string[]) => void) | undefined;
  private readonly sims = new Map<string, IstiodSim>();
  private readonly away = new Set<string>();
  private unsubscribe: (() => void) | undefined;
  private scheduled = false;

  constructor(source: PodSource, endpoints: PodEndpoints, opts: IstiodFleetOptions = {}) {
    this.source = source;
    this.endpoints = endpoints;
    this.ns = opts.istiodNamespace ?? 'istio-system';
    this.simOptions = opts.istiodOptions ?? {};
    this.logSink = opts.logSink;
  }

  /** Hands every istiod's log to the sink; called after each change. */
  flushLogs(): void {
    if (!this.logSink) return;
    for (const sim of this.sims.values()) this.logSink(sim.podName, sim.logLines({ kubeletTime: true }));
  }

  /** Follow pod changes from now on (and sync once); returns a function that stops following. */
  start(): () => void {
    this.sync();
    this.unsubscribe ??= this.source.subscribe((e) => {
      if (e.object.kind !== 'Pod' || this.scheduled) return;
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        this.sync();
      });
    });
    return () => this.stop();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  istiods(): IstiodSim[] {
    return [...this.sims.values()].sort((a, b) => cmp(a.podName, b.podName));
  }

  /** The istiod a proxy is connected to, if any. */
  istiodOf(proxyId: string): IstiodSim | undefined {
    return this.istiods().find((s) => s.proxy(proxyId));
  }

  sync(): void {
    const pods = this.source.list('Pod');
    const running = (p: KubeObject) => !p.metadata.deletionTimestamp && (p.status as { phase?: string } | undefined)?.phase === 'Running';
    const istiodPods = new Set(pods.filter((p) => p.metadata.namespace === this.ns && p.metadata.labels?.app === 'istiod' && running(p)).map((p) => p.metadata.name));
    for (const name of this.sims.keys()) {
      if (istiodPods.has(name)) continue;
      // Its proxies are connected nowhere now; the loop below reconnects them to the survivors.
      this.endpoints.unregister(this.ns, name);
      this.sims.delete(name);
    }
    for (const name of istiodPods) {
      if (this.sims.has(name)) continue;
      const sim = new IstiodSim({ ...this.simOptions, podName: name });
      sim.registerOn(this.endpoints, this.ns);
      this.sims.set(name, sim);
    }
    const proxies = new Map<string, KubeObject>();
    for (const p of pods) if (running(p) && hasIstioProxy(p)) proxies.set(`${p.metadata.name}.${p.metadata.namespace}`, p);
    for (const sim of this.sims.values()) for (const id of sim.connected()) if (!proxies.has(id)) sim.disconnect(id);
    for (const id of this.away) if (!proxies.has(id)) this.away.delete(id);
    if (this.sims.size === 0) return;
    const sims = this.istiods();
    try {
      this.connectNew(sims, proxies);
    } finally {
      this.flushLogs();
    }
  }

  private connectNew(sims: IstiodSim[], proxies: Map<string, KubeObject>): void {
    const connected = new Set(sims.flatMap((s) => s.connected()));
    for (const id of [...proxies.keys()].sort()) {
      if (connected.has(id) || this.away.has(id)) continue;
      const pod = proxies.get(id)!;
      const least = sims.reduce((a, b) => (b.size < a.size ? b : a));
      least.connect(id, { proxyType: pod.metadata.labels?.istio === 'ingressgateway' ? 'router' : 'sidecar' });
    }
  }

  /** Injects faults into the proxies connected now whose `<namespace>/<pod>` starts with a given prefix. */
  inject(faults: FleetFaults): string[] {
    const touched: string[] = [];
    const now = this.simOptions.now ?? (() => new Date());
    const at = new Date(now().getTime() - (faults.staleForMs ?? 4 * 60_000));
    const each = (prefixes: readonly string[] | undefined, fn: (sim: IstiodSim, id: string) => void) => {
      for (const sim of this.istiods()) {
        for (const id of sim.connected()) {
          const dot = id.lastIndexOf('.');
          const key = `${id.slice(dot + 1)}/${id.slice(0, dot)}`;
          if ((prefixes ?? []).some((p) => key.startsWith(p))) {
            fn(sim, id);
            touched.push(id);
          }
        }
      }
    };
    each(faults.staleLds, (sim, id) => sim.push(id, TYPE_URL.LDS, at));
    each(faults.nackCds, (sim, id) => {
      sim.push(id, TYPE_URL.CDS, at);
      sim.nack(id, TYPE_URL.CDS, DEMO_NACK_MESSAGES.CDS);
    });
    each(faults.nackLds, (sim, id) => {
      sim.push(id, TYPE_URL.LDS, at);
      sim.nack(id, TYPE_URL.LDS, DEMO_NACK_MESSAGES.LDS);
    });
    each(faults.disconnected, (sim, id) => {
      sim.disconnect(id);
      this.away.add(id);
    });
    this.flushLogs();
    return [...new Set(touched)].sort();
  }
}

function hasIstioProxy(pod: KubeObject): boolean {
  const spec = pod.spec as { containers?: { name?: string }[]; initContainers?: { name?: string }[] } | undefined;
  return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].some((c) => c.name === 'istio-proxy');
}
