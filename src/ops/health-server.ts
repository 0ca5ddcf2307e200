// /healthz (the process is alive), /readyz (Slack connected and the cluster API reachable), /metrics.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.ts';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<boolean> | boolean;
}

export interface HealthServer {
  port: number;
  /** Flip to not-ready at shutdown, so the Service stops sending and the PDB sees it. */
  setDraining(draining: boolean): void;
  close(): Promise<void>;
}

export async function startHealthServer(options: {
  port: number;
  host?: string;
  metrics: Metrics;
  checks: ReadinessCheck[];
  timeoutMs?: number;
}): Promise<HealthServer> {
  let draining = false;
  const server: Server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/readyz') {
      const results = await Promise.all(
        options.checks.map(async (c) => {
          try {
            const ok = await Promise.race([
              Promise.resolve(c.check()),
              new Promise<boolean>((r) => setTimeout(() => r(false), options.timeoutMs ?? 2000).unref()),
            ]);
            return [c.name, ok] as const;
          } catch {
            return [c.name, false] as const;
          }
        }),
      );
      const failing = results.filter(([, ok]) => !ok).map(([n]) => n);
      if (draining) failing.unshift('shutting down');
      res
        .writeHead(failing.length ? 503 : 200, { 'content-type': 'text/plain' })
        .end(failing.length ? `not ready: ${failing.join(', ')}\n` : 'ready\n');
      return;
    }
    if (path === '/metrics') {
      res
        .writeHead(200, { 'content-type': options.metrics.registry.contentType })
        .end(await options.metrics.registry.metrics());
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz, /readyz or /metrics\n');
  });
  await new Promise<void>((resolve) => server.listen(options.port, options.host ?? '0.0.0.0', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    setDraining: (d) => {
      draining = d;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
