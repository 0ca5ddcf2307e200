// The demo's checkout traffic (CHECKOUT_DEMO_FLOWS on the demo mesh), counted over whole weight cycles:
// storefront → payments splits 80/20 between subset v1 (200) and subset v2, which selects no pod (503 UH
// from storefront's own sidecar), and storefront → ledger fails every time with URX,UF (ISTIO_MUTUAL toward
// a pod without a sidecar). Read through the bot's access-log parser, with Envoy's counters beside it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type DemoSandbox, startDemoSandbox } from '../../src/demo/demo-mesh.ts';
import { parseAccessLogLine } from '../../src/envoy/access-log.ts';
import type { Sandbox } from '../../src/sandbox/server.ts';
import { CHECKOUT_DEMO_FLOWS } from '../../src/sandbox/demo/checkout-demo.ts';
import { TrafficModel } from '../../src/sandbox/traffic-model.ts';

const V1 = 'outbound|8080|v1|payments.checkout.svc.cluster.local';
const V2 = 'outbound|8080|v2|payments.checkout.svc.cluster.local';
const LEDGER = 'outbound|8080||ledger.checkout.svc.cluster.local';
// payments takes 2 requests a tick: 50 ticks are 100 requests, one whole cycle of the 80/20 weights.
const TICKS = 50;

let sandbox: DemoSandbox;
let model: TrafficModel;
const logs = new Map<string, string[]>();

const storefront = () => {
  const p = sandbox.store.list('Pod', 'checkout').find((x) => x.metadata.labels?.app === 'storefront');
  if (!p) throw new Error('no storefront pod in the demo');
  return p.metadata.name;
};

beforeAll(async () => {
  // The demo's own traffic ticks once at start and then rarely; this model runs only the checkout flows.
  sandbox = await startDemoSandbox({ trafficTickMs: 600_000 });
  const capture: Sandbox = {
    ...sandbox,
    setPodLogs: (ns, pod, container, lines) => {
      logs.set(`${ns}/${pod}/${container}`, lines);
    },
  };
  model = new TrafficModel(capture, { flows: [...CHECKOUT_DEMO_FLOWS], keepLines: 1000 });
  for (let i = 0; i < TICKS; i++) model.tick();
});

afterAll(async () => {
  model?.stop();
  await sandbox?.close();
});

describe("the checkout scenario's traffic", () => {
  const entries = () =>
    (logs.get(`checkout/${storefront()}/istio-proxy`) ?? []).map((l) => {
      const e = parseAccessLogLine(l.replace(/^\S+ /, ''));
      if (!e) throw new Error(`not an access-log line: ${l}`);
      return e;
    });
  const stat = (name: string) => model.envoyStats('checkout', storefront()).find((s) => s.name === name)?.value;

  it('payments: exactly 20 of 100 requests are 503 UH on the empty v2 subset, 80 are 200 via v1', () => {
    const payments = entries().filter((e) => e.path === '/payments/charge');
    expect(payments).toHaveLength(2 * TICKS);
    const byCluster = (c: string) => payments.filter((e) => e.upstreamCluster === c);
    expect(byCluster(V2)).toHaveLength(20);
    expect(byCluster(V1)).toHaveLength(80);
    for (const e of byCluster(V2))
      expect(e).toMatchObject({ responseCode: 503, responseFlags: ['UH'], responseCodeDetails: 'no_healthy_upstream' });
    for (const e of byCluster(V1)) expect(e).toMatchObject({ responseCode: 200, responseFlags: [] });
    expect(stat(`cluster.${V2}.upstream_cx_none_healthy`)).toBe(20);
    expect(stat(`cluster.${V2}.upstream_rq_503`)).toBe(20);
    expect(stat(`cluster.${V1}.upstream_rq_200`)).toBe(80);
  });

  it('ledger: every request 503 URX,UF with the TLS reason, three failed connections each', () => {
    const ledger = entries().filter((e) => e.path === '/ledger/entries');
    expect(ledger).toHaveLength(TICKS);
    for (const e of ledger) {
      expect(e).toMatchObject({ responseCode: 503, responseFlags: ['URX', 'UF'], upstreamCluster: LEDGER });
      expect(e.upstreamTransportFailureReason).toMatch(/WRONG_VERSION_NUMBER/);
    }
    expect(stat(`cluster.${LEDGER}.upstream_cx_connect_fail`)).toBe(3 * TICKS);
    expect(stat(`cluster.${LEDGER}.upstream_rq_retry`)).toBe(2 * TICKS);
    // ledger has no sidecar, so no istio-proxy log of its own.
    const ledgerPod = sandbox.store.list('Pod', 'checkout').find((p) => p.metadata.labels?.app === 'ledger');
    expect(ledgerPod).toBeDefined();
    expect(logs.get(`checkout/${ledgerPod?.metadata.name}/istio-proxy`)).toBeUndefined();
  });
});
