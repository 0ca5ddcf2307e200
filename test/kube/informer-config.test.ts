// MESHOPS_WATCH_CACHE: on unless set to false; connect() gives each cluster's client its watch cache only when on.
import { describe, expect, it } from '@jest/globals';
import { loadSettings } from '../../src/config.ts';
import { connect } from '../../src/kube/connect.ts';
import { watchCacheOf } from '../../src/kube/watch-cache.ts';

describe('MESHOPS_WATCH_CACHE', () => {
  it('defaults to on; true and false are read; anything else stops start-up', () => {
    expect(loadSettings({}).watchCache).toBe(true);
    expect(loadSettings({ MESHOPS_WATCH_CACHE: 'true' }).watchCache).toBe(true);
    expect(loadSettings({ MESHOPS_WATCH_CACHE: 'false' }).watchCache).toBe(false);
    expect(() => loadSettings({ MESHOPS_WATCH_CACHE: 'yes' })).toThrow(/MESHOPS_WATCH_CACHE/);
  });

  it('connect() attaches a cache to the demo cluster when on, none when off', async () => {
    for (const [value, attached] of [
      ['true', true],
      ['false', false],
    ] as const) {
      const c = await connect(loadSettings({ MESHOPS_KUBE: 'demo', MESHOPS_WATCH_CACHE: value }));
      try {
        expect(Boolean(watchCacheOf(c.clusters[0]?.kube as never))).toBe(attached);
      } finally {
        await c.close();
      }
    }
  });
});
