// Routing in the sandbox's traffic model, as a sidecar routes (Istio's VirtualService and DestinationRule
// reference; Envoy's weighted_clusters and load balancing): weights split the requests by share, the
// first http route that matches wins in the VirtualService's order (a match list is OR, the conditions
// of one match AND), a subset's labels narrow the Service's selector to the pods they pick, a
// Gateway-bound VirtualService leaves the mesh's sidecars alone, and without a VirtualService the
// requests spread over every Ready endpoint of the Service. Ticks are stepped by hand, so counts are exact.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { type Flow, TrafficModel } from '../../src/sandbox/traffic-model.ts';

const NS = 'routing';

function deployment(name: string, labels: Record<string, string>, annotations?: Record<string, string>): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, ...(annotations ? { annotations } : {}) },
        spec: {
          containers: [{ name: labels.app, image: `registry.example/${name}:1`, ports: [{ containerPort: 9080 }] }],
        },
      },
    },
  } as KubeObject;
}

const service = (name: string): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 9080 }] },
  }) as KubeObject;

const istio = (kind: string, name: string, spec: Record<string, unknown>): KubeObject =>
  ({ apiVersion: 'networking.istio.io/v1', kind, metadata: { name, namespace: NS }, spec }) as KubeObject;

const seed: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'istio-injection': 'enabled' } } },
  deployment('client', { app: 'client', version: 'v1' }),
  deployment('reviews-v1', { app: 'reviews', version: 'v1' }),
  deployment('reviews-v2', { app: 'reviews', version: 'v2' }),
  deployment('reviews-v2-canary', { app: 'reviews', version: 'v2', track: 'canary' }),
  deployment('reviews-v3', { app: 'reviews', version: 'v3' }),
  // Never Ready: not an endpoint, so no request may land on it.
  deployment('reviews-v4', { app: 'reviews', version: 'v4' }, { 'sandbox.meshops.dev/fail-start': 'CrashLoopBackOff' }),
  service('reviews'),
  istio('DestinationRule', 'reviews', {
    host: 'reviews',
    subsets: [
      { name: 'v1', labels: { version: 'v1' } },
      { name: 'v2', labels: { version: 'v2' } },
      { name: 'canary', labels: { version: 'v2', track: 'canary' } },
      { name: 'v3', labels: { version: 'v3' } },
    ],
  }),
];

let sb: Sandbox;

beforeAll(async () => {
  sb = await startSandbox({ seed, rolloutStepMs: 20 });
  sb.settle();
});

afterAll(async () => {
  await sb?.close();
});

beforeEach(() => {
  for (const vs of sb.store.list('VirtualService', NS)) sb.store.delete('VirtualService', NS, vs.metadata.name);
});

const reviewsPods = () => sb.store.list('Pod', NS).filter((p) => p.metadata.labels?.app === 'reviews');
const podOf = (deploymentName: string): KubeObject => {
  const p = sb.store
    .list('Pod', NS)
    .find((x) => x.metadata.ownerReferences?.some((o) => o.name.replace(/-[a-z0-9]+$/, '') === deploymentName));
  if (!p) throw new Error(`no pod of ${deploymentName}`);
  return p;
};
const ipOf = (p: KubeObject) => (p.status as { podIP: string }).podIP;

const toReviews = (extra: Partial<Flow> = {}): Flow => ({
  from: { namespace: NS, app: 'client' },
  to: { namespace: NS, service: 'reviews', port: 9080 },
  ...extra,
});

/** Runs `flows` for `ticks` ticks on a fresh model; returns the caller's metrics and each reviews pod's. */
function run(flows: Flow[], ticks: number) {
  const model = new TrafficModel(sb, { flows });
  try {
    for (let i = 0; i < ticks; i++) model.tick();
  } finally {
    model.stop();
  }
  const client = podOf('client').metadata.name;
  const series = (text: string) =>
    [...text.matchAll(/^istio_requests_total\{([^}]*)\} (\d+)$/gm)].map((m) => ({
      labels: Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!])),
      value: Number(m[2]),
    }));
  const source = series(model.metricsText(`${NS}/${client}`)).filter((s) => s.labels.reporter === 'source');
  /** Requests the caller sent, by destination_version (the pod's version label). */
  const byVersion = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const s of source) out[s.labels.destination_version!] = (out[s.labels.destination_version!] ?? 0) + s.value;
    return out;
  };
  /** Requests each reviews pod's own sidecar reports having served (reporter destination). */
  const servedBy = (p: KubeObject): number =>
    series(model.metricsText(`${NS}/${p.metadata.name}`))
      .filter((s) => s.labels.reporter === 'destination' && s.labels.response_code === '200')
      .reduce((a, s) => a + s.value, 0);
  const stats = new Map(model.envoyStats(NS, client).map((s) => [s.name, s.value]));
  return { model, source, byVersion, servedBy, stats };
}

describe('no VirtualService: the Service itself, over all its Ready endpoints', () => {
  it.each([1, 2, 3])(
    'every Ready reviews pod takes an equal share (perTick %i), the never-Ready one none',
    (perTick) => {
      const ready = reviewsPods().filter((p) => p.metadata.labels?.version !== 'v4');
      expect(ready).toHaveLength(4);
      const r = run([toReviews({ perTick })], 12);
      const total = 12 * perTick;
      // Envoy's load balancer spreads over the cluster's healthy hosts; each of the 4 gets its share.
      expect(ready.map((p) => r.servedBy(p))).toEqual([total / 4, total / 4, total / 4, total / 4]);
      expect(r.servedBy(podOf('reviews-v4'))).toBe(0);
      expect(r.byVersion()).toEqual({ v1: total / 4, v2: total / 2, v3: total / 4 });
      // The default cluster (no subset), charged once per request.
      expect(r.stats.get('cluster.outbound|9080||reviews.routing.svc.cluster.local.upstream_rq_200')).toBe(total);
    },
  );
});

describe('weighted routes', () => {
  it('80/20 over 100 requests is exactly 80 and 20, and the shares interleave', () => {
    sb.store.put(
      istio('VirtualService', 'reviews', {
        hosts: ['reviews'],
        http: [
          {
            route: [
              { destination: { host: 'reviews', subset: 'v1' }, weight: 80 },
              { destination: { host: 'reviews', subset: 'v3' }, weight: 20 },
            ],
          },
        ],
      }),
    );
    const r = run([toReviews({ perTick: 10 })], 10);
    expect(r.byVersion()).toEqual({ v1: 80, v3: 20 });
    expect(r.stats.get('cluster.outbound|9080|v1|reviews.routing.svc.cluster.local.upstream_rq_total')).toBe(80);
    expect(r.stats.get('cluster.outbound|9080|v3|reviews.routing.svc.cluster.local.upstream_rq_total')).toBe(20);
    // Not 80 then 20: within the first ten requests both destinations are already taken.
    const first = run([toReviews({ perTick: 10 })], 1);
    expect(Object.keys(first.byVersion()).sort()).toEqual(['v1', 'v3']);
  });

  it('three destinations 50/30/20 split by weight; a destination with weight 0 takes nothing', () => {
    sb.store.put(
      istio('VirtualService', 'reviews', {
        hosts: ['reviews.routing.svc.cluster.local'],
        http: [
          {
            route: [
              { destination: { host: 'reviews', subset: 'v1' }, weight: 50 },
              { destination: { host: 'reviews', subset: 'v2' }, weight: 30 },
              { destination: { host: 'reviews', subset: 'v3' }, weight: 20 },
              { destination: { host: 'reviews', subset: 'canary' }, weight: 0 },
            ],
          },
        ],
      }),
    );
    const r = run([toReviews({ perTick: 20 })], 10);
    // Subset v2 has two pods (v2 and the canary): its 30% is spread over both.
    expect(r.byVersion()).toEqual({ v1: 100, v2: 60, v3: 40 });
    expect(r.servedBy(podOf('reviews-v2')) + r.servedBy(podOf('reviews-v2-canary'))).toBe(60);
    expect(r.servedBy(podOf('reviews-v2'))).toBeGreaterThan(0);
    expect(r.servedBy(podOf('reviews-v2-canary'))).toBeGreaterThan(0);
    expect(r.stats.get('cluster.outbound|9080|canary|reviews.routing.svc.cluster.local.upstream_rq_total')).toBe(
      undefined,
    );
  });

  it('a lone destination takes everything, whatever its weight says', () => {
    sb.store.put(
      istio('VirtualService', 'reviews', {
        hosts: ['reviews'],
        http: [{ route: [{ destination: { host: 'reviews', subset: 'v3' }, weight: 10 }] }],
      }),
    );
    expect(run([toReviews({ perTick: 5 })], 4).byVersion()).toEqual({ v3: 20 });
  });
});

describe('matches: the first http route that matches wins, in the VirtualService order', () => {
  const ordered = () =>
    istio('VirtualService', 'reviews', {
      hosts: ['reviews'],
      http: [
        {
          name: 'jason',
          match: [{ headers: { 'end-user': { exact: 'jason' } } }],
          route: [{ destination: { host: 'reviews', subset: 'v2' } }],
        },
        {
          name: 'api',
          match: [{ uri: { prefix: '/api' } }, { uri: { exact: '/v3-only' } }],
          route: [{ destination: { host: 'reviews', subset: 'v3' } }],
        },
        {
          name: 'both',
          match: [{ uri: { prefix: '/shop' }, method: { exact: 'POST' } }],
          route: [{ destination: { host: 'reviews', subset: 'canary' } }],
        },
        { name: 'rest', route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
      ],
    });

  it('a request matching two routes takes the first; the catch-all only what nothing before it took', () => {
    sb.store.put(ordered());
    const cases: Array<[Partial<Flow>, string, string[]]> = [
      [{ path: '/api/items', headers: { 'end-user': 'jason' } }, 'jason', ['reviews-v2', 'reviews-v2-canary']],
      [{ path: '/api/items' }, 'api', ['reviews-v3']],
      [{ path: '/v3-only' }, 'api', ['reviews-v3']], // the second entry of an OR list
      [{ path: '/v3-only/x' }, 'rest', ['reviews-v1']], // exact is exact
      [{ path: '/shop/cart', method: 'POST' }, 'both', ['reviews-v2-canary']],
      [{ path: '/shop/cart', method: 'GET' }, 'rest', ['reviews-v1']], // one condition of a match fails: no match
      [{ path: '/', headers: { 'end-user': 'jasonx' } }, 'rest', ['reviews-v1']],
    ];
    for (const [extra, routeName, landsOn] of cases) {
      const logs = new Map<string, string[]>();
      const capture: Sandbox = {
        ...sb,
        setPodLogs: (ns, pod, container, lines) => {
          logs.set(`${ns}/${pod}/${container}`, lines);
          sb.setPodLogs(ns, pod, container, lines);
        },
      };
      const model = new TrafficModel(capture, { flows: [toReviews({ perTick: 4, ...extra })] });
      model.tick();
      model.stop();
      const callerLines = logs.get(`${NS}/${podOf('client').metadata.name}/istio-proxy`) ?? [];
      expect(callerLines).toHaveLength(4);
      const targets = new Set(landsOn.map((d) => `${ipOf(podOf(d))}:9080`));
      const hosts = new Set<string>();
      for (const line of callerLines) {
        // The route's name is %ROUTE_NAME%, the last field; %UPSTREAM_HOST% is one of the subset's pods.
        expect({ extra, route: line.split(' ').at(-1) }).toEqual({ extra, route: routeName });
        hosts.add(line.match(/"(\d+\.\d+\.\d+\.\d+:\d+)"/)?.[1] ?? 'none');
      }
      // Every pod of the subset, and only those (4 requests spread over a subset of 1 or 2 pods).
      expect({ extra, hosts: [...hosts].sort() }).toEqual({ extra, hosts: [...targets].sort() });
    }
  });

  it('a catch-all first shadows every route after it', () => {
    const vs = ordered();
    const spec = vs.spec as { hosts: string[]; http: unknown[] };
    sb.store.put({ ...vs, spec: { ...spec, http: [spec.http[3], ...spec.http.slice(0, 3)] } } as KubeObject);
    const r = run(
      [toReviews({ path: '/api/x', headers: { 'end-user': 'jason' } }), toReviews({ path: '/shop', method: 'POST' })],
      5,
    );
    expect(r.byVersion()).toEqual({ v1: 10 });
  });

  it('header names match case-insensitively; regex matches the whole value', () => {
    sb.store.put(
      istio('VirtualService', 'reviews', {
        hosts: ['reviews'],
        http: [
          {
            match: [{ headers: { 'X-Canary': { regex: 'yes|true' } } }],
            route: [{ destination: { host: 'reviews', subset: 'canary' } }],
          },
          { route: [{ destination: { host: 'reviews', subset: 'v1' } }] },
        ],
      }),
    );
    const r = run(
      [
        toReviews({ headers: { 'x-canary': 'true' } }),
        toReviews({ headers: { 'x-canary': 'truex' } }),
        toReviews({ headers: {} }),
      ],
      3,
    );
    expect(r.byVersion()).toEqual({ v2: 3, v1: 6 });
    expect(r.servedBy(podOf('reviews-v2-canary'))).toBe(3);
    expect(r.servedBy(podOf('reviews-v2'))).toBe(0);
  });
});

describe("subsets: the DestinationRule subset's labels pick the pods", () => {
  it('subset v2 lands on both version=v2 pods; subset canary (version=v2, track=canary) only on the canary', () => {
    sb.store.put(
      istio('VirtualService', 'reviews', {
        hosts: ['reviews'],
        http: [
          { match: [{ uri: { prefix: '/canary' } }], route: [{ destination: { host: 'reviews', subset: 'canary' } }] },
          { route: [{ destination: { host: 'reviews', subset: 'v2' } }] },
        ],
      }),
    );
    const v2 = run([toReviews({ perTick: 4 })], 5);
    expect(v2.servedBy(podOf('reviews-v2'))).toBe(10);
    expect(v2.servedBy(podOf('reviews-v2-canary'))).toBe(10);
    for (const other of ['reviews-v1', 'reviews-v3', 'reviews-v4']) expect(v2.servedBy(podOf(other))).toBe(0);
    const canary = run([toReviews({ perTick: 4, path: '/canary/x' })], 5);
    expect(canary.servedBy(podOf('reviews-v2-canary'))).toBe(20);
    expect(canary.servedBy(podOf('reviews-v2'))).toBe(0);
    // The subset's cluster, as istiod names it.
    expect(canary.stats.get('cluster.outbound|9080|canary|reviews.routing.svc.cluster.local.upstream_rq_200')).toBe(20);
  });
});

describe('which VirtualServices a sidecar takes', () => {
  it('one bound only to a Gateway does not route the mesh; adding `mesh` to its gateways does', () => {
    const spec = (gateways: string[]) => ({
      hosts: ['reviews'],
      gateways,
      http: [{ route: [{ destination: { host: 'reviews', subset: 'v3' } }] }],
    });
    sb.store.put(istio('VirtualService', 'reviews', spec(['some-gateway'])));
    expect(run([toReviews({ perTick: 4 })], 2).byVersion()).toEqual({ v1: 2, v2: 4, v3: 2 });
    sb.store.put(istio('VirtualService', 'reviews', spec(['some-gateway', 'mesh'])));
    expect(run([toReviews({ perTick: 4 })], 2).byVersion()).toEqual({ v3: 8 });
  });

  it('exportTo "." keeps a VirtualService from callers in other namespaces', () => {
    sb.store.put({
      ...istio('VirtualService', 'reviews', {
        hosts: ['reviews.routing.svc.cluster.local'],
        exportTo: ['.'],
        http: [{ route: [{ destination: { host: 'reviews.routing.svc.cluster.local', subset: 'v3' } }] }],
      }),
      metadata: { name: 'reviews', namespace: 'default' },
    } as KubeObject);
    try {
      // The caller is in `routing`, the rule lives in `default`: the Service's own spread applies.
      expect(run([toReviews({ perTick: 4 })], 2).byVersion()).toEqual({ v1: 2, v2: 4, v3: 2 });
    } finally {
      sb.store.delete('VirtualService', 'default', 'reviews');
    }
  });
});
