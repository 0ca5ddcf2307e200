import { describe, expect, it } from '@jest/globals';
import { UserError } from '../../src/errors.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { describeWorkload } from '../../src/mesh/workload.ts';
import { parseWorkloadRef, resolveWorkload, WorkloadNotFoundError } from '../../src/mesh/workload-ref.ts';
import { deployment, pod } from './mesh-fixtures.ts';

const snapshot = new MeshSnapshot([
  pod('bookinfo', 'reviews-v1-7d8f9c6b5-x2x4z', {
    labels: { app: 'reviews', version: 'v1' },
    owner: 'reviews-v1-7d8f9c6b5',
  }),
  pod('bookinfo', 'reviews-v2-5b6c7d8e9-k9k8j', {
    labels: { app: 'reviews', version: 'v2' },
    owner: 'reviews-v2-5b6c7d8e9',
  }),
  pod('bookinfo', 'ratings-v1-6c7d8e9f0-q1w2e', { labels: { app: 'ratings' } }),
  pod('shop', 'cart-1a2b3c4d5-zzzzz', { labels: { app: 'cart' }, owner: 'cart-1a2b3c4d5' }),
  deployment('bookinfo', 'reviews-v1', { app: 'reviews', version: 'v1' }),
]);

describe('parseWorkloadRef', () => {
  it.each([
    ['pod reviews-v1-abc.bookinfo', undefined, { kind: 'pod', name: 'reviews-v1-abc', namespace: 'bookinfo' }],
    ['po reviews-v1-abc -n bookinfo', undefined, { kind: 'pod', name: 'reviews-v1-abc', namespace: 'bookinfo' }],
    ['pod/reviews-v1-abc', 'bookinfo', { kind: 'pod', name: 'reviews-v1-abc', namespace: 'bookinfo' }],
    ['deployment reviews-v1.bookinfo', undefined, { kind: 'deployment', name: 'reviews-v1', namespace: 'bookinfo' }],
    [
      'deploy/reviews-v1 --namespace=bookinfo',
      undefined,
      { kind: 'deployment', name: 'reviews-v1', namespace: 'bookinfo' },
    ],
    ['app=reviews -n bookinfo', undefined, { kind: 'label', key: 'app', value: 'reviews', namespace: 'bookinfo' }],
    ['app.kubernetes.io/name=reviews', undefined, { kind: 'label', key: 'app.kubernetes.io/name', value: 'reviews' }],
    ['reviews-v1', 'bookinfo', { kind: 'any', name: 'reviews-v1', namespace: 'bookinfo' }],
  ])('%s', (text, ns, want) => {
    expect(parseWorkloadRef(text, ns)).toEqual(want);
  });

  it('rejects what is not a name, as a UserError', () => {
    expect(() => parseWorkloadRef('pod Bad_Name')).toThrow(UserError);
    expect(() => parseWorkloadRef('')).toThrow(/Which workload/);
  });
});

describe('resolveWorkload', () => {
  it('a pod by name', () => {
    const r = resolveWorkload(snapshot, parseWorkloadRef('pod reviews-v2-5b6c7d8e9-k9k8j.bookinfo'));
    expect(r.pods.map((p) => p.metadata.name)).toEqual(['reviews-v2-5b6c7d8e9-k9k8j']);
    expect(r.via).toBe('pod bookinfo/reviews-v2-5b6c7d8e9-k9k8j');
  });

  it('a Deployment name gives its pods; without the Deployment object, owner ReplicaSets do', () => {
    const r = resolveWorkload(snapshot, parseWorkloadRef('reviews-v1 -n bookinfo'));
    expect(r.pods.map((p) => p.metadata.name)).toEqual(['reviews-v1-7d8f9c6b5-x2x4z']);
    expect(r.via).toBe('Deployment bookinfo/reviews-v1 (1 pod)');
    const byOwner = resolveWorkload(snapshot, parseWorkloadRef('deployment reviews-v2.bookinfo'));
    expect(byOwner.pods.map((p) => p.metadata.name)).toEqual(['reviews-v2-5b6c7d8e9-k9k8j']);
  });

  it('a label, across namespaces when none is given', () => {
    expect(resolveWorkload(snapshot, parseWorkloadRef('app=reviews -n bookinfo')).pods).toHaveLength(2);
    const r = resolveWorkload(snapshot, parseWorkloadRef('app=cart'));
    expect(r.namespace).toBe('shop');
    expect(r.pods.map((p) => p.metadata.name)).toEqual(['cart-1a2b3c4d5-zzzzz']);
  });

  it("`pod <deployment name>` finds the Deployment's pods, as people type it", () => {
    const found = resolveWorkload(snapshot, parseWorkloadRef('pod reviews-v1.bookinfo'));
    expect(found.pods.map((p) => p.metadata.name)).toEqual(['reviews-v1-7d8f9c6b5-x2x4z']);
    expect(found.via).toContain('Deployment bookinfo/reviews-v1');
  });

  it('nothing found: a WorkloadNotFoundError with close names', () => {
    let err: unknown;
    try {
      resolveWorkload(snapshot, parseWorkloadRef('pod reviews-v1-7d8f9c6b5-x2x4q.bookinfo'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WorkloadNotFoundError);
    expect((err as WorkloadNotFoundError).message).toContain('No pod or Deployment named reviews-v1-7d8f9c6b5-x2x4q');
    expect((err as WorkloadNotFoundError).suggestions).toContain('reviews-v1-7d8f9c6b5-x2x4z.bookinfo');
    expect((err as WorkloadNotFoundError).hint).toMatch(/^Did you mean: /);
  });

  it('a typo in the name, and the right name in the wrong namespace', () => {
    const typo = () => resolveWorkload(snapshot, parseWorkloadRef('ratngs-v1-6c7d8e9f0-q1w2e.bookinfo'));
    expect(typo).toThrow(WorkloadNotFoundError);
    try {
      typo();
    } catch (e) {
      expect((e as WorkloadNotFoundError).suggestions).toEqual(['ratings-v1-6c7d8e9f0-q1w2e.bookinfo']);
    }
    try {
      resolveWorkload(snapshot, parseWorkloadRef('cart -n bookinfo'));
      throw new Error('expected not found');
    } catch (e) {
      expect((e as WorkloadNotFoundError).suggestions).toEqual(['cart-1a2b3c4d5-zzzzz.shop']);
    }
  });

  it('nothing close: the Deployments of the namespace are listed, not offered as guesses', () => {
    const err = catchError(() => resolveWorkload(snapshot, parseWorkloadRef('zzz -n bookinfo')));
    expect(err).toBeInstanceOf(WorkloadNotFoundError);
    expect((err as WorkloadNotFoundError).hint).toBe('Deployments in bookinfo: reviews-v1.bookinfo.');
    const empty = catchError(() => resolveWorkload(snapshot, parseWorkloadRef('zzz -n nowhere')));
    expect((empty as WorkloadNotFoundError).hint).toBe('Namespace nowhere has no pods or Deployments meshops can see.');
  });

  it("a Gateway's name: said so, with the gateway pods its selector picks in any namespace", () => {
    const withGateway = new MeshSnapshot([
      ...snapshot.list('Pod'),
      pod('istio-system', 'istio-ingressgateway-5f6d7c8b9-abcde', { labels: { istio: 'ingressgateway' } }),
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'Gateway',
        metadata: { name: 'shop-gw', namespace: 'shop' },
        spec: { selector: { istio: 'ingressgateway' }, servers: [] },
      },
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'Gateway',
        metadata: { name: 'orphan-gw', namespace: 'shop' },
        spec: { selector: { istio: 'nosuchgateway' }, servers: [] },
      },
    ]);
    const served = catchError(() =>
      resolveWorkload(withGateway, parseWorkloadRef('shop-gw -n shop')),
    ) as WorkloadNotFoundError;
    expect(served.message).toBe(
      'shop-gw is a Gateway in shop, not a workload: it is served by the pod labelled istio=ingressgateway.',
    );
    expect(served.suggestions).toEqual(['istio-ingressgateway-5f6d7c8b9-abcde.istio-system']);
    const orphan = catchError(() =>
      resolveWorkload(withGateway, parseWorkloadRef('orphan-gw -n shop')),
    ) as WorkloadNotFoundError;
    expect(orphan.message).toContain('no pod matches its selector istio=nosuchgateway');
    expect(orphan.suggestions).toEqual([]);
  });

  it('an unknown label lists the values that exist', () => {
    try {
      resolveWorkload(snapshot, parseWorkloadRef('app=review -n bookinfo'));
      throw new Error('expected not found');
    } catch (e) {
      expect(e).toBeInstanceOf(WorkloadNotFoundError);
      expect((e as WorkloadNotFoundError).suggestions).toEqual(['app=reviews', 'app=ratings']);
    }
  });

  it('describeWorkload: resolves, then describes the first Running pod', () => {
    const w = describeWorkload(snapshot, parseWorkloadRef('app=reviews -n bookinfo'));
    expect(w.via).toBe('label app=reviews (2 pods)');
    expect(w.pods.map((p) => p.name)).toEqual(['reviews-v1-7d8f9c6b5-x2x4z', 'reviews-v2-5b6c7d8e9-k9k8j']);
    expect(w.described.pod.name).toBe('reviews-v1-7d8f9c6b5-x2x4z');
    expect(() => describeWorkload(snapshot, parseWorkloadRef('nothing-here -n bookinfo'))).toThrow(
      WorkloadNotFoundError,
    );
  });
});

function catchError(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}
