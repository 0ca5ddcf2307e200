// The demo's own story holds together (issue 14 item 1): the CDS NACK its istiod reports is caused by
// config the demo's API server holds (the cluster it names → the DestinationRule subset → a Maglev table
// size Envoy refuses), only the proxies that config reaches NACK, the change came before the push, istiod's
// log line is timed with the NACK, `analyze` flags the same object, and `stale` names it with the field.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { renderedToText } from '../../src/blocks/block-kit.ts';
import { DEMO_FAULTS, DEMO_NACK_CAUSE_LEAD_MS, type DemoSandbox, startDemoSandbox } from '../../src/demo/demo-mesh.ts';
import analyze from '../../src/features/analyze/analyze.ts';
import stale from '../../src/features/stale/stale.ts';
import { parseLogLine } from '../../src/istio/istiod-logs.ts';
import { namedInNack } from '../../src/istio/stale-evidence.ts';
import { type KubeObject, matchesLabels } from '../../src/kube/objects.ts';
import { createLogger } from '../../src/log.ts';
import { isPrime } from '../../src/mesh/analyzers/schema/destinationrule.ts';
import { resolveHost } from '../../src/mesh/hosts.ts';
import { Router } from '../../src/router.ts';
import { DEMO_NACK_MESSAGES, TYPE_URL } from '../../src/sandbox/istiod-sim.ts';
import { kubeOf } from '../stale/support.ts';

let demo: DemoSandbox;
let router: Router;
const user = { userId: 'U0SRE001', source: 'cli' as const };

beforeAll(async () => {
  demo = await startDemoSandbox();
  router = new Router({
    commands: [stale, analyze],
    clusters: [{ name: 'demo', kube: kubeOf(demo) }],
    log: createLogger({ level: 'silent' }),
  });
});

afterAll(async () => {
  await demo?.close();
});

/** Every CDS NACK the demo's istiods report: proxy, Envoy's text, when the push went out. */
function cdsNacks(): Array<{ proxyId: string; istiod: string; message: string; sentTime: string }> {
  return demo.fleet.istiods().flatMap((sim) =>
    sim.syncz().flatMap((e) => {
      const r = e.resources[TYPE_URL.CDS];
      return r?.lastError
        ? [{ proxyId: e.proxy, istiod: sim.podName, message: r.lastError, sentTime: r.sentTime }]
        : [];
    }),
  );
}

const podOf = (proxyId: string): KubeObject => {
  const dot = proxyId.lastIndexOf('.');
  return demo.store.get('Pod', proxyId.slice(dot + 1), proxyId.slice(0, dot)) as KubeObject;
};

/** The DestinationRules that build a cluster for this pod's sidecar: host, subset, exportTo/workloadSelector. */
function rulesBuilding(pod: KubeObject, host: string, subset: string): KubeObject[] {
  return demo.store.list('DestinationRule').filter((dr) => {
    const spec = dr.spec as {
      host: string;
      subsets?: { name: string }[];
      workloadSelector?: { matchLabels?: Record<string, string> };
    };
    if (resolveHost(spec.host, dr.metadata.namespace ?? '') !== host) return false;
    if (!spec.subsets?.some((s) => s.name === subset)) return false;
    const selector = spec.workloadSelector?.matchLabels;
    return (
      !selector || (dr.metadata.namespace === pod.metadata.namespace && matchesLabels(selector, pod.metadata.labels))
    );
  });
}

describe("the demo's NACK and its cause", () => {
  it("the NACK's cause is visible in the demo's config: the cluster it names is built from a subset whose Maglev table size is not prime", () => {
    const nacks = cdsNacks();
    expect(nacks.map((n) => n.proxyId.replace(/-[a-z0-9]+-[a-z0-9]+\./, '.'))).toEqual(['ratings-v1.bookinfo']);
    const [nack] = nacks;
    expect(nack!.message).toBe(DEMO_NACK_MESSAGES.CDS);
    const named = namedInNack('CDS', nack!.message);
    expect(named).toHaveLength(1);
    const cluster = named[0]!.resource;
    if (cluster.type !== 'cluster') throw new Error('a CDS NACK names a cluster');
    expect(cluster).toMatchObject({ direction: 'outbound', port: 9080, subset: 'v2' });
    expect(named[0]!.detail).toBe('The table size of maglev must be prime number');

    const rules = rulesBuilding(podOf(nack!.proxyId), cluster.host, cluster.subset);
    expect(rules.map((r) => r.metadata.name).sort()).toEqual(['reviews', 'reviews-affinity']);
    // Istio prefers the rule that selects the workload: it builds the subset's cluster for this sidecar.
    const chosen = rules.find((r) => (r.spec as { workloadSelector?: unknown }).workloadSelector)!;
    const subset = (
      chosen.spec as { subsets: { name: string; trafficPolicy?: Record<string, unknown> }[] }
    ).subsets.find((s) => s.name === cluster.subset)!;
    const tableSize = (subset.trafficPolicy as { loadBalancer: { consistentHash: { maglev: { tableSize: number } } } })
      .loadBalancer.consistentHash.maglev.tableSize;
    expect(tableSize).toBe(65536);
    expect(isPrime(tableSize)).toBe(false);
    expect(isPrime(65537)).toBe(true);
  });

  it('only the proxies that config reaches NACK: the rule selects ratings, and no other sidecar gets it', () => {
    const chosen = demo.store.get('DestinationRule', 'bookinfo', 'reviews-affinity') as KubeObject;
    const selector = (chosen.spec as { workloadSelector: { matchLabels: Record<string, string> } }).workloadSelector
      .matchLabels;
    const reached = demo.store
      .list('Pod')
      .filter(
        (p) =>
          p.metadata.namespace === 'bookinfo' &&
          !p.metadata.deletionTimestamp &&
          matchesLabels(selector, p.metadata.labels),
      )
      .map((p) => `${p.metadata.name}.bookinfo`)
      .sort();
    expect(cdsNacks().map((n) => n.proxyId)).toEqual(reached);
  });

  it('the change came before the push it broke, and istiod logged the NACK at the time of the push', async () => {
    const [nack] = cdsNacks();
    const dr = demo.store.get('DestinationRule', 'bookinfo', 'reviews-affinity') as KubeObject;
    const changed = Date.parse((dr.metadata.managedFields as { time: string }[])[0]!.time);
    const pushed = Date.parse(nack!.sentTime);
    expect(pushed - changed).toBeGreaterThanOrEqual(DEMO_NACK_CAUSE_LEAD_MS - 1000);
    expect(pushed - changed).toBeLessThanOrEqual(DEMO_NACK_CAUSE_LEAD_MS + 1000);
    expect(Date.now() - pushed).toBeGreaterThanOrEqual((DEMO_FAULTS.staleForMs ?? 0) - 1000);

    const log = await kubeOf(demo).podLogs('istio-system', nack!.istiod, { container: 'discovery' });
    const lines = log.split('\n').filter((l) => l.includes('ACK ERROR') && l.includes(nack!.proxyId));
    expect(lines).toHaveLength(1);
    const { time, message } = parseLogLine(lines[0]!);
    expect(message).toContain(`Internal:${DEMO_NACK_MESSAGES.CDS}`);
    expect(Math.abs(Date.parse(time!) - pushed)).toBeLessThan(1000);
    // In time order: nothing logged after the NACK sits before it.
    const times = log
      .split('\n')
      .filter(Boolean)
      .map((l) => parseLogLine(l).time ?? '');
    expect([...times].sort()).toEqual(times);
  });

  it('`analyze` flags the same object and field (IST0106), through the router', async () => {
    const r = await router.handle('analyze bookinfo', user);
    expect(r.outcome).toBe('ok');
    const out = renderedToText(r.rendered);
    expect(out).toContain('DestinationRule bookinfo/reviews-affinity');
    expect(out).toContain('IST0106');
    expect(out).toContain('Schema validation error: tableSize must be a prime number for maglev');
  });

  it('`stale` names that DestinationRule and its field as the cause, and nothing changed before the STALE push', async () => {
    const r = await router.handle('stale bookinfo', user);
    const out = renderedToText(r.rendered);
    expect(out).toContain(
      'Envoy rejected cluster `outbound|9080|v2|reviews.bookinfo.svc.cluster.local` (Service reviews.bookinfo, port 9080, subset v2): _The table size of maglev must be prime number_',
    );
    expect(out).toMatch(
      // 25 s in the demo; 26 s when a loaded machine takes a second between applying it and the push.
      /Cause: DestinationRule `bookinfo\/reviews-affinity` — `spec\.subsets\[0\]\.trafficPolicy\.loadBalancer\.consistentHash\.maglev\.tableSize` = `65536`, changed 4m\d+s ago by kubectl-client-side-apply, 2[56]s before the push\./,
    );
    expect(out).toContain('IST0106 DestinationRule `bookinfo/reviews-affinity`');
    // reviews-v2's LDS push: the demo's base config was written when the demo started, after that push.
    expect(out).toMatch(
      /`bookinfo` · reviews-v2 \(1 proxy\) · \*LDS STALE\* since 4m\d*s?\n {3}No config change precedes this\./,
    );
    expect(r.rendered.offers?.map((o) => o.label)).toEqual([
      'Restart deployment bookinfo/reviews-v2',
      'Restart deployment bookinfo/details-v1',
    ]);
  });
});

describe('the demo without its faults', () => {
  let clean: DemoSandbox;
  beforeAll(async () => {
    clean = await startDemoSandbox({ faults: false });
  });
  afterAll(async () => {
    await clean?.close();
  });

  it('has neither the NACK nor its cause', () => {
    expect(clean.store.get('DestinationRule', 'bookinfo', 'reviews-affinity')).toBeUndefined();
    expect(
      clean.fleet
        .istiods()
        .flatMap((s) => s.syncz())
        .some((e) => Object.values(e.resources).some((r) => r.lastError)),
    ).toBe(false);
  });
});
