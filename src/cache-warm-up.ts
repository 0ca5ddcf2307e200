// After a (re)start, the watch cache is filled once in the background, before anyone asks: the first question of an
// incident is then answered from memory like every later one, and the process's idle memory is the memory it
// runs with (the cache's objects), not a lower figure it leaves at the first command. It reads what a snapshot
// reads (loadLiveSnapshot's kinds and the mesh config), in a read scope, so the informers it starts are the ones
// commands share; a cluster without a cache (MESHOPS_WATCH_CACHE=false) is left alone. A failure is logged and
// changes nothing: commands fill the cache as before. Informers nobody reads stop after the cache's idle time.
import { performance } from 'node:perf_hooks';
import type { BackgroundWork } from './feature.ts';
import type { ClusterTarget } from './shared-types.ts';
import { watchCacheOf, withCacheScope } from './kube/watch-cache.ts';
import type { Logger } from './log.ts';
import { loadLiveSnapshot } from './mesh/live-snapshot.ts';

export function cacheWarmUp(clusters: readonly ClusterTarget[], log: Logger): BackgroundWork {
  let stopped = false;
  return {
    name: 'watch cache warm-up',
    start() {
      stopped = false;
      for (const cluster of clusters) {
        if (!watchCacheOf(cluster.kube)) continue;
        const started = performance.now();
        withCacheScope(true, () => loadLiveSnapshot(cluster.kube)).then(
          ({ value }) => {
            if (stopped) return;
            const ms = Math.round(performance.now() - started);
            log.info({ cluster: cluster.name, pods: value.list('Pod').length, ms }, 'watch cache filled');
          },
          (err: unknown) => {
            if (!stopped) log.warn({ err, cluster: cluster.name }, 'watch cache warm-up failed; commands will fill it');
          },
        );
      }
    },
    async stop() {
      stopped = true;
    },
  };
}
