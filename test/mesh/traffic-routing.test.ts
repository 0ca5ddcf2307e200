import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { virtualServicesForService } from '../../src/mesh/traffic-routing.ts';

const vs = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name, namespace: 'shop' },
  spec,
});
const noSubsets = {
  matching: new Set<string>(),
  nonMatching: new Set<string>(),
  empty: new Set<string>(),
  hasRule: false,
};

describe('VirtualServices that capture a service', () => {
  it('warns when a mesh VirtualService takes the service host and routes it all elsewhere', () => {
    const snap = new MeshSnapshot([
      vs('hijack', { hosts: ['cart'], http: [{ route: [{ destination: { host: 'legacy-cart' } }] }] }),
    ]);
    const [found] = virtualServicesForService(snap, 'cart', 'shop', noSubsets);
    expect(found?.warnings.join(' ')).toMatch(/captures requests for the service/);
  });

  it('does not warn for a gateway-bound VirtualService with host "*": sidecar callers never see it', () => {
    const snap = new MeshSnapshot([
      vs('ingress', {
        hosts: ['*'],
        gateways: ['shop-gateway'],
        http: [{ route: [{ destination: { host: 'frontend' } }] }],
      }),
    ]);
    const found = virtualServicesForService(snap, 'cart', 'shop', noSubsets);
    expect(found.flatMap((f) => f.warnings).join(' ')).not.toMatch(/captures/);
  });
});
