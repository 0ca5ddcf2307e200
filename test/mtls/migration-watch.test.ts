// The watch on its own, against the sandbox and a traffic model stepped by hand: failures after STRICT
// are counted once however often the watch looks, nothing from before STRICT counts, and the
// sidecar of a caller with TLS turned off by a DestinationRule reports its 503s.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newWatchState, watchOnce } from '../../src/features/mtls/migration-watch.ts';
import { mtlsDemoObjects, MTLS_DEMO_FLOWS } from '../../src/sandbox/demo/mtls-demo.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { TrafficModel, accessLogLine } from '../../src/sandbox/traffic-model.ts';
import { kubeFor } from '../approvals/support.ts';

let sb: Sandbox;
let model: TrafficModel;

beforeAll(async () => {
  sb = await startSandbox({ seed: mtlsDemoObjects(), rolloutStepMs: 20 });
  sb.settle();
  model = new TrafficModel(sb, {
    flows: [
      ...MTLS_DEMO_FLOWS,
      {
        from: { namespace: 'shop', app: 'frontend' },
        to: { namespace: 'legacy', service: 'inventory', port: 8080 },
        path: '/stock',
      },
    ],
  });
});

afterAll(async () => {
  model?.stop();
  await sb?.close();
});

const strict = (namespace: string) =>
  sb.store.put({
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: { name: 'default', namespace },
    spec: { mtls: { mode: 'STRICT' } },
  });

describe('watchOnce', () => {
  it('counts refused plaintext connections after STRICT once, across looks; meshed callers are fine', async () => {
    const kube = kubeFor(sb);
    model.tick(); // plaintext accepted before STRICT: not ours to count
    await new Promise((r) => setTimeout(r, 20));
    const since = new Date();
    strict('legacy');
    const state = newWatchState();
    const first = await watchOnce(kube, 'legacy', since, new Date(), state);
    expect(first.total).toBe(0);
    expect(first.podsRead).toBe(1);
    model.tick();
    model.tick();
    const second = await watchOnce(kube, 'legacy', since, new Date(), state);
    expect(second.total).toBe(2);
    expect(second.failures).toEqual([
      {
        where: expect.stringMatching(/^sidecar legacy\/inventory-/),
        what: 'connection NR filter_chain_not_found',
        count: 2,
        from: expect.stringMatching(/^10\./),
      },
    ]);
    model.tick();
    const third = await watchOnce(kube, 'legacy', since, new Date(), state);
    expect(third.total).toBe(3);
    // The frontend in shop has a sidecar: its mTLS requests into legacy still succeed.
    const shopCaller = sb.store.list('Pod', 'shop').find((p) => p.metadata.labels?.app === 'frontend')!;
    const log = await kube.podLogs('shop', shopCaller.metadata.name, { container: 'istio-proxy' });
    expect(log).toContain('inventory.legacy.svc.cluster.local:8080');
    expect(log).not.toMatch(/" 503 /);
  });

  it('a caller whose DestinationRule disables TLS gets 503 UC from its own sidecar', async () => {
    sb.store.put({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'inventory-plain', namespace: 'shop' },
      spec: { host: 'inventory.legacy.svc.cluster.local', trafficPolicy: { tls: { mode: 'DISABLE' } } },
    });
    model.tick();
    const kube = kubeFor(sb);
    const shopCaller = sb.store.list('Pod', 'shop').find((p) => p.metadata.labels?.app === 'frontend')!;
    const log = await kube.podLogs('shop', shopCaller.metadata.name, { container: 'istio-proxy', tailLines: 5 });
    expect(log).toContain('503 UC upstream_reset_before_response_started{connection_termination}');
    const metrics = await kube.podProxyGet('shop', shopCaller.metadata.name, 15020, '/stats/prometheus');
    expect(metrics).toMatch(
      /istio_requests_total\{reporter="source",source_workload="frontend",[^}]*destination_workload="inventory"[^}]*response_code="503"[^}]*response_flags="UC"[^}]*\} 1/,
    );
  });

  it("reads the ingress gateway's JSON access log and keeps only failures routed into the namespace", async () => {
    sb.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } });
    sb.store.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'istio-ingressgateway-test',
        namespace: 'istio-system',
        labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' },
      },
      spec: { containers: [{ name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.24.2' }] },
    });
    sb.settle(); // the sandbox's kubelet starts the container
    const since = new Date(Date.now() - 1000);
    const at = new Date().toISOString();
    const line = (cluster: string, code: number, flags: string) =>
      accessLogLine(
        {
          start_time: at,
          method: 'GET',
          path: '/',
          protocol: 'HTTP/1.1',
          response_code: code,
          response_flags: flags,
          upstream_cluster: cluster,
          downstream_remote_address: '203.0.113.7:5000',
        },
        'JSON',
      );
    sb.setPodLogs('istio-system', 'istio-ingressgateway-test', 'istio-proxy', [
      `${at} ${line('outbound|8080||inventory.legacy.svc.cluster.local', 503, 'UF,URX')}`,
      `${at} ${line('outbound|9080||productpage.bookinfo.svc.cluster.local', 503, 'UF,URX')}`,
      `${at} ${line('outbound|8080||inventory.legacy.svc.cluster.local', 200, '-')}`,
    ]);
    const report = await watchOnce(kubeFor(sb), 'legacy', since, new Date(), newWatchState());
    const fromGateway = report.failures.filter((f) => f.where.startsWith('gateway '));
    expect(fromGateway).toEqual([
      { where: 'gateway istio-system/istio-ingressgateway-test', what: '503 UF,URX', count: 1, from: '203.0.113.7' },
    ]);
  });
});
