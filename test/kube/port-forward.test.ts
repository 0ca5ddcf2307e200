// KubeClient.portForwardGet: port-forward as a capability of the client, so it gets what every other
// request gets. On the wire (a plain loopback server that records the upgrade request): the
// credentials, Impersonate-User and one Impersonate-Group header per group, the User-Agent, the
// client's timeout (closing a tunnel still opening) and an onRequest record. Against the sandbox:
// RBAC decides for the impersonated identity, as a real API server does for pods/portforward, on the
// WebSocket path the bot uses and on kubectl's SPDY paths (tunnelled in a WebSocket, or a plain POST).
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { execa } from 'execa';
import { KubeClient, type RequestRecord } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { PortForwardError } from '../../src/kube/port-forward.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';
import { findKubectl } from '../support/kubectl.ts';

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

describe('portForwardGet on the wire', () => {
  let server: Server | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  });

  /** A server whose upgrade handler records the request; `answer` writes the raw reply, or nothing to hang. */
  async function upgradeServer(
    answer: (socket: Socket) => void,
  ): Promise<{ url: string; seen: IncomingMessage[]; closed: Promise<void> }> {
    const seen: IncomingMessage[] = [];
    let closedSocket: () => void = () => undefined;
    const closed = new Promise<void>((r) => (closedSocket = r));
    server = createServer((_req, res) => res.writeHead(404).end());
    server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      seen.push(req);
      sockets.push(socket);
      // After an upgrade the server's socket is half-open: the client's close shows as 'end'.
      socket.on('end', () => closedSocket());
      socket.on('close', () => closedSocket());
      answer(socket);
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, closed };
  }

  const forbidden = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    reason: 'Forbidden',
    code: 403,
    message:
      'pods "web-1" is forbidden: User "alice@example.com" cannot create resource "pods/portforward" in API group "" in the namespace "ns"',
  });

  it('puts the credentials, the impersonation (one header per group) and the User-Agent on the upgrade; a refusal keeps its status and words', async () => {
    const srv = await upgradeServer((socket) => {
      socket.end(
        `HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(forbidden)}\r\n\r\n${forbidden}`,
      );
    });
    const records: RequestRecord[] = [];
    const kube = clientFor(srv.url, { onRequest: (r) => records.push(r), userAgent: 'meshops/test' });
    const err = await kube
      .as({ user: 'alice@example.com', groups: ['sre', 'oncall'] })
      .portForwardGet('ns', 'web-1', 15000, '/config_dump')
      .catch((e: unknown) => e);

    const req = srv.seen[0]!;
    expect(req.url).toBe('/api/v1/namespaces/ns/pods/web-1/portforward?ports=15000');
    expect(req.headers.upgrade).toBe('websocket');
    expect(req.headers.authorization).toBe('Bearer t0k3n');
    expect(req.headers['impersonate-user']).toBe('alice@example.com');
    const raw = req.rawHeaders;
    expect(raw.filter((_, i) => i % 2 === 1 && raw[i - 1]?.toLowerCase() === 'impersonate-group')).toEqual([
      'sre',
      'oncall',
    ]);
    expect(req.headers['user-agent']).toBe('meshops/test');

    expect(err).toBeInstanceOf(PortForwardError);
    expect(err).toMatchObject({ kind: 'tunnel', status: 403 });
    expect((err as Error).message).toBe(
      'cannot open port-forward to ns/web-1:15000: Unexpected server response: 403 (pods "web-1" is forbidden: ' +
        'User "alice@example.com" cannot create resource "pods/portforward" in API group "" in the namespace "ns")',
    );
    // Counted as every request of the client is, under the pods/portforward path.
    expect(records).toEqual([{ method: 'GET', path: '/api/v1/namespaces/ns/pods/web-1/portforward', status: 403 }]);
  });

  it('sends no impersonation headers for a client acting as itself', async () => {
    const srv = await upgradeServer((socket) => socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n'));
    const err = await clientFor(srv.url)
      .portForwardGet('ns', 'gone', 8080, '/')
      .catch((e: unknown) => e);
    expect(Object.keys(srv.seen[0]!.headers).filter((h) => h.startsWith('impersonate-'))).toEqual([]);
    expect(err).toMatchObject({ kind: 'tunnel', status: 404 });
    expect((err as Error).message).toBe('cannot open port-forward to ns/gone:8080: Unexpected server response: 404');
  });

  it("uses the client's timeout when the call names none, and closes an upgrade that never got an answer", async () => {
    const srv = await upgradeServer(() => undefined);
    const records: RequestRecord[] = [];
    const started = Date.now();
    const err = await clientFor(srv.url, { timeoutMs: 300, onRequest: (r) => records.push(r) })
      .portForwardGet('ns', 'web-1', 8080, '/')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortForwardError);
    expect((err as PortForwardError).kind).toBe('timeout');
    expect((err as Error).message).toBe('GET ns/web-1:8080/ via port-forward timed out after 300 ms');
    expect(Date.now() - started).toBeLessThan(3000);
    await srv.closed;
    expect(records).toEqual([{ method: 'GET', path: '/api/v1/namespaces/ns/pods/web-1/portforward', status: 0 }]);
  });

  it("a call's own timeoutMs wins over the client's", async () => {
    const srv = await upgradeServer(() => undefined);
    const err = await clientFor(srv.url, { timeoutMs: 60_000 })
      .portForwardGet('ns', 'web-1', 8080, '/', { timeoutMs: 200 })
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/timed out after 200 ms$/);
  });
});

describe('pods/portforward under RBAC, for an impersonated identity (sandbox API server)', () => {
  const NS = 'bookinfo';
  const rbac = (kind: string, name: string, body: object): KubeObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind,
    metadata: { name, namespace: NS },
    ...body,
  });
  const seed: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    // Running: kubectl checks the phase before it dials.
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-1', namespace: NS },
      spec: { containers: [{ name: 'web', image: 'nginx' }] },
      status: { phase: 'Running' },
    },
    // As deploy/ grants it: both verbs, since a WebSocket upgrade is a GET and Kubernetes 1.35+ also asks for create.
    rbac('Role', 'port-forward', {
      rules: [{ apiGroups: [''], resources: ['pods/portforward'], verbs: ['get', 'create'] }],
    }),
    rbac('RoleBinding', 'port-forward', {
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'port-forward' },
      subjects: [
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' },
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'sre' },
      ],
    }),
    // `view` reads pods and their logs, but grants nothing on pods/portforward.
    rbac('RoleBinding', 'viewers', {
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bob' }],
    }),
  ];
  let sb: Sandbox;
  let admin: KubeClient;
  const records: RequestRecord[] = [];
  const portForwardPath = `/api/v1/namespaces/${NS}/pods/web-1/portforward`;

  beforeAll(async () => {
    sb = await startSandbox({ controllers: false, seed });
    sb.podEndpoints.register(NS, 'web-1', 8080, (_req, res) => res.writeHead(200).end('hello from web-1'));
    const kc = new KubeConfig();
    kc.loadFromString(sb.kubeconfig());
    admin = new KubeClient(kc, { onRequest: (r) => records.push(r), timeoutMs: 5000 });
  });

  afterAll(async () => {
    await sb?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  let dir: string | undefined;

  const get = (kube: KubeClient) => kube.portForwardGet(NS, 'web-1', 8080, '/');

  it('an impersonated user who may read pods but not port-forward is refused, in Kubernetes’ words', async () => {
    const bob = admin.as({ user: 'bob' });
    expect(await bob.get('Pod', NS, 'web-1')).toBeDefined();
    const err = await get(bob).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortForwardError);
    expect(err).toMatchObject({ kind: 'tunnel', status: 403 });
    expect((err as Error).message).toMatch(
      /User "bob" cannot get resource "pods\/portforward" in API group "" in the namespace "bookinfo"/,
    );
    // The server judged bob, not the admin whose credentials carried the request.
    expect(sb.requests.filter((r) => r.path === portForwardPath).at(-1)?.user).toBe('bob');
    expect(records.at(-1)).toEqual({ method: 'GET', path: portForwardPath, status: 403 });
  });

  it('an impersonated user with the permission gets through, and so does one whose impersonated group has it', async () => {
    expect(await get(admin.as({ user: 'alice' }))).toMatchObject({ status: 200, body: 'hello from web-1' });
    expect(records.at(-1)).toEqual({ method: 'GET', path: portForwardPath, status: 101 });
    expect(await get(admin.as({ user: 'carol', groups: ['sre'] }))).toMatchObject({ status: 200 });
    const err = await get(admin.as({ user: 'carol', groups: ['dev'] })).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'tunnel', status: 403 });
  });

  it('a WebSocket upgrade is a GET: `get` is what it needs before 1.35, and `get` plus `create` from 1.35', async () => {
    const only = (name: string, verbs: string[]): KubeObject[] => [
      rbac('Role', `only-${name}`, { rules: [{ apiGroups: [''], resources: ['pods/portforward'], verbs }] }),
      rbac('RoleBinding', `only-${name}`, {
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `only-${name}` },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name }],
      }),
    ];
    for (const [version, getOnly, createOnly] of [
      ['v1.32.0', 200, 403],
      ['v1.35.0', 403, 403],
    ] as const) {
      const box = await startSandbox({
        controllers: false,
        kubernetesVersion: version,
        seed: [...seed, ...only('g', ['get']), ...only('c', ['create'])],
      });
      try {
        box.podEndpoints.register(NS, 'web-1', 8080, (_req, res) => res.writeHead(200).end('ok'));
        const kc = new KubeConfig();
        kc.loadFromString(box.kubeconfig());
        const root = new KubeClient(kc, { timeoutMs: 5000 });
        const status = async (user: string) =>
          (await get(root.as({ user })).catch((e: { status?: number }) => e)).status;
        expect([version, await status('g'), await status('c'), await status('alice')]).toEqual([
          version,
          getOnly,
          createOnly,
          200,
        ]);
      } finally {
        await box.close();
      }
    }
  });

  it('a caller who may not impersonate is refused before RBAC looks at the pod', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(sb.kubeconfig({ user: 'mallory' }));
    const err = await get(new KubeClient(kc).as({ user: 'alice' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'tunnel', status: 403 });
    expect((err as Error).message).toMatch(/User "mallory" cannot impersonate resource "users"/);
  });

  const kubectl = findKubectl();
  // Skipped on purpose without kubectl: these cases are about the real binary's SPDY paths.
  (kubectl ? it : it.skip).each([
    ['SPDY tunnelled in a WebSocket (GET), then the plain SPDY fallback (POST)', {}, ['GET', 'POST']],
    ['plain SPDY/3.1 (POST)', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }, ['POST']],
  ])(
    `kubectl port-forward --as bob is refused too: %s${kubectl ? '' : ' (skipped: kubectl not on PATH)'}`,
    async (_name, env, methods) => {
      dir ??= await mkdtemp(join(tmpdir(), 'meshops-pf-rbac-'));
      const kubeconfig = join(dir, 'config');
      await sb.writeKubeconfig(kubeconfig);
      const before = sb.requests.length;
      const r = await execa(
        kubectl!,
        ['--kubeconfig', kubeconfig, 'port-forward', '--as', 'bob', '-n', NS, 'pod/web-1', ':8080'],
        {
          env: { ...env, HOME: dir },
          reject: false,
          timeout: 20_000,
        },
      );
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(
        /pods "web-1" is forbidden: User "bob" cannot (get|create) resource "pods\/portforward"/,
      );
      const tried = sb.requests.slice(before).filter((q) => q.path === portForwardPath);
      expect(tried.map((q) => [q.method, q.user])).toEqual(methods.map((m) => [m, 'bob']));
    },
  );
});
