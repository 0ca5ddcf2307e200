// The traffic model on the mTLS demo, stepped by hand: which DestinationRule a caller's sidecar applies
// (the service's namespace counts, exportTo "." keeps a rule home), and ISTIO_MUTUAL toward a pod
// without a sidecar failing the TLS handshake at the caller.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mtlsDemoObjects } from '../../src/sandbox/demo/mtls-demo.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { TrafficModel } from '../../src/sandbox/traffic-model.ts';

let sb: Sandbox;
let model: TrafficModel;

const frontendPod = () =>
  sb.store.list('Pod', 'shop').find((p) => p.metadata.labels?.app === 'frontend')!.metadata.name;
const metrics = () => model.metricsText(`shop/${frontendPod()}`);
const sourceSeries = (service: string, code: string, flags: string) =>
  new RegExp(
    `istio_requests_total\\{reporter="source",[^}]*destination_service_name="${service}",[^}]*response_code="${code}",[^}]*response_flags="${flags}"[^}]*\\} (\\d+)`,
  );
const countOf = (service: string, code: string, flags: string) =>
  Number(metrics().match(sourceSeries(service, code, flags))?.[1] ?? 0);

beforeAll(async () => {
  sb = await startSandbox({ seed: mtlsDemoObjects(), rolloutStepMs: 20 });
  sb.settle();
  // A Service in front of legacy's batch-report, whose pods run without a sidecar.
  sb.store.put({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'report', namespace: 'legacy' },
    spec: { selector: { app: 'batch-report' }, ports: [{ name: 'http', port: 8080 }] },
  });
  model = new TrafficModel(sb, {
    flows: [
      { from: { namespace: 'shop', app: 'frontend' }, to: { namespace: 'legacy', service: 'report', port: 8080 } },
      { from: { namespace: 'shop', app: 'frontend' }, to: { namespace: 'legacy', service: 'inventory', port: 8080 } },
    ],
  });
});

afterAll(async () => {
  model?.stop();
  await sb?.close();
});

describe('TrafficModel and DestinationRules', () => {
  it('auto mTLS: plaintext to a pod without a sidecar, mTLS to one with', () => {
    model.tick();
    expect(countOf('report', '200', '-')).toBe(1);
    expect(countOf('inventory', '200', '-')).toBe(1);
  });

  it("ISTIO_MUTUAL from a rule in the service's namespace toward a pod without a sidecar: 503 URX,UF, TLS error", () => {
    sb.store.put({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'report-mtls', namespace: 'legacy' },
      spec: { host: 'report', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } },
    });
    model.tick();
    // Istio's default retry policy retries the connect failure twice before giving up: URX, then UF.
    expect(countOf('report', '503', 'URX,UF')).toBe(1);
    expect(countOf('report', '200', '-')).toBe(1);
  });

  it('a rule kept home with exportTo "." does not reach callers in other namespaces', () => {
    sb.store.put({
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: 'legacy' },
      spec: { mtls: { mode: 'STRICT' } },
    });
    sb.store.put({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'inventory-plain', namespace: 'legacy' },
      spec: { host: 'inventory', exportTo: ['.'], trafficPolicy: { tls: { mode: 'DISABLE' } } },
    });
    model.tick();
    expect(countOf('inventory', '200', '-')).toBe(3); // one per tick so far, all mTLS
    expect(countOf('inventory', '503', 'UC')).toBe(0);
    // Exported to everyone, the same rule turns the shop caller's TLS off: STRICT refuses it.
    sb.store.put({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'inventory-plain', namespace: 'legacy' },
      spec: { host: 'inventory', trafficPolicy: { tls: { mode: 'DISABLE' } } },
    });
    model.tick();
    expect(countOf('inventory', '503', 'UC')).toBe(1);
  });
});
