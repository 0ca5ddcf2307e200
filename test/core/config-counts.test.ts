// config's counts and cut lists (issue 14, item 5): "1 pod", "2 VirtualServices", "1 HTTP route"; a list of pods cut
// at 15 says "and N more" and the whole list goes into the thread as a file.
import { describe, expect, it } from '@jest/globals';
import type { RenderMeta } from '../../src/command.ts';
import config, { type ConfigReport, summarize } from '../../src/features/core/config.ts';

const meta: RenderMeta = { cluster: 'demo', now: new Date(0), requester: { userId: 'U1', source: 'console' } };

const report = (pods: number, over: Partial<ConfigReport> = {}) => ({
  notServed: [] as string[],
  namespace: 'shop',
  rows: [],
  namespaces: [{ name: 'shop', injection: 'istio-injection=enabled' }],
  podsWithoutSidecar: Array.from({ length: pods }, (_, i) => ({ namespace: 'shop', name: `batch-${i}` })),
  podCount: pods + 1,
  ...over,
});

describe('config counts', () => {
  it('one pod reads as one pod', () => {
    const r = config.render(report(1), meta);
    expect(JSON.stringify(r.blocks)).toContain('*1 pod without an istio-proxy sidecar:* `batch-0`');
    expect(r.text).toContain('1 of 2 pods without a sidecar');
    expect(r.files ?? []).toEqual([]);
  });

  it('a long list says how many more and puts them all in a file', () => {
    const r = config.render(report(40), meta);
    const text = JSON.stringify(r.blocks);
    expect(text).toContain('*40 pods without an istio-proxy sidecar:*');
    expect(text).toContain('`batch-14` and 25 more (all of them are in the thread as `pods-without-sidecar.txt`)');
    expect(text).not.toContain('batch-15`');
    const file = r.files?.find((f) => f.filename === 'pods-without-sidecar.txt');
    expect(file?.content.split('\n').filter(Boolean)).toHaveLength(40);
  });

  it('routes and kinds are counted in words', () => {
    const vs = (spec: Record<string, unknown>) =>
      summarize({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'v' }, spec });
    expect(vs({ hosts: ['a'], http: [{}] })).toBe('hosts a · 1 HTTP route');
    expect(vs({ hosts: ['a'], http: [{}, {}], tcp: [{}] })).toBe('hosts a · 2 HTTP routes, 1 TCP route');
    const r = config.render(
      report(0, {
        podCount: 1,
        rows: [
          { kind: 'VirtualService', namespace: 'shop', name: 'a', summary: '' },
          { kind: 'VirtualService', namespace: 'shop', name: 'b', summary: '' },
          { kind: 'AuthorizationPolicy', namespace: 'shop', name: 'c', summary: '' },
        ],
      }),
      meta,
    );
    expect(r.text).toContain('2 VirtualServices');
    expect(r.text).toContain('1 AuthorizationPolicy');
    expect(JSON.stringify(r.blocks)).toContain('The one pod carries an istio-proxy sidecar.');
  });
});
