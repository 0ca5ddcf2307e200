// Analysis speed and memory on bookinfo-like meshes of 1,000, 10,000 and 50,000 objects.
//   node_modules/.bin/node bench/analyze.ts [sizes...]
// Each size gets fresh snapshots (analyzers cache per snapshot); the time is the median of 3 runs.
// Peak memory is the process's max RSS so far (sizes run smallest first, so each row's peak is its own).
import type { KubeObject } from '../src/kube/objects.ts';
import { analyze } from '../src/mesh/analyzers/index.ts';
import { meshConfigFrom } from '../src/mesh/mesh-config.ts';
import { MeshSnapshot } from '../src/mesh/snapshot.ts';

const meta = (name: string, namespace?: string, labels?: Record<string, string>) => ({
  name,
  ...(namespace ? { namespace } : {}),
  ...(labels ? { labels } : {}),
});
const APPS = [
  { app: 'productpage', versions: ['v1'] },
  { app: 'details', versions: ['v1'] },
  { app: 'reviews', versions: ['v1', 'v2', 'v3'] },
  { app: 'ratings', versions: ['v1'] },
];

/** One bookinfo namespace: ~40 objects, with a few realistic mistakes so analyzers have work to report. */
function bookinfo(ns: string, i: number): KubeObject[] {
  const out: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: meta(ns, undefined, { 'istio-injection': 'enabled' }) },
  ];
  for (const { app, versions } of APPS) {
    out.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(`bookinfo-${app}`, ns) });
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(app, ns, { app }),
      spec: { selector: { app }, ports: [{ name: 'http', port: 9080, protocol: 'TCP', targetPort: 9080 }] },
    });
    for (const version of versions) {
      const labels = { app, version };
      const containers = [
        {
          name: app,
          image: `docker.io/istio/examples-bookinfo-${app}-${version}:1.20.2`,
          ports: [{ containerPort: 9080 }],
        },
      ];
      out.push({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: meta(`${app}-${version}`, ns, labels),
        spec: {
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { serviceAccountName: `bookinfo-${app}`, containers } },
        },
      });
      out.push({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: meta(`${app}-${version}-${i}`, ns, labels),
        spec: {
          nodeName: `node-${i % 50}`,
          containers: [...containers, { name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.24.0' }],
        },
      });
    }
    out.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: meta(app, ns),
      spec: {
        host: app,
        trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } },
        subsets: [...versions, 'v9'].map((v) => ({ name: v, labels: { version: v } })),
      },
    });
    out.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: meta(app, ns),
      spec: {
        hosts: [app],
        http: [
          {
            route: versions.map((v) => ({
              destination: { host: app, subset: v },
              weight: Math.floor(100 / versions.length),
            })),
          },
        ],
      },
    });
  }
  out.push({
    apiVersion: 'networking.istio.io/v1',
    kind: 'Gateway',
    metadata: meta('bookinfo-gateway', ns),
    spec: {
      selector: { istio: 'ingressgateway' },
      servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: [`bookinfo-${i}.example.com`] }],
    },
  });
  out.push({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: meta('bookinfo', ns),
    spec: {
      hosts: [`bookinfo-${i}.example.com`],
      gateways: ['bookinfo-gateway'],
      http: [
        {
          match: [{ uri: { prefix: '/productpage' } }],
          route: [{ destination: { host: 'productpage', port: { number: 9080 } } }],
        },
      ],
    },
  });
  out.push({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: meta('ratings-viewer', ns),
    spec: {
      selector: { matchLabels: { app: 'ratings' } },
      rules: [{ from: [{ source: { namespaces: [ns, 'missing-ns'] } }] }],
    },
  });
  out.push({
    apiVersion: 'networking.istio.io/v1',
    kind: 'Sidecar',
    metadata: meta('default', ns),
    spec: { egress: [{ hosts: ['./*', 'istio-system/*'] }] },
  });
  return out;
}

function mesh(target: number): KubeObject[] {
  const objects: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: meta('istio-system') },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: meta('istio-ingressgateway-0', 'istio-system', {
        istio: 'ingressgateway',
        app: 'istio-ingressgateway',
      }),
      spec: { containers: [{ name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.24.0' }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta('istio-ingressgateway', 'istio-system', { istio: 'ingressgateway' }),
      spec: {
        selector: { istio: 'ingressgateway' },
        ports: [
          { name: 'http2', port: 80, targetPort: 8080, protocol: 'TCP' },
          { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' },
        ],
      },
    },
  ];
  for (let i = 0; i < 50; i++)
    objects.push({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: meta(`node-${i}`, undefined, { 'topology.kubernetes.io/zone': `zone-${i % 3}` }),
    });
  for (let i = 0; objects.length < target; i++) objects.push(...bookinfo(`bookinfo-${i}`, i));
  return objects.slice(0, target);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const rows: {
  objects: number;
  ms: number;
  perObjectUs: number;
  messages: number;
  heapMB: number;
  peakRssMB: number;
}[] = [];
const meshConfig = meshConfigFrom();
// Warm the JIT once so the first row measures analysis, not compilation.
analyze(new MeshSnapshot(mesh(2_000), { meshConfig }));
for (const size of sizes.length ? sizes : [1_000, 10_000, 50_000]) {
  const objects = mesh(size);
  const times: number[] = [];
  let messages = 0;
  for (let run = 0; run < 3; run++) {
    const snapshot = new MeshSnapshot(objects, { meshConfig });
    const started = performance.now();
    messages = analyze(snapshot).length;
    times.push(performance.now() - started);
  }
  const ms = median(times);
  rows.push({
    objects: objects.length,
    ms: Math.round(ms),
    perObjectUs: Math.round((ms * 1000) / objects.length),
    messages,
    heapMB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  });
}
console.log('objects   analyze_ms  us/object  messages  heap_MB  peak_rss_MB');
for (const r of rows) {
  console.log(
    `${String(r.objects).padStart(7)}  ${String(r.ms).padStart(10)}  ${String(r.perObjectUs).padStart(9)}  ${String(r.messages).padStart(8)}  ${String(r.heapMB).padStart(7)}  ${String(r.peakRssMB).padStart(11)}`,
  );
}
