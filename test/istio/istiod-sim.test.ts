// The simulated istiod's HTTP answers, reached the way a forwarded connection reaches them
// (PodEndpoints.dial: localhost to the pod), without an API server in between.
import http from 'node:http';
import { describe, expect, it } from '@jest/globals';
import { TYPE_URL } from '../../src/istio/proxy-status.ts';
import { parseSyncz, proxyStatusFromSyncz } from '../../src/istio/syncz.ts';
import { buildMeshSync, IstiodSim } from '../../src/sandbox/istiod-sim.ts';
import { PodEndpoints } from '../../src/sandbox/pod-endpoints.ts';

function get(
  endpoints: PodEndpoints,
  pod: string,
  port: number,
  path: string,
): Promise<{ status: number; body: string; type?: string }> {
  return new Promise((resolve, reject) => {
    const conn = endpoints.dial('istio-system', pod, port);
    if (!conn) return reject(new Error('nothing listens'));
    http
      .get({ createConnection: () => conn, path, headers: { host: 'localhost', connection: 'close' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            ...(res.headers['content-type'] ? { type: res.headers['content-type'] } : {}),
          }),
        );
      })
      .on('error', reject);
  });
}

describe('IstiodSim over HTTP', () => {
  const clock = () => new Date('2026-11-25T12:00:00Z');
  let n = 0;
  const sim = new IstiodSim({ podName: 'istiod-0', now: clock, nonce: () => `nonce-${++n}` });
  sim.connect('reviews-v1-x.bookinfo');
  sim.connect('ratings-v1-y.bookinfo', {
    types: [TYPE_URL.CDS, TYPE_URL.LDS, TYPE_URL.EDS, TYPE_URL.RDS, TYPE_URL.ECDS],
  });
  sim.connect('istio-ingressgateway-z.istio-system', { proxyType: 'router', synced: false });
  const endpoints = new PodEndpoints();
  sim.registerOn(endpoints);

  it("serves syncz in istiod's JSON shape: legacy nonce fields, resources per watched type, Go zero time", async () => {
    const r = await get(endpoints, 'istiod-0', 15014, '/debug/syncz');
    expect([r.status, r.type]).toEqual([200, 'application/json']);
    const body = JSON.parse(r.body) as Record<string, unknown>[];
    // Sorted as istiod's SortedClients sorts: by connection ID, `<proxy>-<counter>`.
    expect(body.map((e) => e.proxy)).toEqual([
      'istio-ingressgateway-z.istio-system',
      'ratings-v1-y.bookinfo',
      'reviews-v1-x.bookinfo',
    ]);
    expect(Object.keys(body[2]!)).toEqual([
      'cluster_id',
      'proxy',
      'proxy_type',
      'istio_version',
      'cluster_sent',
      'cluster_acked',
      'listener_sent',
      'listener_acked',
      'route_sent',
      'route_acked',
      'endpoint_sent',
      'endpoint_acked',
      'resources',
    ]);
    expect(body[1]).toHaveProperty('extensionconfig_sent');
    expect(body[0]).toMatchObject({
      proxy_type: 'router',
      resources: { [TYPE_URL.LDS]: { sentTime: '0001-01-01T00:00:00Z' } },
    });
    const rows = proxyStatusFromSyncz('istiod-0', parseSyncz(body));
    expect(rows[0]!.xds.every((x) => x.status === 'NOT_SENT')).toBe(true);
    expect(rows[2]!.xds.every((x) => x.status === 'SYNCED' && x.lastUpdated === '2026-11-25T12:00:00.000Z')).toBe(true);
  });

  it('filters by ?namespace= and pretty-prints with ?pretty', async () => {
    const r = await get(endpoints, 'istiod-0', 15014, '/debug/syncz?namespace=istio-system&pretty');
    expect(r.body.startsWith('[\n  {')).toBe(true);
    expect((JSON.parse(r.body) as { proxy: string }[]).map((e) => e.proxy)).toEqual([
      'istio-ingressgateway-z.istio-system',
    ]);
  });

  it('lists connections as /debug/connections does', async () => {
    const r = JSON.parse((await get(endpoints, 'istiod-0', 15014, '/debug/connections')).body) as {
      totalClients: number;
      clients: { connectionId: string }[];
    };
    expect(r.totalClients).toBe(3);
    expect(r.clients.map((c) => c.connectionId)).toEqual([
      'istio-ingressgateway-z.istio-system-3',
      'ratings-v1-y.bookinfo-2',
      'reviews-v1-x.bookinfo-1',
    ]);
  });

  it('serves the /debug index to anyone, 404s unknown debug paths, 501s the ones it does not model', async () => {
    expect((await get(endpoints, 'istiod-0', 15014, '/debug')).status).toBe(200);
    expect(await get(endpoints, 'istiod-0', 15014, '/debug/nonsense')).toMatchObject({
      status: 404,
      body: '404 page not found\n',
    });
    expect((await get(endpoints, 'istiod-0', 15014, '/debug/configz')).status).toBe(501);
  });

  it('answers readiness on 8080 and follows `ready`', async () => {
    expect((await get(endpoints, 'istiod-0', 8080, '/ready')).status).toBe(200);
    sim.ready = false;
    expect((await get(endpoints, 'istiod-0', 8080, '/ready')).status).toBe(503);
    sim.ready = true;
  });

  it('keeps the old acked nonce on a NACK and clears the error on the next ACK', () => {
    sim.push('reviews-v1-x.bookinfo', TYPE_URL.LDS);
    sim.nack('reviews-v1-x.bookinfo', TYPE_URL.LDS, 'bad listener');
    const w = sim.proxy('reviews-v1-x.bookinfo')!.watches.get(TYPE_URL.LDS)!;
    expect(w.acked).not.toBe(w.sent);
    expect(w.lastError).toBe('bad listener');
    sim.ack('reviews-v1-x.bookinfo', TYPE_URL.LDS);
    expect([w.acked === w.sent, w.lastError]).toEqual([true, undefined]);
  });

  it('refuses to act on proxies or types it does not have', () => {
    expect(() => sim.push('nobody.nowhere')).toThrow(/not connected/);
    expect(() => sim.push('reviews-v1-x.bookinfo', TYPE_URL.ECDS)).toThrow(/does not watch/);
  });
});

describe('buildMeshSync', () => {
  const pods = Array.from({ length: 7 }, (_, i) => ({ namespace: `ns-${i % 2}`, name: `app-${i}` }));

  it('deals proxies round-robin over the replicas, leaves the disconnected out, and applies the faults', () => {
    const sims = buildMeshSync({
      istiods: ['a', 'b', 'c'],
      pods,
      disconnected: ['app-0.ns-0'],
      staleLds: ['app-1.ns-1'],
      nack: [{ proxyId: 'app-2.ns-0', type: 'LDS', message: 'x' }],
    });
    expect(sims.map((s) => s.size)).toEqual([2, 2, 2]);
    expect(sims.some((s) => s.proxy('app-0.ns-0'))).toBe(false);
    const rows = sims.flatMap((s) => proxyStatusFromSyncz(s.podName, parseSyncz(s.syncz())));
    const lds = (id: string) => rows.find((r) => r.proxyId === id)!.xds.find((x) => x.typeUrl === TYPE_URL.LDS)!;
    expect(lds('app-1.ns-1').status).toBe('STALE');
    expect(lds('app-2.ns-0')).toMatchObject({ status: 'ERROR', lastError: 'x' });
    expect(lds('app-3.ns-1').status).toBe('SYNCED');
  });

  it('refuses a scenario that names a proxy it does not have', () => {
    expect(() => buildMeshSync({ istiods: ['a'], pods, staleLds: ['ghost.ns-0'] })).toThrow(/ghost\.ns-0/);
    expect(() => buildMeshSync({ istiods: [], pods })).toThrow(/at least one istiod/);
  });
});
