// /mesh canary through Slack (the real Bolt app, signed requests, the recording fake), the approvals
// engine and the sandbox's traffic model: what happened is read from the cluster's side (the
// VirtualService in the store, the sidecars' metrics), not from our own bookkeeping.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { CANARY_REQUEST_ANNOTATION } from '../../src/features/canary/routes.ts';
import { kubeFor, waitFor } from '../approvals/support.ts';
import {
  ALICE,
  BOB,
  type CanaryBot,
  approveButton,
  buttonIn,
  click,
  ephemeralsFor,
  slash,
  setWeights as setCanaryWeights,
  startCanaryBot,
  text,
  thread,
} from './bot.ts';

let bot: CanaryBot;
const NS = 'canary';

beforeAll(async () => {
  bot = await startCanaryBot();
}, 30_000);

afterAll(async () => {
  await bot?.close();
});

type Vs = KubeObject & {
  spec: { http: Array<{ route: Array<{ destination: { subset: string }; weight?: number }> }> };
};

function vs(): Vs {
  return bot.sb.store.get('VirtualService', NS, 'orders') as Vs;
}

function weightOf(subset: string): number | undefined {
  return vs().spec.http[0]!.route.find((d) => d.destination.subset === subset)?.weight;
}

/** Sets the weights as another hand would (through the API server, so resourceVersion moves). */
const setWeights = (v1: number, v2: number) => setCanaryWeights(bot, v1, v2);

/** v2's sandbox knob (a pod-template annotation), then waits for a Ready v2 pod that carries it. */
async function v2ErrorRate(rate: string): Promise<void> {
  await kubeFor(bot.sb).patch(
    'Deployment',
    NS,
    'orders-v2',
    { spec: { template: { metadata: { annotations: { 'sandbox.meshops.dev/error-rate': rate } } } } },
    'merge',
  );
  await waitFor(
    () => {
      const pods = bot.sb.store
        .list('Pod', NS)
        .filter((p) => p.metadata.labels?.version === 'v2' && p.metadata.labels?.app === 'orders');
      const ready = (p: KubeObject) =>
        ((p.status as { conditions?: Array<{ type: string; status: string }> })?.conditions ?? []).some(
          (c) => c.type === 'Ready' && c.status === 'True',
        );
      return (
        pods.length === 1 &&
        pods.every(
          (p) =>
            p.metadata.annotations?.['sandbox.meshops.dev/error-rate'] === rate &&
            ready(p) &&
            !p.metadata.deletionTimestamp,
        )
      );
    },
    `a Ready v2 pod with error-rate ${rate}`,
    15_000,
  );
}

async function scaleWeb(replicas: number): Promise<void> {
  await kubeFor(bot.sb).patch('Deployment', NS, 'web', { spec: { replicas } }, 'merge');
  await waitFor(
    () =>
      bot.sb.store.list('Pod', NS).filter((p) => p.metadata.labels?.app === 'web' && !p.metadata.deletionTimestamp)
        .length === replicas,
    `web at ${replicas} pods`,
    15_000,
  );
}

function inThread(ts: string, needle: string, timeoutMs = 20_000) {
  return bot.fake.waitFor(() => thread(bot, ts).find((m) => text(m).includes(needle)), timeoutMs);
}

let testStart = '';

/** This test's request of `kind` once in `state` (earlier tests' requests are older than testStart). */
async function requestFor(kind: string, state: string) {
  return waitFor(
    async () =>
      (await bot.approvals.recent({ namespace: NS, limit: 50 })).find(
        (r) => r.kind === kind && r.state === state && r.createdAt >= testStart,
      ),
    `a ${kind} request ${state}`,
    20_000,
  );
}

beforeEach(async () => {
  await v2ErrorRate('0');
  await setWeights(100, 0);
  testStart = new Date().toISOString();
});

describe('/mesh canary through Slack', () => {
  it('shows subsets, pods, weights and traffic per version, with the next step and complete buttons', async () => {
    const msg = await slash(bot, 'canary orders -n canary --sample 500ms');
    const t = text(msg);
    expect(t).toContain('Canary · canary/orders');
    expect(t).toMatch(/`v1` \(version=v1\): 3\/3 pods ready/);
    expect(t).toMatch(/`v2` \(version=v2\): 1\/1 pods ready/);
    expect(t).toContain('primary: v1 100 · v2 0');
    // At 100/0 every request the destinations reported went to v1.
    expect(t).toMatch(/v1 +\d+\.\d +100\.0% +\d+ ms +100\.0% +100%/);
    expect(buttonIn(msg.blocks, 'Next step: canary/orders v2 to 5%')).toBeDefined();
    expect(buttonIn(msg.blocks, 'Complete: canary/orders v2 to 100%')).toBeDefined();
    expect(buttonIn(msg.blocks, 'Roll back')).toBeUndefined();
  }, 30_000);

  it('without a VirtualService says the split follows pod counts, and offers no step', async () => {
    const saved = structuredClone(vs());
    bot.sb.store.delete('VirtualService', NS, 'orders');
    try {
      const msg = await slash(bot, 'canary orders -n canary --sample 500ms');
      expect(text(msg)).toContain('No VirtualService in canary routes orders.canary.svc.cluster.local');
      expect(text(msg)).toContain('the split follows pod counts (v1 3 pods ≈ 75%, v2 1 pod ≈ 25%)');
      // Observed: 3 of 4 requests went to v1.
      expect(text(msg)).toMatch(/v1 +\d+\.\d +100\.0% +\d+ ms +7[0-9]\.\d%/);
      expect(buttonIn(msg.blocks, 'Next step')).toBeUndefined();
    } finally {
      const { resourceVersion: _rv, uid: _uid, ...metadata } = saved.metadata;
      bot.sb.store.put({ ...saved, metadata });
    }
  }, 30_000);

  it('a step 5 → 25, approved by someone else, passes its window and offers 50', async () => {
    await setWeights(95, 5);
    const report = await slash(bot, 'canary orders -n canary --sample 300ms --window 1500ms');
    const next = buttonIn(report.blocks, 'Next step: canary/orders v2 to 25%')!;
    expect(next).toBeDefined();
    await click(bot, next, report.ts, ALICE);
    const proposal = await inThread(report.ts, 'Proposed: Shift canary traffic in canary/orders');
    expect(text(proposal)).toContain('v1 95 · v2 5 → v1 75 · v2 25');
    expect(text(proposal)).toContain('dryRun=All');
    expect(weightOf('v2')).toBe(5);

    await click(bot, approveButton(proposal.blocks)!, proposal.ts, ALICE);
    await bot.fake.waitFor(() => ephemeralsFor(bot, ALICE).find((e) => e.includes('someone else must approve')));
    expect(weightOf('v2')).toBe(5);
    await click(bot, approveButton(proposal.blocks)!, proposal.ts, BOB);
    await waitFor(() => weightOf('v2') === 25 && weightOf('v1') === 75, 'weights 75/25', 10_000);

    const verdict = await inThread(report.ts, 'passed its window');
    expect(text(verdict)).toContain('success rate 100.0%');
    expect(buttonIn(verdict.blocks, 'Next step: canary/orders v2 to 50%')).toBeDefined();
    expect(buttonIn(verdict.blocks, 'Roll back canary/orders: v2 to 0%')).toBeDefined();
    const done = await requestFor('canary-step', 'done');
    expect(done.outcome?.summary).toMatch(/^Passed: v2 at 25%/);
    // Applied once, marked with this request's id.
    expect(vs().metadata.annotations?.[CANARY_REQUEST_ANNOTATION]).toBe(done.id);
  }, 60_000);

  it('a full rollout 5 → 25 → 50 → 100 passes every window; complete keeps the VirtualService and says why', async () => {
    const report = await slash(bot, 'canary orders -n canary --sample 300ms --window 1s');
    let button = buttonIn(report.blocks, 'Next step: canary/orders v2 to 5%')!;
    let where = report.ts;
    for (const weight of [5, 25, 50, 100]) {
      await click(bot, button, where, ALICE);
      const proposal = await inThread(where, 'Proposed: Shift canary traffic');
      if (weight === 100) {
        expect(text(proposal)).toContain('Deleting it would not keep v2 at 100%');
        expect(text(proposal)).toContain('v1 3 pods ≈ 75%, v2 1 pod ≈ 25%');
      }
      await click(bot, approveButton(proposal.blocks)!, proposal.ts, BOB);
      await waitFor(() => weightOf('v2') === weight && weightOf('v1') === 100 - weight, `weights at ${weight}`, 10_000);
      const verdict = await inThread(where, `v2 at ${weight}% of canary/orders passed its window`);
      const next = [5, 25, 50, 100].find((w) => w > weight);
      if (next !== undefined) {
        button = buttonIn(verdict.blocks, `to ${next}%`)!;
        expect(button).toBeDefined();
      } else {
        expect(buttonIn(verdict.blocks, 'Next step')).toBeUndefined();
        expect(text(verdict)).toContain('the VirtualService stays');
      }
      where = verdict.ts;
    }
    // The VirtualService is still there, at 100/0 for v2.
    expect(vs()).toBeDefined();
    expect(weightOf('v1')).toBe(0);
  }, 90_000);

  it('a failing canary raises the alarm early and rolls back in one click by the requester', async () => {
    await v2ErrorRate('0.3');
    await setWeights(95, 5);
    const report = await slash(bot, 'canary orders -n canary --sample 300ms --window 30s');
    await click(bot, buttonIn(report.blocks, 'Next step: canary/orders v2 to 25%')!, report.ts, ALICE);
    const proposal = await inThread(report.ts, 'Proposed: Shift canary traffic');
    const approvedAt = Date.now();
    await click(bot, approveButton(proposal.blocks)!, proposal.ts, BOB);
    const alarm = await inThread(report.ts, 'ALARM: clear regression');
    // Early: well before the 30 s window.
    expect(Date.now() - approvedAt).toBeLessThan(20_000);
    expect(text(alarm)).toMatch(/success rate [67]\d\.\d%/);
    expect(buttonIn(alarm.blocks, 'Next step')).toBeUndefined();
    const rollback = buttonIn(alarm.blocks, 'Roll back canary/orders: v2 to 0%')!;
    expect(rollback).toBeDefined();
    const failed = await requestFor('canary-step', 'failed');
    expect(failed.outcome?.summary).toMatch(/^ALARM: v2 at 25%/);

    await click(bot, rollback, alarm.ts, ALICE);
    const rb = await inThread(alarm.ts, 'Proposed: Roll back canary in canary/orders');
    await click(bot, approveButton(rb.blocks)!, rb.ts, ALICE);
    await waitFor(() => weightOf('v2') === 0 && weightOf('v1') === 100, 'weights back to 100/0', 10_000);
  }, 60_000);

  it('a window with no request to the canary fails the check', async () => {
    await setWeights(95, 5);
    const report = await slash(bot, 'canary orders -n canary --sample 300ms --window 1500ms');
    await click(bot, buttonIn(report.blocks, 'Next step: canary/orders v2 to 25%')!, report.ts, ALICE);
    const proposal = await inThread(report.ts, 'Proposed: Shift canary traffic');
    // No traffic at all from here on: the only caller, web, is scaled to 0.
    await scaleWeb(0);
    try {
      await click(bot, approveButton(proposal.blocks)!, proposal.ts, BOB);
      const verdict = await inThread(report.ts, 'failed its window');
      expect(text(verdict)).toContain('no request reached the canary in the window');
      expect(buttonIn(verdict.blocks, 'Next step')).toBeUndefined();
      expect(buttonIn(verdict.blocks, 'Roll back canary/orders')).toBeDefined();
      const failed = await requestFor('canary-step', 'failed');
      expect(failed.outcome?.summary).toMatch(/^Failed: v2 at 25%/);
    } finally {
      await scaleWeb(1);
    }
  }, 60_000);

  it('a concurrent edit of the weights between preview and approval fails the step cleanly', async () => {
    await setWeights(95, 5);
    const report = await slash(bot, 'canary orders -n canary --sample 300ms --window 1500ms');
    await click(bot, buttonIn(report.blocks, 'Next step: canary/orders v2 to 25%')!, report.ts, ALICE);
    const proposal = await inThread(report.ts, 'Proposed: Shift canary traffic');
    await setWeights(90, 10);
    await click(bot, approveButton(proposal.blocks)!, proposal.ts, BOB);
    const stopped = await requestFor('canary-step', 'superseded');
    // Nothing of the step landed: the other hand's weights stay, and no marker names this request.
    expect(weightOf('v2')).toBe(10);
    expect(weightOf('v1')).toBe(90);
    expect(vs().metadata.annotations?.[CANARY_REQUEST_ANNOTATION]).not.toBe(stopped.id);
    // Said so, with the weights before and after, and a fresh preview from the new weights.
    const said = await bot.fake.waitFor(
      () =>
        [...bot.fake.calls('chat.update'), ...bot.fake.calls('chat.postMessage')]
          .map((c) => JSON.stringify(c.args))
          .find((t) => t.includes('Nothing ran')),
      10_000,
    );
    expect(said).toContain('v1:95,v2:5');
    expect(said).toContain('v1:90,v2:10');
  }, 30_000);
});

describe('a VirtualService managed by another tool', () => {
  it('is shown but not acted on, naming Flagger', async () => {
    const kube = kubeFor(bot.sb);
    const ownerReferences = [
      {
        apiVersion: 'flagger.app/v1beta1',
        kind: 'Canary',
        name: 'orders',
        uid: '6f1e0c2a-0000-4000-8000-000000000001',
        controller: true,
        blockOwnerDeletion: true,
      },
    ];
    await kube.patch('VirtualService', NS, 'orders', { metadata: { ownerReferences } }, 'merge');
    try {
      const msg = await slash(bot, 'canary orders -n canary --sample 300ms');
      expect(text(msg)).toContain('managed by Flagger (Canary orders)');
      expect(buttonIn(msg.blocks, 'Next step')).toBeUndefined();
      expect(buttonIn(msg.blocks, 'Complete')).toBeUndefined();
      const direct = text(await slash(bot, 'canary orders -n canary --step 25'));
      expect(direct).toContain('managed by Flagger (Canary orders)');
      expect(weightOf('v2')).toBe(0);
      expect(
        (await bot.approvals.recent({ namespace: NS, limit: 50 })).filter((r) => r.createdAt >= testStart),
      ).toHaveLength(0);
    } finally {
      await kube.patch('VirtualService', NS, 'orders', { metadata: { ownerReferences: null } }, 'merge');
    }
  }, 30_000);
});
