// A fault proxy for tests: TLS-terminating, on loopback, between a Kubernetes client and an API server
// (the sandbox). It forwards every request to the upstream over HTTPS (trusting the upstream's CA),
// streaming bodies both ways, keep-alive and watches included, and pipes upgraded connections
// (port-forward over WebSocket/SPDY) after the upstream's 101. On top of that it breaks things on purpose:
//
// - connection level: refuse() (stop listening), hang() (accept, never answer), resetAll() (RST every
//   open connection now), latency() (ms before forwarding and/or before answering), resume();
// - per request: rules matching method + path (+ optional predicates on the request and its body), the
//   n-th match or every match, with `times` limits, that cut, stall or drop a request or answer a Status.
//
// Every request seen is logged (method, path, query, status, the fault applied, time).
import { once } from 'node:events';
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { createSecureContext, TLSSocket } from 'node:tls';
import { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { selfSignedCert } from '../../src/sandbox/self-signed-cert.ts';

/** What the client sent, as rules' predicates see it. */
export interface SeenRequest {
  method: string;
  /** URL path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  upgrade: boolean;
}

export type FaultAction =
  /**
   * Forward the request (the upstream applies it), wait for the upstream's whole answer, then break the
   * client's connection: before sending anything ('nothing', the default), after the status line and
   * headers ('headers'), or after that many bytes of the body (a number; always at least one byte short).
   * `how`: 'reset' (TCP RST, the default) or 'close' (FIN).
   */
  | { type: 'cutResponse'; after?: 'nothing' | 'headers' | number; how?: 'reset' | 'close' }
  /**
   * Forward the request (the upstream applies it), then withhold the answer: for `ms`, after which it is
   * sent if the client is still there, or (no `ms`) until the client gives up.
   */
  | { type: 'stallResponse'; ms?: number }
  /** Break the client's connection before forwarding: the upstream never sees the request. */
  | { type: 'dropRequest'; how?: 'reset' | 'close' }
  /**
   * Answer at once without forwarding, with a Kubernetes Status body. `retryAfterSeconds` adds a
   * Retry-After header and details.retryAfterSeconds (as the API server does for 429 and some 503s).
   */
  | { type: 'status'; code: number; reason?: string; message?: string; retryAfterSeconds?: number }
  /** Wait `ms` before forwarding (then proceed normally). */
  | { type: 'delay'; ms: number };

export interface FaultRuleSpec {
  /** Shown in the log; default `rule-<id>`. */
  name?: string;
  /** One method or several (case-insensitive); default any. */
  method?: string | readonly string[];
  /** The URL path without the query: a string matches exactly, a RegExp is tested. */
  path: string | RegExp;
  /** More conditions on the request (query, headers, upgrade). */
  where?: (req: SeenRequest) => boolean;
  /** A condition on the request body (utf-8). Matching requests' bodies are buffered (at most 8 MiB) to decide. */
  body?: (body: string, req: SeenRequest) => boolean;
  /** Fire from the n-th matching request on (1-based; default 1). */
  nth?: number;
  /** Fire at most this many times; default 1 when `nth` is given, else every match. */
  times?: number;
  action: FaultAction;
}

export interface FaultRule {
  readonly id: number;
  readonly name: string;
  readonly spec: FaultRuleSpec;
  /** Requests that matched (fired or not). */
  readonly matches: number;
  /** Times the fault was applied. */
  readonly hits: number;
  /** Resolves with the log entry of the first request the rule fired on. */
  readonly fired: Promise<ProxyLogEntry>;
  remove(): void;
}

export interface ProxyLogEntry {
  /** When the request arrived. */
  time: Date;
  method: string;
  path: string;
  /** The query string without the leading `?` ('' when none). */
  query: string;
  upgrade: boolean;
  /** Which client connection carried it (1, 2, …): keep-alive connections carry several requests. */
  connection: number;
  /** Whether the request reached the upstream. */
  forwarded: boolean;
  /** The upstream's status (101 for an upgrade), when it answered. */
  upstreamStatus?: number;
  /** The status the client was sent (undefined when it got no status line). */
  status?: number;
  /** The fault applied: a rule's action type, or 'hang'. Latency is not listed. */
  fault?: FaultAction['type'] | 'hang';
  /** The rule that fired. */
  rule?: string;
  /** Why forwarding failed or the client left early. */
  error?: string;
  /** When the proxy was done with the request (answered, cut, or the client left). */
  finished?: Date;
}

export interface FaultProxyOptions {
  upstream: { url: string; ca: string | Buffer };
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
}

type KubeconfigObject = {
  clusters?: Array<{ name: string; cluster: Record<string, unknown> }>;
  contexts?: Array<{ name: string; context: { cluster?: string } & Record<string, unknown> }>;
  'current-context'?: string;
} & Record<string, unknown>;

export interface FaultProxy {
  /** https://127.0.0.1:port */
  url: string;
  port: number;
  /** PEM of the proxy's own certificate (its own CA). */
  ca: string;
  /** Every request seen, in arrival order; `log.length = 0` resets it. */
  log: ProxyLogEntry[];
  /**
   * The same kubeconfig pointed at the proxy: clusters whose server is the upstream's URL (else the current
   * context's cluster) get the proxy's URL and CA. YAML in, YAML out; KubeConfig in, a new KubeConfig out.
   */
  kubeconfig(base: string): string;
  kubeconfig(base: KubeConfig): KubeConfig;
  kubeconfig(base: KubeconfigObject): KubeconfigObject;
  /** Add a per-request rule; rules are tried in the order added, the first that is due fires. */
  rule(spec: FaultRuleSpec): FaultRule;
  readonly rules: readonly FaultRule[];
  clearRules(): void;
  /** Stop listening: connects are refused. Open connections are reset too unless keepExisting. */
  refuse(opts?: { keepExisting?: boolean }): Promise<void>;
  /**
   * Accept connections and never answer: new connections get no TLS handshake, requests on open
   * connections are never forwarded. What arrives during a hang stays unanswered (until the client gives
   * up or close()), also after resume().
   */
  hang(): void;
  /** Listen again on the same port (after refuse) and stop hanging. */
  resume(): Promise<void>;
  /** Reset (TCP RST) every open client connection now, mid-response or idle; returns how many. */
  resetAll(): number;
  /** Added delay for every request: before forwarding and/or before answering; latency({}) clears it. */
  latency(ms: { request?: number; response?: number }): void;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
]);
const MAX_BUFFERED_BODY = 8 * 1024 * 1024;

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** Raw [name, value, …] headers without hop-by-hop ones (and without Host, which the caller sets). */
function forwardable(raw: readonly string[], keep: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (name === 'host' || (HOP_BY_HOP.has(name) && !keep.has(name))) continue;
    out.push(raw[i] as string, raw[i + 1] as string);
  }
  return out;
}

function rawHead(status: number, message: string, headers: readonly string[]): string {
  let head = `HTTP/1.1 ${status} ${message}\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${head}\r\n`;
}

function statusBody(action: Extract<FaultAction, { type: 'status' }>, method: string, path: string): string {
  const reason = action.reason ?? REASONS[action.code] ?? (action.code >= 500 ? 'InternalError' : 'BadRequest');
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: action.message ?? `fault proxy: ${method} ${path} answered ${action.code} (${reason})`,
    reason,
    ...(action.retryAfterSeconds !== undefined ? { details: { retryAfterSeconds: action.retryAfterSeconds } } : {}),
    code: action.code,
  });
}

async function readAll(stream: NodeJS.ReadableStream, limit = Infinity): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > limit) throw new Error(`body larger than ${limit} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

class Rule implements FaultRule {
  matches = 0;
  hits = 0;
  readonly fired: Promise<ProxyLogEntry>;
  resolveFired!: (e: ProxyLogEntry) => void;
  readonly id: number;
  readonly spec: FaultRuleSpec;
  private readonly onRemove: (r: Rule) => void;
  constructor(id: number, spec: FaultRuleSpec, onRemove: (r: Rule) => void) {
    this.id = id;
    this.spec = spec;
    this.onRemove = onRemove;
    this.fired = new Promise((resolve) => (this.resolveFired = resolve));
  }
  get name(): string {
    return this.spec.name ?? `rule-${this.id}`;
  }
  remove(): void {
    this.onRemove(this);
  }
  matchesHead(req: SeenRequest): boolean {
    const m = this.spec.method;
    if (m !== undefined) {
      const methods = typeof m === 'string' ? [m] : m;
      if (!methods.some((x) => x.toUpperCase() === req.method)) return false;
    }
    const p = this.spec.path;
    if (typeof p === 'string') {
      if (p !== req.path) return false;
    } else {
      p.lastIndex = 0;
      if (!p.test(req.path)) return false;
    }
    return this.spec.where ? this.spec.where(req) : true;
  }
  /** Count a match; true when the rule fires on it. */
  count(): boolean {
    this.matches++;
    const nth = this.spec.nth ?? 1;
    const times = this.spec.times ?? (this.spec.nth !== undefined ? 1 : Infinity);
    if (this.matches < nth || this.hits >= times) return false;
    this.hits++;
    return true;
  }
}

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(opts.upstream.url);
  const upstreamHost = upstream.hostname.replace(/^\[|\]$/g, '');
  const upstreamPort = Number(upstream.port || 443);
  const upstreamCa = opts.upstream.ca;
  const host = opts.host ?? '127.0.0.1';
  const tls = selfSignedCert([...new Set([host, '127.0.0.1', 'localhost'])]);
  const secureContext = createSecureContext({ key: tls.key, cert: tls.cert });
  const agent = new HttpsAgent({ keepAlive: true, ca: upstreamCa });

  const log: ProxyLogEntry[] = [];
  let rules: Rule[] = [];
  let nextRuleId = 1;
  let hanging = false;
  let refusing = false;
  let closed = false;
  let delays = { request: 0, response: 0 };
  const closing = new AbortController();

  /** Raw TCP sockets of client connections, and the TLS socket over each. */
  const rawSockets = new Set<Socket>();
  const rawOf = new WeakMap<object, Socket>();
  const connectionIds = new WeakMap<object, number>();
  let nextConnectionId = 1;
  /** Upstream requests and upgraded upstream sockets, destroyed on close. */
  const upstreamStreams = new Set<{ destroy(): unknown }>();
  const track = <T extends { destroy(): unknown; once(ev: 'close', fn: () => void): unknown }>(s: T): T => {
    upstreamStreams.add(s);
    s.once('close', () => upstreamStreams.delete(s));
    return s;
  };

  /** Sleep unless the proxy closes; false when it closed. */
  const sleep = async (ms: number): Promise<boolean> => {
    if (ms <= 0) return !closed;
    try {
      await sleepFor(ms, undefined, { signal: closing.signal });
      return true;
    } catch {
      return false;
    }
  };

  /** Break a client connection: RST (reset) or FIN (close). */
  const breakClient = (socket: Duplex, how: 'reset' | 'close' = 'reset'): void => {
    const raw = rawOf.get(socket);
    if (how === 'reset' && raw && !raw.destroyed) raw.resetAndDestroy();
    else if (raw && !raw.destroyed) raw.destroy();
    socket.destroy();
  };

  /** Wait until what was written to the client has left (the write callback plus a beat for the kernel). */
  const flushed = async (res: ServerResponse, data?: Buffer): Promise<void> => {
    await new Promise<void>((resolve) => {
      if (data?.length) res.write(data, () => resolve());
      else res.write('', () => resolve());
    });
    await sleep(30);
  };

  const seen = (req: IncomingMessage, upgrade: boolean): { info: SeenRequest; entry: ProxyLogEntry } => {
    const url = new URL(req.url ?? '/', 'https://proxy');
    const info: SeenRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      upgrade,
    };
    const entry: ProxyLogEntry = {
      time: new Date(),
      method: info.method,
      path: info.path,
      query: url.search.replace(/^\?/, ''),
      upgrade,
      connection: connectionIds.get(req.socket) ?? 0,
      forwarded: false,
    };
    log.push(entry);
    return { info, entry };
  };

  /** The rule that fires on this request (each matching rule counts it), buffering the body if a rule needs it. */
  const choose = async (req: IncomingMessage, info: SeenRequest): Promise<{ rule?: Rule; body?: Buffer }> => {
    const candidates = rules.filter((r) => r.matchesHead(info));
    let body: Buffer | undefined;
    if (candidates.some((r) => r.spec.body)) body = await readAll(req, MAX_BUFFERED_BODY);
    const text = body?.toString('utf8') ?? '';
    let chosen: Rule | undefined;
    for (const r of candidates) {
      if (r.spec.body && !r.spec.body(text, info)) continue;
      if (r.count() && !chosen) chosen = r;
    }
    return { rule: chosen, body };
  };

  const fire = (rule: Rule, entry: ProxyLogEntry): void => {
    entry.fault = rule.spec.action.type;
    entry.rule = rule.name;
    rule.resolveFired(entry);
  };

  const upstreamOptions = (req: IncomingMessage, headers: string[]) => ({
    host: upstreamHost,
    port: upstreamPort,
    method: req.method,
    path: req.url,
    headers: ['Host', upstream.host, ...headers],
    ca: upstreamCa,
  });

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const { info, entry } = seen(req, false);
    const done = (error?: string) => {
      if (error && !entry.error) entry.error = error;
      entry.finished ??= new Date();
    };
    res.once('close', () => {
      const cutOnPurpose = entry.fault === 'cutResponse' || entry.fault === 'dropRequest';
      done(
        res.writableFinished || cutOnPurpose
          ? undefined
          : 'the client connection closed before the answer was complete',
      );
    });
    const sendHead = (status: number, message: string, headers: string[]): void => {
      res.writeHead(status, message, headers);
      res.flushHeaders();
      entry.status = status;
    };
    if (hanging) {
      entry.fault = 'hang';
      return;
    }
    const { rule, body } = await choose(req, info);
    if (rule) fire(rule, entry);
    const action = rule?.spec.action;
    if (!(await sleep(delays.request))) return;
    if (action?.type === 'delay' && !(await sleep(action.ms))) return;
    if (req.socket.destroyed) return done('the client left before the request was forwarded');
    if (action?.type === 'dropRequest') {
      breakClient(req.socket, action.how);
      return done();
    }
    if (action?.type === 'status') {
      req.resume();
      const text = statusBody(action, info.method, info.path);
      const headers = ['Content-Type', 'application/json', 'Content-Length', String(Buffer.byteLength(text))];
      if (action.retryAfterSeconds !== undefined) headers.push('Retry-After', String(action.retryAfterSeconds));
      sendHead(action.code, REASONS[action.code] ?? 'Fault', headers);
      res.end(text);
      return;
    }

    const up = track(httpsRequest({ ...upstreamOptions(req, forwardable(req.rawHeaders)), agent }));
    up.setNoDelay(true);
    entry.forwarded = true;
    // The client went away (gave up, or we cut it): the upstream exchange goes too (ends watches).
    res.once('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    up.on('error', (err) => {
      done(`upstream: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
      // Transparent: the client sees its connection fail as it would with the server gone.
      if (!res.headersSent) breakClient(req.socket, 'close');
      else res.destroy();
    });
    up.on('response', (upRes) => {
      entry.upstreamStatus = upRes.statusCode ?? 0;
      void answer(upRes).catch((err: unknown) => {
        done(`proxy: ${(err as Error).message}`);
        res.destroy();
      });
    });
    if (body) up.end(body);
    else req.pipe(up);

    const answer = async (upRes: IncomingMessage): Promise<void> => {
      const status = upRes.statusCode ?? 502;
      const message = upRes.statusMessage ?? '';
      const headers = forwardable(upRes.rawHeaders);
      upRes.once('aborted', () => res.destroy());
      upRes.once('error', () => res.destroy());
      if (action?.type === 'cutResponse') {
        // The upstream has applied the request and answered in full; the client never hears the end of it.
        const whole = await readAll(upRes);
        const after = action.after ?? 'nothing';
        if (after !== 'nothing' && !req.socket.destroyed) {
          sendHead(status, message, headers);
          const part =
            typeof after === 'number' ? whole.subarray(0, Math.max(0, Math.min(after, whole.length - 1))) : undefined;
          await flushed(res, part);
        }
        breakClient(req.socket, action.how);
        return done();
      }
      if (action?.type === 'stallResponse') {
        // Withhold: data stays buffered in the upstream stream until (and unless) we let it through.
        upRes.pause();
        if (action.ms === undefined) {
          if (!req.socket.destroyed) await once(res, 'close').catch(() => undefined);
          up.destroy();
          return;
        }
        if (!(await sleep(action.ms)) || req.socket.destroyed) return;
      }
      if (!(await sleep(delays.response)) || req.socket.destroyed) return;
      sendHead(status, message, headers);
      upRes.pipe(res);
    };
  };

  const onUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    const { info, entry } = seen(req, true);
    socket.on('error', () => undefined);
    socket.once('close', () => (entry.finished ??= new Date()));
    if (hanging) {
      entry.fault = 'hang';
      return;
    }
    const { rule } = await choose(req, info);
    if (rule) fire(rule, entry);
    const action = rule?.spec.action;
    if (!(await sleep(delays.request))) return;
    if (action?.type === 'delay' && !(await sleep(action.ms))) return;
    if (socket.destroyed) return;
    if (action?.type === 'dropRequest') return breakClient(socket, action.how);
    if (action?.type === 'status') {
      const text = statusBody(action, info.method, info.path);
      const headers = [
        'Content-Type',
        'application/json',
        'Content-Length',
        String(Buffer.byteLength(text)),
        'Connection',
        'close',
      ];
      if (action.retryAfterSeconds !== undefined) headers.push('Retry-After', String(action.retryAfterSeconds));
      entry.status = action.code;
      socket.end(rawHead(action.code, REASONS[action.code] ?? 'Fault', headers) + text);
      return;
    }
    const keep = new Set(['connection', 'upgrade']);
    const up = track(httpsRequest({ ...upstreamOptions(req, forwardable(req.rawHeaders, keep)), agent: false }));
    up.setNoDelay(true);
    entry.forwarded = true;
    socket.once('close', () => up.destroy());
    up.on('error', (err) => {
      entry.error ??= `upstream: ${(err as NodeJS.ErrnoException).code ?? err.message}`;
      breakClient(socket, 'close');
    });
    up.on('upgrade', (upRes, upSocket, upHead) => {
      track(upSocket);
      upSocket.on('error', () => socket.destroy());
      socket.on('error', () => upSocket.destroy());
      socket.once('close', () => upSocket.destroy());
      upSocket.once('close', () => socket.destroy());
      entry.upstreamStatus = upRes.statusCode ?? 101;
      void (async () => {
        if (action?.type === 'cutResponse') {
          if (action.after === 'headers') {
            entry.status = entry.upstreamStatus;
            socket.write(
              rawHead(
                entry.upstreamStatus ?? 101,
                upRes.statusMessage ?? 'Switching Protocols',
                forwardable(upRes.rawHeaders, keep),
              ),
            );
            await sleep(30);
          }
          breakClient(socket, action.how);
          upSocket.destroy();
          return;
        }
        if (action?.type === 'stallResponse') {
          if (action.ms === undefined) return; // held until the client gives up (its close destroys upSocket)
          if (!(await sleep(action.ms))) return;
        }
        if (!(await sleep(delays.response)) || socket.destroyed) return;
        entry.status = entry.upstreamStatus;
        socket.write(
          rawHead(
            entry.upstreamStatus ?? 101,
            upRes.statusMessage ?? 'Switching Protocols',
            forwardable(upRes.rawHeaders, keep),
          ),
        );
        if (upHead.length) socket.write(upHead);
        if (head.length) upSocket.write(head);
        upSocket.pipe(socket);
        socket.pipe(upSocket);
      })();
    });
    up.on('response', (upRes) => {
      // The upstream refused the upgrade with an ordinary answer (403, 404, 400): pass it on and close.
      entry.upstreamStatus = upRes.statusCode ?? 0;
      void readAll(upRes)
        .then(async (text) => {
          if (action?.type === 'cutResponse') return breakClient(socket, action.how);
          if (action?.type === 'stallResponse' && (action.ms === undefined || !(await sleep(action.ms)))) return;
          if (!(await sleep(delays.response)) || socket.destroyed) return;
          const headers = forwardable(upRes.rawHeaders);
          const clean: string[] = [];
          for (let i = 0; i + 1 < headers.length; i += 2)
            if ((headers[i] as string).toLowerCase() !== 'content-length')
              clean.push(headers[i] as string, headers[i + 1] as string);
          clean.push('Content-Length', String(text.length), 'Connection', 'close');
          entry.status = entry.upstreamStatus;
          socket.write(rawHead(entry.upstreamStatus ?? 502, upRes.statusMessage ?? '', clean));
          socket.end(text);
        })
        .catch(() => socket.destroy());
    });
    up.end();
  };

  const httpServer = createHttpServer((req, res) => {
    void onRequest(req, res).catch((err: unknown) => {
      const last = log.at(-1);
      if (last && !last.error) last.error = `proxy: ${(err as Error).message}`;
      res.destroy();
    });
  });
  httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void onUpgrade(req, socket, head).catch(() => socket.destroy());
  });
  httpServer.on('clientError', (_err, socket: Duplex) => socket.destroy());
  httpServer.keepAliveTimeout = 5000;
  httpServer.requestTimeout = 0;

  const onConnection = (raw: Socket): void => {
    raw.on('error', () => undefined);
    // No Nagle: a small write (headers alone) must leave before a cut, not wait for the peer's delayed ACK.
    raw.setNoDelay(true);
    rawSockets.add(raw);
    raw.once('close', () => rawSockets.delete(raw));
    if (closed) return void raw.destroy();
    if (hanging) return; // accepted, never a handshake: held until the client gives up or close()
    const tlsSocket = new TLSSocket(raw, { isServer: true, secureContext, ALPNProtocols: ['http/1.1'] });
    rawOf.set(tlsSocket, raw);
    connectionIds.set(tlsSocket, nextConnectionId++);
    tlsSocket.on('error', () => undefined);
    httpServer.emit('connection', tlsSocket);
  };

  let front: NetServer | undefined;
  const listen = async (port: number): Promise<number> => {
    const server = createNetServer(onConnection);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    front = server;
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('fault proxy has no TCP address');
    return addr.port;
  };
  const port = await listen(opts.port ?? 0);
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const resetAll = (): number => {
    const all = [...rawSockets];
    for (const raw of all) if (!raw.destroyed) raw.resetAndDestroy();
    return all.length;
  };

  const norm = (s: unknown) => (typeof s === 'string' ? s.replace(/\/+$/, '') : s);
  const rewrite = (obj: KubeconfigObject): KubeconfigObject => {
    const copy = structuredClone(obj);
    const clusters = copy.clusters ?? [];
    let targets = clusters.filter(
      (c) =>
        norm(c.cluster?.server) === norm(upstream.toString()) || norm(c.cluster?.server) === norm(opts.upstream.url),
    );
    if (targets.length === 0) {
      const current = copy.contexts?.find((c) => c.name === copy['current-context'])?.context.cluster;
      targets = clusters.filter((c) => c.name === current);
    }
    if (targets.length === 0)
      throw new Error(`fault proxy: the kubeconfig has no cluster for ${opts.upstream.url} and no current cluster`);
    for (const c of targets) {
      c.cluster.server = url;
      c.cluster['certificate-authority-data'] = Buffer.from(tls.cert).toString('base64');
      delete c.cluster['certificate-authority'];
      delete c.cluster['insecure-skip-tls-verify'];
      delete c.cluster['tls-server-name'];
    }
    return copy;
  };
  function kubeconfig(base: string): string;
  function kubeconfig(base: KubeConfig): KubeConfig;
  function kubeconfig(base: KubeconfigObject): KubeconfigObject;
  function kubeconfig(base: string | KubeConfig | KubeconfigObject): string | KubeConfig | KubeconfigObject {
    if (typeof base === 'string') return toYaml(rewrite(parseYaml(base) as KubeconfigObject));
    if (base instanceof KubeConfig) {
      const kc = new KubeConfig();
      kc.loadFromString(JSON.stringify(rewrite(JSON.parse(base.exportConfig()) as KubeconfigObject)));
      return kc;
    }
    return rewrite(base);
  }

  return {
    url,
    port,
    ca: tls.cert,
    log,
    kubeconfig,
    rule(spec) {
      const r = new Rule(nextRuleId++, spec, (x) => {
        rules = rules.filter((y) => y !== x);
      });
      rules.push(r);
      return r;
    },
    get rules() {
      return rules;
    },
    clearRules() {
      rules = [];
    },
    async refuse(o = {}) {
      if (refusing || closed) return;
      refusing = true;
      const server = front;
      front = undefined;
      server?.close();
      if (!o.keepExisting) resetAll();
    },
    hang() {
      hanging = true;
    },
    async resume() {
      hanging = false;
      if (!refusing || closed) return;
      await listen(port);
      refusing = false;
    },
    resetAll,
    latency(ms) {
      delays = { request: ms.request ?? 0, response: ms.response ?? 0 };
    },
    async close() {
      if (closed) return;
      closed = true;
      closing.abort();
      front?.close();
      front = undefined;
      for (const s of [...upstreamStreams]) s.destroy();
      for (const raw of [...rawSockets]) raw.destroy();
      httpServer.closeAllConnections();
      httpServer.close();
      agent.destroy();
    },
  };
}
