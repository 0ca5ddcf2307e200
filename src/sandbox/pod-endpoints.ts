// The seam between the sandbox API server and whatever plays a pod's network: tests and the demo
// register an HTTP handler per (namespace, pod, port); the API server routes pods/proxy and
// pods/portforward here.
//
// A forwarded stream reaches the handler through an in-memory HTTP/1.1 connection (a duplex pair fed
// to a node:http server), so any real HTTP client works through the tunnel. Handlers learn how the
// caller arrived with isLocalhostCaller(req): port-forward arrives as localhost (as at a real pod,
// where the kubelet dials 127.0.0.1), pods/proxy arrives from the API server's address.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { duplexPair, type Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import { serveSpdyPortForward } from './spdy-port-forward.ts';

export type PodHttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** WebSocket subprotocols of the Kubernetes port-forward API that we speak. */
export const PORT_FORWARD_WS_PROTOCOLS = ['v4.channel.k8s.io', 'channel.k8s.io'] as const;
/** kubectl ≥ 1.31 tunnels SPDY through a WebSocket with this subprotocol. */
export const SPDY_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';
export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';

// Server-side sockets of connections that came through port-forward: "localhost" to the pod.
const localhostSockets = new WeakSet<object>();

/** True when the request reached the pod through port-forward (as from 127.0.0.1 inside the pod). */
export function isLocalhostCaller(req: IncomingMessage): boolean {
  return localhostSockets.has(req.socket);
}

/** What a refused connection says, worded as the kubelet words it. */
export function connectionRefused(namespace: string, pod: string, port: number): string {
  return `error forwarding port ${port} to pod ${namespace}/${pod}: failed to connect to localhost:${port} inside namespace "${namespace}": dial tcp 127.0.0.1:${port}: connect: connection refused`;
}

export class PodEndpoints {
  private readonly handlers = new Map<string, PodHttpHandler>();
  private readonly servers = new Map<string, http.Server>();
  /** Handlers bound to 127.0.0.1 inside the pod (Envoy's admin): port-forward reaches them, pods/proxy does not. */
  private readonly localhostOnly = new Set<string>();
  private readonly log: Logger | undefined;

  constructor(opts: { logger?: Logger } = {}) {
    this.log = opts.logger;
  }

  register(
    namespace: string,
    pod: string,
    port: number,
    handler: PodHttpHandler,
    opts: { localhostOnly?: boolean } = {},
  ): void {
    const k = key(namespace, pod, port);
    this.handlers.set(k, handler);
    this.servers.delete(k);
    if (opts.localhostOnly) this.localhostOnly.add(k);
    else this.localhostOnly.delete(k);
  }

  unregister(namespace: string, pod: string, port?: number): void {
    if (port !== undefined) {
      this.handlers.delete(key(namespace, pod, port));
      this.servers.delete(key(namespace, pod, port));
      this.localhostOnly.delete(key(namespace, pod, port));
      return;
    }
    const prefix = `${namespace}/${pod}:`;
    for (const k of [...this.handlers.keys()]) {
      if (k.startsWith(prefix)) {
        this.handlers.delete(k);
        this.servers.delete(k);
        this.localhostOnly.delete(k);
      }
    }
  }

  lookup(namespace: string, pod: string, port: number): PodHttpHandler | undefined {
    return this.handlers.get(key(namespace, pod, port));
  }

  /**
   * A TCP-like connection to the pod's port, from "localhost": the returned end is the caller's,
   * the other end is served by the registered handler. Undefined when nothing listens there.
   */
  dial(namespace: string, pod: string, port: number): Duplex | undefined {
    const k = key(namespace, pod, port);
    const handler = this.handlers.get(k);
    if (!handler) return undefined;
    let server = this.servers.get(k);
    if (!server) {
      server = http.createServer(handler);
      this.servers.set(k, server);
    }
    const [client, podSide] = duplexPair();
    localhostSockets.add(podSide);
    // Code that reads the peer address (as istiod's isRequestFromLocalhost does) sees loopback.
    Object.assign(podSide, { remoteAddress: '127.0.0.1', remotePort: 0, remoteFamily: 'IPv4' });
    server.emit('connection', podSide);
    return client;
  }

  /** GET /api/v1/namespaces/{ns}/pods/{name}[:port]/proxy/{path} */
  handleProxy(
    req: IncomingMessage,
    res: ServerResponse,
    namespace: string,
    pod: string,
    port: number,
    path: string,
  ): void {
    const handler = this.lookup(namespace, pod, port);
    // Nothing listens on the pod IP for a localhost-only handler: the API server's dial is refused.
    if (!handler || this.localhostOnly.has(key(namespace, pod, port))) {
      writeStatus(
        res,
        503,
        'ServiceUnavailable',
        `error trying to reach service: dial tcp ${podAddress(namespace, pod)}:${port}: connect: connection refused`,
      );
      return;
    }
    const url = req.url ?? '';
    const q = url.indexOf('?');
    // The pod sees its own path, as behind the real API server's proxy.
    req.url = `/${path.replace(/^\/+/, '')}${q >= 0 ? url.slice(q) : ''}`;
    try {
      handler(req, res);
    } catch (err) {
      this.log?.warn({ err, namespace, pod, port }, 'pod handler failed on pods/proxy');
      if (!res.headersSent) writeStatus(res, 502, 'BadGateway', `error from pod: ${(err as Error).message}`);
      else res.destroy();
    }
  }

  /** upgrade request for /api/v1/namespaces/{ns}/pods/{name}/portforward?ports=... */
  handlePortForwardUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, namespace: string, pod: string): void {
    const upgrade = (req.headers.upgrade ?? '').toLowerCase();
    if (upgrade === 'websocket') {
      const offered = (req.headers['sec-websocket-protocol'] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const protocol = offered.includes(SPDY_TUNNEL_PROTOCOL)
        ? SPDY_TUNNEL_PROTOCOL
        : PORT_FORWARD_WS_PROTOCOLS.find((p) => offered.includes(p));
      if (!protocol) {
        rejectUpgrade(
          socket,
          400,
          `unable to upgrade: no supported port-forward subprotocol among [${offered.join(', ')}]`,
        );
        return;
      }
      let ports: number[] = [];
      if (protocol !== SPDY_TUNNEL_PROTOCOL) {
        const parsed = parsePortsQuery(req.url ?? '');
        if (typeof parsed === 'string') {
          rejectUpgrade(socket, 400, parsed);
          return;
        }
        ports = parsed;
      }
      if (protocol === SPDY_TUNNEL_PROTOCOL) {
        // "SPDY/3.1+portforward.k8s.io" holds a '/', which the ws package's token check refuses; we
        // have chosen already, so hide the offer from that check and answer with the real name.
        req.headers['sec-websocket-protocol'] = 'spdy-tunnel';
      }
      const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: () => protocol });
      wss.handleUpgrade(req, socket, head, (ws) => {
        if (protocol === SPDY_TUNNEL_PROTOCOL) {
          // Each WebSocket binary message carries raw SPDY bytes (client-go TunnelingConnection).
          const tunnel = createWebSocketStream(ws);
          tunnel.on('error', () => tunnel.destroy());
          serveSpdyPortForward(
            tunnel,
            (port) => this.dial(namespace, pod, port),
            (port) => connectionRefused(namespace, pod, port),
            this.log,
          );
        } else {
          this.serveChannels(ws, namespace, pod, ports);
        }
      });
      return;
    }
    if (upgrade.startsWith('spdy/3.1')) {
      const offered = headerValues(req.headers['x-stream-protocol-version']);
      if (!offered.includes(PORT_FORWARD_PROTOCOL)) {
        rejectUpgrade(socket, 403, `unable to upgrade: no common protocol among [${offered.join(', ')}]`);
        return;
      }
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
          `X-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n\r\n`,
      );
      if (head.length > 0) socket.unshift(head);
      serveSpdyPortForward(
        socket,
        (port) => this.dial(namespace, pod, port),
        (port) => connectionRefused(namespace, pod, port),
        this.log,
      );
      return;
    }
    rejectUpgrade(socket, 400, 'unable to upgrade: missing upgrade headers in request');
  }

  /**
   * The kubelet's WebSocket port-forward (channel.k8s.io framing): per requested port i, channel 2i
   * carries data and 2i+1 errors; the first frame on each channel is the port, 2 bytes little-endian.
   */
  private serveChannels(ws: WebSocket, namespace: string, pod: string, ports: number[]): void {
    const conns: (Duplex | undefined)[] = [];
    ports.forEach((port, i) => {
      const portBytes = Buffer.from([port & 0xff, port >> 8]);
      ws.send(Buffer.concat([Buffer.from([2 * i]), portBytes]));
      ws.send(Buffer.concat([Buffer.from([2 * i + 1]), portBytes]));
      const conn = this.dial(namespace, pod, port);
      conns.push(conn);
      if (!conn) {
        ws.send(Buffer.concat([Buffer.from([2 * i + 1]), Buffer.from(connectionRefused(namespace, pod, port))]));
        ws.close(1000);
        return;
      }
      conn.on('data', (chunk: Buffer) => {
        if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([2 * i]), chunk]));
      });
      // The pod closed its side: like the kubelet, end the whole forwarding session.
      conn.on('end', () => ws.close(1000));
      conn.on('error', () => ws.close(1011));
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary || data.length < 1) return;
      const channel = data[0]!;
      // Clients send only on data channels; anything on an error channel is ignored.
      if (channel % 2 === 0) conns[channel / 2]?.write(data.subarray(1));
    });
    ws.on('close', () => {
      for (const c of conns) c?.end();
    });
    ws.on('error', () => ws.terminate());
  }
}

function key(namespace: string, pod: string, port: number): string {
  return `${namespace}/${pod}:${port}`;
}

/** `ports=15014`, `ports=15014,8080` or repeated `ports=`; every value a port in 1..65535. */
export function parsePortsQuery(url: string): number[] | string {
  const params = new URL(url, 'http://sandbox').searchParams;
  const raw = params
    .getAll('ports')
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  if (raw.length === 0) return 'query parameter "ports" is required';
  const ports: number[] = [];
  for (const r of raw) {
    const n = Number(r);
    if (!/^\d+$/.test(r) || n < 1 || n > 65535) return `invalid port "${r}"`;
    ports.push(n);
  }
  return ports;
}

function headerValues(h: string | string[] | undefined): string[] {
  return (Array.isArray(h) ? h : h ? [h] : [])
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
}

function rejectUpgrade(socket: Duplex, code: number, message: string): void {
  const body = JSON.stringify(statusBody(code, code === 403 ? 'Forbidden' : 'BadRequest', message));
  socket.end(
    `HTTP/1.1 ${code} ${http.STATUS_CODES[code]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function writeStatus(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(statusBody(code, reason, message)));
}

function statusBody(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/** A stable pod-network address for messages (the sandbox has no real pod IPs). */
function podAddress(namespace: string, pod: string): string {
  let h = 0;
  for (const ch of `${namespace}/${pod}`) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return `10.244.${(h >> 8) & 0xff}.${h & 0xff || 1}`;
}
