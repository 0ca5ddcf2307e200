// The API server's side of the port-forward seam: pods/proxy and pods/portforward reach PodEndpoints
// only after authentication, RBAC and a pod lookup, with Kubernetes' Status answers otherwise.
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse as parseYaml } from 'yaml';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';

let sb: Sandbox;

function tokenFor(user?: string): string {
  const config = parseYaml(sb.kubeconfig(user ? { user } : {})) as { users: { user: { token: string } }[] };
  return config.users[0]?.user.token as string;
}

function call(
  path: string,
  opts: { token?: string; upgrade?: boolean; method?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, sb.url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: opts.method ?? 'GET',
        ca: sb.caCert,
        headers: {
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(opts.upgrade
            ? { connection: 'Upgrade', upgrade: 'SPDY/3.1', 'x-stream-protocol-version': 'portforward.k8s.io' }
            : {}),
        },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 101, body: '' });
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  sb = await startSandbox({
    controllers: false,
    seed: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bookinfo' } },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web', namespace: 'bookinfo' },
        spec: { containers: [{ name: 'web', image: 'nginx' }] },
      },
    ],
  });
  sb.podEndpoints.register('bookinfo', 'web', 8080, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('hello from web');
  });
});

afterAll(async () => {
  await sb.close();
});

describe('pods/proxy and pods/portforward routing', () => {
  it('needs a token (401), RBAC (403) and an existing pod (404)', async () => {
    expect((await call('/api/v1/namespaces/bookinfo/pods/web:8080/proxy/')).status).toBe(401);
    const denied = await call('/api/v1/namespaces/bookinfo/pods/web:8080/proxy/', { token: tokenFor('mallory') });
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.body).message).toBe(
      'pods "web:8080" is forbidden: User "mallory" cannot get resource "pods/proxy" in API group "" in the namespace "bookinfo"',
    );
    const missing = await call('/api/v1/namespaces/bookinfo/pods/ghost:8080/proxy/', { token: tokenFor() });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).message).toBe('pods "ghost" not found');
  });

  it('hands an authorized proxy request to PodEndpoints', async () => {
    const r = await call('/api/v1/namespaces/bookinfo/pods/web:8080/proxy/healthz', { token: tokenFor() });
    expect(r).toEqual({ status: 200, body: 'hello from web' });
  });

  it('refuses port-forward upgrades before PodEndpoints when not allowed or the pod is missing', async () => {
    const denied = await call('/api/v1/namespaces/bookinfo/pods/web/portforward?ports=8080', {
      token: tokenFor('mallory'),
      upgrade: true,
      method: 'POST',
    });
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.body).reason).toBe('Forbidden');
    const missing = await call('/api/v1/namespaces/bookinfo/pods/ghost/portforward?ports=8080', {
      token: tokenFor(),
      upgrade: true,
      method: 'POST',
    });
    expect(missing.status).toBe(404);
  });
});
