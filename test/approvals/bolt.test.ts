// Approvals end to end through the real Bolt app (signed HTTP requests, the recording Slack fake) and
// the sandbox API server. Restarts are counted from the cluster's side, never from our own counters.
import { Writable } from 'node:stream';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import auditCommand from '../../src/features/core/audit.ts';
import helpCommand from '../../src/features/core/help.ts';
import restartCommand from '../../src/features/restart/restart.ts';
import { APPROVE_ACTION } from '../../src/approvals/messages.ts';
import { PolicyError } from '../../src/approvals/policy.ts';
import { type ApprovalsSetup, setupApprovals } from '../../src/approvals/setup.ts';
import type { SlackSettings } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { Router } from '../../src/router.ts';
import type { Sandbox } from '../../src/sandbox/server.ts';
import { type SlackApp, createSlackApp } from '../../src/slack/app.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { type SignKnobs, sendInteraction, sendSlashCommand } from '../support/slack-http.ts';
import { ALICE, GENERAL, blockActions, slashCommand } from '../support/slack-payloads.ts';
import { BOT_NS, kubeFor, replicaSets, restartCounter, sandboxWithDemo, waitFor } from './support.ts';
import { rolloutRestart } from '../../src/features/restart/rollout-restart.ts';

const SECRET = 'f00dfeedcafe0123456789abcdef0123';
const knobs: SignKnobs = { secret: SECRET };
const BOB = 'UBOB0001';
const CAROL = 'UCAROL01';
const DAVE = 'UDAVE001';
const ERIN = 'UERIN001';
/** Added to the clock of bots that take a `now` (expiry tests). */
let clockOffsetMs = 0;

const POLICY = `
roles:
  viewer: { commands: ["*"] }
  sre: { commands: ["*"], remediations: ["rollout-restart"], namespaces: ["bookinfo"] }
  payments: { commands: ["*"], remediations: ["rollout-restart"], namespaces: ["payments"] }
bindings:
  - role: payments
    users: [UDAVE001, UERIN001]
  - role: viewer
    users: ["*"]
  - role: sre
    users: [${ALICE}]
    groups: [S0SRE]
`;

interface Bot {
  slack: SlackApp;
  approvals: ApprovalsSetup;
  logs: Array<Record<string, unknown>>;
  url: string;
}

let sb: Sandbox;
let fake: SlackFake;
let policyFile: string;
const bots: Bot[] = [];

async function startBot(replicaId: string, shiftedClock = false): Promise<Bot> {
  const logs: Array<Record<string, unknown>> = [];
  const log = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk, _e, cb) {
        for (const l of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(l));
        cb();
      },
    }),
  });
  const kube = kubeFor(sb);
  const clusters = [{ name: 'sandbox', kube }];
  let slack: SlackApp | undefined;
  const approvals = await setupApprovals({
    policyFile,
    clusters,
    stateKube: kube,
    namespace: BOT_NS,
    log,
    kinds: [rolloutRestart],
    // Group membership from Slack's usergroups.users.list, as production wires it.
    members: async (group) =>
      ((await slack?.app.client.usergroups.users.list({ usergroup: group }))?.users as string[] | undefined) ?? [],
    tuning: { pollMs: 30, replicaId, ...(shiftedClock ? { now: () => new Date(Date.now() + clockOffsetMs) } : {}) },
  });
  const router = new Router({
    commands: [helpCommand, restartCommand, auditCommand],
    clusters,
    log,
    services: { approvals: approvals.service, policyWarning: approvals.warning },
    authorize: approvals.policy.authorize,
  });
  const settings: SlackSettings = {
    mode: 'http',
    botToken: 'xoxb-1111-2222-testtoken',
    signingSecret: SECRET,
    port: 0,
    apiUrl: fake.apiUrl,
  };
  slack = createSlackApp({
    slack: settings,
    router,
    log,
    clickHandlers: approvals.service.clickHandlers,
    listen: { host: '127.0.0.1', port: 0 },
    retryConfig: { retries: 0 },
  });
  approvals.service.attachMessenger(slack.messenger);
  await slack.start();
  const bot = { slack, approvals, logs, url: `http://127.0.0.1:${slack.port}/slack/events` };
  bots.push(bot);
  return bot;
}

beforeAll(async () => {
  sb = await sandboxWithDemo();
  fake = await startSlackFake({
    usergroups: { S0SRE: [BOB, ...Array.from({ length: 20 }, (_, i) => `UCLICK${i}`)] },
    users: { [BOB]: { name: 'bob' }, [ALICE]: { name: 'alice' } },
  });
  const dir = await mkdtemp(join(tmpdir(), 'meshops-policy-'));
  policyFile = join(dir, 'policy.yaml');
  await writeFile(policyFile, POLICY);
});

afterAll(async () => {
  for (const b of bots) {
    await b.slack.stop();
    await b.approvals.service.stop();
  }
  await fake?.close();
  await sb?.close();
});

/** Runs a slash command and returns the bot's message once it carries the proposal (or settles). */
async function slash(bot: Bot, text: string, user = ALICE) {
  const before = fake.messages(GENERAL).length;
  await sendSlashCommand(bot.url, slashCommand(text, { responseUrl: fake.responseUrl(), user }), knobs);
  return fake.waitFor(
    () =>
      fake
        .messages(GENERAL)
        .slice(before)
        .find((m) => m.updates > 0 && !JSON.stringify(m.blocks).includes('Working')),
    10_000,
  );
}

function approveValue(blocks: unknown[] | undefined): string | undefined {
  for (const b of (blocks ?? []) as Array<{ type: string; elements?: Array<{ action_id: string; value?: string }> }>) {
    const el = b.elements?.find((e) => e.action_id === APPROVE_ACTION);
    if (el) return el.value;
  }
  return undefined;
}

async function clickApprove(bot: Bot, value: string, messageTs: string, user: string) {
  return sendInteraction(
    bot.url,
    blockActions({ actionId: APPROVE_ACTION, value, responseUrl: fake.responseUrl(), messageTs, user }),
    knobs,
  );
}

function ephemeralsFor(user: string): string[] {
  return fake
    .calls('chat.postEphemeral')
    .filter((c) => c.args.user === user)
    .map((c) => JSON.stringify(c.args.blocks ?? c.args.text));
}

describe('through the Bolt app', () => {
  it('full happy path: propose, dry-run preview, approve by a second user, one restart, message updated, rollout followed, audit in three places', async () => {
    const bot = await startBot('replica-1');
    const restarts = restartCounter(sb, 'bookinfo', 'reviews');
    const rsBefore = replicaSets(sb, 'bookinfo', 'reviews').length;
    const msg = await slash(bot, 'restart deployment/reviews -n bookinfo --why "stale Envoy config"');
    const text = JSON.stringify(msg.blocks);
    expect(text).toContain('Proposed: Restart deployment bookinfo/reviews');
    expect(text).toContain('dryRun=All');
    expect(text).toContain(`Asked by <@${ALICE}>`);
    expect(text).toContain('Pods that will roll (3)');
    const id = approveValue(msg.blocks);
    expect(id).toMatch(/^[a-f0-9]{32}$/);

    await clickApprove(bot, id as string, msg.ts, ALICE);
    await fake.waitFor(() => ephemeralsFor(ALICE).find((t) => t.includes('someone else must approve')));
    expect(restarts.count()).toBe(0);

    await clickApprove(bot, id as string, msg.ts, BOB);
    const rec = await waitFor(async () => {
      const r = (await bot.approvals.service.store.read(id as string))?.record;
      return r?.state === 'done' ? r : undefined;
    }, 'the rollout to complete');
    await bot.approvals.service.idle();
    expect(rec.approvals.map((a) => a.userId)).toEqual([BOB]);
    expect(restarts.count()).toBe(1);
    expect(replicaSets(sb, 'bookinfo', 'reviews').length).toBe(rsBefore + 1);
    restarts.stop();

    // The original message, updated in place: buttons gone, who asked, who approved, the outcome.
    const final = fake.messages(GENERAL).find((m) => m.ts === msg.ts);
    expect(JSON.stringify(final?.blocks)).toContain('Done: Restart deployment bookinfo/reviews');
    expect(JSON.stringify(final?.blocks)).toContain(`Approved by <@${BOB}>`);
    expect(approveValue(final?.blocks)).toBeUndefined();
    // The outcome in the thread.
    const thread = fake
      .calls('chat.postMessage')
      .find((c) => c.args.thread_ts === msg.ts && JSON.stringify(c.args.blocks).includes('Rollout complete'));
    expect(thread).toBeDefined();

    // Audit: log lines, Events on the Deployment, and /mesh audit reading the persisted requests.
    const actions = bot.logs
      .filter((l) => (l.audit as { id?: string } | undefined)?.id === id)
      .map((l) => (l.audit as { action: string }).action);
    expect(actions).toEqual(['proposed', 'approved', 'executed', 'succeeded']);
    const reasons = sb.store
      .list('Event', 'bookinfo')
      .filter((e) => e.metadata.annotations?.['meshops.dev/request'] === id)
      .map((e) => e.reason);
    expect(reasons).toEqual(
      expect.arrayContaining(['MeshopsProposed', 'MeshopsApproved', 'MeshopsExecuted', 'MeshopsSucceeded']),
    );
    const audit = await slash(bot, 'audit bookinfo');
    const auditText = JSON.stringify(audit.blocks);
    expect(auditText).toContain('Restart deployment bookinfo/reviews');
    expect(auditText).toContain(`asked by <@${ALICE}>`);
    expect(auditText).toContain(`approved by <@${BOB}>`);
    expect(auditText).toContain('*done*: Rollout complete');
  });

  it('a clicker without a role is refused and nothing runs', async () => {
    const bot = bots[0] as Bot;
    const msg = await slash(bot, 'restart ratings.bookinfo');
    const id = approveValue(msg.blocks) as string;
    const restarts = restartCounter(sb, 'bookinfo', 'ratings');
    await clickApprove(bot, id, msg.ts, CAROL);
    await fake.waitFor(() => ephemeralsFor(CAROL).find((t) => t.includes('no meshops role')));
    expect((await bot.approvals.service.store.read(id))?.record.state).toBe('pending');
    expect(restarts.count()).toBe(0);
    restarts.stop();
  });

  it('forged, tampered and already-decided clicks are refused privately and change nothing', async () => {
    const bot = bots[0] as Bot;
    const msg = await slash(bot, 'restart deployment/ratings -n bookinfo');
    const id = approveValue(msg.blocks) as string;
    const restarts = restartCounter(sb, 'bookinfo', 'ratings');
    const before = (await bot.approvals.service.store.read(id))?.resourceVersion;
    await clickApprove(bot, 'a'.repeat(32), msg.ts, BOB);
    await fake.waitFor(() => ephemeralsFor(BOB).find((t) => t.includes('no request with this id')));
    await clickApprove(bot, `{"kind":"rollout-restart","name":"ratings"}`, msg.ts, BOB);
    await fake.waitFor(() => ephemeralsFor(BOB).find((t) => t.includes('payload was not made by meshops')));
    expect((await bot.approvals.service.store.read(id))?.resourceVersion).toBe(before);
    // Denied by the requester (withdrawn), then an approval comes too late.
    await sendInteraction(
      bot.url,
      blockActions({
        actionId: 'meshops:deny',
        value: id,
        responseUrl: fake.responseUrl(),
        messageTs: msg.ts,
        user: ALICE,
      }),
      knobs,
    );
    await waitFor(async () => (await bot.approvals.service.store.read(id))?.record.state === 'denied', 'the denial');
    await clickApprove(bot, id, msg.ts, BOB);
    await fake.waitFor(() => ephemeralsFor(BOB).find((t) => t.includes('Already denied by')));
    await bot.slack.idle(5000);
    expect(restarts.count()).toBe(0);
    restarts.stop();
    expect(JSON.stringify(fake.messages(GENERAL).find((m) => m.ts === msg.ts)?.blocks)).toContain(
      `Denied by <@${ALICE}>`,
    );
  });

  it('a namespace outside the clicker’s role is refused', async () => {
    const bot = bots[0] as Bot;
    const msg = await slash(bot, 'restart deployment/ledger -n payments', DAVE);
    const id = approveValue(msg.blocks) as string;
    expect(id).toBeDefined();
    const restarts = restartCounter(sb, 'payments', 'ledger');
    await clickApprove(bot, id, msg.ts, BOB);
    await fake.waitFor(() => ephemeralsFor(BOB).find((t) => t.includes('not in namespace `payments`')));
    expect((await bot.approvals.service.store.read(id))?.record.state).toBe('pending');
    expect(restarts.count()).toBe(0);
    restarts.stop();
  });

  it('an expired request is refused and its message says so', async () => {
    const bot = await startBot('replica-clock', true);
    const msg = await slash(bot, 'restart deployment/ledger -n payments', DAVE);
    const id = approveValue(msg.blocks) as string;
    const restarts = restartCounter(sb, 'payments', 'ledger');
    clockOffsetMs = 16 * 60_000;
    try {
      await clickApprove(bot, id, msg.ts, ERIN);
      await fake.waitFor(() => ephemeralsFor(ERIN).find((t) => t.includes('expired at')));
      await bot.slack.idle(5000);
    } finally {
      clockOffsetMs = 0;
    }
    expect((await bot.approvals.service.store.read(id))?.record.state).toBe('expired');
    const shown = fake.messages(GENERAL).find((m) => m.ts === msg.ts);
    expect(JSON.stringify(shown?.blocks)).toContain('Expired at');
    expect(approveValue(shown?.blocks)).toBeUndefined();
    expect(restarts.count()).toBe(0);
    restarts.stop();
  });

  it('a target changed after the preview gets a fresh preview in the same message, not an execution', async () => {
    const bot = bots[0] as Bot;
    const msg = await slash(bot, 'restart deployment/ledger -n payments', DAVE);
    const id = approveValue(msg.blocks) as string;
    await kubeFor(sb).patch('Deployment', 'payments', 'ledger', { spec: { replicas: 1 } }, 'merge');
    const restarts = restartCounter(sb, 'payments', 'ledger');
    await clickApprove(bot, id, msg.ts, ERIN);
    await waitFor(
      async () => (await bot.approvals.service.store.read(id))?.record.state === 'superseded',
      'the request to be superseded',
    );
    await bot.slack.idle(5000);
    const shown = fake.messages(GENERAL).find((m) => m.ts === msg.ts);
    const freshId = approveValue(shown?.blocks);
    expect(freshId).toMatch(/^[a-f0-9]{32}$/);
    expect(freshId).not.toBe(id);
    expect(JSON.stringify(shown?.blocks)).toContain('changed since the preview (generation:');
    expect(JSON.stringify(shown?.blocks)).toContain('1 desired');
    expect(restarts.count()).toBe(0);
    // The fresh preview's button works from the same message.
    await clickApprove(bot, freshId as string, msg.ts, ERIN);
    await waitFor(
      async () => (await bot.approvals.service.store.read(freshId as string))?.record.state === 'done',
      'the fresh request to run',
    );
    await bot.approvals.service.idle();
    expect(restarts.count()).toBe(1);
    restarts.stop();
  });

  it('a dry-run failure (the Deployment does not exist) offers no button', async () => {
    const bot = bots[0] as Bot;
    const msg = await slash(bot, 'restart deployment/nope -n bookinfo');
    expect(JSON.stringify(msg.blocks)).toContain('There is no Deployment `nope` in namespace `bookinfo`');
    expect((msg.blocks as Array<{ type: string }>).some((b) => b.type === 'actions')).toBe(false);
  });

  it('20 concurrent approve clicks over HTTP give exactly one restart', async () => {
    const bot = bots[0] as Bot;
    const msg = await slash(bot, 'restart deployment/ratings -n bookinfo');
    const id = approveValue(msg.blocks) as string;
    const restarts = restartCounter(sb, 'bookinfo', 'ratings');
    await Promise.all(Array.from({ length: 20 }, (_, i) => clickApprove(bot, id, msg.ts, `UCLICK${i}`)));
    await waitFor(async () => (await bot.approvals.service.store.read(id))?.record.state === 'done', 'the rollout');
    await bot.slack.idle(5000);
    await bot.approvals.service.idle();
    expect(restarts.count()).toBe(1);
    restarts.stop();
    const refused = fake
      .calls('chat.postEphemeral')
      .filter(
        (c) => String(c.args.user).startsWith('UCLICK') && JSON.stringify(c.args.blocks).includes('Already approved'),
      );
    expect(refused).toHaveLength(19);
  });

  it('two app instances sharing one sandbox give exactly one restart', async () => {
    const a = bots[0] as Bot;
    const b = await startBot('replica-2');
    const msg = await slash(a, 'restart deployment/reviews -n bookinfo');
    const id = approveValue(msg.blocks) as string;
    const restarts = restartCounter(sb, 'bookinfo', 'reviews');
    await Promise.all(Array.from({ length: 10 }, (_, i) => clickApprove(i % 2 ? a : b, id, msg.ts, `UCLICK${i}`)));
    await waitFor(async () => (await a.approvals.service.store.read(id))?.record.state === 'done', 'the rollout');
    await Promise.all([a.slack.idle(5000), b.slack.idle(5000), a.approvals.service.idle(), b.approvals.service.idle()]);
    expect(restarts.count()).toBe(1);
    restarts.stop();
    const threadPosts = fake.calls('chat.postMessage').filter((c) => c.args.thread_ts === msg.ts);
    expect(threadPosts).toHaveLength(1);
  });

  it('a malformed policy file stops start-up with a message naming the line', async () => {
    const bad = join(tmpdir(), `meshops-bad-policy-${process.pid}.yaml`);
    await writeFile(bad, 'roles:\n  sre:\n    remediations: [rollout-restart]\n    namespaces: ["Prod_*"]\n');
    const log = createLogger({ level: 'silent' });
    const attempt = setupApprovals({ policyFile: bad, clusters: [], stateKube: kubeFor(sb), namespace: BOT_NS, log });
    await expect(attempt).rejects.toThrow(PolicyError);
    await expect(attempt).rejects.toThrow(`${bad}:4: roles.sre.namespaces[0]: expected a glob such as "team-*"`);
  });
});
