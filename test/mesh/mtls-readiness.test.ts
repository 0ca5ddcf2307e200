import { describe, expect, it } from '@jest/globals';
import { plaintextCallers } from '../../src/envoy/istio-metrics.ts';
import { meshTlsReadiness } from '../../src/mesh/mtls-readiness.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { istio, namespaceObj, pod, service } from './mesh-fixtures.ts';

const ready = [
  namespaceObj('payments', { 'istio-injection': 'enabled' }),
  pod('payments', 'ledger-6f7d8-aaaaa', { labels: { app: 'ledger' }, owner: 'ledger-6f7d8' }),
  pod('payments', 'ledger-6f7d8-bbbbb', { labels: { app: 'ledger' }, owner: 'ledger-6f7d8' }),
  service('payments', 'ledger', { app: 'ledger' }, [{ name: 'http', port: 80, targetPort: 9080 }]),
];

const mixed = [
  namespaceObj('shop'),
  pod('shop', 'cart-1a2b3-ccccc', { labels: { app: 'cart' }, owner: 'cart-1a2b3' }),
  pod('shop', 'legacy-cron', { labels: { app: 'legacy' }, sidecar: false }),
  service('shop', 'cart', { app: 'cart' }, [{ name: 'grpc', port: 7070 }]),
  istio('PeerAuthentication', 'shop', 'cart-permissive', {
    selector: { matchLabels: { app: 'cart' } },
    mtls: { mode: 'PERMISSIVE' },
  }),
  istio('DestinationRule', 'frontend', 'cart-plain', {
    host: 'cart.shop.svc.cluster.local',
    trafficPolicy: { tls: { mode: 'DISABLE' } },
  }),
  istio('DestinationRule', 'shop', 'cart-mtls', {
    host: 'cart',
    trafficPolicy: { portLevelSettings: [{ port: { number: 7070 }, tls: { mode: 'ISTIO_MUTUAL' } }] },
  }),
];

const metrics = [
  'istio_requests_total{reporter="destination",source_workload="unknown",source_workload_namespace="unknown",source_principal="unknown",destination_workload="cart",destination_workload_namespace="shop",response_code="200",connection_security_policy="none"} 12',
  'istio_requests_total{reporter="destination",source_workload="productpage-v1",source_workload_namespace="bookinfo",destination_workload="ledger",destination_workload_namespace="payments",response_code="200",connection_security_policy="mutual_tls"} 500',
].join('\n');

describe('meshTlsReadiness', () => {
  it('a namespace with sidecars everywhere and no plaintext callers is ready', () => {
    const r = meshTlsReadiness(new MeshSnapshot(ready), 'payments', plaintextCallers(metrics));
    expect(r.verdict).toBe('ready');
    expect(r.reasons).toEqual([]);
    expect(r.workloads).toEqual([
      expect.objectContaining({
        workload: 'ledger',
        hasSidecar: true,
        mode: 'PERMISSIVE',
        pods: [
          expect.objectContaining({ name: 'ledger-6f7d8-aaaaa' }),
          expect.objectContaining({ name: 'ledger-6f7d8-bbbbb' }),
        ],
      }),
    ]);
    expect(r.workloads[0]!.ports.map((p) => `${p.port} ${p.mode}`)).toEqual(['9080 PERMISSIVE']);
    expect(r.plaintextCallers).toEqual([]);
  });

  it('without metrics the verdict stays "not ready": plaintext callers cannot be ruled out', () => {
    const r = meshTlsReadiness(new MeshSnapshot(ready), 'payments', undefined);
    expect(r.ready).toBe(false);
    expect(r.reasons).toEqual(['No metrics were read, so plaintext callers cannot be ruled out.']);
  });

  it('a plaintext caller, a pod without sidecar and a DestinationRule disabling TLS: not ready, with each reason', () => {
    const r = meshTlsReadiness(new MeshSnapshot(mixed), 'shop', plaintextCallers(metrics));
    expect(r.verdict).toBe('not ready');
    expect(r.podsWithoutSidecar.map((p) => p.name)).toEqual(['legacy-cron']);
    expect(r.destinationRuleOverrides).toEqual([
      expect.objectContaining({
        rule: expect.objectContaining({ namespace: 'frontend', name: 'cart-plain' }),
        tlsMode: 'DISABLE',
        at: 'top level',
        visibleTo: 'all namespaces',
      }),
    ]);
    expect(r.plaintextCallers?.map((c) => `${c.source} -> ${c.destinationWorkload}: ${c.requests}`)).toEqual([
      'unknown (no sidecar) -> cart: 12',
    ]);
    expect(r.reasons).toEqual([
      '1 pod has no sidecar (legacy-cron): it sends plaintext, which STRICT rejects, and cannot present a mesh identity.',
      'DestinationRule frontend/cart-plain sets tls.mode DISABLE for cart.shop.svc.cluster.local (top level): callers using this rule send plaintext; under STRICT their requests fail.',
      'unknown (no sidecar) called cart in plaintext, 12 requests (all 200): it has no sidecar.',
    ]);
    // The workload policy keeps PERMISSIVE even after a namespace-wide STRICT: said, not blocking.
    expect(r.notes).toEqual([
      'cart: PeerAuthentication shop/cart-permissive sets PERMISSIVE for this workload and would stay in force under a namespace-wide STRICT.',
    ]);
    expect(
      r.workloads.map(
        (w) => `${w.workload} ${w.hasSidecar ? 'meshed' : 'no sidecar'} ${w.mode} by ${w.decidedBy.level}`,
      ),
    ).toEqual(['cart meshed PERMISSIVE by workload', 'legacy no sidecar PERMISSIVE by default']);
  });

  it('a namespace already STRICT says so', () => {
    const r = meshTlsReadiness(
      new MeshSnapshot([
        ...ready,
        istio('PeerAuthentication', 'istio-system', 'default', { mtls: { mode: 'STRICT' } }),
      ]),
      'payments',
      [],
    );
    expect(r.ready).toBe(true);
    expect(r.notes).toEqual(['Every workload already runs STRICT.']);
  });
});
