// A simulated istiod pod's HTTP side: port 15014 (monitoring and debug: /debug/syncz,
// /debug/connections, /version, /metrics) and port 8080 (/ready). Its state is a model tests and
// seeds drive (istiod-model.ts): which proxies are connected and, per xDS type, the sent and acked
// nonces, the send time and the last NACK. Answers follow pilot/pkg/xds/debug.go: debug endpoints
// answer 401 to callers that are not localhost (allowAuthenticatedOrLocalhost), and are absent (404)
// when istiod runs with ENABLE_DEBUG_ON_HTTP=false.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  cmp,
  type ConnectOptions,
  DEFAULT_WATCHED_TYPES,
  ISTIOD_MONITORING_PORT,
  ISTIOD_READY_PORT,
  type IstiodLogEntry,
  type IstiodSimOptions,
  type SimProxy,
  type SimWatch,
  type SynczEntry,
  TYPE_URL,
} from './istiod-model.ts';
import { isLocalhostCaller, type PodEndpoints } from './pod-endpoints.ts';

const LEGACY_NONCE_FIELDS = [
  ['cluster', TYPE_URL.CDS],
  ['listener', TYPE_URL.LDS],
  ['route', TYPE_URL.RDS],
  ['endpoint', TYPE_URL.EDS],
  ['extensionconfig', TYPE_URL.ECDS],
] as const;

// Debug endpoints istiod registers behind allowAuthenticatedOrLocalhost (pilot/pkg/xds/debug.go);
// syncz and connections are modelled, the rest answer 501 to a localhost caller.
const DEBUG_PATHS: ReadonlySet<string> = new Set([
  '/debug/ecdsz',
  '/debug/edsz',
  '/debug/ndsz',
  '/debug/adsz',
  '/debug/syncz',
  '/debug/registryz',
  '/debug/endpointz',
  '/debug/endpointShardz',
  '/debug/cachez',
  '/debug/configz',
  '/debug/sidecarz',
  '/debug/resourcesz',
  '/debug/instancesz',
  '/debug/ambientz',
  '/debug/krtz',
  '/debug/authorizationz',
  '/debug/telemetryz',
  '/debug/config_dump',
  '/debug/push_status',
  '/debug/pushcontext',
  '/debug/connections',
  '/debug/inject',
  '/debug/mesh',
  '/debug/clusterz',
  '/debug/networkz',
  '/debug/mcsz',
  '/debug/list',
]);

/** Short names as istiod prints them in its logs (v3.GetShortType). */
const SHORT_TYPE: Record<string, string> = {
  [TYPE_URL.CDS]: 'CDS',
  [TYPE_URL.LDS]: 'LDS',
  [TYPE_URL.EDS]: 'EDS',
  [TYPE_URL.RDS]: 'RDS',
  [TYPE_URL.ECDS]: 'ECDS',
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
    const n = this.connectionCounter;
    const proxy: SimProxy = {
      id: proxyId,
      proxyType: opts.proxyType ?? 'sidecar',
      clusterId: opts.clusterId ?? this.clusterId,
      istioVersion: opts.istioVersion ?? this.version,
      connectionId: `${proxyId}-${this.connectionCounter}`,
      connectedAt,
      peerAddress: opts.peerAddress ?? `10.244.${(n >> 8) & 0xff}.${n & 0xff}:${40000 + (n % 20000)}`,
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

  /**
   * Envoy NACKs the last push of a type: the acked nonce stays the old one, the error is kept. istiod logs
   * it when the NACK arrives: `at`, else the push's send time (Envoy answers a push within moments).
   */
  nack(proxyId: string, typeUrl: string, message: string, at?: Date): void {
    const watches = this.watchesOf(proxyId, typeUrl);
    for (const w of watches) w.lastError = message;
    this.synczBody = undefined;
    const conId = this.proxies.get(proxyId)!.connectionId;
    // pilot/pkg/xds ShouldRespond: Envoy's error_detail, gRPC code INTERNAL as Envoy sends it.
    this.log(
      'warn',
      'ads',
      `ADS:${SHORT_TYPE[typeUrl] ?? typeUrl}: ACK ERROR ${conId} Internal:${message}`,
      at ?? watches[0]?.sentTime,
    );
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
    // In time order, as a log is written: a NACK recorded for an earlier push sits where it happened.
    const entries = [...this.logEntries].sort((a, b) => a.time.getTime() - b.time.getTime());
    return entries.map((e) => {
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
      const entry: Record<string, unknown> = {
        cluster_id: p.clusterId,
        proxy: p.id,
        proxy_type: p.proxyType,
        istio_version: p.istioVersion,
      };
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
      const rows = [...DEBUG_PATHS].map((p) => `<tr><td><a href='${p}'>${p}</a></td></tr>`).join('');
      res.end(
        `<html><head><title>Pilot Debug Console</title></head><body><table id="endpoints">${rows}</table></body></html>\n`,
      );
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
        json(
          res,
          {
            totalClients: clients.length,
            clients: clients.map((c) => ({
              connectionId: c.connectionId,
              connectedAt: c.connectedAt.toISOString(),
              address: c.peerAddress,
            })),
          },
          url.searchParams.has('pretty'),
        );
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

function json(res: ServerResponse, body: unknown, pretty: boolean): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body));
}

function text(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(body);
}
