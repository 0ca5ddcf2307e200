// The watch cache (src/kube/informer.ts, src/kube/watch-cache.ts) against the sandbox API server, counting
// requests where the sandbox serves them: one LIST per kind then a WATCH, changes seen from the stream, DELETED,
// a dropped watch resumed from its resourceVersion, 410 Gone answered with a new list, idle informers stopped.
import { afterEach, describe, expect, it } from '@jest/globals';
import { Informer } from '../../src/kube/informer.ts';
import { WatchCache, attachWatchCache, cachedGet, cachedList, withCacheScope } from '../../src/kube/watch-cache.ts';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { kubeOf, meshSeed } from '../stale/support.ts';

let sb: Sandbox | undefined;
const stops: (() => void)[] = [];

afterEach(async () => {
  for (const s of stops.splice(0)) s();
  await sb?.close();
  sb = undefined;
});

const cm = (name: string, data: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'bookinfo' },
  data,
});

async function until(what: string, ok: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const lists = (s: Sandbox, plural: string) =>
  s.requests.filter((r) => r.path.endsWith(`/${plural}`) && !/(^|&)watch=/.test(r.query)).length;
const watches = (s: Sandbox, plural: string) =>
  s.requests.filter((r) => r.path.endsWith(`/${plural}`) && /(^|&)watch=1/.test(r.query)).length;

describe('Informer', () => {
  it('lists once, then sees ADDED, MODIFIED and DELETED from the watch', async () => {
    sb = await startSandbox({ controllers: false, seed: meshSeed([cm('a', { v: '1' })]) });
    const inf = new Informer(kubeOf(sb), { kind: 'ConfigMap', namespace: 'bookinfo' }, { watchTimeoutSeconds: 30 });
    stops.push(() => inf.stop());
    await inf.start();
    expect(inf.items().map((o) => o.metadata.name)).toContain('a');
    await until('the watch', () => watches(sb as Sandbox, 'configmaps') === 1);

    sb.store.put(cm('b'));
    await until('ADDED b', () => inf.items().some((o) => o.metadata.name === 'b'));
    sb.store.put({ ...(sb.store.get('ConfigMap', 'bookinfo', 'a') as KubeObject), data: { v: '2' } });
    await until(
      'MODIFIED a',
      () => (inf.items().find((o) => o.metadata.name === 'a')?.data as { v?: string } | undefined)?.v === '2',
    );
    sb.store.delete('ConfigMap', 'bookinfo', 'a');
    await until('DELETED a', () => !inf.items().some((o) => o.metadata.name === 'a'));
    expect(lists(sb, 'configmaps')).toBe(1);
    expect(inf.stats).toMatchObject({ lists: 1, expired: 0 });
    expect(inf.items().every((o) => o.kind === 'ConfigMap' && o.apiVersion === 'v1')).toBe(true);
  });

  it('a dropped watch is resumed from its resourceVersion: no new list, nothing missed', async () => {
    sb = await startSandbox({ controllers: false, seed: meshSeed() });
    const inf = new Informer(
      kubeOf(sb),
      { kind: 'ConfigMap', namespace: 'bookinfo' },
      { watchTimeoutSeconds: 30, backoffMs: 20 },
    );
    stops.push(() => inf.stop());
    await inf.start();
    await until('the watch', () => watches(sb as Sandbox, 'configmaps') === 1);
    expect(sb.endWatches()).toBeGreaterThanOrEqual(1);
    // Written while no watch is open: the next watch replays it from the resourceVersion it resumes from.
    sb.store.put(cm('while-down'));
    await until('the re-watch', () => watches(sb as Sandbox, 'configmaps') === 2);
    await until('the missed object', () => inf.items().some((o) => o.metadata.name === 'while-down'));
    expect(lists(sb, 'configmaps')).toBe(1);
    const rewatch = sb.requests.filter((r) => /watch=1/.test(r.query)).at(-1);
    expect(rewatch?.query).toMatch(/resourceVersion=[1-9]\d*/);
    expect(rewatch?.query).toMatch(/allowWatchBookmarks=true/);
    expect(rewatch?.query).toMatch(/timeoutSeconds=\d+/);
  });

  it('410 Gone (resourceVersion too old) makes it list again, and what changed meanwhile is there', async () => {
    sb = await startSandbox({ controllers: false, seed: meshSeed([cm('old')]), watchHistory: 3 });
    const inf = new Informer(
      kubeOf(sb),
      { kind: 'ConfigMap', namespace: 'bookinfo' },
      { watchTimeoutSeconds: 30, backoffMs: 20 },
    );
    stops.push(() => inf.stop());
    await inf.start();
    await until('the watch', () => watches(sb as Sandbox, 'configmaps') === 1);
    // Stop the informer's stream from hearing anything, then move the history past its resourceVersion.
    sb.endWatches();
    for (let i = 0; i < 6; i++) sb.store.put(cm(`churn-${i}`));
    sb.store.delete('ConfigMap', 'bookinfo', 'old');
    await until('the relist', () => inf.stats.expired >= 1 && inf.stats.lists >= 2);
    await until('a watch after the relist', () => inf.inSync);
    const names = inf.items().map((o) => o.metadata.name);
    expect(names).toEqual(expect.arrayContaining(['churn-0', 'churn-5']));
    expect(names).not.toContain('old');
    expect(lists(sb, 'configmaps')).toBe(2);
  });

  it('bookmarks move its resourceVersion and freshness on while nothing changes', async () => {
    sb = await startSandbox({ controllers: false, seed: meshSeed(), watchBookmarkMs: 50 });
    const inf = new Informer(kubeOf(sb), { kind: 'Gateway' }, { watchTimeoutSeconds: 30 });
    stops.push(() => inf.stop());
    await inf.start();
    const first = inf.syncedAt;
    sb.store.put(cm('elsewhere'));
    await until('a bookmark', () => inf.syncedAt > first + 40);
    expect(inf.items()).toEqual([]);
  });

  it('not heard from for longer than maxSilenceMs (no event, no bookmark): no longer in sync, read directly', async () => {
    sb = await startSandbox({ controllers: false, seed: meshSeed() });
    let t = Date.now();
    const inf = new Informer(
      kubeOf(sb),
      { kind: 'Gateway' },
      { watchTimeoutSeconds: 30, maxSilenceMs: 1000, now: () => t },
    );
    stops.push(() => inf.stop());
    await inf.start();
    await until('the watch', () => watches(sb as Sandbox, 'gateways') === 1);
    expect(inf.inSync).toBe(true);
    t += 1500;
    expect(inf.inSync).toBe(false);
  });

  it('a watch that has been silent longer than maxSilenceMs is not trusted (no events, no bookmarks)', async () => {
    sb = await startSandbox({ controllers: false, seed: meshSeed() });
    const inf = new Informer(kubeOf(sb), { kind: 'Gateway' }, { watchTimeoutSeconds: 30, maxSilenceMs: 80 });
    stops.push(() => inf.stop());
    await inf.start();
    await until('the watch', () => watches(sb as Sandbox, 'gateways') === 1);
    expect(inf.inSync).toBe(true);
    await until('silence', () => !inf.inSync, 2000);
    expect(inf.state).toBe('watching');
  });

  it('a refused first list is thrown to the caller, as a direct list would be', async () => {
    sb = await startSandbox({ controllers: false, seed: meshSeed() });
    const kc = await import('@kubernetes/client-node');
    const conf = new kc.KubeConfig();
    conf.loadFromString(sb.kubeconfig({ user: 'nobody' }));
    const { KubeClient } = await import('../../src/kube/client.ts');
    const inf = new Informer(new KubeClient(conf), { kind: 'Pod' });
    stops.push(() => inf.stop());
    await expect(inf.start()).rejects.toMatchObject({ status: 403 });
  });
});

describe('WatchCache', () => {
  it('serves lists only inside an allowed scope; shares one informer per kind; namespaces filtered in memory', async () => {
    sb = await startSandbox({ controllers: false, seed: meshSeed() });
    const kube = kubeOf(sb);
    const cache = new WatchCache(kube, { watchTimeoutSeconds: 30 });
    stops.push(() => cache.close());
    attachWatchCache(kube, cache);

    // Outside a scope (or in a refused one) the API server answers every time.
    await cachedList(kube, 'Pod');
    await withCacheScope(false, () => cachedList(kube, 'Pod'));
    expect(lists(sb, 'pods')).toBe(2);
    expect(cache.size).toBe(0);

    const runs = await Promise.all(
      Array.from({ length: 5 }, () => withCacheScope(true, () => cachedList(kube, 'Pod'))),
    );
    expect(lists(sb, 'pods')).toBe(3);
    expect(runs.every((r) => r.reads.oldestSyncAt !== undefined)).toBe(true);
    const all = runs[0]?.value.length ?? 0;
    const inBookinfo = await withCacheScope(true, () => cachedList(kube, 'Pod', { namespace: 'bookinfo' }));
    expect(inBookinfo.value.length).toBeGreaterThan(0);
    expect(inBookinfo.value.length).toBeLessThan(all);
    expect(inBookinfo.value.every((p) => p.metadata.namespace === 'bookinfo')).toBe(true);
    expect(lists(sb, 'pods')).toBe(3);
    expect(cache.size).toBe(1);
  });

  it('stops informers nobody read for idleMs, and lists again on the next use', async () => {
    sb = await startSandbox({ controllers: false, seed: meshSeed() });
    const kube = kubeOf(sb);
    let now = 1_000_000;
    const cache = new WatchCache(kube, { idleMs: 60_000, now: () => now, watchTimeoutSeconds: 30 });
    stops.push(() => cache.close());
    attachWatchCache(kube, cache);
    await withCacheScope(true, () => cachedList(kube, 'Service'));
    await until('the watch', () => watches(sb as Sandbox, 'services') === 1);
    now += 61_000;
    cache.sweep();
    expect(cache.size).toBe(0);
    await withCacheScope(true, () => cachedList(kube, 'Service'));
    expect(lists(sb, 'services')).toBe(2);
  });

  it('allowed to get the istio ConfigMap but not to list or watch ConfigMaps: a GET, and the list is not asked again', async () => {
    const role = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'mesh-config', namespace: 'istio-system' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
    };
    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'mesh-config', namespace: 'istio-system' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'mesh-config' },
      subjects: [{ kind: 'User', name: 'getter', apiGroup: 'rbac.authorization.k8s.io' }],
    };
    const istio = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'istio', namespace: 'istio-system' },
      data: { mesh: 'x' },
    };
    sb = await startSandbox({ controllers: false, seed: [...meshSeed(), role, binding, istio] as KubeObject[] });
    const conf = new KubeConfig();
    conf.loadFromString(sb.kubeconfig({ user: 'getter' }));
    const kube = new KubeClient(conf);
    const cache = new WatchCache(kube);
    stops.push(() => cache.close());
    attachWatchCache(kube, cache);
    const cmPaths = () =>
      sb?.requests.filter((r) => r.path.includes('/istio-system/configmaps')).map((r) => r.path) ?? [];
    const first = await withCacheScope(true, () => cachedGet(kube, 'ConfigMap', 'istio-system', 'istio'));
    expect(first.value?.metadata.name).toBe('istio');
    expect(first.reads.oldestSyncAt).toBeUndefined();
    expect(cmPaths()).toEqual([
      '/api/v1/namespaces/istio-system/configmaps',
      '/api/v1/namespaces/istio-system/configmaps/istio',
    ]);
    await withCacheScope(true, () => cachedGet(kube, 'ConfigMap', 'istio-system', 'istio'));
    expect(cmPaths().slice(2)).toEqual(['/api/v1/namespaces/istio-system/configmaps/istio']);
    expect(cache.size).toBe(0);
  });

  it('allowed to list but not to watch: the informer stops, commands read directly, no watch retried', async () => {
    const role = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'list-only' },
      rules: [{ apiGroups: [''], resources: ['services'], verbs: ['get', 'list'] }],
    };
    const binding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'list-only' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'list-only' },
      subjects: [{ kind: 'User', name: 'lister', apiGroup: 'rbac.authorization.k8s.io' }],
    };
    sb = await startSandbox({ controllers: false, seed: [...meshSeed(), role, binding] as KubeObject[] });
    const conf = new KubeConfig();
    conf.loadFromString(sb.kubeconfig({ user: 'lister' }));
    const kube = new KubeClient(conf);
    const cache = new WatchCache(kube, { backoffMs: 10 });
    stops.push(() => cache.close());
    attachWatchCache(kube, cache);
    await withCacheScope(true, () => cachedList(kube, 'Service'));
    await until('the refused watch', () => watches(sb as Sandbox, 'services') === 1);
    await new Promise((r) => setTimeout(r, 100));
    const second = await withCacheScope(true, () => cachedList(kube, 'Service'));
    expect(second.value.length).toBeGreaterThan(0);
    expect(second.reads.oldestSyncAt).toBeUndefined();
    await new Promise((r) => setTimeout(r, 100));
    expect(watches(sb, 'services')).toBe(1);
    expect(lists(sb, 'services')).toBe(2);
    expect(cache.size).toBe(0);
  });
});
