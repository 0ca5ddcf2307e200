// RFC 6902 / RFC 7386 / strategic merge patch semantics, as pure functions.
import { describe, expect, it } from '@jest/globals';
import { applyJsonPatch, applyMergePatch, type Json, PatchError, strategicMerge } from '../../src/sandbox/patch.ts';

describe('applyJsonPatch', () => {
  const doc: Json = { a: { b: [1, 2, 3] }, s: 'x' };

  it('adds, removes, replaces, moves, copies, and appends with -', () => {
    const out = applyJsonPatch(doc, [
      { op: 'add', path: '/a/b/-', value: 4 },
      { op: 'add', path: '/a/b/0', value: 0 },
      { op: 'remove', path: '/a/b/1' },
      { op: 'replace', path: '/s', value: 'y' },
      { op: 'copy', from: '/s', path: '/t' },
      { op: 'move', from: '/t', path: '/a/u~1v' },
      { op: 'test', path: '/a/u~1v', value: 'y' },
    ]);
    expect(out).toEqual({ a: { b: [0, 2, 3, 4], 'u/v': 'y' }, s: 'y' });
    expect(doc).toEqual({ a: { b: [1, 2, 3] }, s: 'x' });
  });

  it('fails on a failed test, a missing path, or an out-of-range index', () => {
    expect(() => applyJsonPatch(doc, [{ op: 'test', path: '/s', value: 'nope' }])).toThrow(PatchError);
    expect(() => applyJsonPatch(doc, [{ op: 'remove', path: '/x/missing' }])).toThrow(PatchError);
    expect(() => applyJsonPatch(doc, [{ op: 'remove', path: '/a/b/3' }])).toThrow(PatchError);
    expect(() => applyJsonPatch(doc, [{ op: 'add', path: '/a/b/9', value: 1 }])).toThrow(PatchError);
    expect(() => applyJsonPatch(doc, [{ op: 'add', path: '/x/y', value: 1 }])).toThrow(PatchError);
    expect(() => applyJsonPatch(doc, [{ op: 'move', from: '/missing', path: '/t' }])).toThrow(PatchError);
  });

  it('replaces a missing member by adding it and removes a missing member silently (evanphx/json-patch v4, as the API server)', () => {
    expect(applyJsonPatch(doc, [{ op: 'replace', path: '/missing', value: 1 }])).toEqual({
      ...(doc as object),
      missing: 1,
    });
    expect(applyJsonPatch(doc, [{ op: 'remove', path: '/missing' }])).toEqual(doc);
  });
});

describe('applyMergePatch', () => {
  it('merges maps, deletes on null and replaces lists', () => {
    expect(applyMergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { a: null, b: { c: 5 }, l: [9] })).toEqual({
      b: { c: 5, d: 3 },
      l: [9],
    });
  });
});

describe('strategicMerge', () => {
  const deployment: Json = {
    spec: {
      template: {
        metadata: { annotations: { a: '1' } },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'app:1',
              ports: [{ containerPort: 80, name: 'http' }],
              env: [{ name: 'X', value: '1' }],
            },
            { name: 'side', image: 'side:1' },
          ],
          tolerations: [{ key: 'a' }],
        },
      },
    },
  };

  it('merges containers by name, ports by containerPort, env by name', () => {
    const out = strategicMerge(deployment, {
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'app',
                image: 'app:2',
                ports: [{ containerPort: 80, protocol: 'TCP' }],
                env: [{ name: 'Y', value: '2' }],
              },
            ],
          },
        },
      },
    }) as { spec: { template: { spec: { containers: Json[] } } } };
    expect(out.spec.template.spec.containers).toEqual([
      {
        name: 'app',
        image: 'app:2',
        ports: [{ containerPort: 80, name: 'http', protocol: 'TCP' }],
        env: [
          { name: 'Y', value: '2' },
          { name: 'X', value: '1' },
        ],
      },
      { name: 'side', image: 'side:1' },
    ]);
  });

  it('orders merged lists as the API server does: new patch items before the live-only ones they precede', () => {
    const live: Json = { containers: [{ name: 'c', image: 'nginx' }] };
    const out = strategicMerge(live, { containers: [{ name: 'side', image: 'busybox' }] }) as {
      containers: { name: string }[];
    };
    expect(out.containers.map((c) => c.name)).toEqual(['side', 'c']);
    const three: Json = { containers: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] };
    const out2 = strategicMerge(three, {
      containers: [{ name: 'c', image: 'x' }, { name: 'new' }, { name: 'a', image: 'y' }],
    }) as { containers: { name: string }[] };
    expect(out2.containers.map((c) => c.name)).toEqual(['b', 'c', 'new', 'a']);
  });

  it('honours $patch delete/replace, $setElementOrder and $deleteFromPrimitiveList; lists without a key are replaced', () => {
    const out = strategicMerge(deployment, {
      spec: {
        template: {
          metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': 't' } },
          spec: {
            '$setElementOrder/containers': [{ name: 'app' }],
            containers: [{ name: 'side', $patch: 'delete' }],
            tolerations: [{ key: 'b' }],
          },
        },
      },
      metadata: { finalizers: ['x'], '$deleteFromPrimitiveList/finalizers': ['y'] },
    } as unknown as Json) as {
      spec: {
        template: { metadata: { annotations: Json }; spec: { containers: { name: string }[]; tolerations: Json } };
      };
      metadata: Json;
    };
    expect(out.spec.template.metadata.annotations).toEqual({ a: '1', 'kubectl.kubernetes.io/restartedAt': 't' });
    expect(out.spec.template.spec.containers.map((c) => c.name)).toEqual(['app']);
    expect(out.spec.template.spec.tolerations).toEqual([{ key: 'b' }]);
    expect(out.metadata).toEqual({ finalizers: ['x'] });
    const replaced = strategicMerge({ m: { a: 1, b: 2 } }, { m: { $patch: 'replace', c: 3 } });
    expect(replaced).toEqual({ m: { c: 3 } });
  });

  it('merges Service ports on port, not containerPort', () => {
    const out = strategicMerge(
      {
        spec: {
          ports: [
            { port: 80, name: 'http' },
            { port: 443, name: 'https' },
          ],
        },
      },
      { spec: { ports: [{ port: 443, targetPort: 8443 }] } },
    );
    expect(out).toEqual({
      spec: {
        ports: [
          { port: 80, name: 'http' },
          { port: 443, name: 'https', targetPort: 8443 },
        ],
      },
    });
  });
});
