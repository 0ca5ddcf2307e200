import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { describeService, ServiceNotFoundError } from '../../src/mesh/workload.ts';
import { istio, pod, service } from './mesh-fixtures.ts';

function notReadyProxy(p: KubeObject): KubeObject {
  return {
    ...p,
    status: {
      phase: 'Running',
      containerStatuses: [
        { name: 'app', ready: true },
        { name: 'istio-proxy', ready: false },
      ],
    },
  };
}

describe('describeService', () => {
  const snapshot = new MeshSnapshot([
    pod('shop', 'cart-a', { labels: { app: 'cart', version: 'v1' }, ports: [{ containerPort: 7070, name: 'grpc' }] }),
    notReadyProxy(
      pod('shop', 'cart-b', { labels: { app: 'cart', version: 'v2' }, ports: [{ containerPort: 7070, name: 'grpc' }] }),
    ),
    pod('shop', 'cart-c', {
      labels: { app: 'cart', version: 'v1' },
      sidecar: false,
      ports: [{ containerPort: 7070, name: 'grpc' }],
    }),
    service('shop', 'cart', { app: 'cart' }, [{ name: 'grpc-api', port: 80, targetPort: 'grpc' }]),
    service('shop', 'empty', { app: 'nothing' }, [{ port: 80 }]),
    istio('DestinationRule', 'shop', 'cart', {
      host: 'cart',
      subsets: [
        { name: 'v1', labels: { version: 'v1' } },
        { name: 'v2', labels: { version: 'v2' } },
      ],
    }),
    istio('VirtualService', 'shop', 'cart-canary', {
      hosts: ['cart'],
      http: [{ route: [{ destination: { host: 'cart-canary' } }] }],
    }),
    istio('PeerAuthentication', 'shop', 'cart', {
      selector: { matchLabels: { app: 'cart' } },
      mtls: { mode: 'STRICT' },
      portLevelMtls: { '7070': { mode: 'PERMISSIVE' } },
    }),
  ]);
  const d = describeService(snapshot, 'cart', 'shop');

  it('ports with protocol and the written targetPort; pods with sidecar and readiness', () => {
    expect(d.ports.map((p) => `${p.port}->${p.targetPort} ${p.protocol.display}`)).toEqual(['80->grpc GRPC']);
    expect(d.pods.map((p) => `${p.pod.name} sidecar=${p.hasSidecar} ready=${p.proxyReady}`)).toEqual([
      'cart-a sidecar=true ready=true',
      'cart-b sidecar=true ready=false',
      'cart-c sidecar=false ready=undefined',
    ]);
    expect(d.meshedPods.map((p) => p.name)).toEqual(['cart-a']);
  });

  it('subsets are judged on the meshed, ready pods (as istioctl does); the rest still count for "selects no pods"', () => {
    const dr = d.destinationRules[0]!;
    expect(dr.matchingSubsets).toEqual(['v1']);
    expect(dr.nonMatchingSubsets).toEqual(['v2']);
    expect(dr.subsetsSelectingNoPods).toEqual([]);
  });

  it('PeerAuthentication resolves the named targetPort to the pod port', () => {
    expect(d.peerAuthentication?.ports.map((p) => `${p.port} ${p.mode} ${p.decidedBy.level}`)).toEqual([
      '7070 PERMISSIVE port',
    ]);
  });

  it('warns about pods without sidecar and a VirtualService that sends the traffic elsewhere', () => {
    expect(d.warnings.map((w) => w.code)).toEqual(['no-sidecar', 'no-route-reaches-pod']);
    expect(d.warnings[1]!.message).toBe(
      'VirtualService shop/cart-canary: no route sends traffic to cart: it captures requests for the service and sends them all elsewhere (for callers in all namespaces)',
    );
  });

  it('a service without pods, and one that does not exist', () => {
    expect(describeService(snapshot, 'empty', 'shop').warnings).toEqual([
      { code: 'no-pods', message: 'Service empty has no pods' },
    ]);
    expect(() => describeService(snapshot, 'nope', 'shop')).toThrow(ServiceNotFoundError);
  });
});
