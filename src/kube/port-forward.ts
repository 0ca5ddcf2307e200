// One HTTP GET to a pod's port through pods/portforward, with client-node's PortForward. The request
// arrives in the pod from localhost, which is what istiod's debug endpoints require. No local
// listener: node:http talks over one end of an in-memory duplex, the tunnel carries the other end.
import http from 'node:http';
import { duplexPair, Writable } from 'node:stream';
import { PortForward, type KubeConfig } from '@kubernetes/client-node';

export interface PortForwardHttpOptions {
  /** Whole exchange, from opening the tunnel to the last body byte (default 10 s). */
  timeoutMs?: number;
  /** Larger bodies are refused rather than buffered (default 32 MiB). */
  maxBodyBytes?: number;
  headers?: Record<string, string>;
}

export interface PortForwardHttpAnswer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** Why a port-forwarded GET failed, for callers that word it for people. */
export class PortForwardError extends Error {
  readonly kind: 'timeout' | 'tunnel' | 'refused' | 'too-large' | 'closed';
  constructor(kind: PortForwardError['kind'], message: string) {
    super(message);
    this.name = 'PortForwardError';
    this.kind = kind;
  }
}

export async function httpGetViaPortForward(
  kc: KubeConfig,
  namespace: string,
  pod: string,
  port: number,
  path: string,
  opts: PortForwardHttpOptions = {},
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
  let ws: { close(): void; terminate?(): void; on?(ev: string, fn: () => void): void } | undefined;
  let req: http.ClientRequest | undefined;
  let timer: NodeJS.Timeout | undefined;

  const cleanup = (): void => {
    clearTimeout(timer);
    req?.destroy();
    httpSide.destroy();
    tunnelSide.destroy();
    try {
      ws?.terminate ? ws.terminate() : ws?.close();
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
      timer = setTimeout(() => fail(new PortForwardError('timeout', `GET ${where} via port-forward timed out after ${timeoutMs} ms`)), timeoutMs);

      // output and input are the same end: what the pod sends comes out of httpSide, what node:http writes goes in.
      new PortForward(kc, true)
        .portForward(namespace, pod, [port], tunnelSide, errorSink, tunnelSide)
        .then((socket) => {
          if (typeof socket === 'function') return; // only with retries, which we do not ask for
          ws = socket as unknown as typeof ws;
          // The tunnel closing is the connection closing: let node:http read what is buffered, then
          // see the end. Failing here at once would race the last bytes of a complete answer.
          ws?.on?.('close', () => tunnelSide.end());
        })
        .catch((err: unknown) => {
          fail(new PortForwardError('tunnel', `cannot open port-forward to ${namespace}/${pod}:${port}: ${errorMessage(err)}`));
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
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
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
