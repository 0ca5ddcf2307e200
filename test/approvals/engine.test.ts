// The approvals engine against the sandbox API server: state machine, exactly-once execution,
// refusals, re-preview on change, audit in three places, impersonation and resumable follow-ups.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Sandbox } from '../../src/sandbox/server.ts';
import { APPROVE_ACTION, DENY_ACTION, OFFER_ACTION } from '../../src/approvals/messages.ts';
import { AccessPolicy, parsePolicy } from '../../src/approvals/policy.ts';
import { RESTARTED_AT } from '../../src/features/restart/rollout-restart.ts';
import type { Requester } from '../../src/command.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import {
  BOT_NS,
  RecordingMessenger,
  capturedLogger,
  click,
  kubeFor,
  replicaSets,
  restartCounter,
  sandboxWithDemo,
  service,
  textOf,
  waitFor,
} from './support.ts';

const POLICY = parsePolicy(`
roles:
  viewer: { commands: ["*"] }
  sre: { commands: ["*"], remediations: ["rollout-restart"], namespaces: ["bookinfo"] }
bindings:
  - role: viewer
    users: ["*"]
  - role: sre
    users: [U0ALICE, U0BOB, U0ERIN]
    groups: [S0SRE]
impersonation:
  enabled: false
`);

const alice: Requester = { userId: 'U0ALICE', userName: 'alice', channelId: 'C0OPS', source: 'slack' };
const target = (name: string, namespace = 'bookinfo') => ({ kind: 'Deployment', namespace, name });

let sb: Sandbox;

beforeAll(async () => {
  sb = await sandboxWithDemo();
});
afterAll(async () => {
  await sb.close();
});

function events(namespace: string, name: string): KubeObject[] {
  return sb.store
    .list('Event', namespace)
    .filter(
      (e) =>
        (e.involvedObject as { name?: string }).name === name &&
        (e.source as { component?: string } | undefined)?.component === 'meshops',
    );
}

describe('propose', () => {
  it('previews with a server-side dry run and changes nothing', async () => {
    const svc = service(sb, { doc: POLICY });
    const before = sb.store.get('Deployment', 'bookinfo', 'reviews');
    const r = await svc.propose({
      kind: 'rollout-restart',
      target: target('reviews'),
      why: 'stale config',
      requester: alice,
      cluster: 'sandbox',
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.record.state).toBe('pending');
    expect(r.record.preview?.affected).toHaveLength(3);
    expect(r.record.preview?.fingerprint).toBe(`generation:${before?.metadata.generation}`);
    const text = textOf(r.rendered);
    expect(text).toContain('Proposed: Restart deployment bookinfo/reviews');
    expect(text).toContain('<@U0ALICE>');
    expect(text).toContain('3 desired');
    const approve = r.rendered.blocks
      .flatMap((b) => (b.type === 'actions' ? b.elements : []))
      .find((e) => e.action_id === APPROVE_ACTION);
    expect(approve?.value).toBe(r.record.id);
    expect(approve?.style).toBe('primary');
    expect(approve?.confirm?.text.text).toContain('Restart deployment reviews in namespace bookinfo?');
    // The dry run left the Deployment alone.
    const after = sb.store.get('Deployment', 'bookinfo', 'reviews');
    expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
    expect(sb.requests.some((q) => q.method === 'PATCH' && q.query.includes('dryRun=All'))).toBe(true);
    // Persisted as a ConfigMap in the bot's namespace.
    expect(sb.store.get('ConfigMap', BOT_NS, `meshops-req-${r.record.id}`)).toBeDefined();
  });

  it('a missing Deployment fails the preview: reason given, no button, nothing persisted', async () => {
    const svc = service(sb, { doc: POLICY });
    const before = (await svc.store.list()).length;
    const r = await svc.propose({
      kind: 'rollout-restart',
      target: target('nope'),
      requester: alice,
      cluster: 'sandbox',
    });
    expect(r.ok).toBe(false);
    expect(textOf(r.rendered)).toContain('There is no Deployment `nope` in namespace `bookinfo`');
    expect(textOf(r.rendered)).toContain('`reviews`');
    expect(r.rendered.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect((await svc.store.list()).length).toBe(before);
  });

  it('refuses a requester without a role for the namespace', async () => {
    const svc = service(sb, { doc: POLICY });
    const r = await svc.propose({
      kind: 'rollout-restart',
      target: target('ledger', 'payments'),
      requester: alice,
      cluster: 'sandbox',
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toContain('not in namespace `payments`');
  });
});

describe('approve → execute once → follow up', () => {
  it('runs the full happy path with audit in three places', async () => {
    const { log, lines } = capturedLogger();
    const messenger = new RecordingMessenger();
    const svc = service(sb, { doc: POLICY, log, messenger });
    const restarts = restartCounter(sb, 'bookinfo', 'reviews');
    const rsBefore = replicaSets(sb, 'bookinfo', 'reviews').length;
    const r = await svc.propose({
      kind: 'rollout-restart',
      target: target('reviews'),
      why: 'stale config',
      requester: alice,
      cluster: 'sandbox',
    });
    if (!r.ok) throw new Error(r.reason);
    const msg = { channel: 'C0OPS', ts: '1700000000.555' };

    const self = await svc.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, r.record.id, 'U0ALICE', msg));
    expect(textOf(self?.ephemeral)).toContain('someone else must approve');

    const out = await svc.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, r.record.id, 'U0BOB', msg));
    expect(out?.ephemeral).toBeUndefined();
    expect(messenger.updates[0]?.ref).toEqual(msg);
    expect(textOf(messenger.updates[0]?.rendered)).toContain('Approved by <@U0BOB>');
    expect(messenger.updates[0]?.rendered.blocks.some((b) => b.type === 'actions')).toBe(false);

    await waitFor(async () => (await svc.store.read(r.record.id))?.record.state === 'done', 'the rollout to finish');
    await svc.idle();
    const done = (await svc.store.read(r.record.id))?.record;
    expect(done?.outcome?.ok).toBe(true);
    expect(done?.outcome?.summary).toContain('Rollout complete: 3/3 updated');
    expect(done?.approvals.map((a) => a.userId)).toEqual(['U0BOB']);
    expect(done?.history.map((h) => (h.note === 'applied' ? 'applied' : h.state))).toEqual([
      'pending',
      'approved',
      'executing',
      'applied',
      'done',
    ]);
    expect(restarts.count()).toBe(1);
    expect(replicaSets(sb, 'bookinfo', 'reviews').length).toBe(rsBefore + 1);
    restarts.stop();

    // Message updated in place, outcome in the thread.
    expect(textOf(messenger.lastUpdate())).toContain('Done: Restart deployment bookinfo/reviews');
    const thread = messenger.posts.find((p) => p.threadTs === msg.ts);
    expect(textOf(thread?.rendered)).toContain('Rollout complete');

    // Audit: pino lines, Kubernetes Events on the target, the persisted request.
    const audit = lines.filter((l) => l.audit).map((l) => l.audit as { action: string; id: string });
    expect(audit.filter((a) => a.id === r.record.id).map((a) => a.action)).toEqual([
      'proposed',
      'approved',
      'executed',
      'succeeded',
    ]);
    const reasons = events('bookinfo', 'reviews')
      .filter((e) => e.metadata.annotations?.['meshops.dev/request'] === r.record.id)
      .map((e) => e.reason);
    expect(reasons).toEqual(
      expect.arrayContaining(['MeshopsProposed', 'MeshopsApproved', 'MeshopsExecuted', 'MeshopsSucceeded']),
    );
    const ev = events('bookinfo', 'reviews')[0] as KubeObject & {
      involvedObject: { uid?: string };
      count: number;
      firstTimestamp: string;
    };
    expect(ev.involvedObject.uid).toBe(sb.store.get('Deployment', 'bookinfo', 'reviews')?.metadata.uid);
    expect(ev.count).toBe(1);
    expect(ev.firstTimestamp).toMatch(/^\d{4}-/);
    const recent = await svc.recent({ namespace: 'bookinfo' });
    expect(recent.find((x) => x.id === r.record.id)?.state).toBe('done');
  });

  it('a rule of two approvers waits for the second, from a different person', async () => {
    const doc = parsePolicy(`
roles:
  sre: { commands: ["*"], remediations: ["*"], namespaces: ["*"] }
bindings:
  - { role: sre, users: ["*"] }
approvals:
  rollout-restart: { approvers: 2, ttl: 10m }
`);
    const svc = service(sb, { doc });
    const restarts = restartCounter(sb, 'bookinfo', 'ratings');
    const r = await svc.propose({
      kind: 'rollout-restart',
      target: target('ratings'),
      requester: alice,
      cluster: 'sandbox',
    });
    if (!r.ok) throw new Error(r.reason);
    const first = await svc.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, r.record.id, 'U0BOB'));
    expect(textOf(first?.update)).toContain('Approved so far by <@U0BOB>');
    expect(textOf(first?.update)).toContain('needs 1 more approval');
    expect(first?.update?.blocks.some((b) => b.type === 'actions')).toBe(true);
    const twice = await svc.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, r.record.id, 'U0BOB'));
    expect(textOf(twice?.ephemeral)).toContain('You already approved this');
    expect(restarts.count()).toBe(0);
    await svc.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, r.record.id, 'U0ERIN'));
    await waitFor(async () => (await svc.store.read(r.record.id))?.record.state === 'done', 'the rollout');
    await svc.idle();
    expect((await svc.store.read(r.record.id))?.record.approvals.map((a) => a.userId)).toEqual(['U0BOB', 'U0ERIN']);
    expect(restarts.count()).toBe(1);
    restarts.stop();
  });

  it('20 concurrent approve clicks restart exactly once', async () => {
    const svc = service(sb, { doc: POLICY, members: async () => Array.from({ length: 20 }, (_, i) => `U0X${i}`) });
    const restarts = restartCounter(sb, 'bookinfo', 'ratings');
    const r = await svc.propose({
      kind: 'rollout-restart',
      target: target('ratings'),
      requester: alice,
      cluster: 'sandbox',
    });
    if (!r.ok) throw new Error(r.reason);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        svc.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, r.record.id, `U0X${i}`)),
      ),
    );
    const refused = outcomes.filter((o) => o?.ephemeral);
    expect(refused).toHaveLength(19);
    expect(textOf(refused[0]?.ephemeral)).toMatch(/Already approved by <@U0X\d+>/);
    await waitFor(async () => (await svc.store.read(r.record.id))?.record.state === 'done', 'the rollout');
    await svc.idle();
    expect(restarts.count()).toBe(1);
    restarts.stop();
  });

  it('two service instances sharing one cluster restart exactly once', async () => {
    const members = async () => ['U0Y1', 'U0Y2', 'U0Y3', 'U0Y4'];
    const a = service(sb, { doc: POLICY, members, replicaId: 'replica-a' });
    const b = service(sb, { doc: POLICY, members, replicaId: 'replica-b', stateKube: kubeFor(sb) });
    const restarts = restartCounter(sb, 'bookinfo', 'ratings');
    const r = await a.propose({
      kind: 'rollout-restart',
      target: target('ratings'),
      requester: alice,
      cluster: 'sandbox',
    });
    if (!r.ok) throw new Error(r.reason);
    const clicks = ['U0Y1', 'U0Y2', 'U0Y3', 'U0Y4'].flatMap((u) =>
      [a, b].map((svc) => svc.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, r.record.id, u))),
    );
    const outcomes = await Promise.all(clicks);
    expect(outcomes.filter((o) => !o?.ephemeral)).toHaveLength(1);
    await waitFor(async () => (await a.store.read(r.record.id))?.record.state === 'done', 'the rollout');
    await Promise.all([a.idle(), b.idle()]);
    expect(restarts.count()).toBe(1);
    restarts.stop();
  });
});

describe('refusals change nothing', () => {
  async function pending(name = 'reviews', ns = 'bookinfo', doc = POLICY, now?: () => Date) {
    const svc = service(sb, { doc, members: async (g) => (g === 'S0SRE' ? ['U0DAN'] : []), now });
    const r = await svc.propose({
      kind: 'rollout-restart',
      target: target(name, ns),
      requester: alice,
      cluster: 'sandbox',
    });
    if (!r.ok) throw new Error(r.reason);
    return { svc, id: r.record.id };
  }
  async function refusedWith(
    svc: Awaited<ReturnType<typeof pending>>['svc'],
    id: string,
    actionId: string,
    value: string,
    user: string,
    pattern: RegExp,
    message?: { channel: string; ts: string },
  ) {
    const restarts = restartCounter(sb, 'bookinfo', 'reviews');
    const before = await svc.store.read(id);
    const out = await svc.clickHandlers[actionId === OFFER_ACTION ? OFFER_ACTION : actionId]?.(
      click(actionId, value, user, message),
    );
    expect(textOf(out?.ephemeral)).toMatch(pattern);
    expect(out?.update).toBeUndefined();
    const after = await svc.store.read(id);
    expect(after?.resourceVersion).toBe(before?.resourceVersion);
    expect(restarts.count()).toBe(0);
    restarts.stop();
  }

  it('self-approval', async () => {
    const { svc, id } = await pending();
    await refusedWith(
      svc,
      id,
      APPROVE_ACTION,
      id,
      'U0ALICE',
      /You asked for this change, so someone else must approve it/,
    );
  });

  it('a clicker without a role', async () => {
    const { svc, id } = await pending();
    await refusedWith(
      svc,
      id,
      APPROVE_ACTION,
      id,
      'U0CAROL',
      /no meshops role that may act on `rollout-restart` in namespace `bookinfo`/,
    );
  });

  it('a namespace outside the clicker’s role', async () => {
    const doc = parsePolicy(`
roles:
  all: { remediations: ["*"], namespaces: ["*"] }
  sre: { remediations: ["rollout-restart"], namespaces: ["bookinfo"] }
bindings:
  - { role: all, users: [U0ALICE] }
  - { role: sre, users: [U0BOB] }
`);
    const { svc, id } = await pending('ledger', 'payments', doc);
    await refusedWith(svc, id, APPROVE_ACTION, id, 'U0BOB', /allow `rollout-restart` but not in namespace `payments`/);
  });

  it('a group member is allowed (not a refusal) — control for the role checks', async () => {
    const { svc, id } = await pending();
    const out = await svc.clickHandlers[DENY_ACTION]?.(click(DENY_ACTION, id, 'U0DAN'));
    expect(out?.ephemeral).toBeUndefined();
    expect((await svc.store.read(id))?.record.state).toBe('denied');
    expect(textOf(out?.update)).toContain('Denied by <@U0DAN>');
  });

  it('an expired request', async () => {
    let now = Date.now();
    const { svc, id } = await pending('reviews', 'bookinfo', POLICY, () => new Date(now));
    now += 16 * 60_000;
    const out = await svc.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, id, 'U0BOB'));
    expect(textOf(out?.ephemeral)).toMatch(/expired at \d\d:\d\d UTC; nothing ran/);
    expect((await svc.store.read(id))?.record.state).toBe('expired');
    const again = await svc.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, id, 'U0ERIN'));
    expect(textOf(again?.ephemeral)).toMatch(/expired/);
  });

  it('an already-decided request', async () => {
    const { svc, id } = await pending();
    await svc.clickHandlers[DENY_ACTION]?.(click(DENY_ACTION, id, 'U0BOB'));
    await refusedWith(svc, id, APPROVE_ACTION, id, 'U0ERIN', /Already denied by <@U0BOB>/);
  });

  it('a forged or unknown id', async () => {
    const { svc, id } = await pending();
    await refusedWith(svc, id, APPROVE_ACTION, 'f'.repeat(32), 'U0BOB', /no request with this id/);
  });

  it('a tampered payload: not an id, an offer id on an approve button, or a button moved to another message', async () => {
    const { svc, id } = await pending();
    await refusedWith(
      svc,
      id,
      APPROVE_ACTION,
      '{"kind":"rollout-restart","target":"x"}',
      'U0BOB',
      /payload was not made by meshops/,
    );
    await refusedWith(svc, id, APPROVE_ACTION, `${id}x`, 'U0BOB', /payload was not made by meshops/);
    const offered = await svc.attachOffers(
      { text: 'x', blocks: [] },
      [{ label: 'Restart reviews', remediation: { kind: 'rollout-restart', target: target('reviews'), why: 'w' } }],
      alice,
      'sandbox',
    );
    const offerId = offered.blocks.flatMap((b) => (b.type === 'actions' ? b.elements : []))[0]?.value as string;
    await refusedWith(svc, id, APPROVE_ACTION, offerId, 'U0BOB', /does not match the button/);
    // First deny in one message pins the request to it; a click elsewhere is refused.
    const other = await pending();
    await other.svc.clickHandlers[APPROVE_ACTION]?.(
      click(APPROVE_ACTION, other.id, 'U0ALICE', { channel: 'C0OPS', ts: '1.1' }),
    );
    const rec = await other.svc.store.read(other.id);
    await other.svc.store.write(rec!, { ...rec!.record, message: { channel: 'C0OPS', ts: '1.1' } });
    await refusedWith(other.svc, other.id, APPROVE_ACTION, other.id, 'U0BOB', /does not belong to the message/, {
      channel: 'C0OTHER',
      ts: '2.2',
    });
  });
});

describe('re-check before executing', () => {
  it('a target changed after the preview gets a fresh preview, not an execution', async () => {
    const messenger = new RecordingMessenger();
    const svc = service(sb, { doc: POLICY, messenger });
    const r = await svc.propose({
      kind: 'rollout-restart',
      target: target('reviews'),
      requester: alice,
      cluster: 'sandbox',
    });
    if (!r.ok) throw new Error(r.reason);
    // Someone scales the Deployment in between: its generation moves.
    const kube = kubeFor(sb);
    await kube.patch('Deployment', 'bookinfo', 'reviews', { spec: { replicas: 2 } }, 'merge');
    sb.settle();
    const restarts = restartCounter(sb, 'bookinfo', 'reviews');
    const out = await svc.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, r.record.id, 'U0BOB'));
    expect(out?.ephemeral).toBeUndefined();
    const old = (await svc.store.read(r.record.id))?.record;
    expect(old?.state).toBe('superseded');
    expect(old?.supersededBy).toMatch(/^[a-f0-9]{32}$/);
    const fresh = (await svc.store.read(old?.supersededBy as string))?.record;
    expect(fresh?.state).toBe('pending');
    expect(fresh?.preview?.facts[1]?.[1]).toContain('2 desired');
    const shown = textOf(messenger.lastUpdate());
    expect(shown).toContain('changed since the preview');
    expect(shown).toContain(fresh?.id);
    expect(restarts.count()).toBe(0);
    restarts.stop();
    await kube.patch('Deployment', 'bookinfo', 'reviews', { spec: { replicas: 3 } }, 'merge');
    sb.settle();
  });
});

describe('impersonation', () => {
  it('executes as the approver; a 403 from the API server is shown in words and nothing runs', async () => {
    const doc = parsePolicy(`
roles:
  sre: { commands: ["*"], remediations: ["*"], namespaces: ["*"] }
bindings:
  - { role: sre, users: ["*"] }
impersonation:
  enabled: true
  users:
    U0BOB: { user: bob@example.com, groups: [sre] }
`);
    const svc = service(sb, { policy: new AccessPolicy(doc) });
    const restarts = restartCounter(sb, 'bookinfo', 'reviews');
    const r = await svc.propose({
      kind: 'rollout-restart',
      target: target('reviews'),
      requester: alice,
      cluster: 'sandbox',
    });
    if (!r.ok) throw new Error(r.reason);
    const unmapped = await svc.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, r.record.id, 'U0ERIN'));
    expect(textOf(unmapped?.ephemeral)).toContain('has no Kubernetes identity');
    const out = await svc.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, r.record.id, 'U0BOB'));
    expect(textOf(out?.update)).toMatch(
      /Nothing ran: the change was not applied \(the cluster refused Kubernetes user bob@example\.com.*meshops checked the live object/,
    );
    const rec = (await svc.store.read(r.record.id))?.record;
    expect(rec?.state).toBe('failed');
    expect(rec?.execution?.as?.user).toBe('bob@example.com');
    expect(restarts.count()).toBe(0);
    expect(sb.requests.some((q) => q.user === 'bob@example.com' && q.method === 'PATCH')).toBe(true);
    restarts.stop();
  });
});

describe('offers', () => {
  it('turns offers into buttons; a click proposes with the clicker as requester, once', async () => {
    const messenger = new RecordingMessenger();
    const svc = service(sb, { doc: POLICY, messenger });
    const rendered = await svc.attachOffers(
      { text: 'diag', blocks: [] },
      [
        {
          label: 'Restart deployment reviews',
          remediation: { kind: 'rollout-restart', target: target('reviews'), why: 'proxies are stale' },
        },
      ],
      alice,
      'sandbox',
    );
    const btn = rendered.blocks.flatMap((b) => (b.type === 'actions' ? b.elements : []))[0];
    expect(btn?.action_id).toBe(`${OFFER_ACTION}:0`);
    expect(btn?.value).toMatch(/^[a-f0-9]{32}$/);
    const refused = await svc.clickHandlers[OFFER_ACTION]?.(click(btn!.action_id, btn!.value!, 'U0CAROL'));
    expect(textOf(refused?.ephemeral)).toContain('no meshops role');
    const msg = { channel: 'C0OPS', ts: '1700000000.777' };
    const out = await svc.clickHandlers[OFFER_ACTION]?.(click(btn!.action_id, btn!.value!, 'U0BOB', msg));
    expect(out?.ephemeral).toBeUndefined();
    const posted = messenger.posts.at(-1);
    expect(posted?.threadTs).toBe(msg.ts);
    expect(textOf(posted?.rendered)).toContain('Asked by <@U0BOB>');
    const offer = (await svc.store.read(btn!.value!))?.record;
    const proposal = (await svc.store.read(offer?.proposalId as string))?.record;
    expect(proposal?.requester.userId).toBe('U0BOB');
    expect(proposal?.message).toEqual(posted?.ref);
    const again = await svc.clickHandlers[OFFER_ACTION]?.(click(btn!.action_id, btn!.value!, 'U0ERIN', msg));
    expect(textOf(again?.ephemeral)).toContain('<@U0BOB> already proposed this fix');
  });
});

describe('resume', () => {
  it('another replica finishes a follow-up whose owner is gone', async () => {
    // A slow cluster, so the rollout is still under way when replica A dies.
    const slow = await sandboxWithDemo(400);
    try {
      // A long poll: replica A looks once, then waits, so the rollout is still being followed when it dies.
      const a = service(slow, { doc: POLICY, replicaId: 'dead-replica', leaseSeconds: 1, pollMs: 60_000 });
      const r = await a.propose({
        kind: 'rollout-restart',
        target: target('ratings'),
        requester: alice,
        cluster: 'sandbox',
      });
      if (!r.ok) throw new Error(r.reason);
      await a.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, r.record.id, 'U0BOB'));
      // Replica A stops following without releasing (as if killed): abort its loop, then forge its lease as still held.
      await a.stop();
      const kube = kubeFor(slow);
      const name = `meshops-req-${r.record.id}`;
      const stale = new Date(Date.now() - 1000).toISOString().replace('Z', '000Z');
      const lease = await kube.get('Lease', BOT_NS, name);
      const leaseObj = lease ?? {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace: BOT_NS },
      };
      const rec = await a.store.read(r.record.id);
      expect(rec?.record.state).toBe('executing');
      const spec = { holderIdentity: 'dead-replica', leaseDurationSeconds: 1, renewTime: stale, acquireTime: stale };
      if (lease) await kube.replace({ ...leaseObj, spec });
      else await kube.create({ ...leaseObj, spec });
      const { log, lines } = capturedLogger();
      const b = service(slow, { doc: POLICY, replicaId: 'survivor', log });
      await b.resume();
      await waitFor(
        async () => (await b.store.read(r.record.id))?.record.state === 'done',
        'the survivor to finish the follow-up',
      );
      await b.idle();
      expect((await b.store.read(r.record.id))?.record.history.at(-1)?.state).toBe('done');
      expect(
        lines.some(
          (l) =>
            (l.audit as { action?: string; id?: string } | undefined)?.action === 'succeeded' &&
            (l.audit as { id: string }).id === r.record.id,
        ),
      ).toBe(true);
    } finally {
      await slow.close();
    }
  });

  it('a follow-up recorded under a cluster this replica does not serve is resolved once, in words', async () => {
    const slow = await sandboxWithDemo(300);
    try {
      const kube = kubeFor(slow);
      const a = service(slow, {
        doc: POLICY,
        replicaId: 'old',
        leaseSeconds: 600,
        clusters: [{ name: 'eu-prod', kube }],
        stateKube: kube,
      });
      const r = await a.propose({
        kind: 'rollout-restart',
        target: target('reviews'),
        requester: alice,
        cluster: 'eu-prod',
      });
      if (!r.ok) throw new Error(r.reason);
      await a.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, r.record.id, 'U0BOB'));
      await a.stop();
      expect((await a.store.read(r.record.id))?.record.state).toBe('executing');
      // The cluster was renamed in the settings: this replica serves it as "sandbox" now.
      const { log, lines } = capturedLogger();
      const audits: string[] = [];
      const b = service(slow, {
        doc: POLICY,
        replicaId: 'renamed',
        log,
        onAudit: (kind, action) => audits.push(`${kind}:${action}`),
      });
      for (let i = 0; i < 3; i++) {
        await b.resume();
        await b.idle();
      }
      const rec = (await b.store.read(r.record.id))?.record;
      expect(rec?.state).toBe('unknown');
      expect(rec?.outcome?.summary).toMatch(
        /^Not known whether the change finished: meshops cannot check this: it does not serve a cluster named `eu-prod` \(it serves `sandbox`\)/,
      );
      expect(audits).toEqual(['rollout-restart:unknown']);
      expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
      // A click on a request for a cluster this replica does not serve is refused in words, not an apology.
      const again = await a.propose({
        kind: 'rollout-restart',
        target: target('ratings'),
        requester: alice,
        cluster: 'eu-prod',
      });
      if (!again.ok) throw new Error(again.reason);
      const refused = await b.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, again.record.id, 'U0BOB'));
      expect(textOf(refused?.ephemeral)).toContain('which this meshops does not serve');
      expect((await b.store.read(again.record.id))?.record.state).toBe('pending');
    } finally {
      await slow.close();
    }
  });

  it('stop() hands a follow-up over at once: the lease is released, not left to lapse', async () => {
    const slow = await sandboxWithDemo(300);
    try {
      const audits: string[] = [];
      const a = service(slow, { doc: POLICY, replicaId: 'leaving', leaseSeconds: 600, pollMs: 50 });
      const b = service(slow, {
        doc: POLICY,
        replicaId: 'staying',
        leaseSeconds: 600,
        onAudit: (kind, action) => audits.push(`${kind}:${action}`),
      });
      const r = await a.propose({
        kind: 'rollout-restart',
        target: target('reviews'),
        requester: alice,
        cluster: 'sandbox',
      });
      if (!r.ok) throw new Error(r.reason);
      await a.clickHandlers[APPROVE_ACTION]?.(click(APPROVE_ACTION, r.record.id, 'U0BOB'));
      await a.stop();
      expect((await a.store.read(r.record.id))?.record.state).toBe('executing');
      // With a 10-minute lease, only a release lets B take over now.
      await b.resume();
      await waitFor(
        async () => (await b.store.read(r.record.id))?.record.state === 'done',
        'the follow-up on the staying replica',
      );
      await b.idle();
      expect(audits).toEqual(['rollout-restart:succeeded']);
      // Finished: the lease is released (no holder), never deleted — meshops has no delete permission.
      expect(
        (
          slow.store.get('Lease', BOT_NS, `meshops-req-${r.record.id}`)?.spec as
            | { holderIdentity?: string | null }
            | undefined
        )?.holderIdentity ?? null,
      ).toBeNull();
    } finally {
      await slow.close();
    }
  });

  it('a request left executing before the change landed is failed, not run', async () => {
    const svc = service(sb, { doc: POLICY, replicaId: 'survivor-2' });
    const restarts = restartCounter(sb, 'bookinfo', 'reviews');
    const r = await svc.propose({
      kind: 'rollout-restart',
      target: target('reviews'),
      requester: alice,
      cluster: 'sandbox',
    });
    if (!r.ok) throw new Error(r.reason);
    const stored = await svc.store.read(r.record.id);
    await svc.store.write(stored!, {
      ...stored!.record,
      state: 'executing',
      execution: { startedAt: new Date().toISOString() },
    });
    await svc.resume();
    await waitFor(
      async () => (await svc.store.read(r.record.id))?.record.state === 'failed',
      'the interrupted request to fail',
    );
    await svc.idle();
    expect((await svc.store.read(r.record.id))?.record.outcome?.summary).toMatch(
      /^Nothing ran: the change was not applied \(meshops stopped before it recorded the result\)\. meshops checked the live object/,
    );
    expect(restarts.count()).toBe(0);
    restarts.stop();
  });

  it('expires pending requests in housekeeping', async () => {
    let now = Date.now();
    const svc = service(sb, { doc: POLICY, now: () => new Date(now) });
    const r = await svc.propose({
      kind: 'rollout-restart',
      target: target('reviews'),
      requester: alice,
      cluster: 'sandbox',
    });
    if (!r.ok) throw new Error(r.reason);
    now += 20 * 60_000;
    await svc.resume();
    expect((await svc.store.read(r.record.id))?.record.state).toBe('expired');
    expect(sb.store.get('Deployment', 'bookinfo', 'reviews')?.spec).toBeDefined();
  });
});

describe('rollout follow-up', () => {
  it('reports pods failing to start and fails at the timeout', async () => {
    const kube = kubeFor(sb);
    await kube.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'broken', namespace: 'bookinfo' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'broken' } },
        template: { metadata: { labels: { app: 'broken' } }, spec: { containers: [{ name: 'app', image: 'x' }] } },
      },
    });
    sb.settle();
    // The next template change rolls pods that never start.
    await kube.patch(
      'Deployment',
      'bookinfo',
      'broken',
      { spec: { template: { metadata: { annotations: { 'sandbox.meshops.dev/fail-start': 'ImagePullBackOff' } } } } },
      'merge',
    );
    sb.settle();
    const messenger = new RecordingMessenger();
    const svc = service(sb, { doc: POLICY, messenger, followUpTimeoutMs: 1500 });
    const r = await svc.propose({
      kind: 'rollout-restart',
      target: target('broken'),
      requester: alice,
      cluster: 'sandbox',
    });
    if (!r.ok) throw new Error(r.reason);
    await svc.clickHandlers[APPROVE_ACTION]?.(
      click(APPROVE_ACTION, r.record.id, 'U0BOB', { channel: 'C0OPS', ts: '9.9' }),
    );
    await waitFor(
      async () => (await svc.store.read(r.record.id))?.record.state === 'failed',
      'the follow-up to time out',
    );
    await svc.idle();
    const rec = (await svc.store.read(r.record.id))?.record;
    expect(rec?.outcome?.summary).toContain('did not finish in time');
    expect(rec?.followUp?.problems.join('\n')).toContain('waiting: ImagePullBackOff');
    expect(textOf(messenger.posts.at(-1)?.rendered)).toContain('ImagePullBackOff');
    expect(
      RESTARTED_AT in
        (
          sb.store.get('Deployment', 'bookinfo', 'broken')?.spec as {
            template: { metadata: { annotations: Record<string, string> } };
          }
        ).template.metadata.annotations,
    ).toBe(true);
  });
});
