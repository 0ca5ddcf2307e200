// pods/portforward and pods/proxy through the sandbox API server to the simulated istiod, with the
// client the bot uses (KubeClient.portForwardGet, over client-node's PortForward).
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import WebSocket from 'ws';
import { KubeClient } from '../../src/kube/client.ts';
import { PortForwardError } from '../../src/kube/port-forward.ts';
import { TYPE_URL, statusOfType } from '../../src/istio/proxy-status.ts';
import { parseSyncz, proxyStatusFromSyncz } from '../../src/istio/syncz.ts';
import { DEMO_NACK_MESSAGES, IstiodSim } from '../../src/sandbox/istiod-sim.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';
import { demoScenario, idOf, ISTIODS, istiodPod, serveIstiods, WORKLOADS } from '../istio/support/istiod-fixture.ts';

let sandbox: Sandbox;
let kc: KubeConfig;
let kube: KubeClient;
let token: string;

beforeAll(async () => {
  sandbox = await startSandbox({
    controllers: false,
    seed: [...ISTIODS, 'istiod-nodebug', 'istiod-silent'].map(istiodPod),
  });
  serveIstiods(sandbox.podEndpoints, demoScenario());
  new IstiodSim({ podName: 'istiod-nodebug', debugOnHttp: false }).registerOn(sandbox.podEndpoints);
  // A pod whose port accepts the connection and never answers.
  sandbox.podEndpoints.register('istio-system', 'istiod-silent', 15014, () => undefined);
  sandbox.podEndpoints.register('istio-system', 'istiod-silent', 8080, (_req, res) => {
    res.writeHead(200);
    res.end('x'.repeat(4096));
  });
  kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  token = kc.getCurrentUser()?.token ?? '';
  kube = new KubeClient(kc);
});

afterAll(async () => {
  await sandbox?.close();
});

describe('GET through pods/portforward (KubeClient.portForwardGet)', () => {
  it('reads /debug/syncz as localhost, and the answer yields the scenario per istiod', async () => {
    const [a, b] = await Promise.all(
      ISTIODS.map((pod) => kube.portForwardGet('istio-system', pod, 15014, '/debug/syncz', { timeoutMs: 5000 })),
    );
    expect([a!.status, b!.status]).toEqual([200, 200]);
    expect(a!.headers['content-type']).toBe('application/json');
    const rows = [
      ...proxyStatusFromSyncz(ISTIODS[0], parseSyncz(JSON.parse(a!.body))),
      ...proxyStatusFromSyncz(ISTIODS[1], parseSyncz(JSON.parse(b!.body))),
    ];
    // 5 workloads, 1 disconnected, the other 4 split 2/2 between the replicas.
    expect(rows.map((r) => r.proxyId).sort()).toEqual(WORKLOADS.slice(1).map(idOf).sort());
    expect(rows.filter((r) => r.istiod === ISTIODS[0])).toHaveLength(2);
    const stale = rows.find((r) => r.proxyId === idOf(WORKLOADS[3]))!;
    expect(statusOfType(stale, TYPE_URL.LDS).status).toBe('STALE');
    expect(statusOfType(stale, TYPE_URL.CDS).status).toBe('SYNCED');
    const nacked = statusOfType(rows.find((r) => r.proxyId === idOf(WORKLOADS[2]))!, TYPE_URL.CDS);
    expect(nacked).toMatchObject({ status: 'ERROR', lastError: DEMO_NACK_MESSAGES.CDS });
    // Nonces look like istiod's (UUIDs), not counters.
    expect(nacked.sentNonce).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(
      sandbox.requests.some((r) => r.path === `/api/v1/namespaces/istio-system/pods/${ISTIODS[0]}/portforward`),
    ).toBe(true);
  });

  it('says so when nothing listens on the port (the kubelet words it as connection refused)', async () => {
    const err = await kube
      .portForwardGet('istio-system', ISTIODS[0], 9999, '/', { timeoutMs: 5000 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortForwardError);
    expect((err as PortForwardError).kind).toBe('refused');
    expect((err as PortForwardError).message).toMatch(/dial tcp 127\.0\.0\.1:9999: connect: connection refused/);
  });

  it('reports the tunnel failure for a pod that does not exist', async () => {
    const err = await kube
      .portForwardGet('istio-system', 'istiod-gone', 15014, '/debug/syncz', { timeoutMs: 5000 })
      .catch((e: unknown) => e);
    expect((err as PortForwardError).kind).toBe('tunnel');
    expect((err as Error).message).toMatch(/404/);
  });

  it('answers 404 on /debug/* when istiod runs with ENABLE_DEBUG_ON_HTTP=false', async () => {
    const r = await kube.portForwardGet('istio-system', 'istiod-nodebug', 15014, '/debug/syncz', { timeoutMs: 5000 });
    expect([r.status, r.body]).toEqual([404, '404 page not found\n']);
  });

  it('gives up after timeoutMs when the pod never answers', async () => {
    const t0 = Date.now();
    const err = await kube
      .portForwardGet('istio-system', 'istiod-silent', 15014, '/debug/syncz', { timeoutMs: 300 })
      .catch((e: unknown) => e);
    expect((err as PortForwardError).kind).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('refuses a body larger than maxBodyBytes', async () => {
    const err = await kube
      .portForwardGet('istio-system', 'istiod-silent', 8080, '/', { timeoutMs: 5000, maxBodyBytes: 1000 })
      .catch((e: unknown) => e);
    expect((err as PortForwardError).kind).toBe('too-large');
  });
});

describe('the channel.k8s.io WebSocket framing', () => {
  it('opens with the port, 2 bytes little-endian, on the data and the error channel', async () => {
    const url = `${sandbox.url.replace(/^http/, 'ws')}/api/v1/namespaces/istio-system/pods/${ISTIODS[0]}/portforward?ports=15014`;
    const ws = new WebSocket(url, ['v4.channel.k8s.io'], {
      headers: { authorization: `Bearer ${token}` },
      ca: sandbox.caCert,
    });
    const frames: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (d: Buffer) => {
        frames.push(d);
        if (frames.length === 2) resolve();
      });
      ws.on('error', reject);
    });
    expect(ws.protocol).toBe('v4.channel.k8s.io');
    ws.close();
    // 15014 = 0x3aa6
    expect(frames.map((f) => [...f])).toEqual([
      [0, 0xa6, 0x3a],
      [1, 0xa6, 0x3a],
    ]);
  });
});

describe('the channel.k8s.io WebSocket framing, several ports', () => {
  it('gives each port its own data and error channel and carries each to its own listener', async () => {
    const url = `${sandbox.url.replace(/^http/, 'ws')}/api/v1/namespaces/istio-system/pods/${ISTIODS[0]}/portforward?ports=15014,8080`;
    const ws = new WebSocket(url, ['v4.channel.k8s.io'], {
      headers: { authorization: `Bearer ${token}` },
      ca: sandbox.caCert,
    });
    const byChannel = new Map<number, Buffer[]>();
    const text = (ch: number) => Buffer.concat(byChannel.get(ch) ?? []).toString('latin1');
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () =>
        ws.send(
          Buffer.concat([Buffer.from([2]), Buffer.from('GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]),
        ),
      );
      ws.on('message', (d: Buffer) => {
        byChannel.set(d[0]!, [...(byChannel.get(d[0]!) ?? []), d.subarray(1)]);
        if (/^..HTTP\/1\.1 200 OK/s.test(text(2))) resolve();
      });
      ws.on('error', reject);
    });
    ws.close();
    // 8080 = 0x1f90: port prefix first on channels 2 and 3, then the readiness answer on 2.
    expect([...byChannel.keys()].sort()).toEqual([0, 1, 2, 3]);
    expect([...Buffer.from(text(3), 'latin1')]).toEqual([0x90, 0x1f]);
    expect(text(0)).toBe('\xa6:');
  });
});

describe('pods/proxy', () => {
  const proxy = (pod: string, port: number, path: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const url = `${sandbox.url}/api/v1/namespaces/istio-system/pods/${pod}:${port}/proxy/${path}`;
      https
        .get(url, { ca: sandbox.caCert, headers: { authorization: `Bearer ${token}` } }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        })
        .on('error', reject);
    });

  it('gets 401 from istiod debug endpoints: the caller is not localhost', async () => {
    const r = await proxy(ISTIODS[0], 15014, 'debug/syncz');
    expect([r.status, r.text]).toEqual([401, '']);
  });

  it('routes to the handler of that pod and port for endpoints without the localhost rule', async () => {
    const r = await proxy(ISTIODS[1], 15014, 'version');
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/^1\.24\.2-/);
  });

  it('answers 503 with a Kubernetes Status when nothing listens', async () => {
    const r = await proxy(ISTIODS[0], 9090, 'metrics');
    expect(r.status).toBe(503);
    expect(JSON.parse(r.text)).toMatchObject({
      kind: 'Status',
      code: 503,
      reason: 'ServiceUnavailable',
      message: expect.stringMatching(/connection refused/),
    });
  });
});
