// /mesh stale on a large mesh (issue 14 item 4), through the router with an approvals port that turns
// offers into buttons as the real one does: 2,000 proxies in 40 namespaces over 3 istiod replicas
// (bench/stale.ts's mesh), served by simulated istiods on the sandbox's pod network. With hundreds of
// STALE proxies the answer is one line per (namespace, cause), the fix is istiod rather than five
// restarts from the first namespace; with a few scattered ones the restarts spread over the namespaces,
// a NACK gets the config fix and no restart, every button names its namespace, and the router's cluster
// footer stays in the message whatever moves into the thread.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  actions,
  type Block,
  blockChars,
  button,
  context,
  fitToSlack,
  LIMITS,
  type Rendered,
  section,
} from '../../src/blocks/block-kit.ts';
import { defineCommand } from '../../src/command.ts';
import stale from '../../src/features/stale/stale.ts';
import type { ApprovalsPort } from '../../src/approvals/port.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { createLogger } from '../../src/log.ts';
import { type Reply, Router } from '../../src/router.ts';
import { DEMO_NACK_MESSAGES } from '../../src/sandbox/istiod-sim.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { z } from 'zod';
import { ISTIODS as TWO, kubeOf, largeMeshSeed, proxyPodsOf, serveScenario } from './support.ts';

const ISTIODS = [...TWO, 'istiod-7d4f74889d-zt4wn'];
const PROXIES = 2000;
const NAMESPACES = 40;
const user = { userId: 'U0SRE001', source: 'cli' as const };

/** Offers become buttons, one actions block, at most five, as the approvals service attaches them. */
const approvals = {
  async attachOffers(rendered: Rendered, offers: Rendered['offers']) {
    const buttons = (offers ?? []).slice(0, 5).map((o, i) => button(o.label, `meshops:offer:${i}`, `id-${i}`));
    return { ...rendered, blocks: [...rendered.blocks, actions(buttons)] };
  },
} as unknown as ApprovalsPort;

let sb: Sandbox;
let router: Router;
let ids: string[];

const labels = (r: Reply) =>
  r.rendered.blocks.flatMap((b) => (b.type === 'actions' ? b.elements.map((e) => e.text.text) : []));
const textOf = (blocks: readonly Block[]) => JSON.stringify(blocks);
const footerOf = (r: Reply) => r.rendered.blocks[r.rendered.blocks.length - 1];

function expectFooterInMessage(r: Reply, cluster: string): void {
  const last = footerOf(r);
  expect(last?.type).toBe('context');
  expect(last?.type === 'context' ? last.elements[0]?.text : '').toMatch(new RegExp(`^cluster \\*${cluster}\\* · `));
  for (const f of r.rendered.files ?? []) expect(f.content).not.toMatch(new RegExp(`cluster \\*?${cluster}\\*? ·`));
  expect(r.rendered.blocks.length).toBeLessThanOrEqual(LIMITS.blocksPerMessage);
  expect(blockChars(r.rendered.blocks)).toBeLessThanOrEqual(LIMITS.totalBlockChars);
}

beforeAll(async () => {
  sb = await startSandbox({ controllers: false, seed: largeMeshSeed(PROXIES, NAMESPACES, ISTIODS) });
  ids = proxyPodsOf(sb)
    .map((p) => `${p.name}.${p.namespace}`)
    .sort();
  router = new Router({
    commands: [stale],
    clusters: [{ name: 'big', kube: kubeOf(sb) }],
    log: createLogger({ level: 'silent' }),
    services: { approvals },
  });
}, 60_000);

afterAll(async () => {
  await sb?.close();
});

describe('/mesh stale on 2,000 proxies in 40 namespaces', () => {
  it('hundreds STALE at once: one line per (namespace, cause), istiod is the fix, not five restarts from the first namespace', async () => {
    expect(ids).toHaveLength(PROXIES);
    const stalled = ids.filter((_, i) => i % 7 === 0);
    serveScenario(sb, { istiods: ISTIODS, pods: proxyPodsOf(sb), staleLds: stalled });
    const r = await router.handle('stale', user);
    expect(r.outcome).toBe('ok');
    expect(r.rendered.text).toMatch(
      new RegExp(`^${stalled.length} of ${PROXIES} proxies in the mesh are STALE \\(LDS\\)`),
    );
    expect(labels(r)).toEqual(['Restart istiod (istio-system/istiod)']);
    const body = textOf(r.rendered.blocks);
    expect(body).toContain(
      `*istiod is the common factor:* ${stalled.length} of ${PROXIES} connected proxies (${Math.round((100 * stalled.length) / PROXIES)}%) are STALE at once, in ${NAMESPACES} namespaces`,
    );
    expect(body).toContain(`*By namespace and cause* (${NAMESPACES} causes):`);
    expect(body).toContain(`…and ${NAMESPACES - 8} more causes: all of them are in the thread as \`stale-causes.txt\``);
    expect(body).toContain('Fix: istiod, the common factor (restart istiod, button below), not each workload.');
    const causes = r.rendered.files?.find((f) => f.filename === 'stale-causes.txt');
    expect(causes).toBeDefined();
    for (let n = 0; n < NAMESPACES; n++) expect(causes!.content).toContain(`team-${String(n).padStart(2, '0')} · `);
    expect(r.rendered.files?.map((f) => f.filename)).toContain('stale-proxies.txt');
    expectFooterInMessage(r, 'big');
  }, 60_000);

  it('a few STALE scattered over namespaces and a NACK in one: restarts spread over the namespaces, none for the NACK, namespace in every label', async () => {
    // One STALE proxy in each of 12 namespaces (not istiod's doing: 12 of 2,000), every pod of team-05 NACKing.
    const first = (ns: string) => ids.find((id) => id.endsWith(`.${ns}`))!;
    const stalled = Array.from({ length: 12 }, (_, n) => first(`team-${String(n + 10).padStart(2, '0')}`));
    const nacking = ids.filter((id) => id.endsWith('.team-05'));
    const at = new Date(Date.now() - 5 * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const rule: KubeObject = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: {
        name: 'reviews',
        namespace: 'team-05',
        managedFields: [{ manager: 'argocd-controller', operation: 'Update', time: at }],
      },
      spec: {
        host: 'reviews.bookinfo.svc.cluster.local',
        subsets: [
          {
            name: 'v2',
            labels: { version: 'v2' },
            trafficPolicy: { loadBalancer: { consistentHash: { useSourceIp: true, maglev: { tableSize: 1000 } } } },
          },
        ],
      },
    };
    sb.store.put(rule);
    try {
      serveScenario(sb, {
        istiods: ISTIODS,
        pods: proxyPodsOf(sb),
        staleLds: stalled,
        nack: nacking.map((proxyId) => ({ proxyId, type: 'CDS' as const, message: DEMO_NACK_MESSAGES.CDS })),
        disconnected: [first('team-30'), first('team-31')],
      });
      const r = await router.handle('stale', user);
      const got = labels(r);
      expect(got).toHaveLength(5);
      for (const l of got) expect(l).toMatch(/^Restart deployment team-\d\d\/svc-\d-v1$/);
      // Five different namespaces, and never the NACKing one (new pods would get the same config).
      expect(new Set(got.map((l) => l.split(' ')[2]!.split('/')[0])).size).toBe(5);
      expect(got.some((l) => l.includes('team-05/'))).toBe(false);
      const body = textOf(r.rendered.blocks);
      expect(body).toContain(`• \`team-05\` · ${nacking.length} proxies of 5 workloads · *CDS NACK* since 4m`);
      expect(body).toContain(
        'Cause: DestinationRule `team-05/reviews` — `spec.subsets[0].trafficPolicy.loadBalancer.consistentHash.maglev.tableSize` = `1000`',
      );
      expect(body).toContain('Fix that field; a restart will not help');
      // The STALE ones past the five buttons: the command to run, in their namespace.
      const causes = `${body}\n${r.rendered.files?.find((f) => f.filename === 'stale-causes.txt')?.content ?? ''}`;
      expect(causes).toMatch(/kubectl -n team-\d\d rollout restart deployment\/svc-\d-v1/);
      expect(body).not.toContain('istiod is the common factor');
      expectFooterInMessage(r, 'big');
    } finally {
      sb.store.delete('DestinationRule', 'team-05', 'reviews');
    }
  }, 60_000);
});

describe("the router's footer", () => {
  const huge = defineCommand({
    name: 'huge',
    summary: 'an answer far over Slack’s limits',
    usage: '/mesh huge',
    args: z.object({}),
    permission: 'read',
    touchesCluster: false,
    async run() {
      return 80;
    },
    render(n: number): Rendered {
      const blocks = Array.from({ length: n }, (_, i) => section(`part ${i} ${'x'.repeat(400)}`));
      return { text: 'huge', blocks, offers: [] };
    },
  });

  it('stays the last block of the message when most of the answer moves into the thread', async () => {
    const r2 = new Router({
      commands: [huge],
      clusters: [{ name: 'prod-eu', kube: kubeOf(sb) }],
      log: createLogger({ level: 'silent' }),
    });
    const r = await r2.handle('huge', user);
    expect(r.outcome).toBe('ok');
    expect(r.rendered.files?.map((f) => f.filename)).toContain('huge-output.txt');
    expectFooterInMessage(r, 'prod-eu');
    // A front door refits the answer with its "ran /mesh …" line on top (src/slack/replies.ts): the footer stays.
    const refitted = fitToSlack({
      ...r.rendered,
      blocks: [context('<@U0SRE001> ran `/mesh huge`'), ...r.rendered.blocks],
    });
    expectFooterInMessage({ ...r, rendered: refitted }, 'prod-eu');
  });

  it('fitToSlack keeps a footer after the buttons and out of the file', () => {
    const blocks = Array.from({ length: 70 }, (_, i) => section(`row ${i} ${'y'.repeat(300)}`));
    const footer = context('cluster *lab* · 0.4s');
    const fitted = fitToSlack(
      { text: 't', blocks: [...blocks, actions([button('Restart istio-system/istiod', 'a', 'v')])] },
      'out.txt',
      footer,
    );
    expect(fitted.blocks[fitted.blocks.length - 1]).toBe(footer);
    expect(fitted.blocks[fitted.blocks.length - 2]?.type).toBe('actions');
    expect(fitted.files?.[0]?.content).not.toContain('cluster');
    expect(fitted.blocks.length).toBeLessThanOrEqual(LIMITS.blocksPerMessage);
    expect(blockChars(fitted.blocks)).toBeLessThanOrEqual(LIMITS.totalBlockChars);
  });
});
