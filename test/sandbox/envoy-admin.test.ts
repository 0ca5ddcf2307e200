// The sandbox's Envoy admin API (:15000) in the demo mesh, read as the bot reads it: through the API
// server's pods/portforward (KubeClient.portForwardGet, and the real `kubectl port-forward` when
// installed). What it serves must have the shape of a real Envoy's config_dump (compared with
// ../shared's istioctl testdata), be what the bot's own parsers and istioctl writers read, follow the
// store (DestinationRule subsets, a subset selecting no pod, rollouts), and keep Envoy's rules:
// masks and resource= as Envoy's handler applies them, localhost only, certificates from the mesh CA
// whose root istiod publishes, gateway credentials active or warming.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { execa } from 'execa';
import { startDemoSandbox, type DemoSandbox } from '../../src/demo/demo-mesh.ts';
import { getCerts, getClusters, getStats } from '../../src/envoy/admin.ts';
import { spiffeIdentity } from '../../src/envoy/certs.ts';
import * as pc from '../../src/envoy/proxy-config/index.ts';
import { statValue } from '../../src/envoy/stats.ts';
import { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { conformanceDir, describeWithShared } from '../support/shared.ts';
import { findKubectl } from '../support/kubectl.ts';

let sandbox: DemoSandbox;
let kube: KubeClient;

beforeAll(async () => {
  sandbox = await startDemoSandbox();
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  kube = new KubeClient(kc);
});

afterAll(async () => {
  await sandbox?.close();
});

/** The first pod whose name starts with `prefix` in `ns`. */
function podOf(ns: string, prefix: string): string {
  const p = sandbox.store.list('Pod', ns).find((x) => x.metadata.name.startsWith(prefix));
  if (!p) throw new Error(`no pod ${ns}/${prefix}* in the demo`);
  return p.metadata.name;
}

async function admin(ns: string, pod: string, path: string): Promise<{ status: number; body: string }> {
  const a = await kube.portForwardGet(ns, pod, 15000, path);
  return { status: a.status, body: a.body };
}

async function dumpOf(ns: string, pod: string, path = '/config_dump?include_eds') {
  const a = await admin(ns, pod, path);
  expect(a.status).toBe(200);
  return JSON.parse(a.body) as { configs: Array<Record<string, unknown>> };
}

async function until(what: string, check: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describeWithShared('config_dump has the shape of a real Envoy dump (istioctl testdata in ../shared)', () => {
  const dir = join(conformanceDir, 'istio', 'proxyconfig');
  const reference = ['all/config_dump.json', 'configdump/secret/istio/config_dump.json'].flatMap(
    (f) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { configs: Array<Record<string, unknown>> }).configs,
  );

  it('every @type of the reference is there, with at least its keys, and each resource list holds elements of its shape', async () => {
    const reviews = podOf('bookinfo', 'reviews-v1-');
    const ours = (await dumpOf('bookinfo', reviews)).configs;
    // The gateway has warming secrets, as the reference's secret dump does.
    const gw = (await dumpOf('istio-system', podOf('istio-system', 'istio-ingressgateway-'))).configs;
    for (const ref of reference) {
      const type = String(ref['@type']);
      if (type.endsWith('ScopedRoutesConfigDump')) continue;
      const mine = [...ours, ...gw].filter((c) => c['@type'] === type);
      expect({ type, found: mine.length > 0 }).toEqual({ type, found: true });
      for (const [key, value] of Object.entries(ref)) {
        const holder = mine.find((c) => key in c);
        expect({ type, key, present: holder !== undefined }).toEqual({ type, key, present: true });
        if (!Array.isArray(value) || value.length === 0) continue;
        const refKeys = Object.keys(value[0] as object).filter((k) => k !== 'error_state');
        const element = (holder![key] as Array<Record<string, unknown>>)[0]!;
        for (const k of refKeys)
          expect({ type, key, field: k, present: k in element }).toEqual({ type, key, field: k, present: true });
        // Resources are wrapped in Any: the same @type URLs as Envoy's.
        for (const k of refKeys) {
          const inner = (value[0] as Record<string, unknown>)[k] as Record<string, unknown> | undefined;
          if (inner && typeof inner === 'object' && '@type' in inner)
            expect((element[k] as Record<string, unknown>)['@type']).toBe(inner['@type']);
        }
      }
    }
    // Envoy's order: bootstrap, clusters, endpoints, listeners, scoped routes, routes, secrets.
    expect(ours.map((c) => String(c['@type']).split('.').pop())).toEqual([
      'BootstrapConfigDump',
      'ClustersConfigDump',
      'EndpointsConfigDump',
      'ListenersConfigDump',
      'ScopedRoutesConfigDump',
      'RoutesConfigDump',
      'SecretsConfigDump',
    ]);
  });
});

describe("the bot's parsers and istioctl's writers read what the sandbox serves", () => {
  it("clusters: reviews' DestinationRule subsets are clusters, with the rule named", async () => {
    const pod = podOf('bookinfo', 'productpage-v1-');
    const dump = pc.parseEnvoyConfigDump(
      (
        await admin(
          'bookinfo',
          pod,
          '/config_dump?mask=dynamic_active_clusters,dynamic_warming_clusters,static_clusters',
        )
      ).body,
    );
    const table = pc.clusterSummary(dump, { fqdn: 'reviews.bookinfo.svc.cluster.local' });
    const rows = table
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s{2,}/));
    expect(rows).toEqual(
      expect.arrayContaining([
        ['reviews.bookinfo.svc.cluster.local', '9080', '-', 'outbound', 'EDS', 'reviews.bookinfo'],
        ['reviews.bookinfo.svc.cluster.local', '9080', 'v1', 'outbound', 'EDS', 'reviews.bookinfo'],
        ['reviews.bookinfo.svc.cluster.local', '9080', 'v2', 'outbound', 'EDS', 'reviews.bookinfo'],
        ['reviews.bookinfo.svc.cluster.local', '9080', 'v3', 'outbound', 'EDS', 'reviews.bookinfo'],
      ]),
    );
    const all = pc.clusterSummary(dump);
    for (const name of [
      'BlackHoleCluster',
      'PassthroughCluster',
      'InboundPassthroughCluster',
      'agent',
      'prometheus_stats',
      'sds-grpc',
      'xds-grpc',
    ])
      expect(all).toContain(name);
    expect(all).toMatch(/9080\s+-\s+inbound\s+ORIGINAL_DST/);
  });

  it("a DestinationRule with a workloadSelector shapes only the proxies it selects (the demo's NACK cause, on ratings)", async () => {
    const ratings = podOf('bookinfo', 'ratings-v1-');
    const dump = await dumpOf(
      'bookinfo',
      ratings,
      '/config_dump?resource=dynamic_active_clusters&name_regex=.*reviews.*',
    );
    const clusters = dump.configs.map((c) => c.cluster as Record<string, unknown>);
    expect(clusters.map((c) => c.name).sort()).toEqual([
      'outbound|9080|v2|reviews.bookinfo.svc.cluster.local',
      'outbound|9080||reviews.bookinfo.svc.cluster.local',
    ]);
    const v2 = clusters.find((c) => String(c.name).includes('|v2|'))!;
    expect({ lb: v2.lb_policy, maglev: v2.maglev_lb_config }).toEqual({
      lb: 'MAGLEV',
      maglev: { table_size: '65536' },
    });
    expect(
      pc.clusterSummary(
        pc.parseEnvoyConfigDump(
          JSON.stringify({
            configs: [
              {
                '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
                dynamic_active_clusters: dump.configs,
              },
            ],
          }),
        ),
      ),
    ).toContain('reviews-affinity.bookinfo');
  });

  it('endpoints: a subset that selects no pod has no endpoint, the others their ready pods', async () => {
    const pod = podOf('checkout', 'storefront-');
    const clusters = await getClusters(kube, { namespace: 'checkout', pod });
    const byName = new Map(clusters.map((c) => [c.name, c]));
    const v2 = byName.get('outbound|8080|v2|payments.checkout.svc.cluster.local');
    const v1 = byName.get('outbound|8080|v1|payments.checkout.svc.cluster.local');
    expect(v2?.hosts).toEqual([]);
    const paymentsPods = sandbox.store.list('Pod', 'checkout').filter((p) => p.metadata.labels?.app === 'payments');
    expect(v1?.hosts.map((h) => h.address).sort()).toEqual(
      paymentsPods.map((p) => `${String((p.status as { podIP: string }).podIP)}:8080`).sort(),
    );
    expect(v1?.hosts.every((h) => h.healthy)).toBe(true);
    // istioctl proxy-config endpoints (from /clusters?format=json) and eds (from config_dump?include_eds).
    const table = pc.endpointSummary(
      pc.parseEnvoyClusters((await admin('checkout', pod, '/clusters?format=json')).body),
      {
        cluster: 'outbound|8080|v1|payments.checkout.svc.cluster.local',
      },
    );
    expect(table).toMatch(
      /^ENDPOINT\s+STATUS\s+OUTLIER CHECK\s+CLUSTER\n\S+:8080\s+HEALTHY\s+OK\s+outbound\|8080\|v1\|payments/,
    );
    const eds = pc.edsSummary(
      pc.parseEnvoyConfigDump((await admin('checkout', pod, '/config_dump?include_eds=true')).body),
    );
    expect(eds).toContain('outbound|8080|v1|payments.checkout.svc.cluster.local');
    expect(eds).not.toContain('outbound|8080|v2|payments.checkout.svc.cluster.local');
  });

  it('listeners and routes: the outbound port listener, its RDS route, the VirtualService behind reviews', async () => {
    const pod = podOf('bookinfo', 'productpage-v1-');
    const dump = pc.parseEnvoyConfigDump((await admin('bookinfo', pod, '/config_dump')).body);
    const listeners = pc.listenerSummary(dump);
    expect(listeners).toMatch(/0\.0\.0\.0\s+9080\s+ALL\s+Route: 9080/);
    expect(listeners).toMatch(/0\.0\.0\.0\s+15006\s+/);
    const routes = pc.routeSummary(dump, { name: '9080' });
    // The VirtualService pins reviews to v1; details has none (Istio's default route, no VIRTUAL SERVICE).
    expect(routes).toMatch(
      /9080\s+reviews\.bookinfo\.svc\.cluster\.local:9080\s+reviews, reviews\.bookinfo \+ 1 more\.\.\.\s+\/\*\s+reviews\.bookinfo\n/,
    );
    expect(routes).toMatch(
      /9080\s+details\.bookinfo\.svc\.cluster\.local:9080\s+details, details\.bookinfo \+ 1 more\.\.\.\s+\/\* +\n/,
    );
  });

  it('the gateway: a credential whose Secret exists is active, one without a Secret is warming', async () => {
    const gw = podOf('istio-system', 'istio-ingressgateway-');
    const body = (await admin('istio-system', gw, '/config_dump?mask=dynamic_active_secrets,dynamic_warming_secrets'))
      .body;
    const dump = pc.parseEnvoyConfigDump(body);
    const items = pc.secretSummaryItems(dump);
    const status = Object.fromEntries(items.map((i) => [i.name, i.state]));
    expect(status).toMatchObject({
      default: 'ACTIVE',
      ROOTCA: 'ACTIVE',
      'kubernetes://checkout-tls': 'ACTIVE',
      'kubernetes://checkout-admin-tls': 'WARMING',
    });
    // Private keys as Envoy's redaction leaves them.
    const raw = JSON.parse(body) as {
      configs: Array<{
        dynamic_active_secrets?: Array<{ secret: { tls_certificate?: { private_key: { inline_bytes: string } } } }>;
      }>;
    };
    const keys = raw.configs[0]!.dynamic_active_secrets!.flatMap((s) =>
      s.secret.tls_certificate ? [s.secret.tls_certificate.private_key.inline_bytes] : [],
    );
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.map((k) => Buffer.from(k, 'base64').toString())).toEqual(keys.map(() => '[redacted]'));
    // The loaded credential is in /certs with its serial; the missing one is not.
    const secret = sandbox.store.get('Secret', 'istio-system', 'checkout-tls') as KubeObject & {
      data: Record<string, string>;
    };
    const serial = new X509Certificate(Buffer.from(secret.data['tls.crt']!, 'base64')).serialNumber.toLowerCase();
    const certs = await getCerts(kube, { namespace: 'istio-system', pod: gw });
    expect(certs.flatMap((c) => c.certChain.map((d) => d.serialNumber))).toContain(serial.replace(/^0+/, ''));
  });
});

describe("Envoy's query parameters on /config_dump", () => {
  it('mask keeps only the masked fields of the configs it fits; resource= lists elements; name_regex filters names', async () => {
    const pod = podOf('bookinfo', 'productpage-v1-');
    const masked = await dumpOf('bookinfo', pod, '/config_dump?mask=dynamic_listeners,static_listeners');
    expect(masked.configs.map((c) => Object.keys(c).sort())).toEqual([
      ['@type', 'dynamic_listeners', 'static_listeners'],
    ]);
    const boot = await dumpOf('bookinfo', pod, '/config_dump?mask=bootstrap.node.id');
    expect(boot.configs).toEqual([
      {
        '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump',
        bootstrap: {
          node: {
            id: expect.stringMatching(
              new RegExp(`^sidecar~10\\.[\\d.]+~${pod}\\.bookinfo~bookinfo\\.svc\\.cluster\\.local$`),
            ),
          },
        },
      },
    ]);
    const names = await dumpOf(
      'bookinfo',
      pod,
      '/config_dump?resource=dynamic_active_clusters&mask=cluster.name&name_regex=.*reviews.*',
    );
    expect(new Set(names.configs.map((c) => c['@type']))).toEqual(
      new Set(['type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster']),
    );
    const clusterNames = names.configs.map((c) => (c.cluster as { name: string }).name);
    expect(clusterNames.sort()).toEqual(
      [
        'outbound|9080|v1|reviews.bookinfo.svc.cluster.local',
        'outbound|9080|v2|reviews.bookinfo.svc.cluster.local',
        'outbound|9080|v3|reviews.bookinfo.svc.cluster.local',
        'outbound|9080||reviews.bookinfo.svc.cluster.local',
      ].sort(),
    );
    for (const c of names.configs) expect(Object.keys(c.cluster as object).sort()).toEqual(['@type', 'name']);
    const listenerNames = await dumpOf('bookinfo', pod, '/config_dump?resource=dynamic_listeners&mask=name');
    expect(listenerNames.configs.map((c) => c.name)).toEqual(
      expect.arrayContaining(['virtualInbound', 'virtualOutbound', '0.0.0.0_9080']),
    );
  });

  it('refuses as Envoy does: a field that is not repeated, one that does not exist, a mask that fits nothing, a bad regex', async () => {
    const pod = podOf('bookinfo', 'ratings-v1-');
    expect(await admin('bookinfo', pod, '/config_dump?resource=version_info')).toEqual({
      status: 400,
      body: 'version_info is not a repeated field. Use ?mask=version_info to get only this field',
    });
    expect(await admin('bookinfo', pod, '/config_dump?resource=no_such_field')).toEqual({
      status: 404,
      body: 'no_such_field not found in config dump',
    });
    expect(await admin('bookinfo', pod, '/config_dump?mask=no_such_field')).toEqual({
      status: 400,
      body: 'FieldMask no_such_field could not be successfully applied to any configs.',
    });
    expect((await admin('bookinfo', pod, '/config_dump?name_regex=(')).status).toBe(400);
    const unknown = await admin('bookinfo', pod, '/no_such_path');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatch(/^invalid path\. admin commands are:\n {2}\/certs: /);
  });
});

describe('localhost only, and following the pods', () => {
  it('pods/proxy to 15000 is refused as when nothing listens on the pod IP; port-forward answers', async () => {
    const pod = podOf('bookinfo', 'details-v1-');
    await expect(kube.podProxyGet('bookinfo', pod, 15000, '/ready')).rejects.toThrow(/connection refused/);
    expect(await admin('bookinfo', pod, '/ready')).toEqual({ status: 200, body: 'LIVE\n' });
    const info = JSON.parse((await admin('bookinfo', pod, '/server_info')).body) as {
      state: string;
      node: { id: string };
    };
    expect(info.state).toBe('LIVE');
    expect(info.node.id).toContain(`~${pod}.bookinfo~bookinfo.svc.cluster.local`);
  });

  it('a replaced pod loses its admin endpoint, its successor gets one and shows up in the peers’ endpoints', async () => {
    const old = podOf('bookinfo', 'ratings-v1-');
    const caller = podOf('bookinfo', 'productpage-v1-');
    sandbox.store.delete('Pod', 'bookinfo', old);
    await until('the old pod to go', () => !sandbox.envoyAdmin.served().includes(`bookinfo/${old}`));
    await expect(kube.portForwardGet('bookinfo', old, 15000, '/ready')).rejects.toThrow();
    let fresh = '';
    await until('a new ratings pod with an admin endpoint and a Ready status', () => {
      const p = sandbox.store
        .list('Pod', 'bookinfo')
        .find((x) => x.metadata.name.startsWith('ratings-v1-') && x.metadata.name !== old);
      fresh = p?.metadata.name ?? '';
      const ready = (
        (p?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []
      ).some((c) => c.type === 'Ready' && c.status === 'True');
      return fresh !== '' && ready && sandbox.envoyAdmin.served().includes(`bookinfo/${fresh}`);
    });
    expect(await admin('bookinfo', fresh, '/ready')).toEqual({ status: 200, body: 'LIVE\n' });
    const ip = String((sandbox.store.get('Pod', 'bookinfo', fresh)!.status as { podIP: string }).podIP);
    const clusters = await getClusters(kube, { namespace: 'bookinfo', pod: caller });
    const ratings = clusters.find((c) => c.name === 'outbound|9080||ratings.bookinfo.svc.cluster.local');
    expect(ratings?.hosts.map((h) => h.address)).toEqual([`${ip}:9080`]);
  });
});

describe('certificates from the mesh CA', () => {
  it("the workload certificate carries the pod's SPIFFE id for 24 hours; the root is istio-ca-root-cert's", async () => {
    const pod = podOf('bookinfo', 'reviews-v2-');
    const sa = String(
      (sandbox.store.get('Pod', 'bookinfo', pod)!.spec as { serviceAccountName?: string }).serviceAccountName ??
        'default',
    );
    const certs = await getCerts(kube, { namespace: 'bookinfo', pod });
    expect(spiffeIdentity(certs)).toBe(`spiffe://cluster.local/ns/bookinfo/sa/${sa}`);
    const leaf = certs[0]!.certChain[0]!;
    expect(leaf.expirationTime!.getTime() - leaf.validFrom!.getTime()).toBe(24 * 60 * 60 * 1000);
    expect(leaf.daysUntilExpiration).toBe(0);
    // The root the proxy trusts is the one istiod publishes in every namespace.
    await until('istio-ca-root-cert to hold the mesh root', () => {
      const cm = sandbox.store.get('ConfigMap', 'bookinfo', 'istio-ca-root-cert') as
        | { data?: Record<string, string> }
        | undefined;
      return cm?.data?.['root-cert.pem'] === sandbox.envoyAdmin.ca.rootPem;
    });
    const published = (
      sandbox.store.get('ConfigMap', 'bookinfo', 'istio-ca-root-cert') as unknown as { data: Record<string, string> }
    ).data['root-cert.pem']!;
    const root = new X509Certificate(published);
    expect(certs[0]!.caCert[0]!.serialNumber).toBe(root.serialNumber.toLowerCase().replace(/^0+/, ''));
    expect(new X509Certificate(published).verify(root.publicKey)).toBe(true);
    // The leaf in the SDS secret is signed by that root.
    const dump = await dumpOf('bookinfo', pod, '/config_dump?resource=dynamic_active_secrets&name_regex=default');
    const chain = Buffer.from(
      (dump.configs[0]!.secret as { tls_certificate: { certificate_chain: { inline_bytes: string } } }).tls_certificate
        .certificate_chain.inline_bytes,
      'base64',
    ).toString();
    const leafPem = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(chain)![0];
    expect(new X509Certificate(leafPem).verify(root.publicKey)).toBe(true);
  });
});

describe('stats', () => {
  it("Envoy's own stats follow the config: membership per cluster, in text, JSON and Prometheus", async () => {
    const pod = podOf('checkout', 'storefront-');
    const stats = await getStats(kube, { namespace: 'checkout', pod }, { filter: 'payments' });
    expect(statValue(stats, 'cluster.outbound|8080|v2|payments.checkout.svc.cluster.local.membership_total')).toBe(0);
    expect(
      statValue(stats, 'cluster.outbound|8080|v1|payments.checkout.svc.cluster.local.membership_healthy'),
    ).toBeGreaterThan(0);
    expect(stats.every((s) => s.name.includes('payments'))).toBe(true);
    const text = (await admin('checkout', pod, '/stats?filter=^server\\.live$')).body;
    expect(text).toBe('server.live: 1\nserver.initialization_time_ms: No recorded values\n');
    const prom = (await admin('checkout', pod, '/stats/prometheus')).body;
    expect(prom).toContain('# TYPE envoy_cluster_membership_total gauge');
    expect(prom).toContain(
      'envoy_cluster_membership_total{cluster_name="outbound|8080|v2|payments.checkout.svc.cluster.local"} 0',
    );
    const used = (await admin('checkout', pod, '/stats?usedonly')).body;
    expect(used).not.toMatch(/: 0\n/);
  });
});

const kubectl = findKubectl();
// Skipped on purpose when kubectl is absent: the test is about the real binary.
(kubectl ? describe : describe.skip)('kubectl port-forward to :15000', () => {
  it('a terminal reads the config dump as istioctl does', async () => {
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'meshops-envoy-')), 'config');
    await sandbox.writeKubeconfig(kubeconfig);
    const pod = podOf('bookinfo', 'details-v1-');
    const proc = execa(
      kubectl!,
      ['port-forward', '--kubeconfig', kubeconfig, '-n', 'bookinfo', `pod/${pod}`, ':15000'],
      {
        env: { HOME: tmpdir() },
        reject: false,
        timeout: 20_000,
        all: true,
      },
    );
    try {
      let out = '';
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`kubectl did not forward:\n${out}`)), 15_000);
        proc.all!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 15000/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
      });
      const body = await new Promise<string>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/config_dump?include_eds=true' }, (res) => {
            let b = '';
            res.on('data', (c: Buffer) => (b += c.toString()));
            res.on('end', () => resolve(b));
          })
          .on('error', reject);
      });
      const dump = pc.parseEnvoyConfigDump(body);
      expect(pc.bootstrapSummary(dump)).toMatch(/^Istio Version:\s+1\.24\.2\n/);
      expect(pc.edsSummary(dump)).toContain('outbound|9080|v1|details.bookinfo.svc.cluster.local');
    } finally {
      proc.kill();
      await proc;
    }
  });
});
