// API requests per command, with and without the watch cache (MESHOPS_WATCH_CACHE): 10 sequential
// `/mesh stale bookinfo` through the router against the sandbox API server (two simulated istiods on its pod
// network), counted where the sandbox serves them, by kind of request.
//   node_modules/.bin/node bench/requests.ts [commands]
import stale from '../src/features/stale/stale.ts';
import { WatchCache, attachWatchCache } from '../src/kube/watch-cache.ts';
import { createLogger } from '../src/log.ts';
import { Router } from '../src/router.ts';
import { type RequestRecord, startSandbox } from '../src/sandbox/server.ts';
import { ISTIODS, kubeOf, meshSeed, serveScenario } from '../test/stale/support.ts';

const COMMANDS = Number(process.argv[2] ?? 10);
const user = { userId: 'U0BENCH01', source: 'cli' as const };

function kindOf(r: RequestRecord): string {
  if (/(^|&)watch=1/.test(r.query)) return 'watch';
  if (r.path.endsWith('/portforward')) return 'portforward';
  if (r.path.endsWith('/log')) return 'log';
  if (/\/namespaces\/[^/]+\/[a-z]+\/[^/]+$/.test(r.path) || /^\/api\/v1\/namespaces\/[^/]+$/.test(r.path)) return 'get';
  if (r.path === '/apis' || r.path === '/api') return 'discovery';
  return 'list';
}

async function run(withCache: boolean) {
  const sb = await startSandbox({ controllers: false, seed: meshSeed() });
  serveScenario(sb, { istiods: ISTIODS });
  const kube = kubeOf(sb);
  const cache = withCache ? new WatchCache(kube) : undefined;
  if (cache) attachWatchCache(kube, cache);
  const router = new Router({
    commands: [stale],
    clusters: [{ name: 'bench', kube }],
    log: createLogger({ level: 'silent' }),
  });
  const per: { total: number; byKind: Record<string, number>; ms: number }[] = [];
  try {
    for (let i = 0; i < COMMANDS; i++) {
      const before = sb.requests.length;
      const t = performance.now();
      const reply = await router.handle('stale bookinfo', user);
      if (reply.outcome !== 'ok') throw new Error(`stale answered ${reply.outcome}: ${reply.rendered.text}`);
      const ms = performance.now() - t;
      const served = sb.requests.slice(before);
      const byKind: Record<string, number> = {};
      for (const r of served) byKind[kindOf(r)] = (byKind[kindOf(r)] ?? 0) + 1;
      per.push({ total: served.length, byKind, ms });
    }
  } finally {
    cache?.close();
    await sb.close();
  }
  return per;
}

const fmt = (b: Record<string, number>) =>
  Object.entries(b)
    .sort()
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

for (const withCache of [false, true]) {
  const per = await run(withCache);
  const total = per.reduce((a, p) => a + p.total, 0);
  const after = per.slice(1);
  const steady = after.reduce((a, p) => a + p.total, 0) / Math.max(1, after.length);
  console.log(`\n${withCache ? 'with the watch cache' : 'without the cache'} (${COMMANDS} sequential stale bookinfo):`);
  per.forEach((p, i) => {
    console.log(
      `  #${String(i + 1).padStart(2)}  ${String(p.total).padStart(3)} requests  (${fmt(p.byKind)})  ${p.ms.toFixed(0)} ms`,
    );
  });
  console.log(
    `  API requests per command: ${(total / per.length).toFixed(1)} on average; first ${per[0]?.total}, then ${steady.toFixed(1)} each`,
  );
}
