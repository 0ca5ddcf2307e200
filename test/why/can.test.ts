// /mesh can without a cluster: what a person types → the request (and our words for every mistake), and the
// evaluation over a snapshot: a Service port becomes its targetPort, pods that get different policies are
// answered apart, the mesh's trust domain is in the principal, and the answer always has fallback text.
import { describe, expect, it } from '@jest/globals';
import { UserError } from '../../src/errors.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { evaluateCan, parseCanWords } from '../../src/features/why/can.ts';
import { renderCan } from '../../src/features/why/can-words.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { istio, pod, service } from '../mesh/mesh-fixtures.ts';

function failsWith(words: string[], message: string, options = {}): void {
  let caught: unknown;
  try {
    parseCanWords(words, options);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(UserError);
  expect(`${(caught as UserError).message} ${(caught as UserError).hint ?? ''}`).toContain(message);
}

describe('parseCanWords', () => {
  it('source, destination, then port, method and path in any order', () => {
    expect(parseCanWords(['productpage.bookinfo', 'reviews.bookinfo', '9080', 'get', '/reviews/0'])).toEqual({
      source: { text: 'productpage.bookinfo', service: false },
      destination: { text: 'reviews.bookinfo', service: false },
      port: 9080,
      method: 'GET',
      path: '/reviews/0',
    });
    expect(parseCanWords(['a.x', 'b.x', '/p', 'POST', '80'])).toMatchObject({ port: 80, method: 'POST', path: '/p' });
  });

  it('from/to keywords, kinds with a slash or a space, -n, --host and --header', () => {
    expect(
      parseCanWords(['from', 'pod', 'p-1', 'to', 'svc/reviews'], {
        namespace: 'bookinfo',
        host: 'reviews:9080',
        headers: ['X-User=admin'],
      }),
    ).toEqual({
      source: { text: 'pod p-1', service: false },
      destination: { text: 'svc reviews', service: true },
      namespace: 'bookinfo',
      host: 'reviews:9080',
      headers: { 'x-user': 'admin' },
    });
  });

  it('says what is missing or wrong, and what to type', () => {
    failsWith([], 'Which source?');
    failsWith(['a.x'], 'Which destination?');
    failsWith(['a.x'], '/mesh can productpage.bookinfo reviews.bookinfo 9080 GET /reviews/0');
    failsWith(['a.x', 'svc'], 'Which svc is the destination?');
    failsWith(['a.x', 'b.x', '80', '81'], 'Two ports (80 and 81)');
    failsWith(['a.x', 'b.x', '70000'], 'not between 1 and 65535');
    failsWith(['a.x', 'b.x', 'banana'], "I don't know what `banana` is here");
    failsWith(['a.x', 'b.x', 'GET', 'PUT'], 'Two methods (GET and PUT)');
    failsWith(['a.x', 'b.x'], '`--header x-user` needs a name and a value', { headers: ['x-user'] });
  });
});

const withIdentity = (p: KubeObject, serviceAccountName: string, podIP: string): KubeObject => ({
  ...p,
  spec: { ...(p.spec as object), serviceAccountName },
  status: { ...(p.status as object), podIP },
});

function bookinfo(extra: KubeObject[] = [], meshConfig: Record<string, unknown> = {}): MeshSnapshot {
  return new MeshSnapshot(
    [
      withIdentity(
        pod('bookinfo', 'productpage-v1-abc12-xyz98', { labels: { app: 'productpage' } }),
        'bookinfo-productpage',
        '10.0.1.5',
      ),
      withIdentity(
        pod('bookinfo', 'reviews-v1-abc12-aaaaa', { labels: { app: 'reviews', version: 'v1' } }),
        'bookinfo-reviews',
        '10.0.2.1',
      ),
      withIdentity(
        pod('bookinfo', 'reviews-v2-abc12-bbbbb', { labels: { app: 'reviews', version: 'v2' } }),
        'bookinfo-reviews',
        '10.0.2.2',
      ),
      service('bookinfo', 'reviews', { app: 'reviews' }, [{ name: 'http', port: 80, targetPort: 9080 }]),
      service('bookinfo', 'productpage', { app: 'productpage' }, [{ name: 'http', port: 9080 }]),
      service('bookinfo', 'empty', { app: 'nobody' }, [{ name: 'http', port: 80 }]),
      ...extra,
    ],
    { meshConfig: { rootNamespace: 'istio-system', ...meshConfig } },
  );
}

const ask = (snapshot: MeshSnapshot, words: string[]) => evaluateCan(snapshot, parseCanWords(words));

describe('evaluateCan', () => {
  it('a Service port becomes the targetPort the sidecar sees', () => {
    const snapshot = bookinfo([
      istio('AuthorizationPolicy', 'bookinfo', 'only-9080', {
        selector: { matchLabels: { app: 'reviews' } },
        rules: [{ to: [{ operation: { ports: ['9080'] } }] }],
      }),
    ]);
    const r = ask(snapshot, ['productpage.bookinfo', 'reviews.bookinfo', '80', 'GET', '/']);
    expect(r.port).toBe(9080);
    expect(r.portNote).toBe('Service port 80 → target port 9080');
    expect(r.pairs.map((p) => p.verdict.decision)).toEqual(['ALLOWED', 'ALLOWED']);
    expect(r.destination.via).toBe('Service bookinfo/reviews (2 pods)');
  });

  it('pods that get different policies are answered apart, and the file has every pair', () => {
    const snapshot = bookinfo([
      istio('AuthorizationPolicy', 'bookinfo', 'deny-v2', {
        action: 'DENY',
        selector: { matchLabels: { version: 'v2' } },
        rules: [{}],
      }),
    ]);
    const r = ask(snapshot, ['productpage.bookinfo', 'reviews.bookinfo', '80', 'GET', '/']);
    expect(r.pairs.map((p) => [p.destination.labels.version, p.verdict.decision])).toEqual([
      ['v1', 'ALLOWED'],
      ['v2', 'DENIED'],
    ]);
    const out = renderCan(r);
    expect(out.text).toContain('ALLOWED / DENIED depending on the pod');
    expect(out.files?.map((f) => f.filename)).toContain('can-details.txt');
    expect(out.files?.find((f) => f.filename === 'can-details.txt')?.content).toContain('DENY policy bookinfo/deny-v2');
    expect(out.blocks.length).toBeLessThanOrEqual(50);
  });

  it("the principal carries the mesh's trust domain", () => {
    const snapshot = bookinfo(
      [
        istio('AuthorizationPolicy', 'bookinfo', 'a', {
          rules: [{ from: [{ source: { principals: ['example.org/ns/bookinfo/sa/bookinfo-productpage'] } }] }],
        }),
      ],
      { trustDomain: 'example.org' },
    );
    const r = ask(snapshot, ['productpage.bookinfo', 'reviews.bookinfo', '80']);
    expect(r.pairs[0]!.principal).toBe('example.org/ns/bookinfo/sa/bookinfo-productpage');
    expect(r.pairs[0]!.verdict.decision).toBe('ALLOWED');
    expect(renderCan(r).text).toMatch(/^ALLOWED: productpage.bookinfo → reviews.bookinfo/);
  });

  it('a Service port that does not exist, and a Service without pods, are our words', () => {
    expect(() => ask(bookinfo(), ['productpage.bookinfo', 'reviews.bookinfo', '7777'])).toThrow(
      'Service bookinfo/reviews (2 pods) has no port 7777.',
    );
    expect(() => ask(bookinfo(), ['productpage.bookinfo', 'svc/empty.bookinfo'])).toThrow('selects no pod right now');
  });

  it('a policy that cannot be read is said, not left out silently', () => {
    const snapshot = bookinfo([istio('AuthorizationPolicy', 'bookinfo', 'broken', { action: 'SOMETIMES' })]);
    const out = renderCan(ask(snapshot, ['productpage.bookinfo', 'reviews.bookinfo', '80', 'GET', '/']));
    expect(JSON.stringify(out.blocks)).toContain('Could not read 1 policy');
    expect(JSON.stringify(out.blocks)).toContain('AuthorizationPolicy bookinfo/broken');
  });
});
