// A replica paused with SIGSTOP for longer than its Lease, then resumed: another replica takes the work
// over, and the paused one, when it wakes, neither runs the change again nor overwrites what the other
// recorded and said. Once while it follows a rollout up, once while its restart PATCH is in flight.
import { type ChildProcess, spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { webApi } from '@slack/bolt';
import { AccessPolicy, parsePolicy } from '../../src/approvals/policy.ts';
import type { ApprovalRequest } from '../../src/approvals/request.ts';
import { ApprovalsService } from '../../src/approvals/service.ts';
import { createLogger } from '../../src/log.ts';
import type { Sandbox } from '../../src/sandbox/server.ts';
import { SlackMessenger } from '../../src/slack/slack-messenger.ts';
import { BOT_NS, deployment, kubeFor, restartCounter, sandboxWithDemo, waitFor } from '../approvals/support.ts';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.ts';
import { projectRoot } from '../support/shared.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { rolloutRestart } from '../../src/features/restart/rollout-restart.ts';
import { RemediationRegistry } from '../../src/approvals/remediation-kinds.ts';

const ALICE = 'UALICE01';
const BOB = 'UBOB0001';
const GENERAL = 'C0GENERAL';
const POLICY = `
roles:
  sre: { commands: ["*"], remediations: ["rollout-restart"], namespaces: ["bookinfo"] }
bindings:
  - role: sre
    users: [${ALICE}, ${BOB}]
`;
const LEASE_SECONDS = 2;

let sb: Sandbox;
let fake: SlackFake;
let proxy: FaultProxy;
let survivor: ApprovalsService;
let child: ChildProcess | undefined;
let childOut = '';
const logs: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  // Slow rollouts, so a follow-up is still running when its replica is paused.
  sb = await sandboxWithDemo(400);
  fake = await startSlackFake();
  const kc = new KubeConfig();
  kc.loadFromString(sb.kubeconfig());
  proxy = await startFaultProxy({ upstream: { url: kc.getCurrentCluster()!.server, ca: sb.caCert } });
  const log = createLogger({
    level: 'info',
    destination: new Writable({
      write: (c, _e, cb) => (
        String(c)
          .split('\n')
          .filter(Boolean)
          .forEach((l) => logs.push(JSON.parse(l))),
        cb()
      ),
    }),
  });
  const client = new webApi.WebClient('xoxb-survivor', { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
  survivor = new ApprovalsService({
    policy: new AccessPolicy(parsePolicy(POLICY)),
    clusters: [{ name: 'sandbox', kube: kubeFor(sb) }],
    stateKube: kubeFor(sb),
    namespace: BOT_NS,
    log,
    messenger: new SlackMessenger(client, log),
    replicaId: 'survivor',
    registry: new RemediationRegistry([rolloutRestart]),
    leaseSeconds: LEASE_SECONDS,
    pollMs: 100,
    settleMs: 200,
    verifyBackoffMs: 100,
  });
}, 30_000);

afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
});

afterAll(async () => {
  await survivor?.stop();
  await proxy?.close();
  await fake?.close();
  await sb?.close();
});

async function startChild(name: string): Promise<ChildProcess> {
  const kc = new KubeConfig();
  kc.loadFromString(sb.kubeconfig());
  childOut = '';
  const c = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', 'test/faults/replica-child.ts'], {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH,
      CHILD_KUBECONFIG: proxy.kubeconfig(kc.exportConfig()) as string,
      CHILD_SLACK_API: fake.apiUrl,
      CHILD_REPLICA: name,
      CHILD_POLICY: POLICY,
      CHILD_NAMESPACE: BOT_NS,
      CHILD_LEASE_SECONDS: String(LEASE_SECONDS),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  c.stdout?.on('data', (d) => (childOut += String(d)));
  c.stderr?.on('data', (d) => (childOut += String(d)));
  await waitFor(() => childOut.includes('"ready":true'), `the child replica to start:\n${childOut}`, 20_000);
  return c;
}

let seq = 0;
async function proposed(): Promise<{
  name: string;
  id: string;
  message: { channel: string; ts: string; threadTs: string };
}> {
  const name = `paused-${++seq}`;
  await kubeFor(sb).create(deployment(name, 'bookinfo', 3));
  await waitFor(
    async () =>
      ((await kubeFor(sb).get('Deployment', 'bookinfo', name))?.status as { readyReplicas?: number } | undefined)
        ?.readyReplicas === 3,
    `${name} ready`,
    20_000,
  );
  const messenger = new SlackMessenger(
    new webApi.WebClient('xoxb-poster', { slackApiUrl: fake.apiUrl }),
    createLogger({ level: 'silent' }),
  );
  const r = await survivor.propose({
    kind: 'rollout-restart',
    target: { kind: 'Deployment', namespace: 'bookinfo', name },
    requester: { userId: ALICE, source: 'slack', channelId: GENERAL },
    cluster: 'sandbox',
  });
  if (!r.ok) throw new Error(r.reason);
  const ref = await messenger.post(GENERAL, r.rendered);
  const stored = await survivor.store.read(r.record.id);
  await survivor.store.write(stored!, { ...stored!.record, message: ref });
  return { name, id: r.record.id, message: { channel: ref.channel, ts: ref.ts, threadTs: ref.threadTs ?? ref.ts } };
}

async function record(id: string): Promise<ApprovalRequest> {
  return (await survivor.store.read(id))!.record;
}

function approveInChild(c: ChildProcess, p: { id: string; message: { channel: string; ts: string } }): void {
  c.stdin?.write(`${JSON.stringify({ op: 'approve', id: p.id, user: BOB, message: p.message })}\n`);
}

function reasons(id: string): string[] {
  return sb.store
    .list('Event', 'bookinfo')
    .filter((e) => e.metadata.annotations?.['meshops.dev/request'] === id)
    .map((e) => String(e.reason ?? ''));
}

/** The survivor finishes; the paused one wakes; then nothing more happens for a while. */
async function takeOverAndWake(c: ChildProcess, id: string): Promise<ApprovalRequest> {
  await new Promise((r) => setTimeout(r, (LEASE_SECONDS + 1) * 1000));
  await survivor.resume();
  const done = await waitFor(
    async () => {
      const rec = await record(id);
      return rec.state === 'done' || rec.state === 'failed' || rec.state === 'unknown' ? rec : undefined;
    },
    'the survivor to finish',
    30_000,
  );
  await survivor.idle();
  c.kill('SIGCONT');
  // Long enough for the woken replica to renew, poll, time out its own request and try to record it.
  await new Promise((r) => setTimeout(r, 2500));
  return done;
}

async function expectOnce(p: { id: string; message: { ts: string } }, before: ApprovalRequest, restarts: number) {
  expect(restarts).toBe(1);
  expect(before.state).toBe('done');
  // The message follows the record through the update queue: under load it may trail the state by a moment.
  const after = await waitFor(
    () => {
      const m = fake.messages(GENERAL).find((x) => x.ts === p.message.ts);
      return JSON.stringify(m?.blocks).includes('Done: Restart deployment') ? m : undefined;
    },
    'the message to say Done',
    10_000,
  ).catch(() => fake.messages(GENERAL).find((m) => m.ts === p.message.ts));
  expect(JSON.stringify(after?.blocks)).toContain('Done: Restart deployment');
  const posts = fake.messages(GENERAL).filter((m) => m.threadTs === p.message.ts && m.ts !== p.message.ts);
  expect(posts).toHaveLength(1);
  const r = reasons(p.id);
  expect(r.filter((x) => x === 'MeshopsExecuted')).toHaveLength(1);
  expect(r.filter((x) => x === 'MeshopsSucceeded')).toHaveLength(1);
  expect(r).not.toContain('MeshopsFailed');
}

describe('a replica paused past its Lease', () => {
  it('while following a rollout: the survivor takes over and finishes; the woken one stops without a word', async () => {
    const p = await proposed();
    const restarts = restartCounter(sb, 'bookinfo', p.name);
    child = await startChild('sleepy-1');
    approveInChild(child, p);
    await waitFor(async () => (await record(p.id)).execution?.appliedAt, 'the child to apply the restart', 20_000);
    child.kill('SIGSTOP');
    const done = await takeOverAndWake(child, p.id);
    const after = await record(p.id);
    expect(after.rev).toBe(done.rev);
    await expectOnce(p, done, restarts.count());
    restarts.stop();
  }, 60_000);

  it('while its restart PATCH is in flight: the survivor confirms it landed and follows it; the woken one records nothing', async () => {
    const p = await proposed();
    const restarts = restartCounter(sb, 'bookinfo', p.name);
    // The server applies the PATCH; its answer is held back until well after the pause.
    const rule = proxy.rule({
      method: 'PATCH',
      path: `/apis/apps/v1/namespaces/bookinfo/deployments/${p.name}`,
      where: (r) => !r.query.has('dryRun'),
      action: { type: 'stallResponse', ms: 6000 },
    });
    child = await startChild('sleepy-2');
    approveInChild(child, p);
    await rule.fired;
    child.kill('SIGSTOP');
    const done = await takeOverAndWake(child, p.id);
    // The woken replica got its late answer and finished its click path, having tried to record "applied".
    await waitFor(() => childOut.includes('"clicked"'), `the woken replica to finish its click:\n${childOut}`, 15_000);
    await new Promise((r) => setTimeout(r, 500));
    const after = await record(p.id);
    expect(after.rev).toBe(done.rev);
    expect(after.execution?.summary).toMatch(/confirmed the change/);
    await expectOnce(p, done, restarts.count());
    restarts.stop();
  }, 60_000);
});
