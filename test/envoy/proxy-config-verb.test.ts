// /mesh proxy-config through the router against the sandbox API server, each pod's Envoy admin on :15000
// (reached by pods/portforward) answering with istioctl's real dumps (proxy-config-fixtures.ts): every
// view and filter gives istioctl's own table, the admin request istioctl makes, the counts, and what needs
// attention (no healthy endpoint with the subset checked against pods, an ejected endpoint, a warming
// cluster, a route to a cluster the proxy lacks); -o json as a file; no sidecar, RBAC and a dead Envoy said.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { renderedToText } from '../../src/blocks/block-kit.ts';
import { ENVOY_ADMIN_PORT } from '../../src/envoy/admin.ts';
import {
  clusterSummary,
  endpointSummary,
  listenerSummary,
  parseEnvoyClusters,
  parseEnvoyConfigDump,
  secretSummary,
} from '../../src/envoy/proxy-config/index.ts';
import proxyConfig from '../../src/features/envoy/proxy-config.ts';
import { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { createLogger } from '../../src/log.ts';
import { type Reply, Router } from '../../src/router.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { describeWithShared } from '../support/shared.ts';
import {
  type AdminAnswers,
  NS,
  adminHandler,
  brokenAnswers,
  readText,
  realAnswers,
  seed,
} from './proxy-config-fixtures.ts';

const user = { userId: 'U0SRE001', source: 'cli' as const };
let sb: Sandbox;
let router: Router;
let denied: Router;
let real: AdminAnswers;
let broken: AdminAnswers;

async function ask(text: string, r: Router = router): Promise<Reply & { out: string; files: string }> {
  const reply = await r.handle(text, user);
  return {
    ...reply,
    out: renderedToText(reply.rendered),
    files: (reply.rendered.files ?? []).map((f) => `${f.filename}\n${f.content}`).join('\n'),
  };
}

describeWithShared('/mesh proxy-config against real Envoy dumps', () => {
  beforeAll(async () => {
    const rbac: KubeObject[] = [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'reader' },
        rules: [
          {
            apiGroups: ['', 'apps', 'networking.istio.io'],
            resources: ['pods', 'services', 'namespaces', 'deployments', 'destinationrules'],
            verbs: ['get', 'list', 'watch'],
          },
        ],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'reader' },
        subjects: [{ kind: 'User', name: 'reader@example.com' }],
      },
    ];
    sb = await startSandbox({ controllers: false, seed: [...seed(), ...rbac] });
    real = realAnswers();
    broken = brokenAnswers();
    sb.podEndpoints.register(NS, 'productpage-v1-abc', ENVOY_ADMIN_PORT, adminHandler(real));
    sb.podEndpoints.register(NS, 'reviews-v1-aaa', ENVOY_ADMIN_PORT, adminHandler(broken));
    const kc = new KubeConfig();
    kc.loadFromString(sb.kubeconfig());
    const log = createLogger({ level: 'silent' });
    router = new Router({
      commands: [proxyConfig],
      clusters: [{ name: 'lab', kube: new KubeClient(kc, { timeoutMs: 5000 }) }],
      log,
    });
    denied = new Router({
      commands: [proxyConfig],
      clusters: [
        { name: 'lab', kube: new KubeClient(kc, { timeoutMs: 5000, impersonate: { user: 'reader@example.com' } }) },
      ],
      log,
    });
  });

  afterAll(async () => {
    await sb?.close();
  });

  it("clusters: istioctl's mask, istioctl's table byte for byte, counts by direction and type", async () => {
    const r = await ask('proxy-config clusters productpage-v1-abc.bookinfo');
    expect(r.outcome).toBe('ok');
    expect(real.seen).toContain('/config_dump?mask=dynamic_active_clusters,dynamic_warming_clusters,static_clusters');
    const table = clusterSummary(parseEnvoyConfigDump(real.configDump));
    expect(r.out).toContain(table.trimEnd());
    expect(table).toContain('inbound-vip|8000|http|httpbin'.split('|')[3]!);
    expect(r.out).toContain(
      '3 clusters* — by direction: 2 other (no Istio service), 1 inbound-vip · by type: 2 STATIC, 1 EDS',
    );
    // Health read beside it, from /clusters: every endpoint of the real EDS dump, all healthy.
    expect(real.seen).toContain('/clusters?format=json');
    const hosts = real.clusters.cluster_statuses.flatMap((c: { host_statuses: unknown[] }) => c.host_statuses).length;
    expect(hosts).toBeGreaterThan(30);
    expect(r.out).toContain(`${hosts} endpoints* in`);
    expect(r.out).toContain(`${hosts} healthy, 0 not`);
    expect(r.rendered.text).toContain('proxy-config clusters of bookinfo/productpage-v1-abc: 3 clusters');
  });

  it('the pc alias and the short view names; filters narrow the table exactly as istioctl does', async () => {
    const dump = parseEnvoyConfigDump(real.configDump);
    const c = await ask(
      'pc c productpage-v1-abc.bookinfo --fqdn httpbin --direction inbound-vip --port 8000 --subset http',
    );
    expect(c.out).toContain(
      clusterSummary(dump, { fqdn: 'httpbin', direction: 'inbound-vip', port: 8000, subset: 'http' }).trimEnd(),
    );
    expect(c.out).not.toContain('prometheus_stats     ');
    expect(c.out).toContain('filtered by `--fqdn httpbin --direction inbound-vip --subset http --port 8000`');
    const l = await ask('pc l productpage-v1-abc.bookinfo --port 15021 --type HTTP --address 0.0.0.0');
    expect(real.seen).toContain('/config_dump?mask=dynamic_listeners,static_listeners');
    expect(l.out).toContain(listenerSummary(dump, { port: 15021, type: 'HTTP', address: '0.0.0.0' }).trimEnd());
    expect(l.out).toContain('Inline Route: /healthz/ready*');
    const ep = await ask(
      'pc ep productpage-v1-abc.bookinfo --envoy-cluster outbound|9080||reviews.default.svc.cluster.local --status healthy --port 9080',
    );
    const eps = endpointSummary(parseEnvoyClusters(real.clusters), {
      cluster: 'outbound|9080||reviews.default.svc.cluster.local',
      status: 'healthy',
      port: 9080,
    });
    expect(ep.out).toContain(eps.trimEnd());
    expect(eps.trim().split('\n')).toHaveLength(4);
    // The whole endpoint table does not fit a section: its first rows in the message, all of it as a file.
    const whole = await ask('pc endpoints productpage-v1-abc.bookinfo');
    expect(real.seen.at(-1)).toBe('/clusters?format=json');
    const full = endpointSummary(parseEnvoyClusters(real.clusters));
    expect(whole.out).toMatch(
      /…and \d+ more rows: the whole table is in the thread as `productpage-v1-abc-endpoints.txt`/,
    );
    expect(whole.rendered.files?.find((f) => f.filename === 'productpage-v1-abc-endpoints.txt')?.content).toBe(full);
    const ad = await ask('pc endpoints productpage-v1-abc.bookinfo --address 10.244.0.191');
    expect(ad.out).toContain('outbound|9080||ratings.default.svc.cluster.local');
    expect(ad.out).not.toContain('reviews.default');
  });

  it('routes, bootstrap, secrets and all: their masks and tables; bootstrap is JSON by default as in istioctl', async () => {
    const rt = await ask(
      'proxy-config routes productpage-v1-abc.bookinfo --name inbound-vip|8000|http|httpbin.default.svc.cluster.local',
    );
    expect(real.seen).toContain('/config_dump?mask=dynamic_route_configs,static_route_configs');
    expect(rt.out).toContain('inbound|http|8000');
    expect(rt.out).toContain('1 route configuration*, 1 virtual host, 1 route');
    const b = await ask('pc b productpage-v1-abc.bookinfo');
    expect(real.seen).toContain('/config_dump?mask=bootstrap');
    expect(b.out).toContain('Istio 1.21.0-1226 · Envoy 0.0.0');
    expect(b.rendered.files?.[0]?.filename).toBe('productpage-v1-abc-bootstrap.json');
    expect(JSON.parse(b.rendered.files![0]!.content).bootstrap.node.id).toContain('waypoint~');
    const bs = await ask('pc bootstrap productpage-v1-abc.bookinfo -o short');
    expect(bs.out).toContain(readText('configdump/versionsummary.txt').split('\n')[0]!.split(':')[0]!);
    const s = await ask('pc secrets productpage-v1-abc.bookinfo');
    expect(real.seen).toContain('/config_dump?mask=dynamic_active_secrets,dynamic_warming_secrets');
    expect(s.out).toContain(
      secretSummary(parseEnvoyConfigDump(real.configDump), { now: new Date() }).split('\n')[0]!.trimEnd(),
    );
    // The workload certificate in the real dump expired in 2023: said, with what it means.
    expect(s.out).toContain('Secret `default` (Cert Chain) is not valid now');
    const all = await ask('pc all productpage-v1-abc.bookinfo');
    expect(real.seen).toContain('/config_dump?include_eds=true');
    expect(all.out).toContain('------ CLUSTER INFO ------');
    expect(all.out).toContain('------ ENDPOINTS INFO ------');
    expect(all.out).toContain('endpoint/127.0.0.1:15000');
  });

  it('-o json and -o yaml always go to the thread as a file', async () => {
    const r = await ask('pc clusters productpage-v1-abc.bookinfo -o json');
    const f = r.rendered.files?.find((x) => x.filename === 'productpage-v1-abc-clusters.json');
    expect(JSON.parse(f!.content).map((c: { name: string }) => c.name)).toEqual([
      'agent',
      'inbound-vip|8000|http|httpbin.default.svc.cluster.local',
      'prometheus_stats',
    ]);
    expect(r.out).toContain('are in the thread as `productpage-v1-abc-clusters.json`');
    const y = await ask('pc listeners productpage-v1-abc.bookinfo -o yaml');
    expect(y.rendered.files?.[0]?.filename).toBe('productpage-v1-abc-listeners.yaml');
    expect(y.rendered.files?.[0]?.content).toContain('name: main_internal');
    const all = await ask('pc all productpage-v1-abc.bookinfo -o json');
    const dump = JSON.parse(all.rendered.files![0]!.content);
    expect(dump.configs).toHaveLength(7);
  });

  it('what needs attention: no healthy endpoint (the subset checked against pods), ejection, warming, a route to a missing cluster', async () => {
    const c = await ask('pc clusters reviews-v1 -n bookinfo');
    // A Deployment of two pods: one is asked, named, the other listed.
    expect(c.out).toContain('pod `bookinfo/reviews-v1-aaa`, one of 2 pods of Deployment bookinfo/reviews-v1');
    expect(c.out).toContain('others: `bookinfo/reviews-v1-bbb`');
    expect(c.out).toContain('`outbound|9080|v3|reviews.bookinfo.svc.cluster.local` has *no endpoints*');
    expect(c.out).toContain('503 UH');
    expect(c.out).toContain(
      'DestinationRule bookinfo/reviews subset `v3` (version=v3) selects 0 of the 2 pods of Service bookinfo/reviews: *a DestinationRule subset that selects no pod*',
    );
    expect(c.out).toContain('of `outbound|9080||ratings.default.svc.cluster.local`: ejected by outlier detection');
    expect(c.out).toContain('1 cluster still warming (`outbound|9080|v2|reviews.bookinfo.svc.cluster.local`)');
    expect(c.rendered.text).toMatch(/things need attention$/);
    const rt = await ask('pc routes reviews-v1-aaa.bookinfo');
    expect(rt.out).toContain(
      'sends to `outbound|9080|v4|reviews.bookinfo.svc.cluster.local`, a cluster this proxy does not have: those requests fail with 503 NC',
    );
    expect(rt.out).toContain('No DestinationRule defines subset `v4` of reviews.bookinfo.svc.cluster.local');
    expect(rt.out).not.toContain('`outbound|9080|v1|reviews.bookinfo.svc.cluster.local`, a cluster');
    const l = await ask('pc l app=reviews -n bookinfo');
    // A label selector picks one pod (the oldest ready one) and names the other.
    expect(l.out).toContain('pod `bookinfo/reviews-v1-aaa`, one of 2 pods of');
    expect(l.out).toContain('1 listener still warming (`0.0.0.0_9080`)');
    expect(l.out).toContain(
      'Envoy rejected `0.0.0.0_8080`: Error adding/updating listener(s) 0.0.0.0_8080: duplicate matcher',
    );
    const clean = await ask('pc listeners productpage-v1-abc.bookinfo');
    expect(clean.out).toContain('Nothing here needs attention.');
  });

  it('bad input says what to type: an unknown view, a flag the view does not take, a bad port, no pod', async () => {
    const v = await ask('pc clusterz productpage-v1-abc.bookinfo');
    expect(v.outcome).toBe('user_error');
    expect(v.out).toContain('`clusterz` is not a proxy-config view');
    expect(v.out).toContain('clusters (c), listeners (l), routes (r), endpoints (ep)');
    const f = await ask('pc routes productpage-v1-abc.bookinfo --fqdn reviews');
    expect(f.out).toContain('`--fqdn` does not filter routes');
    expect(f.out).toContain('For routes use `--name`');
    expect((await ask('pc c productpage-v1-abc.bookinfo --port http')).out).toContain('give --port as a number');
    expect((await ask('pc clusters')).out).toContain('Which proxy?');
    expect((await ask('pc c productpage-v1-abc.bookinfo -o table')).out).toContain('Use `-o short`');
  });

  it('a pod without a sidecar is refused with what to ask instead; nothing is port-forwarded', async () => {
    const before = sb.requests.filter((q) => q.path.endsWith('/portforward')).length;
    const r = await ask('pc clusters legacy-job-xyz.bookinfo');
    expect(r.outcome).toBe('user_error');
    expect(r.out).toContain('Pod bookinfo/legacy-job-xyz has no Envoy');
    expect(r.out).toContain('/mesh describe pod legacy-job-xyz.bookinfo');
    expect(sb.requests.filter((q) => q.path.endsWith('/portforward')).length).toBe(before);
  });

  it('RBAC without pods/portforward, an Envoy that is not running, and a port that is not Envoy: each said with its reason', async () => {
    const d = await ask('pc clusters productpage-v1-abc.bookinfo', denied);
    expect(d.out).toContain('RBAC 403: no `create` on `pods/portforward` in namespace bookinfo');
    expect(d.out).toContain('deploy/components/envoy-admin');
    // reviews-v1-bbb has a sidecar but nothing listens on 15000.
    const dead = await ask('pc listeners reviews-v1-bbb.bookinfo');
    expect(dead.out).toContain('Nothing answers on port 15000 in pod bookinfo/reviews-v1-bbb');
    broken.fail = { status: 200, body: '<html>not envoy</html>' };
    const notEnvoy = await ask('pc clusters reviews-v1-aaa.bookinfo');
    broken.fail = undefined;
    expect(notEnvoy.out).toContain('not an Envoy admin API');
  });
});
