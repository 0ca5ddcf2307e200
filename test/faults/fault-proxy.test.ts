// The fault proxy (test/support/fault-proxy.ts) between the bot's KubeClient and a real sandbox API
// server: transparent when no rule matches (get, list, patch, a watch, a port-forward upgrade, kubectl),
// and each fault shows the client what the bot would see, while the sandbox shows whether the change landed.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { execa } from 'execa';
import { KubeApiError, KubeClient, KubeUnreachableError } from '../../src/kube/client.ts';
import { PortForwardError } from '../../src/kube/port-forward.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { findKubectl } from '../support/kubectl.ts';

const NS = 'bookinfo';
const DEPLOY_PATH = `/apis/apps/v1/namespaces/${NS}/deployments/reviews-v2`;
const cmPath = (name: string) => `/api/v1/namespaces/${NS}/configmaps/${name}`;
const RESTART = 'kubectl.kubernetes.io/restartedAt';

const seed: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'reviews-v2', namespace: NS, labels: { app: 'reviews' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'reviews', version: 'v2' } },
      template: {
        metadata: { labels: { app: 'reviews', version: 'v2' } },
        spec: { containers: [{ name: 'reviews', image: 'reviews:v2' }] },
      },
    },
  },
  ...['a', 'b', 'c', 'd', 'e', 'f'].map(
    (n) =>
      ({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `cm-${n}`, namespace: NS },
        data: { v: '0' },
      }) as KubeObject,
  ),
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: NS, labels: { app: 'web' } },
    spec: { containers: [{ name: 'web', image: 'nginx' }] },
  },
];

let sb: Sandbox;
let proxy: FaultProxy;
let kc: KubeConfig;
let kube: KubeClient;
/** Straight to the sandbox, to see what landed. */
let direct: KubeClient;
let dir: string;

const client = (timeoutMs?: number) => new KubeClient(kc, timeoutMs !== undefined ? { timeoutMs } : {});
const restartPatch = (at: string) => ({ spec: { template: { metadata: { annotations: { [RESTART]: at } } } } });
const restartedAt = async () =>
  (
    (await direct.get('Deployment', NS, 'reviews-v2'))?.spec as {
      template: { metadata?: { annotations?: Record<string, string> } };
    }
  ).template.metadata?.annotations?.[RESTART];
const cmValue = async (name: string) =>
  ((await direct.get('ConfigMap', NS, name)) as { data?: Record<string, string> }).data?.v;
/** The `code`s along an error's cause chain (errors from node's realm are not jest's `Error`). */
const errorCodes = (err: unknown): string[] => {
  const out: string[] = [];
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++)
    if (typeof e.code === 'string') out.push(e.code);
  return out;
};
const upstreamSaw = (method: string, path: string) =>
  sb.requests.filter((r) => r.method === method && r.path === path).length;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshops-fault-proxy-'));
  sb = await startSandbox({ seed, controllers: false });
  sb.podEndpoints.register(NS, 'web-1', 8080, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('hello from web-1');
  });
  proxy = await startFaultProxy({ upstream: { url: sb.url, ca: sb.caCert } });
  const base = new KubeConfig();
  base.loadFromString(sb.kubeconfig());
  direct = new KubeClient(base);
  kc = proxy.kubeconfig(base);
  kube = client();
});

afterAll(async () => {
  await proxy?.close();
  await sb?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('pass-through', () => {
  it('points a KubeConfig at the proxy with its own CA', () => {
    expect(kc.getCurrentCluster()?.server).toBe(proxy.url);
    expect(Buffer.from(kc.getCurrentCluster()?.caData ?? '', 'base64').toString()).toBe(proxy.ca);
    const yaml = proxy.kubeconfig(sb.kubeconfig());
    expect(yaml).toContain(proxy.url);
    expect(yaml).not.toContain(sb.url);
  });

  it('forwards get, list and patch, and logs them', async () => {
    proxy.log.length = 0;
    expect((await kube.get('Deployment', NS, 'reviews-v2'))?.metadata.name).toBe('reviews-v2');
    const names = (await kube.list('ConfigMap', { namespace: NS })).map((o) => o.metadata.name);
    expect(names).toEqual(expect.arrayContaining(['cm-a', 'cm-f']));
    const patched = await kube.patch('ConfigMap', NS, 'cm-a', { data: { v: 'pass' } }, 'merge');
    expect((patched as unknown as { data: Record<string, string> }).data.v).toBe('pass');
    expect(await cmValue('cm-a')).toBe('pass');
    expect(await kube.get('ConfigMap', NS, 'no-such')).toBeUndefined();
    const patch = proxy.log.find((e) => e.method === 'PATCH');
    expect(patch).toMatchObject({
      path: cmPath('cm-a'),
      query: 'fieldManager=meshops',
      forwarded: true,
      upstreamStatus: 200,
      status: 200,
    });
    expect(patch?.fault).toBeUndefined();
    expect(proxy.log.find((e) => e.path === cmPath('no-such'))).toMatchObject({ status: 404 });
  });

  it('keeps a watch streaming: an event arrives through the proxy', async () => {
    const events: Array<{ type: string; name: string }> = [];
    let ended: unknown = 'open';
    const arrived = new Promise<void>((resolve) => {
      void new Watch(kc)
        .watch(
          `/api/v1/namespaces/${NS}/configmaps`,
          {},
          (type, obj: KubeObject) => {
            events.push({ type, name: obj.metadata.name });
            if (obj.metadata.name === 'watched') resolve();
          },
          (err) => (ended = err),
        )
        .then((ctl) => (watch = ctl));
    });
    let watch: AbortController | undefined;
    // Let the watch open before the change (the proxy logs it once the request reaches it).
    for (let i = 0; i < 50 && !proxy.log.some((e) => e.query.includes('watch=true')); i++)
      await new Promise((r) => setTimeout(r, 20));
    await kube.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'watched', namespace: NS },
      data: { v: '1' },
    });
    await arrived;
    expect(events).toContainEqual({ type: 'ADDED', name: 'watched' });
    expect(ended).toBe('open');
    watch?.abort();
  });

  it('passes a port-forward upgrade (WebSocket) through', async () => {
    const r = await kube.portForwardGet(NS, 'web-1', 8080, '/', { timeoutMs: 5000 });
    expect([r.status, r.body]).toEqual([200, 'hello from web-1']);
    expect(
      proxy.log.find((e) => e.upgrade && e.path === `/api/v1/namespaces/${NS}/pods/web-1/portforward`),
    ).toMatchObject({ upstreamStatus: 101, status: 101 });
  });

  const kubectl = findKubectl();
  (kubectl ? it : it.skip)(
    `serves kubectl (many requests per keep-alive connection)${kubectl ? '' : ' (skipped: kubectl not on PATH)'}`,
    async () => {
      const path = join(dir, 'kubeconfig');
      await writeFile(path, proxy.kubeconfig(sb.kubeconfig()), { mode: 0o600 });
      const before = proxy.log.length;
      const out = await execa(
        kubectl as string,
        ['--kubeconfig', path, '--cache-dir', join(dir, 'cache'), 'get', 'configmaps', '-n', NS, '-o', 'name'],
        { timeout: 15_000, env: { HOME: dir } },
      );
      expect(out.stdout.split('\n')).toEqual(expect.arrayContaining(['configmap/cm-a', 'configmap/cm-f']));
      const seen = proxy.log.slice(before);
      expect(seen.some((e) => e.path === `/api/v1/namespaces/${NS}/configmaps` && e.status === 200)).toBe(true);
      // kubectl's discovery and the list share connections.
      const perConnection = new Map<number, number>();
      for (const e of seen) perConnection.set(e.connection, (perConnection.get(e.connection) ?? 0) + 1);
      expect(Math.max(...perConnection.values())).toBeGreaterThan(1);
    },
  );
});

describe('per-request rules', () => {
  it('cutResponse: the PATCH lands, the client hears a reset', async () => {
    const before = await restartedAt();
    const at = new Date().toISOString();
    const rule = proxy.rule({ method: 'PATCH', path: DEPLOY_PATH, nth: 1, action: { type: 'cutResponse' } });
    const err = await kube
      .patch('Deployment', NS, 'reviews-v2', restartPatch(at), 'strategic')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeUnreachableError);
    expect((err as Error).message).toMatch(/the connection was reset/);
    expect(rule.hits).toBe(1);
    const entry = await rule.fired;
    expect(entry).toMatchObject({ fault: 'cutResponse', forwarded: true, upstreamStatus: 200 });
    expect(entry.status).toBeUndefined();
    expect(before).toBeUndefined();
    expect(await restartedAt()).toBe(at);
    // Fired once (the 1st match): the next PATCH goes through.
    const again = new Date(Date.now() + 1000).toISOString();
    await kube.patch('Deployment', NS, 'reviews-v2', restartPatch(again), 'strategic');
    expect(await restartedAt()).toBe(again);
    expect([rule.matches, rule.hits]).toEqual([2, 1]);
    rule.remove();
  });

  it('cutResponse after the headers: the client has a 200 and loses the body', async () => {
    const rule = proxy.rule({
      method: 'PATCH',
      path: cmPath('cm-b'),
      action: { type: 'cutResponse', after: 'headers' },
    });
    const err = await kube
      .patch('ConfigMap', NS, 'cm-b', { data: { v: 'cut-after-headers' } }, 'merge')
      .catch((e: unknown) => e);
    rule.remove();
    // The status line came, the body did not: the client reports it like no answer at all, keeping the cause.
    expect(err).toBeInstanceOf(KubeUnreachableError);
    expect(errorCodes(err)).toContain('ECONNRESET');
    expect((await rule.fired).status).toBe(200);
    expect(await cmValue('cm-b')).toBe('cut-after-headers');
  });

  it('cutResponse part-way through the body', async () => {
    const rule = proxy.rule({ method: 'GET', path: cmPath('cm-b'), action: { type: 'cutResponse', after: 10 } });
    const err = await kube.get('ConfigMap', NS, 'cm-b').catch((e: unknown) => e);
    rule.remove();
    expect(err).toBeInstanceOf(KubeUnreachableError);
    expect(errorCodes(err)).toContain('ECONNRESET');
    expect(await rule.fired).toMatchObject({ status: 200, upstreamStatus: 200 });
  });

  it('status on an upgrade: the port-forward tunnel is refused', async () => {
    const rule = proxy.rule({ path: /\/portforward$/, where: (r) => r.upgrade, action: { type: 'status', code: 503 } });
    const err = await kube.portForwardGet(NS, 'web-1', 8080, '/', { timeoutMs: 5000 }).catch((e: unknown) => e);
    rule.remove();
    expect(err).toBeInstanceOf(PortForwardError);
    expect((err as PortForwardError).kind).toBe('tunnel');
    expect((err as Error).message).toMatch(/503/);
    expect(upstreamSaw('GET', `/api/v1/namespaces/${NS}/pods/web-1/portforward`)).toBe(1);
  });

  it('stallResponse: the PATCH lands, the client times out', async () => {
    const rule = proxy.rule({ method: 'PATCH', path: cmPath('cm-c'), action: { type: 'stallResponse' } });
    const started = Date.now();
    const err = await client(800)
      .patch('ConfigMap', NS, 'cm-c', { data: { v: 'stalled' } }, 'merge')
      .catch((e: unknown) => e);
    rule.remove();
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    expect(err).toBeInstanceOf(KubeUnreachableError);
    expect((err as Error).message).toMatch(/no answer within 0\.8 s \(timed out\)/);
    expect(await cmValue('cm-c')).toBe('stalled');
    const entry = await rule.fired;
    expect(entry).toMatchObject({ fault: 'stallResponse', upstreamStatus: 200 });
    expect(entry.status).toBeUndefined();
  });

  it('stallResponse for ms: the answer arrives late', async () => {
    const rule = proxy.rule({ method: 'GET', path: cmPath('cm-c'), action: { type: 'stallResponse', ms: 300 } });
    const started = Date.now();
    expect((await kube.get('ConfigMap', NS, 'cm-c'))?.metadata.name).toBe('cm-c');
    rule.remove();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('dropRequest: the client hears a reset and nothing landed', async () => {
    const rule = proxy.rule({ method: 'PATCH', path: cmPath('cm-d'), action: { type: 'dropRequest' } });
    const err = await kube.patch('ConfigMap', NS, 'cm-d', { data: { v: 'dropped' } }, 'merge').catch((e: unknown) => e);
    rule.remove();
    expect(err).toBeInstanceOf(KubeUnreachableError);
    expect((err as Error).message).toMatch(/reset|closed/);
    expect(await cmValue('cm-d')).toBe('0');
    expect(upstreamSaw('PATCH', cmPath('cm-d'))).toBe(0);
  });

  it('status 500 and 429: a KubeApiError, and nothing landed', async () => {
    const r500 = proxy.rule({ method: 'PATCH', path: cmPath('cm-e'), times: 1, action: { type: 'status', code: 500 } });
    const e500 = await kube.patch('ConfigMap', NS, 'cm-e', { data: { v: 'x' } }, 'merge').catch((e: unknown) => e);
    expect(e500).toBeInstanceOf(KubeApiError);
    expect(e500).toMatchObject({ status: 500, reason: 'InternalError' });
    const r429 = proxy.rule({
      method: 'PATCH',
      path: cmPath('cm-e'),
      times: 1,
      action: { type: 'status', code: 429, retryAfterSeconds: 1 },
    });
    const e429 = await kube.patch('ConfigMap', NS, 'cm-e', { data: { v: 'y' } }, 'merge').catch((e: unknown) => e);
    expect(e429).toMatchObject({ status: 429, reason: 'TooManyRequests' });
    expect(await cmValue('cm-e')).toBe('0');
    expect(upstreamSaw('PATCH', cmPath('cm-e'))).toBe(0);
    expect([r500.hits, r429.hits]).toEqual([1, 1]);
    r500.remove();
    r429.remove();
  });

  it('counts matches: the 2nd GET fails, the 1st and 3rd pass; a body predicate picks the PATCH', async () => {
    const nth = proxy.rule({
      method: 'get',
      path: /\/configmaps\/cm-f$/,
      nth: 2,
      action: { type: 'status', code: 503 },
    });
    expect(await kube.get('ConfigMap', NS, 'cm-f')).toBeDefined();
    await expect(kube.get('ConfigMap', NS, 'cm-f')).rejects.toMatchObject({
      status: 503,
      reason: 'ServiceUnavailable',
    });
    expect(await kube.get('ConfigMap', NS, 'cm-f')).toBeDefined();
    expect([nth.matches, nth.hits]).toEqual([3, 1]);
    nth.remove();

    const byBody = proxy.rule({
      method: 'PATCH',
      path: cmPath('cm-f'),
      body: (b) => b.includes('"poison"'),
      action: { type: 'dropRequest' },
    });
    await kube.patch('ConfigMap', NS, 'cm-f', { data: { v: 'fine' } }, 'merge');
    await expect(kube.patch('ConfigMap', NS, 'cm-f', { data: { v: 'poison' } }, 'merge')).rejects.toBeInstanceOf(
      KubeUnreachableError,
    );
    expect(await cmValue('cm-f')).toBe('fine');
    expect([byBody.matches, byBody.hits]).toEqual([1, 1]);
    byBody.remove();
  });

  it('delay: the request is forwarded late', async () => {
    const rule = proxy.rule({ method: 'GET', path: cmPath('cm-a'), action: { type: 'delay', ms: 250 } });
    const started = Date.now();
    expect(await kube.get('ConfigMap', NS, 'cm-a')).toBeDefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    rule.remove();
  });
});

describe('connection faults', () => {
  it('refuse, then resume', async () => {
    await proxy.refuse();
    const err = await kube.get('ConfigMap', NS, 'cm-a').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeUnreachableError);
    expect((err as Error).message).toMatch(/connection refused/);
    await proxy.resume();
    expect(await kube.get('ConfigMap', NS, 'cm-a')).toBeDefined();
  });

  it('hang: the client times out; after resume new requests pass', async () => {
    proxy.hang();
    const err = await client(400)
      .get('ConfigMap', NS, 'cm-a')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeUnreachableError);
    expect((err as Error).message).toMatch(/timed out/);
    await proxy.resume();
    expect(await kube.get('ConfigMap', NS, 'cm-a')).toBeDefined();
  });

  it('latency before forwarding and before answering', async () => {
    proxy.latency({ request: 100, response: 100 });
    const started = Date.now();
    expect(await kube.get('ConfigMap', NS, 'cm-a')).toBeDefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    proxy.latency({});
  });

  it('resetAll cuts an open watch mid-stream', async () => {
    let ended: (err: unknown) => void = () => undefined;
    const done = new Promise<unknown>((resolve) => (ended = resolve));
    const before = proxy.log.length;
    const ctl = await new Watch(kc).watch(
      `/api/v1/namespaces/${NS}/configmaps`,
      {},
      () => undefined,
      (err) => ended(err),
    );
    for (
      let i = 0;
      i < 50 && !proxy.log.slice(before).some((e) => e.query.includes('watch=true') && e.status === 200);
      i++
    )
      await new Promise((r) => setTimeout(r, 20));
    expect(proxy.resetAll()).toBeGreaterThan(0);
    const err = await done;
    expect(err).toBeTruthy();
    ctl.abort();
    expect(await kube.get('ConfigMap', NS, 'cm-a')).toBeDefined();
  });
});
