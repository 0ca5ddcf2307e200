// /mesh stale end to end on a mesh of 2,000 proxies over 3 istiod replicas and 40 namespaces.
//   node_modules/.bin/node bench/stale.ts [proxies] [namespaces]
// The sandbox API server (HTTPS) holds the objects; simulated istiods serve /debug/syncz on their
// pods, reached through pods/portforward; their logs through pods/log. The time is the router's
// handle('stale'), parse to rendered answer, median of 5 runs after one warm-up. Requests are what
// the sandbox served during one run, by kind, at two mesh sizes, to show they do not grow with pods.
import { performance } from 'node:perf_hooks';
import stale from '../src/features/stale/stale.ts';
import { createLogger } from '../src/log.ts';
import { Router } from '../src/router.ts';
import { buildMeshSync } from '../src/sandbox/istiod-sim.ts';
import { startSandbox } from '../src/sandbox/server.ts';
import {
  ISTIODS as TWO,
  istiodObjects,
  kubeOf,
  namespace,
  proxyPodsOf,
  service,
  workloadObjects,
} from '../test/stale/support.ts';

const PROXIES = Number(process.argv[2] ?? 2000);
const NAMESPACES = Number(process.argv[3] ?? 40);
const ISTIODS = [...TWO, 'istiod-7d4f74889d-zt4wn'];
const RUNS = 5;

async function measure(proxies: number, namespaces: number) {
  const perNs = Math.ceil(proxies / namespaces);
  const apps = 5;
  const seed = [...istiodObjects(ISTIODS)];
  for (let n = 0; n < namespaces; n++) {
    const ns = `team-${String(n).padStart(2, '0')}`;
    seed.push(namespace(ns));
    for (let a = 0; a < apps; a++) {
      const replicas = Math.floor(perNs / apps) + (a < perNs % apps ? 1 : 0);
      const labels = { app: `svc-${a}`, version: 'v1' };
      seed.push(
        ...workloadObjects({ namespace: ns, deployment: `svc-${a}-v1`, labels, replicas }),
        service(ns, `svc-${a}`, { app: `svc-${a}` }),
      );
      seed.push({
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: `svc-${a}`, namespace: ns },
        spec: { hosts: [`svc-${a}`], http: [{ route: [{ destination: { host: `svc-${a}`, subset: 'v1' } }] }] },
      });
      seed.push({
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: `svc-${a}`, namespace: ns },
        spec: { host: `svc-${a}`, subsets: [{ name: 'v1', labels: { version: 'v1' } }] },
      });
    }
  }
  const sb = await startSandbox({ controllers: false, seed });
  try {
    const pods = proxyPodsOf(sb).slice(0, proxies);
    const ids = pods.map((p) => `${p.name}.${p.namespace}`);
    // A realistic bad day: a handful STALE on LDS, two NACKs, three disconnected.
    const sims = buildMeshSync({
      istiods: ISTIODS,
      pods,
      staleLds: ids.filter((_, i) => i % 257 === 3),
      nack: ids.filter((_, i) => i % 701 === 5).map((proxyId) => ({ proxyId, type: 'CDS' as const })),
      disconnected: ids.filter((_, i) => i % 997 === 11),
    });
    for (const s of sims) {
      s.registerOn(sb.podEndpoints);
      sb.setPodLogs('istio-system', s.podName, 'discovery', s.logLines({ kubeletTime: true }));
    }
    const router = new Router({
      commands: [stale],
      clusters: [{ name: 'bench', kube: kubeOf(sb) }],
      log: createLogger({ level: 'silent' }),
    });
    const user = { userId: 'UBENCH', source: 'cli' as const };
    const first = await router.handle('stale', user);
    if (first.outcome !== 'ok') throw new Error(`stale answered ${first.outcome}: ${first.rendered.text}`);
    const times: number[] = [];
    let requests: Record<string, number> = {};
    let total = 0;
    for (let i = 0; i < RUNS; i++) {
      sb.requests.length = 0;
      const t0 = performance.now();
      const r = await router.handle('stale', user);
      times.push(performance.now() - t0);
      if (r.outcome !== 'ok') throw new Error(`stale answered ${r.outcome}`);
      total = sb.requests.length;
      requests = {};
      for (const q of sb.requests) {
        const kind = q.path.endsWith('/portforward')
          ? 'pods/portforward'
          : q.path.endsWith('/log')
            ? 'pods/log'
            : (q.path.split('/').at(-1) ?? q.path);
        requests[kind] = (requests[kind] ?? 0) + 1;
      }
    }
    times.sort((a, b) => a - b);
    return {
      proxies: ids.length,
      namespaces,
      median: times[Math.floor(RUNS / 2)]!,
      min: times[0]!,
      max: times.at(-1)!,
      total,
      requests,
      text: first.rendered.text,
      files: first.rendered.files?.length ?? 0,
    };
  } finally {
    await sb.close();
  }
}

const small = await measure(Math.max(60, Math.floor(PROXIES / 20)), Math.max(3, Math.floor(NAMESPACES / 10)));
const big = await measure(PROXIES, NAMESPACES);
for (const m of [small, big]) {
  console.log(
    `${m.proxies} proxies, ${m.namespaces} namespaces, ${ISTIODS.length} istiods: /mesh stale median ${m.median.toFixed(0)} ms (min ${m.min.toFixed(0)}, max ${m.max.toFixed(0)}, ${RUNS} runs), ${m.total} API requests`,
  );
  console.log(
    `  requests by kind: ${Object.entries(m.requests)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  console.log(`  answer: ${m.text}${m.files ? ` (+${m.files} file)` : ''}`);
}
console.log(
  `requests grow with pods: ${big.total !== small.total ? `YES (${small.total} → ${big.total})` : `no (${small.total} at ${small.proxies} proxies, ${big.total} at ${big.proxies})`}`,
);
console.log(
  `target under 500 ms at ${big.proxies} proxies: ${big.median < 500 ? 'met' : 'MISSED'} (${big.median.toFixed(0)} ms)`,
);
