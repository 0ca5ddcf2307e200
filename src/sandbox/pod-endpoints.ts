// The seam between the sandbox API server and whatever plays a pod's network: tests and the demo
// register an HTTP handler per (namespace, pod, port); the API server routes pods/proxy and
// pods/portforward here. Placeholder: registration works, proxy answers 503, port-forward is refused.
// Another engineer owns the real implementation of this file.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export type PodHttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

export class PodEndpoints {
  private readonly handlers = new Map<string, PodHttpHandler>();

  register(namespace: string, pod: string, port: number, handler: PodHttpHandler): void {
    this.handlers.set(key(namespace, pod, port), handler);
  }

  unregister(namespace: string, pod: string, port?: number): void {
    if (port !== undefined) {
      this.handlers.delete(key(namespace, pod, port));
      return;
    }
    const prefix = `${namespace}/${pod}:`;
    for (const k of [...this.handlers.keys()]) if (k.startsWith(prefix)) this.handlers.delete(k);
  }

  lookup(namespace: string, pod: string, port: number): PodHttpHandler | undefined {
    return this.handlers.get(key(namespace, pod, port));
  }

  /** GET /api/v1/namespaces/{ns}/pods/{name}[:port]/proxy/{path} */
  handleProxy(_req: IncomingMessage, res: ServerResponse, _namespace: string, _pod: string, _port: number, _path: string): void {
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.end('pod proxy not implemented yet\n');
  }

  /** upgrade request for /api/v1/namespaces/{ns}/pods/{name}/portforward?ports=... */
  handlePortForwardUpgrade(_req: IncomingMessage, socket: Duplex, _head: Buffer, _namespace: string, _pod: string): void {
    socket.destroy();
  }
}

function key(namespace: string, pod: string, port: number): string {
  return `${namespace}/${pod}:${port}`;
}
