// The canary scenario in the sandbox's traffic model: weights split exactly, no VirtualService splits by
// pod count, and the app knob (error rate, latency) shows in the destination-reported series.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { parsePrometheusText, type Sample } from '../../src/envoy/istio-metrics.ts';
import { CANARY_DEMO_FLOWS, canaryDemoObjects } from '../../src/sandbox/demo/canary-demo.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { TrafficModel } from '../../src/sandbox/traffic-model.ts';
import { ERROR_RATE_ANNOTATION, LATENCY_ANNOTATION } from '../../src/sandbox/traffic-served.ts';

let sb: Sandbox;
let model: TrafficModel;

beforeEach(async () => {
  sb = await startSandbox({ seed: canaryDemoObjects() });
  sb.settle();
  model = new TrafficModel(sb, { flows: [...CANARY_DEMO_FLOWS] });
});

afterEach(async () => {
  model.stop();
  await sb.close();
});

/** Destination-reported samples of every orders pod, by version. */
function byVersion(name: string): Map<string, Sample[]> {
  const out = new Map<string, Sample[]>();
  for (const pod of sb.store.list('Pod', 'canary').filter((p) => p.metadata.labels?.app === 'orders')) {
    const samples = parsePrometheusText(model.metricsText(`canary/${pod.metadata.name}`)).filter(
      (s) => s.name === name && s.labels.reporter === 'destination',
    );
    const v = pod.metadata.labels?.version ?? '?';
    out.set(v, [...(out.get(v) ?? []), ...samples]);
  }
  return out;
}

const total = (samples: Sample[] | undefined, code?: string) =>
  (samples ?? []).filter((s) => !code || s.labels.response_code === code).reduce((n, s) => n + s.value, 0);

function setWeights(v1: number, v2: number): void {
  const vs = structuredClone(sb.store.get('VirtualService', 'canary', 'orders')!);
  const route = (vs.spec as { http: Array<{ route: Array<{ weight: number }> }> }).http[0]!.route;
  route[0]!.weight = v1;
  route[1]!.weight = v2;
  sb.store.put(vs);
}

function setV2Pod(annotations: Record<string, string>): void {
  const pod = structuredClone(
    sb.store
      .list('Pod', 'canary')
      .find((p) => p.metadata.labels?.version === 'v2' && p.metadata.labels?.app === 'orders')!,
  );
  pod.metadata.annotations = { ...pod.metadata.annotations, ...annotations };
  sb.store.put(pod);
}

describe('the canary scenario', () => {
  it('splits by the configured weights: 100/0 as shipped, then exactly 75/25', () => {
    for (let i = 0; i < 10; i++) model.tick();
    expect(total(byVersion('istio_requests_total').get('v1'))).toBe(100);
    expect(total(byVersion('istio_requests_total').get('v2'))).toBe(0);
    setWeights(75, 25);
    for (let i = 0; i < 10; i++) model.tick();
    expect(total(byVersion('istio_requests_total').get('v1'))).toBe(175);
    expect(total(byVersion('istio_requests_total').get('v2'))).toBe(25);
  });

  it('without a VirtualService the split follows pod counts (3 v1 pods, 1 v2 pod)', () => {
    sb.store.delete('VirtualService', 'canary', 'orders');
    for (let i = 0; i < 10; i++) model.tick();
    expect(total(byVersion('istio_requests_total').get('v1'))).toBe(75);
    expect(total(byVersion('istio_requests_total').get('v2'))).toBe(25);
  });

  it("honours v2's error rate and latency knob in codes and durations", () => {
    setWeights(50, 50);
    setV2Pod({ [ERROR_RATE_ANNOTATION]: '0.2', [LATENCY_ANNOTATION]: '800' });
    for (let i = 0; i < 10; i++) model.tick();
    const requests = byVersion('istio_requests_total');
    expect(total(requests.get('v2'))).toBe(50);
    expect(total(requests.get('v2'), '500')).toBe(10);
    expect(total(requests.get('v1'), '500')).toBe(0);
    const buckets = byVersion('istio_request_duration_milliseconds_bucket');
    const le = (v: string, bound: string) => total(buckets.get(v)?.filter((s) => s.labels.le === bound));
    // v2 answers in 800 ms (+2 at the sidecar): none within 500, all within 1000; v1 in 3 ms.
    expect(le('v2', '500')).toBe(0);
    expect(le('v2', '1000')).toBe(50);
    expect(le('v1', '5')).toBe(50);
    expect(total(byVersion('istio_request_duration_milliseconds_count').get('v2'))).toBe(50);
  });
});
