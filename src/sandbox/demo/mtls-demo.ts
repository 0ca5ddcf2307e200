// The mTLS migration scenario: shop (ready for STRICT) and legacy (a plaintext caller), with the
// traffic that makes the difference visible in metrics and access logs. Bookinfo's own calls and the
// ingress gateway's run too, so the demo's gateway log has something to show.
import type { KubeObject } from '../../kube/objects.ts';
import type { Sandbox } from '../server.ts';
import { type Flow, TrafficModel, type TrafficModelOptions } from '../traffic-model.ts';
import { CHECKOUT_DEMO_FLOWS } from './checkout-demo.ts';
import { demoFile } from './demo-mesh.ts';
import { GOTCHAS_DEMO_FLOWS } from './gotchas-demo.ts';
import { CANARY_DEMO_FLOWS } from './canary-demo.ts';

export const MTLS_DEMO_FILE = 'mtls-demo.yaml';

export function mtlsDemoObjects(): KubeObject[] {
  return demoFile(MTLS_DEMO_FILE);
}

export const MTLS_DEMO_FLOWS: readonly Flow[] = [
  {
    from: { namespace: 'shop', app: 'frontend' },
    to: { namespace: 'shop', service: 'cart', port: 8080 },
    path: '/cart/items',
  },
  {
    from: { namespace: 'legacy', app: 'batch-report' },
    to: { namespace: 'legacy', service: 'inventory', port: 8080 },
    path: '/inventory/export',
  },
];

/** Bookinfo's calls, when the base demo mesh is loaded too. */
export const BOOKINFO_FLOWS: readonly Flow[] = [
  {
    from: { namespace: 'istio-system', app: 'istio-ingressgateway' },
    to: { namespace: 'bookinfo', service: 'productpage', port: 9080 },
    path: '/productpage',
  },
  {
    from: { namespace: 'bookinfo', app: 'productpage' },
    to: { namespace: 'bookinfo', service: 'reviews', port: 9080 },
    path: '/reviews/0',
  },
  {
    from: { namespace: 'bookinfo', app: 'productpage' },
    to: { namespace: 'bookinfo', service: 'details', port: 9080 },
    path: '/details/0',
  },
  {
    from: { namespace: 'bookinfo', app: 'reviews' },
    to: { namespace: 'bookinfo', service: 'ratings', port: 9080 },
    path: '/ratings/0',
  },
];

/**
 * Starts the traffic model on a sandbox seeded with mtlsDemoObjects() (and, optionally, the base demo and
 * the checkout scenario: flows whose callers are not there send nothing).
 */
export function startMtlsTraffic(sandbox: Sandbox, options: Partial<TrafficModelOptions> = {}): TrafficModel {
  const model = new TrafficModel(sandbox, {
    flows: [...MTLS_DEMO_FLOWS, ...BOOKINFO_FLOWS, ...CHECKOUT_DEMO_FLOWS, ...GOTCHAS_DEMO_FLOWS, ...CANARY_DEMO_FLOWS],
    ...options,
  });
  model.tick();
  model.start();
  return model;
}
