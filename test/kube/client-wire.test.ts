// What KubeClient puts on the wire, checked against a plain loopback server that records raw requests
// (not our sandbox): one Impersonate-Group header per group, pod logs asked as kubectl asks, and a
// request that gets no answer reported with its cause.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, KubeUnreachableError } from '../../src/kube/client.ts';

let servers: Server[] = [];
afterEach(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
  servers = [];
});

async function recordingServer(
  answer: (req: IncomingMessage) => { status: number; body: string } | undefined,
): Promise<{ url: string; seen: IncomingMessage[] }> {
  const seen: IncomingMessage[] = [];
  const s = createServer((req, res) => {
    seen.push(req);
    const a = answer(req);
    if (!a) return; // hang: never answer
    res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, seen };
}

function clientFor(url: string, opts: ConstructorParameters<typeof KubeClient>[1] = {}): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't0k3n' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return new KubeClient(kc, opts);
}

const podJson = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' } });

describe('KubeClient on the wire', () => {
  it('sends each impersonated group as its own Impersonate-Group header', async () => {
    const srv = await recordingServer(() => ({ status: 200, body: podJson }));
    const kube = clientFor(srv.url).as({
      user: 'alice@example.com',
      groups: ['sre', 'oncall', 'system:authenticated'],
    });
    await kube.get('Pod', 'ns', 'p');
    const raw = srv.seen[0]?.rawHeaders ?? [];
    const groups = raw.filter((_, i) => i % 2 === 1 && raw[i - 1]?.toLowerCase() === 'impersonate-group');
    expect(groups).toEqual(['sre', 'oncall', 'system:authenticated']);
    expect(srv.seen[0]?.headers['impersonate-user']).toBe('alice@example.com');
    expect(srv.seen[0]?.headers.authorization).toBe('Bearer t0k3n');
  });

  it('asks for pod logs with the Accept kubectl sends (text/plain alone gets 406 from a real API server)', async () => {
    const srv = await recordingServer((req) =>
      req.url?.includes('/log') ? { status: 200, body: 'line 1\nline 2\n' } : { status: 200, body: podJson },
    );
    const text = await clientFor(srv.url).podLogs('ns', 'p', { container: 'discovery', tailLines: 10 });
    expect(text).toBe('line 1\nline 2\n');
    const logReq = srv.seen.find((r) => r.url?.includes('/log'));
    expect(logReq?.headers.accept).toBe('application/json, */*');
    expect(logReq?.url).toBe('/api/v1/namespaces/ns/pods/p/log?container=discovery&tailLines=10');
  });

  it('says "connection refused" with the server, and keeps the cause', async () => {
    const srv = await recordingServer(() => ({ status: 200, body: '{}' }));
    const dead = srv.url;
    const s = servers.pop() as Server;
    await new Promise<void>((r) => s.close(() => r()));
    const err = await clientFor(dead)
      .get('Pod', 'ns', 'p')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeUnreachableError);
    expect((err as Error).message).toBe(`Cannot reach the Kubernetes API at ${dead}: connection refused`);
    expect(JSON.stringify((err as Error).cause, Object.getOwnPropertyNames((err as Error).cause as object))).toContain(
      'ECONNREFUSED',
    );
  });

  it('says how long it waited when the server never answers', async () => {
    const srv = await recordingServer(() => undefined);
    const err = await clientFor(srv.url, { timeoutMs: 300 })
      .get('Pod', 'ns', 'p')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeUnreachableError);
    expect((err as Error).message).toBe(
      `Cannot reach the Kubernetes API at ${srv.url}: no answer within 0.3 s (timed out)`,
    );
    expect((err as Error).cause).toBeDefined();
  });
});
