// One HTTP GET to a pod's port through pods/portforward, with client-node's PortForward. The request
// arrives in the pod from localhost, which is what istiod's debug endpoints and Envoy's admin port
// require. No local listener: node:http talks over one end of an in-memory duplex, the tunnel carries
// the other end. The WebSocket is opened here (not by client-node's handler) so that the upgrade
// request carries the caller's headers (impersonation), its status is known, and a timeout can close
// a tunnel that is still opening. Callers go through KubeClient.portForwardGet.
import http from 'node:http';
import { duplexPair, Writable } from 'node:stream';
import { PortForward, type KubeConfig } from '@kubernetes/client-node';
import WebSocket from 'ws';

export interface PortForwardHttpOptions {
  /** Whole exchange, from opening the tunnel to the last body byte (default 10 s). */
  timeoutMs?: number;
  /** Larger bodies are refused rather than buffered (default 32 MiB). */
  maxBodyBytes?: number;
  /** Headers of the GET inside the tunnel (not of the upgrade request). */
  headers?: Record<string, string>;
}

/** How the tunnel is opened: what KubeClient adds to the upgrade request, and how it hears the outcome. */
export interface PortForwardTunnelOptions {
  /** Headers on the upgrade request besides the KubeConfig's credentials; a list goes as repeated headers. */
  upgradeHeaders?: Record<string, string | readonly string[]>;
  /** Told once: 101 when the tunnel opened, the API server's status when it refused, 0 when no answer came. */
  onUpgrade?: (status: number) => void;
}

export interface PortForwardHttpAnswer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** Why a port-forwarded GET failed, for callers that word it for people. */
export class PortForwardError extends Error {
  readonly kind: 'timeout' | 'tunnel' | 'refused' | 'too-large' | 'closed';
  /** For a tunnel the API server refused: its HTTP status (403 without pods/portforward, 404 for no such pod). */
  readonly status?: number;
  constructor(kind: PortForwardError['kind'], message: string, status?: number) {
    super(message);
    this.name = 'PortForwardError';
    this.kind = kind;
    if (status !== undefined) this.status = status;
  }
}

/** The subprotocols client-node offers for pods/portforward over WebSocket. */
const CHANNEL_PROTOCOLS = [
  'v5.channel.k8s.io',
  'v4.channel.k8s.io',
  'v3.channel.k8s.io',
  'v2.channel.k8s.io',
  'channel.k8s.io',
];

/** An upgrade the API server answered with something other than 101, in its own words when it sent a Status. */
class UpgradeRefused extends Error {
  readonly status: number;
  constructor(status: number, words: string | undefined) {
    super(`Unexpected server response: ${status}${words ? ` (${words})` : ''}`);
    this.status = status;
  }
}

function statusWords(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { kind?: unknown; message?: unknown };
    return parsed.kind === 'Status' && typeof parsed.message === 'string' && parsed.message
      ? parsed.message
      : undefined;
  } catch {
    return undefined;
  }
}

type TunnelSocket = WebSocket;
type BinaryHandler = ((stream: number, buff: Buffer) => boolean) | null;

/**
 * client-node's WebSocketInterface, opening the socket ourselves: the KubeConfig's credentials and
 * TLS, plus `upgradeHeaders`. `opened` hands over the socket at once, so that a timeout can close it
 * while the upgrade is still pending.
 */
function tunnelHandler(kc: KubeConfig, tunnel: PortForwardTunnelOptions, opened: (ws: TunnelSocket) => void) {
  let told = false;
  const tell = (status: number): void => {
    if (told) return;
    told = true;
    tunnel.onUpgrade?.(status);
  };
  return {
    async connect(path: string, _text: unknown, binary: BinaryHandler): Promise<TunnelSocket> {
      const cluster = kc.getCurrentCluster();
      if (!cluster) throw new Error('No cluster is defined.');
      const uri = `${cluster.server.replace(/\/+$/, '').replace(/^http/, 'ws')}${path}`;
      const opts: WebSocket.ClientOptions = {};
      await kc.applyToHTTPSOptions(opts);
      // ws hands headers to node:http, which sends a list value as one header line per item.
      opts.headers = { ...opts.headers, ...(tunnel.upgradeHeaders as Record<string, string> | undefined) };
      return new Promise<TunnelSocket>((resolve, reject) => {
        const ws = new WebSocket(uri, CHANNEL_PROTOCOLS, opts);
        opened(ws);
        let open = false;
        let refusal: UpgradeRefused | undefined;
        ws.on('upgrade', () => tell(101));
        // Listening here means ws no longer aborts by itself: read the Status the server sent, then close.
        ws.on('unexpected-response', (_req, res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          let done = false;
          const finish = (): void => {
            if (done) return;
            done = true;
            refusal = new UpgradeRefused(res.statusCode ?? 0, statusWords(Buffer.concat(chunks)));
            tell(refusal.status);
            ws.terminate();
          };
          res.on('data', (c: Buffer) => {
            if (size < 64 * 1024) chunks.push(c);
            size += c.length;
          });
          res.on('end', finish);
          res.on('error', finish);
          res.on('close', finish);
        });
        ws.on('open', () => {
          open = true;
          resolve(ws);
        });
        // Always listened to (an unheard 'error' would throw); after the open, 'close' tells the caller.
        ws.on('error', (err: Error) => {
          tell(0);
          if (!open) reject(refusal ?? err);
        });
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          // Port-forward speaks binary frames only: [channel, ...bytes].
          if (!isBinary || data.length < 1 || !binary) return;
          if (!binary(data.readUInt8(0), data.subarray(1))) ws.close();
        });
      });
    },
  };
}

export async function httpGetViaPortForward(
  kc: KubeConfig,
  namespace: string,
  pod: string,
  port: number,
  path: string,
  opts: PortForwardHttpOptions = {},
  tunnel: PortForwardTunnelOptions = {},
): Promise<PortForwardHttpAnswer> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxBodyBytes = opts.maxBodyBytes ?? 32 * 1024 * 1024;
  const [httpSide, tunnelSide] = duplexPair();
  const errorText: Buffer[] = [];
  const errorSink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      errorText.push(chunk);
      cb();
    },
  });
  let ws: TunnelSocket | undefined;
  let req: http.ClientRequest | undefined;
  let timer: NodeJS.Timeout | undefined;

  const cleanup = (): void => {
    clearTimeout(timer);
    req?.destroy();
    httpSide.destroy();
    tunnelSide.destroy();
    try {
      ws?.terminate();
    } catch {
      // already closed
    }
  };
  const where = `${namespace}/${pod}:${port}${path}`;

  try {
    return await new Promise<PortForwardHttpAnswer>((resolve, reject) => {
      const fail = (err: PortForwardError): void => reject(err);
      // What the pod side said on the error channel (e.g. connection refused) explains an early close best.
      const closedEarly = (detail: string): PortForwardError => {
        const said = Buffer.concat(errorText).toString('utf8').trim();
        return said
          ? new PortForwardError('refused', `port-forward to ${namespace}/${pod}:${port}: ${said}`)
          : new PortForwardError('closed', `GET ${where}: ${detail}`);
      };
      timer = setTimeout(
        () => fail(new PortForwardError('timeout', `GET ${where} via port-forward timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );

      // output and input are the same end: what the pod sends comes out of httpSide, what node:http writes goes in.
      const handler = tunnelHandler(kc, tunnel, (socket) => (ws = socket));
      new PortForward(kc, true, handler as unknown as ConstructorParameters<typeof PortForward>[2])
        .portForward(namespace, pod, [port], tunnelSide, errorSink, tunnelSide)
        .then(() => {
          // The tunnel closing is the connection closing: let node:http read what is buffered, then
          // see the end. Failing here at once would race the last bytes of a complete answer.
          ws?.on('close', () => tunnelSide.end());
        })
        .catch((err: unknown) => {
          const status = err instanceof UpgradeRefused ? err.status : undefined;
          fail(
            new PortForwardError(
              'tunnel',
              `cannot open port-forward to ${namespace}/${pod}:${port}: ${errorMessage(err)}`,
              status,
            ),
          );
        });

      req = http.request(
        {
          createConnection: () => httpSide,
          method: 'GET',
          path,
          headers: { host: `localhost:${port}`, connection: 'close', ...opts.headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > maxBodyBytes) {
              fail(new PortForwardError('too-large', `GET ${where}: body exceeds ${maxBodyBytes} bytes`));
              res.destroy();
              return;
            }
            chunks.push(c);
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              headers: res.headers,
            }),
          );
          res.on('error', (err) => fail(closedEarly(err.message)));
          res.on('close', () => {
            if (!res.complete) fail(closedEarly('connection closed before the answer was complete'));
          });
        },
      );
      req.on('error', (err) => fail(closedEarly(err.message)));
      req.end();
    });
  } finally {
    cleanup();
  }
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  // ws reports a failed upgrade as an ErrorEvent-like object.
  if (err && typeof err === 'object' && 'message' in err) return String((err as { message: unknown }).message);
  return String(err);
}
