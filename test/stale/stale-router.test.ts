// /mesh stale and /mesh status through the router, against the sandbox API server with simulated
// istiods on its pod network (syncz read through pods/portforward, logs through pods/log).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import stale from '../../src/features/stale/stale.ts';
import status from '../../src/features/core/status.ts';
import { renderedToText } from '../../src/blocks/block-kit.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { createLogger } from '../../src/log.ts';
import { type Reply, Router } from '../../src/router.ts';
import { DEMO_NACK_MESSAGES, IstiodSim, TYPE_URL } from '../../src/sandbox/istiod-sim.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { ISTIODS, kubeOf, meshSeed, proxyIdOf, proxyPodsOf, serveScenario, service } from './support.ts';

let sb: Sandbox;
let router: Router;
const user = { userId: 'U0SRE001', source: 'cli' as const };

async function ask(text: string): Promise<Reply & { out: string }> {
  const r = await router.handle(text, user);
  return { ...r, out: renderedToText(r.rendered) };
}

const vs = (name: string, spec: Record<string, unknown>, changedAt?: string): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: {
    name,
    namespace: 'bookinfo',
    ...(changedAt
      ? { managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update', time: changedAt }] }
      : {}),
  },
  spec,
});

const dr = (name: string, spec: Record<string, unknown>, changedAt: string): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: {
    name,
    namespace: 'bookinfo',
    managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update', time: changedAt }],
  },
  spec,
});

beforeAll(async () => {
  sb = await startSandbox({ controllers: false, seed: meshSeed() });
  router = new Router({
    commands: [stale, status],
    clusters: [{ name: 'lab', kube: kubeOf(sb) }],
    log: createLogger({ level: 'silent' }),
  });
});

afterAll(async () => {
  await sb?.close();
});

beforeEach(() => {
  serveScenario(sb, { istiods: ISTIODS });
});

describe('/mesh stale', () => {
  it('everything SYNCED: one line with the counts, no buttons', async () => {
    const r = await ask('stale bookinfo');
    expect(r.outcome).toBe('ok');
    expect(r.rendered.text).toBe('All 6 proxies in bookinfo are SYNCED (CDS, LDS, EDS, RDS).');
    expect(r.out).toContain('2 istiods read');
    expect(r.rendered.offers ?? []).toEqual([]);
    const mesh = await ask('stale');
    expect(mesh.rendered.text).toBe('All 8 proxies in the mesh are SYNCED (CDS, LDS, EDS, RDS).');
    expect(mesh.out).toContain('bookinfo 6, shop 2');
  });

  it('LDS STALE in one pod: summary with age, the table, what LDS means, the suspect, and Restart deployment', async () => {
    const id = proxyIdOf(sb, 'reviews-v2');
    serveScenario(sb, { istiods: ISTIODS, staleLds: [id], staleForMs: 4 * 60_000 + 5_000 });
    const r = await ask('stale bookinfo');
    expect(r.rendered.text).toBe('1 of 6 proxies in bookinfo is STALE (LDS) — since 4m5s');
    expect(r.out).toMatch(new RegExp(`${id.split('.')[0]}\\s+STALE\\s+LDS\\s+4m5s\\s+istiod-`));
    expect(r.out).toContain('a *VirtualService or Gateway* problem');
    expect(r.rendered.offers).toEqual([
      expect.objectContaining({
        label: 'Restart deployment bookinfo/reviews-v2',
        remediation: expect.objectContaining({
          kind: 'rollout-restart',
          target: { kind: 'Deployment', namespace: 'bookinfo', name: 'reviews-v2' },
        }),
      }),
    ]);
    expect(r.rendered.offers?.[0]?.remediation.why).toContain('LDS STALE for 4m5s');
  });

  it('a push a few seconds old may be in flight: the answer says to look again before acting', async () => {
    serveScenario(sb, { istiods: ISTIODS, staleLds: [proxyIdOf(sb, 'reviews-v2')], staleForMs: 2_000 });
    const r = await ask('stale bookinfo');
    expect(r.rendered.text).toMatch(/^1 of 6 proxies in bookinfo is STALE \(LDS\) — since [23]s$/);
    expect(r.out).toContain('may still be in flight: run `/mesh stale bookinfo` again in a moment');
  });

  it('a STALE type names nothing: the newest change of a kind that builds it before the push is the suspect, never a later one', async () => {
    const id = proxyIdOf(sb, 'reviews-v1');
    const at = (ms: number) => new Date(Date.now() - ms).toISOString().replace(/\.\d+Z$/, 'Z');
    sb.store.put(
      vs(
        'reviews-canary',
        { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews' } }] }] },
        at(5 * 60_000),
      ),
    );
    // Changed after the push (4m ago): it cannot be what the proxy has not acknowledged.
    sb.store.put(
      vs('details-late', { hosts: ['details'], http: [{ route: [{ destination: { host: 'details' } }] }] }, at(9_000)),
    );
    sb.store.put(
      vs(
        'ratings-old',
        { hosts: ['ratings'], http: [{ route: [{ destination: { host: 'ratings' } }] }] },
        '2020-01-01T00:00:00Z',
      ),
    );
    try {
      serveScenario(sb, { istiods: ISTIODS, staleLds: [id] });
      const r = await ask('stale bookinfo');
      expect(r.out).toMatch(/VirtualService\/reviews-canary \(5m(\d+s)? ago\)/);
      expect(r.out).toMatch(
        /Last change that builds LDS before the push: VirtualService `bookinfo\/reviews-canary`, changed 5m(\d+s)? ago by kubectl-client-side-apply, \d+s before the push \(the timing only, nothing named\)/,
      );
      expect(r.out).not.toContain('details-late');
      expect(r.out).not.toContain('ratings-old');
    } finally {
      sb.store.delete('VirtualService', 'bookinfo', 'reviews-canary');
      sb.store.delete('VirtualService', 'bookinfo', 'details-late');
      sb.store.delete('VirtualService', 'bookinfo', 'ratings-old');
    }
  });

  it('a STALE type with no change of its kinds before the push: no config change precedes this', async () => {
    const id = proxyIdOf(sb, 'reviews-v1');
    const recent = new Date(Date.now() - 9_000).toISOString().replace(/\.\d+Z$/, 'Z');
    sb.store.put(
      vs(
        'bookinfo',
        { hosts: ['*'], gateways: ['bookinfo-gateway'], http: [{ route: [{ destination: { host: 'productpage' } }] }] },
        recent,
      ),
    );
    try {
      serveScenario(sb, { istiods: ISTIODS, staleLds: [id] });
      const r = await ask('stale bookinfo');
      expect(r.out).toContain('No config change precedes this.');
      expect(r.out).toMatch(/STALE\s+LDS\s+4m\d*s?\s+istiod-\S+\s+none before it/);
      expect(r.out).not.toContain('VirtualService/bookinfo');
    } finally {
      sb.store.delete('VirtualService', 'bookinfo', 'bookinfo');
    }
  });

  it("a CDS NACK follows the cluster it names to the DestinationRule subset and field, not to the newest object; no restart; istiod's log lines counted", async () => {
    const id = proxyIdOf(sb, 'ratings-v1');
    const at = (ms: number) => new Date(Date.now() - ms).toISOString().replace(/\.\d+Z$/, 'Z');
    const objs: KubeObject[] = [
      dr(
        'reviews',
        {
          host: 'reviews',
          subsets: [
            { name: 'v1', labels: { version: 'v1' } },
            {
              name: 'v2',
              labels: { version: 'v2' },
              trafficPolicy: { loadBalancer: { consistentHash: { useSourceIp: true, maglev: { tableSize: 65536 } } } },
            },
          ],
        },
        at(6 * 60_000),
      ),
      // The decoy: the newest object in the namespace, created seconds ago, long after the NACK.
      vs(
        'bookinfo',
        { hosts: ['*'], gateways: ['bookinfo-gateway'], http: [{ route: [{ destination: { host: 'productpage' } }] }] },
        at(9_000),
      ),
    ];
    for (const o of objs) sb.store.put(o);
    try {
      const sims = serveScenario(sb, { istiods: ISTIODS, nack: [{ proxyId: id, type: 'CDS' }] });
      // The same rejection logged twice more (Envoy retries), plus noise that must not count.
      const sim = sims.find((s) => s.proxy(id))!;
      sim.nack(id, TYPE_URL.CDS, DEMO_NACK_MESSAGES.CDS);
      sim.nack(id, TYPE_URL.CDS, DEMO_NACK_MESSAGES.CDS);
      sb.setPodLogs('istio-system', sim.podName, 'discovery', sim.logLines({ kubeletTime: true }));
      const r = await ask('stale bookinfo');
      expect(r.rendered.text).toBe('1 of 6 proxies in bookinfo: 1 proxy rejected config (NACK on CDS)');
      expect(r.out).not.toContain('in flight');
      expect(r.out).toMatch(
        /ratings-v1-\S+\s+ERROR\s+CDS\s+4m\d*s?\s+istiod-\S+\s+DestinationRule\/reviews \(6m(\d+s)? ago\)/,
      );
      expect(r.out).toContain('*CDS NACK* (1 proxy)');
      expect(r.out).toContain('The table size of maglev must be prime number');
      expect(r.out).toContain(
        'Envoy rejected cluster `outbound|9080|v2|reviews.bookinfo.svc.cluster.local` (Service reviews.bookinfo, port 9080, subset v2)',
      );
      expect(r.out).toMatch(
        /Cause: DestinationRule `bookinfo\/reviews` — `spec\.subsets\[1\]\.trafficPolicy\.loadBalancer\.consistentHash\.maglev\.tableSize` = `65536`, changed 6m(\d+s)? ago by kubectl-client-side-apply, (\d+s|2m\d*s?) before the push\./,
      );
      expect(r.out).not.toMatch(/VirtualService.{0,3}bookinfo/);
      // Istio's validation refuses the same field: the analyzer says so among the obvious causes.
      expect(r.out).toContain(
        'IST0106 DestinationRule `bookinfo/reviews`: Schema validation error: tableSize must be a prime number for maglev',
      );
      expect(r.out).toContain('A restart will not help');
      expect(r.rendered.offers ?? []).toEqual([]);
      expect(r.out).toMatch(/`3×` warn, last 4m\d*s? ago on istiod-[a-z0-9-]+: `ads ADS:CDS: ACK ERROR ratings-v1-/);
      expect(r.out).not.toContain('new connection');
    } finally {
      for (const o of objs) sb.store.delete(o.kind, 'bookinfo', o.metadata.name);
    }
  });

  it('a NACK whose DestinationRule changed only after the push: no config change precedes this', async () => {
    const id = proxyIdOf(sb, 'ratings-v1');
    const recent = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const rule = dr('reviews', { host: 'reviews', subsets: [{ name: 'v2', labels: { version: 'v2' } }] }, recent);
    sb.store.put(rule);
    try {
      serveScenario(sb, { istiods: ISTIODS, nack: [{ proxyId: id, type: 'CDS' }] });
      const r = await ask('stale bookinfo');
      expect(r.out).toContain('Envoy rejected cluster `outbound|9080|v2|reviews.bookinfo.svc.cluster.local`');
      expect(r.out).toContain('No config change precedes this.');
      expect(r.out).toMatch(/ERROR\s+CDS\s+4m\d*s?\s+istiod-\S+\s+none before it/);
      expect(r.out).toContain("Fix the config Envoy's text names; a restart will not help");
    } finally {
      sb.store.delete('DestinationRule', 'bookinfo', 'reviews');
    }
  });

  it('an LDS NACK on a listener port: the EnvoyFilter patching that port is the suspect, with its patch', async () => {
    const id = proxyIdOf(sb, 'productpage-v1');
    const at = new Date(Date.now() - 5 * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const ef: KubeObject = {
      apiVersion: 'networking.istio.io/v1alpha3',
      kind: 'EnvoyFilter',
      metadata: {
        name: 'add-header-filter',
        namespace: 'bookinfo',
        managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update', time: at }],
      },
      spec: {
        workloadSelector: { labels: { app: 'productpage' } },
        configPatches: [
          { applyTo: 'CLUSTER', match: { context: 'SIDECAR_OUTBOUND' }, patch: { operation: 'MERGE', value: {} } },
          {
            applyTo: 'HTTP_FILTER',
            match: { context: 'SIDECAR_OUTBOUND', listener: { portNumber: 9080 } },
            patch: { operation: 'INSERT_BEFORE', value: { name: '' } },
          },
        ],
      },
    };
    sb.store.put(ef);
    try {
      serveScenario(sb, { istiods: ISTIODS, nack: [{ proxyId: id, type: 'LDS' }] });
      const r = await ask('stale bookinfo');
      expect(r.out).toContain('Envoy rejected listener `0.0.0.0_9080` (port 9080)');
      expect(r.out).toMatch(
        /Cause: EnvoyFilter `bookinfo\/add-header-filter` — `spec\.configPatches\[1\]`, changed 5m(\d+s)? ago by kubectl-client-side-apply, \d+s before the push\./,
      );
    } finally {
      sb.store.delete('EnvoyFilter', 'bookinfo', 'add-header-filter');
    }
  });

  it('a disconnected proxy is a finding of its own, with a restart of its Deployment', async () => {
    const id = proxyIdOf(sb, 'details-v1');
    serveScenario(sb, { istiods: ISTIODS, disconnected: [id] });
    const r = await ask('stale bookinfo');
    expect(r.rendered.text).toBe('1 of 6 proxies in bookinfo: 1 proxy DISCONNECTED from istiod');
    expect(r.out).toContain(`*Disconnected:* \`${id}\` has a sidecar but no istiod lists it`);
    expect(r.rendered.offers?.map((o) => o.label)).toEqual(['Restart deployment bookinfo/details-v1']);
  });

  it('two istiod replicas split the proxies; the answer merges both and says how many each holds', async () => {
    const plain = serveScenario(sb, { istiods: ISTIODS });
    // One stale proxy on each replica (the simulator deals proxies round-robin, the same way each time).
    const stale1 = plain[0]!.connected()[0]!;
    const stale2 = plain[1]!.connected()[0]!;
    const sims = serveScenario(sb, { istiods: ISTIODS, staleLds: [stale1, stale2] });
    expect(sims[0]!.size).toBeGreaterThan(0);
    expect(sims[1]!.size).toBeGreaterThan(0);
    const holders = new Set([stale1, stale2].map((id) => sims.find((s) => s.proxy(id))!.podName));
    expect(holders.size).toBe(2);
    const r = await ask('stale');
    expect(r.rendered.text).toMatch(/^2 of 8 proxies in the mesh are STALE \(LDS\)/);
    expect(r.out).toContain(`syncz: ${ISTIODS[0]} ${sims[0]!.size} proxies, ${ISTIODS[1]} ${sims[1]!.size} proxies`);
    const deploymentOf = (id: string) => `${id.split('.')[1]}/${id.replace(/-[a-z0-9]+-[a-z0-9]+\.[a-z]+$/, '')}`;
    // One button per Deployment, however many of its pods are stale, the namespace in its label.
    expect(r.rendered.offers?.map((o) => o.label).sort()).toEqual(
      [...new Set([stale1, stale2].map((id) => `Restart deployment ${deploymentOf(id)}`))].sort(),
    );
    expect(r.out).toContain(`STALE    LDS     4m      ${sims.find((s) => s.proxy(stale1))!.podName}`);
  });

  it('one istiod unreachable: the proxies it may hold are UNKNOWN, never healthy, and the answer names it; istiod restart offered', async () => {
    const sims = serveScenario(sb, { istiods: ISTIODS });
    sb.podEndpoints.unregister('istio-system', ISTIODS[1]);
    const r = await ask('stale bookinfo');
    const lost = sims[1]!.connected().filter((id) => id.endsWith('.bookinfo')).length;
    expect(lost).toBeGreaterThan(0);
    expect(r.rendered.text).toBe(
      `${lost} of 6 proxies in bookinfo: ${lost} proxies UNKNOWN (an istiod could not be read)`,
    );
    expect(r.out).toContain(`Could not read istiod \`${ISTIODS[1]}\`* (unreachable)`);
    expect(r.out).toContain('connection refused');
    expect(r.out).not.toContain('SYNCED');
    expect(r.rendered.offers?.map((o) => o.label)).toEqual(['Restart istiod (istio-system/istiod)']);
    expect(r.rendered.offers?.[0]?.remediation.target).toEqual({
      kind: 'Deployment',
      namespace: 'istio-system',
      name: 'istiod',
    });
  });

  it('ENABLE_DEBUG_ON_HTTP=false on every istiod: says so plainly', async () => {
    for (const name of ISTIODS) {
      sb.podEndpoints.unregister('istio-system', name);
      new IstiodSim({ podName: name, debugOnHttp: false }).registerOn(sb.podEndpoints);
    }
    const r = await ask('stale bookinfo');
    expect(r.outcome).toBe('ok');
    expect(r.rendered.text).toBe(
      'istiod runs with ENABLE_DEBUG_ON_HTTP=false, so its sync status cannot be read over HTTP.',
    );
    expect(r.out).toContain('istioctl proxy-status');
  });

  it('obvious causes, checked directly: an empty Service, a subset selecting no pod, a VirtualService subset that does not exist', async () => {
    const id = proxyIdOf(sb, 'reviews-v1');
    const objs: KubeObject[] = [
      service('bookinfo', 'reviews-v9', { app: 'reviews', version: 'v9' }),
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: 'reviews', namespace: 'bookinfo' },
        spec: {
          host: 'reviews',
          subsets: [
            { name: 'v1', labels: { version: 'v1' } },
            { name: 'v3', labels: { version: 'v3' } },
          ],
        },
      },
      vs('reviews', { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v7' } }] }] }),
    ];
    for (const o of objs) sb.store.put(o);
    try {
      serveScenario(sb, { istiods: ISTIODS, staleLds: [id] });
      const r = await ask('stale bookinfo');
      expect(r.out).toContain('Obvious causes found');
      expect(r.out).toContain('Service `bookinfo/reviews-v9`: The selector app=reviews,version=v9 matches no pod');
      expect(r.out).toContain(
        'IST0173 DestinationRule `bookinfo/reviews`: The Subset v3 defined in the DestinationRule does not select any pods',
      );
      expect(r.out).toMatch(
        /IST0101 VirtualService `bookinfo\/reviews`: Referenced host\+subset in destinationrule not found: "reviews\+v7"/,
      );
    } finally {
      for (const o of objs) sb.store.delete(o.kind, 'bookinfo', o.metadata.name);
    }
  });

  it('a namespace without sidecars says so and points at injection', async () => {
    const r = await ask('stale default');
    expect(r.rendered.text).toBe('No proxies in default: no running pod there has an istio-proxy sidecar.');
    expect(r.out).toContain('See injection with `/mesh config default`.');
  });

  it('a namespace that does not exist gets the list of those that do', async () => {
    const r = await ask('stale bookinfoo');
    expect(r.outcome).toBe('user_error');
    expect(r.out).toContain('There is no namespace `bookinfoo`');
    expect(r.out).toContain('`bookinfo`');
  });

  it('every proxy stale: grouped by namespace, five buttons taken in turn from each namespace, namespace in every label', async () => {
    const ids = proxyPodsOf(sb).map((p) => `${p.name}.${p.namespace}`);
    serveScenario(sb, { istiods: ISTIODS, staleLds: ids });
    const r = await ask('stale');
    expect(r.rendered.text).toMatch(/^8 of 8 proxies in the mesh are STALE \(LDS\)/);
    // Six Deployments to restart; the approvals engine takes five buttons at most, and shop is not left out.
    expect(r.rendered.offers?.map((o) => o.label)).toEqual([
      'Restart deployment bookinfo/reviews-v1',
      'Restart deployment shop/cart-v1',
      'Restart deployment bookinfo/details-v1',
      'Restart deployment bookinfo/productpage-v1',
      'Restart deployment bookinfo/ratings-v1',
    ]);
    expect(r.out).toContain('By namespace: `bookinfo` 6 stale of 6 · `shop` 2 stale of 2');
    expect(r.out).toContain('*By namespace and cause* (2 causes)');
    expect(r.out).toContain('kubectl -n bookinfo rollout restart deployment/reviews-v2');
  });

  it('asks the cluster a fixed number of times: one list per kind, one port-forward and one log read per istiod', async () => {
    const counted: string[] = [];
    const r2 = new Router({
      commands: [stale],
      clusters: [{ name: 'lab', kube: kubeOf(sb, (rec) => counted.push(`${rec.method} ${rec.path}`)) }],
      log: createLogger({ level: 'silent' }),
    });
    serveScenario(sb, { istiods: ISTIODS, staleLds: [proxyIdOf(sb, 'reviews-v2')] });
    sb.requests.length = 0;
    const r = await r2.handle('stale', user);
    expect(r.outcome).toBe('ok');
    const portForwards = sb.requests.filter((q) => q.path.endsWith('/portforward'));
    const logs = sb.requests.filter((q) => q.path.endsWith('/log'));
    expect(portForwards.map((q) => q.path.split('/')[6]).sort()).toEqual([...ISTIODS]);
    expect(logs.map((q) => q.path.split('/')[6]).sort()).toEqual([...ISTIODS]);
    expect(logs.every((q) => /sinceSeconds=3600/.test(q.query) && /limitBytes=\d+/.test(q.query))).toBe(true);
    // The client counts its port-forwards too (onRequest), one per istiod.
    const tunnels = ISTIODS.map((i) => `GET /api/v1/namespaces/istio-system/pods/${i}/portforward`);
    expect(counted.filter((c) => c.endsWith('/portforward')).sort()).toEqual(tunnels.sort());
    const lists = counted.filter((c) => !c.endsWith('/log') && !c.endsWith('/portforward'));
    // 11 kinds + /apis discovery + the istio ConfigMap, whatever the number of pods.
    expect(lists.length).toBeLessThanOrEqual(13);
  });
});

describe('/mesh status', () => {
  it('the plain proxy-status table: name, cluster, istiod, version, one column per type with its age', async () => {
    const id = proxyIdOf(sb, 'reviews-v2');
    const off = proxyIdOf(sb, 'details-v1');
    serveScenario(sb, { istiods: ISTIODS, staleLds: [id], disconnected: [off] });
    const r = await ask('status bookinfo');
    expect(r.rendered.text).toBe('6 proxies in bookinfo, 5 connected to 2 istiods');
    expect(r.out).toMatch(/NAME\s+CLUSTER\s+ISTIOD\s+VERSION\s+CDS\s+LDS\s+EDS\s+RDS/);
    expect(r.out).toMatch(
      new RegExp(
        `${id.split('.')[0]}\\s+Kubernetes\\s+istiod-\\S+\\s+1\\.24\\.2\\s+SYNCED \\(\\d+s\\)\\s+STALE \\(4m\\)`,
      ),
    );
    expect(r.out).toMatch(new RegExp(`${off.split('.')[0]}\\s+-\\s+-\\s+-\\s+DISCONNECTED`));
  });

  it('an unreadable istiod is named and its proxies show UNKNOWN', async () => {
    serveScenario(sb, { istiods: ISTIODS });
    sb.podEndpoints.unregister('istio-system', ISTIODS[0]);
    const r = await ask('status shop');
    expect(r.out).toContain(`Could not read istiod \`${ISTIODS[0]}\``);
    expect(r.out).toMatch(/cart-v1-\S+\s+-\s+\? \(istiod-7d4f74889d-mb5dh unread\)\s+-\s+UNKNOWN/);
  });
});

describe('no istiod at all', () => {
  let empty: Sandbox;
  let r3: Router;
  beforeAll(async () => {
    empty = await startSandbox({
      controllers: false,
      seed: meshSeed().filter((o) => o.metadata.namespace !== 'istio-system'),
    });
    r3 = new Router({
      commands: [stale, status],
      clusters: [{ name: 'lab', kube: kubeOf(empty) }],
      log: createLogger({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    await empty?.close();
  });

  it('/mesh stale says there is no istiod, not a crash', async () => {
    const r = await r3.handle('stale bookinfo', user);
    expect(r.outcome).toBe('ok');
    expect(r.rendered.text).toBe(
      'No istiod to ask about sync status: There is no istiod pod (label app=istiod) in istio-system.',
    );
    expect(renderedToText(r.rendered)).toContain('6 proxies in bookinfo keep running on what it last received');
  });

  it('/mesh status says so too', async () => {
    const r = await r3.handle('status', user);
    expect(r.outcome).toBe('ok');
    expect(r.rendered.text).toBe('No ready istiod in istio-system to ask for proxy status.');
  });
});
