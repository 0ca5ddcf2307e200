// The canary scenario (canary-demo.yaml): orders v1 and v2 behind one Service, subsets in a
// DestinationRule, a VirtualService at 100/0, and web calling orders. v2's pod template carries the
// sandbox knobs for its error rate and latency (traffic-served.ts), so a healthy and a failing
// rollout can both be shown.
import type { KubeObject } from '../../kube/objects.ts';
import type { Flow } from '../traffic-model.ts';
import { demoFile } from './demo-mesh.ts';

export const CANARY_DEMO_FILE = 'canary-demo.yaml';
export const CANARY_NAMESPACE = 'canary';

export function canaryDemoObjects(): KubeObject[] {
  return demoFile(CANARY_DEMO_FILE);
}

export const CANARY_DEMO_FLOWS: readonly Flow[] = [
  {
    from: { namespace: CANARY_NAMESPACE, app: 'web' },
    to: { namespace: CANARY_NAMESPACE, service: 'orders', port: 8080 },
    path: '/orders',
    perTick: 10,
  },
];
