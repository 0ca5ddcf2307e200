// Two meshops replicas against one sandbox API server and one Slack fake, over Socket Mode, each acting
// as the bot's ServiceAccount under deploy/base's RBAC. Slack spreads envelopes over both connections
// and redelivers some on the other one; every command is answered once, every approval runs once, and
// when the replica following a rollout dies (its API connection cut, its app stopped, no more renewals),
// the other one takes the Lease over and posts the outcome, once.
import { readFileSync, readdirSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import auditCommand from '../../src/features/core/audit.ts';
import helpCommand from '../../src/features/core/help.ts';
import restartCommand from '../../src/features/restart/restart.ts';
import { APPROVE_ACTION } from '../../src/approvals/messages.ts';
import { type ApprovalsSetup, setupApprovals } from '../../src/approvals/setup.ts';
import { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { createLogger } from '../../src/log.ts';
import { Metrics } from '../../src/ops/metrics.ts';
import { startOperations } from '../../src/ops/operations.ts';
import { Router } from '../../src/router.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { type SlackApp, createSlackApp } from '../../src/slack/app.ts';
import { KubeDedupStore } from '../../src/slack/kube-dedup.ts';
import { deployment, restartCounter, waitFor } from '../approvals/support.ts';
import { projectRoot } from '../support/shared.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { ALICE, GENERAL, blockActions, mentionEvent, slashCommand } from '../support/slack-payloads.ts';
import { APP_TOKEN, BOT_TOKEN } from '../slack/harness.ts';
import { rolloutRestart } from '../../src/features/restart/rollout-restart.ts';

const SA = 'system:serviceaccount:meshops:meshops';
const BOB = 'UBOB0001';
const CAROL = 'UCAROL01';

/** A TCP relay to the sandbox that can be cut: the replica behind it loses the API server for good. */
interface Relay {
  port: number;
  cut(): void;
}

async function relay(targetPort: number): Promise<Relay> {
  const open = new Set<Socket>();
  let cut = false;
  const server: Server = createServer((client) => {
    if (cut) return void client.destroy();
    const upstream = connect(targetPort, '127.0.0.1');
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('error', end);
      s.on('close', end);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    cut() {
      cut = true;
      server.close();
      for (const s of open) s.destroy();
    },
  };
}

interface Replica {
  name: string;
  kube: KubeClient;
  front: SlackApp;
  approvals: ApprovalsSetup;
  relay: Relay;
  answered: () => number;
}

let sb: Sandbox;
let fake: SlackFake;
const replicas: Replica[] = [];

async function startReplica(name: string): Promise<Replica> {
  const lines: string[] = [];
  const log = createLogger({
    level: 'info',
    destination: new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }),
  }).child({ replica: name });
  const r = await relay(sb.port);
  const kc = new KubeConfig();
  kc.loadFromString(sb.kubeconfig({ user: SA }).replace(`127.0.0.1:${sb.port}`, `127.0.0.1:${r.port}`));
  const kube = new KubeClient(kc, { timeoutMs: 3000 });
  const clusters = [{ name: 'home', kube }];
  const approvals = await setupApprovals({
    policyFile: undefined,
    clusters,
    stateKube: kube,
    namespace: 'meshops',
    log,
    kinds: [rolloutRestart],
    tuning: { pollMs: 100, leaseSeconds: 2, replicaId: name },
  });
  const router = new Router({
    commands: [helpCommand, restartCommand, auditCommand],
    clusters,
    log,
    services: { approvals: approvals.service },
    authorize: approvals.policy.authorize,
  });
  const front = createSlackApp({
    slack: { mode: 'socket', botToken: BOT_TOKEN, appToken: APP_TOKEN, apiUrl: fake.apiUrl },
    router,
    log,
    clickHandlers: approvals.service.clickHandlers,
    dedup: new KubeDedupStore(kube, 'meshops'),
    socketPingTimeoutMs: 1500,
    retryConfig: { retries: 0 },
  });
  approvals.service.attachMessenger(front.messenger);
  await front.start();
  approvals.service.start(200);
  const replica = {
    name,
    kube,
    front,
    approvals,
    relay: r,
    answered: () => lines.filter((l) => l.includes('"msg":"answered"')).length,
  };
  replicas.push(replica);
  return replica;
}

/** deploy/base's RBAC, loaded straight into the sandbox: the replicas run with exactly those rights. */
function baseRbac(): KubeObject[] {
  const dir = join(projectRoot, 'deploy', 'base');
  return readdirSync(dir)
    .filter((f) => f.startsWith('rbac-'))
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as KubeObject));
}

function approveValue(blocks: unknown[] | undefined): string | undefined {
  for (const b of (blocks ?? []) as Array<{ elements?: Array<{ action_id: string; value?: string }> }>) {
    const el = b.elements?.find((e) => e.action_id === APPROVE_ACTION);
    if (el) return el.value;
  }
  return undefined;
}

const threadPosts = (ts: string) => fake.calls('chat.postMessage').filter((c) => c.args.thread_ts === ts);

async function propose(target: string, connection: number): Promise<{ id: string; ts: string }> {
  const before = new Set(fake.messages(GENERAL).map((m) => m.ts));
  fake.socket.send(
    'slash_commands',
    slashCommand(`restart deployment/${target} -n bookinfo`, { responseUrl: fake.responseUrl(), user: ALICE }),
    { connection },
  );
  const msg = await fake.waitFor(
    () => fake.messages(GENERAL).find((m) => !before.has(m.ts) && approveValue(m.blocks)),
    15_000,
  );
  return { id: approveValue(msg.blocks) as string, ts: msg.ts };
}

function approveClick(id: string, ts: string, user: string): Record<string, unknown> {
  return blockActions({ actionId: APPROVE_ACTION, value: id, responseUrl: fake.responseUrl(), messageTs: ts, user });
}

beforeAll(async () => {
  const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  sb = await startSandbox({
    seed: [
      ns('meshops'),
      ns('bookinfo'),
      ...baseRbac(),
      deployment('reviews', 'bookinfo', 2),
      deployment('details', 'bookinfo', 6),
    ],
    rolloutStepMs: 500,
  });
  sb.settle();
  fake = await startSlackFake({
    users: { [BOB]: { name: 'bob' }, [CAROL]: { name: 'carol' }, [ALICE]: { name: 'alice' } },
  });
  // Connection 0 is replica-a's, connection 1 replica-b's.
  await startReplica('replica-a');
  await fake.socket.waitForConnections(1);
  await startReplica('replica-b');
  await fake.socket.waitForConnections(2);
}, 60_000);

afterAll(async () => {
  for (const r of replicas) {
    await r.front.stop(1000);
    await r.approvals.service.stop();
    r.relay.cut();
  }
  await fake?.close();
  await sb?.close();
});

describe('two replicas, one Slack app', () => {
  it('answers every command and mention once, though Slack spreads them over both connections and redelivers each on the other', async () => {
    const commands = Array.from({ length: 8 }, (_, i) => ({
      user: `UCMD${i}`,
      payload: slashCommand('help', { responseUrl: fake.responseUrl(), user: `UCMD${i}` }),
    }));
    const mentions = Array.from({ length: 4 }, () => mentionEvent('help'));
    commands.forEach((c, i) => fake.socket.send('slash_commands', c.payload, { connection: i % 2 }));
    mentions.forEach((m, i) => fake.socket.send('events_api', m, { connection: i % 2 }));
    // The redeliveries: same trigger_id / event_id, new envelope, on the other replica's connection.
    commands.forEach((c, i) => fake.socket.send('slash_commands', c.payload, { connection: (i + 1) % 2 }));
    mentions.forEach((m, i) =>
      fake.socket.send('events_api', m, { connection: (i + 1) % 2, retryAttempt: 1, retryReason: 'timeout' }),
    );

    const answersTo = (user: string) =>
      fake.calls('chat.postMessage').filter((c) => JSON.stringify(c.args.blocks ?? []).includes(`<@${user}> ran`))
        .length;
    const mentionTs = mentions.map((m) => (m.event as { ts: string }).ts);
    await fake.waitFor(
      () => commands.every((c) => answersTo(c.user) >= 1) && mentionTs.every((ts) => threadPosts(ts).length >= 1),
      20_000,
    );
    await Promise.all(replicas.map((r) => r.front.idle(5000)));
    await new Promise((r) => setTimeout(r, 300));
    for (const c of commands)
      expect({ user: c.user, answers: answersTo(c.user) }).toEqual({ user: c.user, answers: 1 });
    for (const ts of mentionTs) expect({ ts, answers: threadPosts(ts).length }).toEqual({ ts, answers: 1 });
    // Both replicas did some of the answering.
    const [a, b] = replicas as [Replica, Replica];
    expect(a.answered()).toBeGreaterThan(0);
    expect(b.answered()).toBeGreaterThan(0);
    expect(a.answered() + b.answered()).toBe(commands.length + mentions.length);
  }, 40_000);

  it('runs an approval once: a click redelivered to both replicas and a second approver on the other one', async () => {
    const restarts = restartCounter(sb, 'bookinfo', 'reviews');
    const { id, ts } = await propose('reviews', 0);
    const bobs = approveClick(id, ts, BOB);
    fake.socket.send('interactive', bobs, { connection: 0 });
    fake.socket.send('interactive', bobs, { connection: 1 });
    fake.socket.send('interactive', approveClick(id, ts, CAROL), { connection: 1 });
    const [a, b] = replicas as [Replica, Replica];
    await waitFor(
      async () => (await a.approvals.service.store.read(id))?.record.state === 'done',
      'the rollout of reviews',
      20_000,
    );
    await Promise.all([a.front.idle(5000), b.front.idle(5000), a.approvals.service.idle(), b.approvals.service.idle()]);
    expect(restarts.count()).toBe(1);
    restarts.stop();
    const executed = sb.store
      .list('Event', 'bookinfo')
      .filter((e) => e.reason === 'MeshopsExecuted' && (e.involvedObject as { name?: string }).name === 'reviews');
    expect(executed).toHaveLength(1);
    const outcomes = threadPosts(ts).filter((c) => String(c.args.text).includes('Restart'));
    expect(outcomes).toHaveLength(1);
    // CAROL was second: told it already runs, in her own ephemeral.
    expect(
      fake
        .calls('chat.postEphemeral')
        .some((c) => c.args.user === CAROL && JSON.stringify(c.args.blocks).includes('Already approved')),
    ).toBe(true);
  }, 40_000);

  it('the leader dies during a rollout follow-up: the other replica takes the Lease over and posts the outcome once', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const restarts = restartCounter(sb, 'bookinfo', 'details');
    const { id, ts } = await propose('details', 0);
    fake.socket.send('interactive', approveClick(id, ts, BOB), { connection: 0 });
    const leaseName = `meshops-req-${id}`;
    const holder = () =>
      (sb.store.get('Lease', 'meshops', leaseName)?.spec as { holderIdentity?: string } | undefined)?.holderIdentity;
    // Every holder the Lease has had, in order, as the API server saw the writes.
    const holders: Array<string | null> = [];
    const unsubscribe = sb.store.subscribe((e) => {
      if (e.object.kind !== 'Lease' || e.object.metadata.name !== leaseName) return;
      const h = (e.object.spec as { holderIdentity?: string | null }).holderIdentity ?? null;
      if (holders.at(-1) !== h) holders.push(h);
    });
    await waitFor(
      async () => {
        const rec = (await a.approvals.service.store.read(id))?.record;
        return rec?.state === 'executing' && rec.execution?.appliedAt && holder() === 'replica-a';
      },
      'replica-a to execute and follow',
      15_000,
    );
    const rolloutDone = () => {
      const d = sb.store.get('Deployment', 'bookinfo', 'details') as
        | { metadata: { generation?: number }; status?: { observedGeneration?: number; updatedReplicas?: number } }
        | undefined;
      return d?.status?.observedGeneration === d?.metadata.generation && d?.status?.updatedReplicas === 6;
    };
    expect(rolloutDone()).toBe(false);

    // The kill: replica-a loses the API server (no renewals, no release) and its Slack connection.
    a.relay.cut();
    await a.front.stop(0);
    const killedAt = Date.now();

    await waitFor(
      async () => (await b.approvals.service.store.read(id))?.record.state === 'done',
      'replica-b to finish the follow-up',
      30_000,
    );
    const rec = (await b.approvals.service.store.read(id))?.record;
    expect(rec?.outcome?.ok).toBe(true);
    // replica-b took the Lease over once it lapsed, and released it when done; the restart was not repeated.
    await waitFor(() => holders.at(-1) === null, 'replica-b to release the Lease', 5000);
    unsubscribe();
    expect(holders).toEqual(['replica-a', 'replica-b', null]);
    expect((sb.store.get('Lease', 'meshops', leaseName)?.spec as { leaseTransitions?: number }).leaseTransitions).toBe(
      1,
    );
    expect(restarts.count()).toBe(1);
    restarts.stop();
    await b.approvals.service.idle();
    await new Promise((r) => setTimeout(r, 500));
    const outcomes = threadPosts(ts).filter((c) => String(c.args.text).includes('Restart'));
    expect(outcomes).toHaveLength(1);
    expect((outcomes[0]?.at ?? 0) >= killedAt).toBe(true);
  }, 60_000);

  it('a graceful shutdown hands the follow-up over at once: the Lease is released, not left to lapse', async () => {
    const b = replicas[1] as Replica;
    const c = await startReplica('replica-c');
    await fake.socket.waitForConnections(3);
    const restarts = restartCounter(sb, 'bookinfo', 'reviews');
    // After replica-a's death the open connections are replica-b's (0) and replica-c's (1).
    const { id, ts } = await propose('reviews', 0);
    fake.socket.send('interactive', approveClick(id, ts, BOB), { connection: 0 });
    const leaseName = `meshops-req-${id}`;
    const holders: Array<string | null> = [];
    const unsubscribe = sb.store.subscribe((e) => {
      if (e.object.kind !== 'Lease' || e.object.metadata.name !== leaseName) return;
      const h = (e.object.spec as { holderIdentity?: string | null }).holderIdentity ?? null;
      if (holders.at(-1) !== h) holders.push(h);
    });
    await waitFor(
      async () =>
        holders.at(-1) === 'replica-b' && (await b.approvals.service.store.read(id))?.record.execution?.appliedAt,
      'replica-b to execute and follow',
      15_000,
    );

    // SIGTERM on replica-b: the same sequence main.ts runs.
    const ops = await startOperations({
      port: 0,
      host: '127.0.0.1',
      metrics: new Metrics({ defaultMetrics: false }),
      front: b.front,
      clusters: [{ name: 'home', kube: b.kube }],
      log: createLogger({ level: 'silent' }),
      background: [{ name: 'approvals', stop: () => b.approvals.service.stop() }],
    });
    const report = await ops.shutdown('SIGTERM');
    expect(report.problems).toEqual([]);
    await waitFor(() => holders.includes('replica-c'), 'replica-c to take over', 10_000);
    await waitFor(
      async () => (await c.approvals.service.store.read(id))?.record.state === 'done',
      'replica-c to finish',
      20_000,
    );
    await waitFor(() => holders.at(-1) === null, 'replica-c to release the Lease', 5000);
    unsubscribe();
    // The null between the two holders is replica-b's release: replica-c did not have to wait for a lapse.
    expect(holders).toEqual(['replica-b', null, 'replica-c', null]);
    expect(restarts.count()).toBe(1);
    restarts.stop();
    await c.approvals.service.idle();
    const outcomes = threadPosts(ts).filter((p) => String(p.args.text).includes('Restart'));
    expect(outcomes).toHaveLength(1);
  }, 60_000);
});
