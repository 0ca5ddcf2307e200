// The weight change as a JSON patch: its operations, the marker annotations, and the API server (the
// sandbox) refusing it once someone else changed the weights, so nothing is overwritten. And the
// marks Flagger and Argo Rollouts leave, which make meshops refuse.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeApiError } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { managedBy, markerOps, readCanary, weightPatch } from '../../src/features/canary/routes.ts';
import { canaryDemoObjects } from '../../src/sandbox/demo/canary-demo.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { kubeFor } from '../approvals/support.ts';

const vs = (extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'orders', namespace: 'canary', ...extra },
  spec: {},
});

describe('weightPatch', () => {
  it('tests every subset and weight as read, then sets canary and stable', () => {
    const ops = weightPatch(
      [
        {
          index: 1,
          destinations: [
            { index: 0, subset: 'v1', weight: 95 },
            { index: 1, subset: 'v2', weight: 5 },
          ],
        },
      ],
      'v2',
      25,
    );
    expect(ops).toEqual([
      { op: 'test', path: '/spec/http/1/route/0/destination/subset', value: 'v1' },
      { op: 'test', path: '/spec/http/1/route/0/weight', value: 95 },
      { op: 'test', path: '/spec/http/1/route/1/destination/subset', value: 'v2' },
      { op: 'test', path: '/spec/http/1/route/1/weight', value: 5 },
      { op: 'replace', path: '/spec/http/1/route/0/weight', value: 75 },
      { op: 'replace', path: '/spec/http/1/route/1/weight', value: 25 },
    ]);
  });

  it('adds a weight that is missing (tested by its subset only)', () => {
    const ops = weightPatch(
      [
        {
          index: 0,
          destinations: [
            { index: 0, subset: 'v1', weight: 100 },
            { index: 1, subset: 'v2' },
          ],
        },
      ],
      'v2',
      5,
    );
    expect(ops.filter((o) => o.path === '/spec/http/0/route/1/weight')).toEqual([
      { op: 'add', path: '/spec/http/0/route/1/weight', value: 5 },
    ]);
  });

  it('marks the request id beside existing annotations, or creates the map', () => {
    expect(markerOps(vs({ annotations: { a: 'b' } }), 'r1', 'v2')).toEqual([
      { op: 'add', path: '/metadata/annotations/meshops.dev~1canary-request', value: 'r1' },
      { op: 'add', path: '/metadata/annotations/meshops.dev~1canary-subset', value: 'v2' },
    ]);
    expect(markerOps(vs(), 'r1', 'v2')).toEqual([
      {
        op: 'add',
        path: '/metadata/annotations',
        value: { 'meshops.dev/canary-request': 'r1', 'meshops.dev/canary-subset': 'v2' },
      },
    ]);
  });
});

describe('managedBy', () => {
  it('names Flagger from its owner reference, Argo Rollouts from its annotation on the VirtualService or the DestinationRule', () => {
    const uid = 'u';
    expect(
      managedBy(vs({ ownerReferences: [{ apiVersion: 'flagger.app/v1beta1', kind: 'Canary', name: 'orders', uid }] })),
    ).toBe('Flagger (Canary orders)');
    expect(managedBy(vs({ annotations: { 'argo-rollouts.argoproj.io/managed-by-rollouts': 'orders' } }))).toBe(
      'Argo Rollouts (Rollout orders)',
    );
    const dr: KubeObject = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: {
        name: 'orders',
        namespace: 'canary',
        annotations: { 'argo-rollouts.argoproj.io/managed-by-rollouts': 'orders-rollout' },
      },
    };
    expect(managedBy(vs(), [dr])).toBe('Argo Rollouts (Rollout orders-rollout, which marks DestinationRule orders)');
    expect(
      managedBy(vs({ ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'x', uid }] })),
    ).toBeUndefined();
  });
});

describe('the patch on the API server', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox({ seed: canaryDemoObjects() });
    sb.settle();
  });
  afterAll(async () => {
    await sb?.close();
  });

  it('applies on the weights it saw, and is refused after a concurrent edit, changing nothing', async () => {
    const kube = kubeFor(sb);
    const view = (await readCanary(kube, 'canary', 'orders'))!;
    expect(view.canary).toBe('v2');
    expect(view.canaryWeight).toBe(0);
    const ops = weightPatch(view.routes, 'v2', 5);
    await kube.patch('VirtualService', 'canary', 'orders', ops, 'json', { dryRun: true });
    // Someone else moves the weights after the preview.
    await kube.patch(
      'VirtualService',
      'canary',
      'orders',
      [
        { op: 'replace', path: '/spec/http/0/route/1/weight', value: 10 },
        { op: 'replace', path: '/spec/http/0/route/0/weight', value: 90 },
      ],
      'json',
    );
    const refused = await kube.patch('VirtualService', 'canary', 'orders', ops, 'json').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(KubeApiError);
    expect((refused as KubeApiError).status).toBe(422);
    const after = (await readCanary(kube, 'canary', 'orders'))!;
    expect(after.canaryWeight).toBe(10);
    // From the weights as they are now, the same step applies.
    await kube.patch('VirtualService', 'canary', 'orders', weightPatch(after.routes, 'v2', 25), 'json');
    expect((await readCanary(kube, 'canary', 'orders'))!.canaryWeight).toBe(25);
  });
});
