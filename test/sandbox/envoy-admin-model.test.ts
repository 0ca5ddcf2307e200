// The Envoy admin fleet's model on the demo mesh, asked directly (fleet.answer; the port-forward path
// is test/sandbox/envoy-admin.test.ts): the traffic model's counters and outlier ejections show where
// Envoy shows them, the Sidecar resource and exportTo narrow what a proxy sees, STRICT drops the
// plaintext inbound chain, the mesh config's trust domain names the SPIFFE id, certificates renew
// after half their life, and istio-ca-root-cert is kept in every namespace.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startDemoSandbox, type DemoSandbox } from '../../src/demo/demo-mesh.ts';
import { parseCerts } from '../../src/envoy/certs.ts';
import { parseClusters } from '../../src/envoy/clusters.ts';
import * as pc from '../../src/envoy/proxy-config/index.ts';
import { parseStats, statValue } from '../../src/envoy/stats.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { EnvoyAdminFleet } from '../../src/sandbox/envoy-admin.ts';

let sandbox: DemoSandbox;
let fleet: EnvoyAdminFleet;
let clock = new Date('2026-12-02T08:00:00Z');
const ejected = new Map<string, string[]>();
const REVIEWS_503 = 'cluster.outbound|9080||reviews.bookinfo.svc.cluster.local.upstream_rq_503';

beforeAll(async () => {
  sandbox = await startDemoSandbox({ faults: false });
  // This file's own fleet, with a clock and the traffic hooks under the test's control.
  sandbox.envoyAdmin.stop();
  fleet = new EnvoyAdminFleet(sandbox, {
    now: () => clock,
    stats: (ns, pod) => (ns === 'bookinfo' && pod.startsWith('productpage-') ? [{ name: REVIEWS_503, value: 7 }] : []),
    eject: (ns, pod) => ejected.get(`${ns}/${pod}`) ?? [],
  });
});

afterAll(async () => {
  fleet?.stop();
  await sandbox?.close();
});

function podOf(ns: string, prefix: string): KubeObject {
  const p = sandbox.store.list('Pod', ns).find((x) => x.metadata.name.startsWith(prefix));
  if (!p) throw new Error(`no pod ${ns}/${prefix}* in the demo`);
  return p;
}

function ask(pod: KubeObject, url: string): { status: number; body: string } {
  const a = fleet.answer(pod.metadata.namespace ?? '', pod.metadata.name, { method: 'GET', url });
  return { status: a.status, body: a.body };
}

const ip = (pod: KubeObject) => String((pod.status as { podIP: string }).podIP);

async function microtasks(): Promise<void> {
  await new Promise((r) => setTimeout(r, 20));
}

describe("the traffic model's counters and ejections", () => {
  it('counters from the stats hook are in /stats, its JSON and Prometheus (with response_code), beside Envoy’s own', () => {
    const pp = podOf('bookinfo', 'productpage-');
    expect(ask(pp, '/stats?filter=upstream_rq_503').body).toBe(
      `${REVIEWS_503}: 7\nserver.initialization_time_ms: No recorded values\n`,
    );
    expect(statValue(parseStats(ask(pp, '/stats?format=json').body), REVIEWS_503)).toBe(7);
    expect(ask(pp, '/stats/prometheus').body).toContain(
      'envoy_cluster_upstream_rq{response_code="503",cluster_name="outbound|9080||reviews.bookinfo.svc.cluster.local"} 7',
    );
    // Another proxy's counters are its own.
    expect(ask(podOf('bookinfo', 'details-'), '/stats?filter=upstream_rq_503').body).not.toContain(REVIEWS_503);
  });

  it('an ejected host fails its outlier check in /clusters (JSON and text) and in the membership stats', () => {
    const pp = podOf('bookinfo', 'productpage-');
    const v1 = podOf('bookinfo', 'reviews-v1-');
    ejected.set(`bookinfo/${pp.metadata.name}`, [`${ip(v1)}:9080`]);
    try {
      const clusters = parseClusters(ask(pp, '/clusters?format=json').body);
      const host = clusters
        .find((c) => c.name === 'outbound|9080|v1|reviews.bookinfo.svc.cluster.local')!
        .hosts.find((h) => h.address === `${ip(v1)}:9080`)!;
      expect({ outlier: host.failedOutlierCheck, healthy: host.healthy }).toEqual({ outlier: true, healthy: false });
      const table = pc.endpointSummary(pc.parseEnvoyClusters(ask(pp, '/clusters?format=json').body), {
        cluster: 'outbound|9080|v1|reviews.bookinfo.svc.cluster.local',
      });
      expect(table).toMatch(/HEALTHY\s+FAILED\s+outbound\|9080\|v1\|reviews/);
      expect(ask(pp, '/clusters').body).toContain(
        `outbound|9080|v1|reviews.bookinfo.svc.cluster.local::${ip(v1)}:9080::health_flags::/failed_outlier_check`,
      );
      const stats = parseStats(ask(pp, '/stats?format=json&filter=v1.reviews').body);
      expect(statValue(stats, 'cluster.outbound|9080|v1|reviews.bookinfo.svc.cluster.local.membership_healthy')).toBe(
        0,
      );
      expect(
        statValue(
          stats,
          'cluster.outbound|9080|v1|reviews.bookinfo.svc.cluster.local.outlier_detection.ejections_active',
        ),
      ).toBe(1);
    } finally {
      ejected.clear();
    }
  });
});

describe('what a proxy sees', () => {
  const names = (pod: KubeObject) =>
    (
      JSON.parse(ask(pod, '/config_dump?resource=dynamic_active_clusters&mask=cluster.name').body) as {
        configs: Array<{ cluster: { name: string } }>;
      }
    ).configs.map((c) => c.cluster.name);

  it("a namespace's Sidecar narrows its proxies' clusters to the egress hosts; other namespaces keep everything", async () => {
    const pp = podOf('bookinfo', 'productpage-');
    expect(names(pp)).toContain('outbound|8080||cart.shop.svc.cluster.local');
    sandbox.store.put({
      apiVersion: 'networking.istio.io/v1',
      kind: 'Sidecar',
      metadata: { name: 'default', namespace: 'bookinfo' },
      spec: { egress: [{ hosts: ['./*', 'istio-system/*'] }] },
    });
    try {
      const seen = names(pp).filter((n) => n.startsWith('outbound|'));
      expect(seen.some((n) => n.endsWith('.bookinfo.svc.cluster.local'))).toBe(true);
      expect(seen.some((n) => n.endsWith('.istio-system.svc.cluster.local'))).toBe(true);
      expect(seen.filter((n) => !/\.(bookinfo|istio-system)\.svc\.cluster\.local$/.test(n))).toEqual([]);
      expect(names(podOf('shop', 'frontend-'))).toContain('outbound|9080||reviews.bookinfo.svc.cluster.local');
    } finally {
      sandbox.store.delete('Sidecar', 'bookinfo', 'default');
    }
  });

  it('a Service exported only to its namespace is absent elsewhere', () => {
    const cart = sandbox.store.get('Service', 'shop', 'cart')!;
    const original = structuredClone(cart);
    cart.metadata.annotations = { ...cart.metadata.annotations, 'networking.istio.io/exportTo': '.' };
    sandbox.store.put(cart);
    try {
      expect(names(podOf('bookinfo', 'productpage-')).filter((n) => n.includes('cart.shop'))).toEqual([]);
      expect(names(podOf('shop', 'frontend-'))).toContain('outbound|8080||cart.shop.svc.cluster.local');
    } finally {
      sandbox.store.put(original);
    }
  });

  it('STRICT mTLS leaves only the TLS filter chain for an inbound port', () => {
    const cart = podOf('shop', 'cart-v1-');
    const inbound = () => {
      const dump = JSON.parse(ask(cart, '/config_dump?resource=dynamic_listeners&name_regex=virtualInbound').body) as {
        configs: Array<{
          active_state: {
            listener: {
              filter_chains: Array<{ filter_chain_match?: { destination_port?: number; transport_protocol?: string } }>;
            };
          };
        }>;
      };
      return dump.configs[0]!.active_state.listener.filter_chains.filter(
        (fc) => fc.filter_chain_match?.destination_port === 8080,
      ).map((fc) => fc.filter_chain_match?.transport_protocol);
    };
    expect(inbound()).toEqual(['tls', 'raw_buffer']);
    sandbox.store.put({
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: 'shop' },
      spec: { mtls: { mode: 'STRICT' } },
    });
    try {
      expect(inbound()).toEqual(['tls']);
    } finally {
      sandbox.store.delete('PeerAuthentication', 'shop', 'default');
    }
  });
});

describe('routes and endpoints as istiod builds them', () => {
  type RouteDump = {
    configs: Array<{
      route_config: {
        name: string;
        virtual_hosts: Array<{
          name: string;
          routes: Array<{ route: { cluster?: string; weighted_clusters?: { clusters: Array<{ name: string }> } } }>;
        }>;
      };
    }>;
  };
  const routeClusters = (pod: KubeObject, config: string, vhost: string) =>
    (JSON.parse(ask(pod, '/config_dump?resource=dynamic_route_configs').body) as RouteDump).configs
      .map((c) => c.route_config)
      .find((r) => r.name === config)!
      .virtual_hosts.find((v) => v.name === vhost)!
      .routes.flatMap((r) =>
        r.route.cluster ? [r.route.cluster] : (r.route.weighted_clusters?.clusters ?? []).map((c) => c.name),
      );

  it("a destination without a port, to a Service of several ports, takes the listener's port (GetDestinationCluster)", () => {
    // VirtualService shop/cart routes to subsets v1/v2 without a port; Service cart has ports 8080 and 9090.
    const clusters = routeClusters(podOf('bookinfo', 'productpage-'), '8080', 'cart.shop.svc.cluster.local:8080');
    expect(clusters.length).toBeGreaterThan(0);
    expect(clusters.filter((c) => !/^outbound\|8080\|v[12]\|cart\.shop\.svc\.cluster\.local$/.test(c))).toEqual([]);
  });

  it('a Service without a selector gets its endpoints from its EndpointSlices, ready ones only', () => {
    const pp = podOf('bookinfo', 'productpage-');
    const hostsOf = (name: string) =>
      parseClusters(ask(pp, '/clusters?format=json').body)
        .find((c) => c.name === name)
        ?.hosts.map((h) => h.address);
    // The API server's own Service, as every cluster has it.
    expect(hostsOf('outbound|443||kubernetes.default.svc.cluster.local')).toEqual(['172.18.0.2:6443']);
    sandbox.store.put({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'external-db', namespace: 'bookinfo' },
      spec: { clusterIP: '10.96.0.99', ports: [{ name: 'tcp-db', port: 5432 }] },
    });
    sandbox.store.put({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: 'external-db-1',
        namespace: 'bookinfo',
        labels: { 'kubernetes.io/service-name': 'external-db' },
      },
      addressType: 'IPv4',
      endpoints: [
        { addresses: ['192.0.2.10'], conditions: { ready: true } },
        { addresses: ['192.0.2.11'], conditions: { ready: false } },
      ],
      ports: [{ name: 'tcp-db', port: 15432, protocol: 'TCP' }],
    });
    try {
      expect(hostsOf('outbound|5432||external-db.bookinfo.svc.cluster.local')).toEqual(['192.0.2.10:15432']);
    } finally {
      sandbox.store.delete('EndpointSlice', 'bookinfo', 'external-db-1');
      sandbox.store.delete('Service', 'bookinfo', 'external-db');
    }
  });
});

describe('identity and certificates', () => {
  it("the SPIFFE id follows the mesh config's trust domain", () => {
    const details = podOf('bookinfo', 'details-');
    const sa = String((details.spec as { serviceAccountName?: string }).serviceAccountName ?? 'default');
    const uri = () => parseCerts(ask(details, '/certs').body)[0]!.certChain[0]!.subjectAltNames[0];
    expect(uri()).toBe(`spiffe://cluster.local/ns/bookinfo/sa/${sa}`);
    const mesh = sandbox.store.get('ConfigMap', 'istio-system', 'istio') as KubeObject & {
      data: Record<string, string>;
    };
    const original = structuredClone(mesh);
    mesh.data.mesh = mesh.data.mesh!.replace('trustDomain: cluster.local', 'trustDomain: example.org');
    sandbox.store.put(mesh);
    try {
      expect(uri()).toBe(`spiffe://example.org/ns/bookinfo/sa/${sa}`);
      const node = JSON.parse(ask(details, '/config_dump?mask=bootstrap.node.metadata.MESH_ID').body) as {
        configs: Array<{ bootstrap: { node: { metadata: { MESH_ID: string } } } }>;
      };
      expect(node.configs[0]!.bootstrap.node.metadata.MESH_ID).toBe('example.org');
    } finally {
      sandbox.store.put(original);
    }
  });

  it('a workload certificate is renewed after half its life; the days left count down before', () => {
    const ratings = podOf('bookinfo', 'ratings-');
    const leaf = () => parseCerts(ask(ratings, '/certs').body)[0]!.certChain[0]!;
    const first = leaf();
    const daysLeft = () =>
      statValue(parseStats(ask(ratings, '/stats?format=json').body), 'server.days_until_first_cert_expiring');
    clock = new Date(clock.getTime() + 11 * 3600_000);
    // 13 hours left: 0 whole days, the same certificate.
    expect({ serial: leaf().serialNumber, days: daysLeft(), certDays: leaf().daysUntilExpiration }).toEqual({
      serial: first.serialNumber,
      days: 0,
      certDays: 0,
    });
    clock = new Date(clock.getTime() + 2 * 3600_000);
    const renewed = leaf();
    expect(renewed.serialNumber).not.toBe(first.serialNumber);
    expect(renewed.validFrom!.getTime()).toBe(Math.floor(clock.getTime() / 1000) * 1000);
    // Renewed just now: a whole day left again.
    expect(daysLeft()).toBe(1);
  });

  it('istio-ca-root-cert is recreated when deleted and appears in a new namespace', async () => {
    const want = fleet.ca.rootPem;
    const rootOf = (ns: string) =>
      (sandbox.store.get('ConfigMap', ns, 'istio-ca-root-cert') as { data?: Record<string, string> } | undefined)
        ?.data?.['root-cert.pem'];
    sandbox.store.delete('ConfigMap', 'shop', 'istio-ca-root-cert');
    await microtasks();
    expect(rootOf('shop')).toBe(want);
    sandbox.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fresh' } });
    await microtasks();
    expect(rootOf('fresh')).toBe(want);
    expect(rootOf('kube-system')).toBeUndefined();
  });
});
