// /mesh stale through the router with the watch cache on, against the sandbox (requests counted where it serves
// them): the first command lists each kind once, the next nine list nothing; a change in the cluster is in the
// next answer; the footer says the view came from the cache and how fresh it is; with the cache off, nothing
// changes (every command lists, no such line).
import { afterEach, describe, expect, it } from '@jest/globals';
import { renderedToText } from '../../src/blocks/block-kit.ts';
import stale from '../../src/features/stale/stale.ts';
import type { KubeClient } from '../../src/kube/client.ts';
import { WatchCache, attachWatchCache, cachedList } from '../../src/kube/watch-cache.ts';
import { defineCommand } from '../../src/command.ts';
import { z } from 'zod';
import type { ApprovalsPort } from '../../src/services.ts';
import { createLogger } from '../../src/log.ts';
import { Router } from '../../src/router.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { ISTIODS, kubeOf, meshSeed, serveScenario, workloadObjects } from '../stale/support.ts';

let sb: Sandbox | undefined;
let cache: WatchCache | undefined;
afterEach(async () => {
  cache?.close();
  cache = undefined;
  await sb?.close();
  sb = undefined;
});

const user = { userId: 'U0SRE001', source: 'cli' as const };
const isList = (r: { method: string; path: string; query: string }) =>
  r.method === 'GET' &&
  !/(^|&)watch=1/.test(r.query) &&
  /\/(api\/v1|apis\/[^/]+\/[^/]+)(\/namespaces\/[^/]+)?\/[a-z]+$/.test(r.path);

async function setup(withCache: boolean): Promise<{ router: Router; kube: KubeClient; s: Sandbox }> {
  const s = await startSandbox({ controllers: false, seed: meshSeed() });
  sb = s;
  serveScenario(s, { istiods: ISTIODS });
  const kube = kubeOf(s);
  if (withCache) {
    cache = new WatchCache(kube, { watchTimeoutSeconds: 60 });
    attachWatchCache(kube, cache);
  }
  const router = new Router({
    commands: [stale],
    clusters: [{ name: 'lab', kube }],
    log: createLogger({ level: 'silent' }),
  });
  return { router, kube, s };
}

describe('stale through the router with the watch cache', () => {
  it('10 sequential commands: the lists are made once, then none; answers the same as without the cache', async () => {
    const { router, s } = await setup(true);
    const perCommand: number[] = [];
    const texts: string[] = [];
    for (let i = 0; i < 10; i++) {
      const before = s.requests.length;
      const r = await router.handle('stale bookinfo', user);
      expect(r.outcome).toBe('ok');
      texts.push(r.rendered.text);
      perCommand.push(s.requests.slice(before).filter(isList).length);
    }
    // The first: one list per snapshot kind (11) and the istio ConfigMap's list by name (the mesh config).
    expect(perCommand[0]).toBe(12);
    expect(perCommand.slice(1)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(new Set(texts).size).toBe(1);
    expect(texts[0]).toBe('All 6 proxies in bookinfo are SYNCED (CDS, LDS, EDS, RDS).');

    await sb?.close();
    cache?.close();
    cache = undefined;
    const off = await setup(false);
    const lists: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = off.s.requests.length;
      const r = await off.router.handle('stale bookinfo', user);
      expect(r.rendered.text).toBe(texts[0]);
      expect(renderedToText(r.rendered)).not.toContain('watch cache');
      lists.push(off.s.requests.slice(before).filter(isList).length);
    }
    expect(lists).toEqual([11, 11, 11]);
  });

  it('the namespace check asks the cache first: no GET once it knows the namespace; one it does not know is still refused', async () => {
    const { router, s } = await setup(true);
    await router.handle('stale bookinfo', user);
    const before = s.requests.length;
    expect((await router.handle('stale bookinfo', user)).outcome).toBe('ok');
    const nsGets = s.requests.slice(before).filter((r) => r.path === '/api/v1/namespaces/bookinfo');
    expect(nsGets).toEqual([]);
    const unknown = await router.handle('stale nosuchns', user);
    expect(unknown.outcome).not.toBe('ok');
    expect(unknown.rendered.text).toMatch(/nosuchns/);
    expect(s.requests.some((r) => r.path === '/api/v1/namespaces/nosuchns')).toBe(true);
  });

  it('a change in the cluster is in the next answer, and the footer says how fresh the view is', async () => {
    const { router, s } = await setup(true);
    const first = await router.handle('stale bookinfo', user);
    expect(renderedToText(first.rendered)).toMatch(/cluster view from meshops' watch cache, in sync as of \d+s ago/);
    // A new proxy that no istiod knows: the next answer must see its pod (from the watch), and say it is not synced.
    for (const o of workloadObjects({
      namespace: 'bookinfo',
      deployment: 'ratings-v2',
      labels: { app: 'ratings', version: 'v2' },
      replicas: 1,
    }))
      s.store.put(o);
    const deadline = Date.now() + 3000;
    let text = first.rendered.text;
    while (text === first.rendered.text && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      text = (await router.handle('stale bookinfo', user)).rendered.text;
    }
    expect(text).not.toBe(first.rendered.text);
    expect(text).toBe('1 of 7 proxies in bookinfo: 1 proxy DISCONNECTED from istiod');
  });

  it("a proposal's preview inside a read command reads the API server, never the cache; remediate commands too", async () => {
    const { kube, s } = await setup(true);
    const seen: string[] = [];
    const probe = (name: string, permission: 'read' | 'remediate') =>
      defineCommand({
        name,
        summary: name,
        usage: name,
        args: z.object({}),
        permission,
        touchesCluster: true,
        async run(ctx) {
          await cachedList(ctx.kube, 'Service');
          await ctx.services.approvals?.propose({} as never);
          return null;
        },
        render: () => ({ text: 'ok', blocks: [] }),
      });
    const approvals = {
      async propose() {
        const before = s.requests.filter(isList).length;
        await cachedList(kube, 'Service');
        seen.push(s.requests.filter(isList).length > before ? 'api' : 'cache');
        return {} as never;
      },
    } as unknown as ApprovalsPort;
    const router = new Router({
      commands: [probe('look', 'read'), probe('act', 'remediate')],
      clusters: [{ name: 'lab', kube }],
      log: createLogger({ level: 'silent' }),
      services: { approvals },
    });
    const look = await router.handle('look', user);
    expect(renderedToText(look.rendered)).toContain('watch cache');
    const act = await router.handle('act', user);
    expect(renderedToText(act.rendered)).not.toContain('watch cache');
    expect(seen).toEqual(['api', 'api']);
    expect(cache?.size).toBe(1);
  });
});
