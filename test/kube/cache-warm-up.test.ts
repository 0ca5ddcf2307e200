// The watch cache is filled once after a start, before any command (src/cache-warm-up.ts): against the sandbox, the
// warm-up lists and watches what a snapshot reads, and the first snapshot after it lists nothing again; a client
// without a cache is left alone; a cluster that refuses is logged, not thrown.
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cacheWarmUp } from '../../src/cache-warm-up.ts';
import { WatchCache, attachWatchCache, withCacheScope } from '../../src/kube/watch-cache.ts';
import { createLogger } from '../../src/log.ts';
import { loadLiveSnapshot } from '../../src/mesh/live-snapshot.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { kubeOf, meshSeed } from '../stale/support.ts';

let sb: Sandbox | undefined;
const caches: WatchCache[] = [];
afterEach(async () => {
  for (const c of caches.splice(0)) c.close();
  await sb?.close();
  sb = undefined;
});

function logCapture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { log: createLogger({ level: 'info', destination }), lines };
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const podLists = (s: Sandbox) =>
  s.requests.filter((r) => r.path === '/api/v1/pods' && !/(^|&)watch=/.test(r.query)).length;

describe('cacheWarmUp', () => {
  it('fills the cache before any command, so the first snapshot lists nothing again', async () => {
    sb = await startSandbox({ controllers: false, seed: meshSeed() });
    const kube = kubeOf(sb);
    const cache = new WatchCache(kube);
    caches.push(cache);
    attachWatchCache(kube, cache);
    const { log, lines } = logCapture();
    cacheWarmUp([{ name: 'lab', kube }], log).start?.();
    await until('the warm-up to finish', () => lines.some((l) => l.msg === 'watch cache filled'));
    expect(podLists(sb)).toBe(1);
    expect(lines.find((l) => l.msg === 'watch cache filled')).toMatchObject({ cluster: 'lab' });
    const before = sb.requests.length;
    const { value } = await withCacheScope(true, () => loadLiveSnapshot(kube));
    expect(value.list('Pod').length).toBeGreaterThan(0);
    expect(podLists(sb)).toBe(1);
    // Nothing listed again: at most the watches the informers reopen.
    expect(sb.requests.slice(before).filter((r) => !/(^|&)watch=/.test(r.query))).toEqual([]);
  });

  it('leaves a client without a cache alone (MESHOPS_WATCH_CACHE=false)', async () => {
    sb = await startSandbox({ controllers: false, seed: meshSeed() });
    const { log, lines } = logCapture();
    cacheWarmUp([{ name: 'lab', kube: kubeOf(sb) }], log).start?.();
    await new Promise((r) => setTimeout(r, 100));
    expect(sb.requests).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('logs a cluster it cannot read and throws nothing', async () => {
    sb = await startSandbox({ controllers: false, seed: meshSeed() });
    const kube = kubeOf(sb);
    const cache = new WatchCache(kube);
    caches.push(cache);
    attachWatchCache(kube, cache);
    await sb.close();
    sb = undefined;
    const { log, lines } = logCapture();
    cacheWarmUp([{ name: 'gone', kube }], log).start?.();
    await until('the warning', () => lines.some((l) => l.msg === 'watch cache warm-up failed; commands will fill it'));
    expect(lines.find((l) => l.level === 40)).toMatchObject({ cluster: 'gone' });
  });
});
