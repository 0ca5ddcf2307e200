// /mesh why on the demo mesh (src/demo/demo-mesh.ts, with its istiod faults), one workload per namespace:
//   node_modules/.bin/node bench/why.ts [runs]
// The time is the router's handle('why …'), parse to rendered answer, over the sandbox's HTTPS API server
// (pods/log, pods/portforward to istiod, metrics.k8s.io), median of the runs after one warm-up. The baseline is
// `describe` of the same workload in the same run: the ratio says what asking every check costs on top of one
// look at the workload. The target is under 5 s for each namespace.
import { performance } from 'node:perf_hooks';
import { KubeConfig } from '@kubernetes/client-node';
import { startDemoSandbox } from '../src/demo/demo-mesh.ts';
import describe from '../src/features/describe/describe.ts';
import why from '../src/features/why/why.ts';
import { KubeClient } from '../src/kube/client.ts';
import { createLogger } from '../src/log.ts';
import { Router } from '../src/router.ts';

const RUNS = Number(process.argv[2] ?? 5);
const TARGET_MS = 5000;

/** The workload asked about in each namespace (the one with the planted cause, or the healthy one). */
const CASES: Array<{ namespace: string; workload: string; planted: string }> = [
  { namespace: 'media', workload: 'transcoder', planted: 'istio-proxy OOM-killed' },
  { namespace: 'billing', workload: 'invoices', planted: 'startup race' },
  { namespace: 'accounts', workload: 'profile', planted: 'probes blocked' },
  { namespace: 'checkout', workload: 'storefront', planted: 'empty subset, ISTIO_MUTUAL to no sidecar' },
  { namespace: 'bookinfo', workload: 'ratings-v1', planted: 'NACK' },
  { namespace: 'catalog', workload: 'products', planted: 'none (healthy)' },
];

const sandbox = await startDemoSandbox();
try {
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  const router = new Router({
    commands: [why, describe],
    clusters: [{ name: 'bench', kube: new KubeClient(kc) }],
    log: createLogger({ level: 'silent' }),
  });
  const user = { userId: 'UBENCH', source: 'cli' as const };
  // Let the traffic model write a few ticks of access-log lines first.
  await new Promise((r) => setTimeout(r, 3000));
  const median = async (text: string) => {
    const first = await router.handle(text, user);
    if (first.outcome !== 'ok') throw new Error(`${text} answered ${first.outcome}: ${first.rendered.text}`);
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const r = await router.handle(text, user);
      times.push(performance.now() - t0);
      if (r.outcome !== 'ok') throw new Error(`${text} answered ${r.outcome}`);
    }
    times.sort((a, b) => a - b);
    return { median: times[Math.floor(RUNS / 2)]!, max: times.at(-1)!, text: first.rendered.text };
  };
  let worst = 0;
  for (const c of CASES) {
    const w = await median(`why ${c.workload} -n ${c.namespace}`);
    const d = await median(`describe ${c.workload} -n ${c.namespace}`);
    worst = Math.max(worst, w.median);
    console.log(
      `${c.namespace.padEnd(9)} why ${c.workload}: median ${w.median.toFixed(0)} ms (max ${w.max.toFixed(0)}, ${RUNS} runs) = ${(w.median / d.median).toFixed(1)}× describe (${d.median.toFixed(0)} ms)`,
    );
    console.log(`          planted: ${c.planted}; answer: ${w.text}`);
  }
  console.log(
    `target under ${TARGET_MS} ms in every namespace: ${worst < TARGET_MS ? 'met' : 'MISSED'} (worst ${worst.toFixed(0)} ms)`,
  );
} finally {
  await sandbox.close();
}
