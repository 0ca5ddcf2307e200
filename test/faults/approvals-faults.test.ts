// Approvals under faults, through the real Bolt app: the bot reaches the sandbox API server through
// the fault proxy, which cuts or withholds single answers (the restart's PATCH, the request-state
// writes around it, the follow-up reads), and Slack's fake answers 5xx/429 for a while. Each case ends
// with exactly one change in the cluster (counted from the server's side), a message that says what
// really happened, one outcome post in the thread, and never a second Approve button for work that ran.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import restartCommand from '../../src/features/restart/restart.ts';
import { APPROVE_ACTION } from '../../src/approvals/messages.ts';
import type { ApprovalRequest } from '../../src/approvals/request.ts';
import { objectName } from '../../src/approvals/request-store.ts';
import { type ApprovalsSetup, setupApprovals } from '../../src/approvals/setup.ts';
import { isTerminal } from '../../src/approvals/transitions.ts';
import {
  MTLS_ROLLBACK,
  REQUEST_ANNOTATION,
  mtlsRemediationKinds,
  strictTarget,
} from '../../src/features/mtls/strict-migration.ts';
import type { SlackSettings } from '../../src/config.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { createLogger } from '../../src/log.ts';
import { Router } from '../../src/router.ts';
import type { Sandbox } from '../../src/sandbox/server.ts';
import { type SlackApp, createSlackApp } from '../../src/slack/app.ts';
import { BOT_NS, deployment, kubeFor, restartCounter, sandboxWithDemo, waitFor } from '../approvals/support.ts';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { type SignKnobs, sendInteraction, sendSlashCommand } from '../support/slack-http.ts';
import { ALICE, GENERAL, blockActions, slashCommand } from '../support/slack-payloads.ts';
import { rolloutRestart } from '../../src/features/restart/rollout-restart.ts';

const SECRET = 'f00dfeedcafe0123456789abcdef0123';
const knobs: SignKnobs = { secret: SECRET };
const BOB = 'UBOB0001';
const POLICY = `
roles:
  viewer: { commands: ["*"] }
  sre: { commands: ["*"], remediations: ["rollout-restart", "mtls-rollback"], namespaces: ["bookinfo"] }
bindings:
  - role: viewer
    users: ["*"]
  - role: sre
    users: [${ALICE}, ${BOB}]
`;

let sb: Sandbox;
let proxy: FaultProxy;
let fake: SlackFake;
let slack: SlackApp;
let approvals: ApprovalsSetup;
let direct: KubeClient;
let url: string;
const logs: Array<Record<string, unknown>> = [];
const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => unhandled.push(err);
// Jest hands tests a copy of `process` whose events never fire; the real one is reached this way.
const realProcess = (process as unknown as { getBuiltinModule(id: string): NodeJS.Process }).getBuiltinModule(
  'node:process',
);

beforeAll(async () => {
  realProcess.prependListener('unhandledRejection', onUnhandled);
  sb = await sandboxWithDemo();
  direct = kubeFor(sb);
  const kc = new KubeConfig();
  kc.loadFromString(sb.kubeconfig());
  proxy = await startFaultProxy({ upstream: { url: kc.getCurrentCluster()!.server, ca: sb.caCert } });
  // Every call the bot makes goes through the proxy, with a short timeout so a withheld answer ends soon.
  const kube = new KubeClient(proxy.kubeconfig(kc), { timeoutMs: 1500 });
  fake = await startSlackFake({ users: { [BOB]: { name: 'bob' }, [ALICE]: { name: 'alice' } } });
  const dir = await mkdtemp(join(tmpdir(), 'meshops-policy-'));
  const policyFile = join(dir, 'policy.yaml');
  await writeFile(policyFile, POLICY);
  const log = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk, _e, cb) {
        for (const l of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(l));
        cb();
      },
    }),
  });
  const clusters = [{ name: 'sandbox', kube }];
  approvals = await setupApprovals({
    policyFile,
    clusters,
    stateKube: kube,
    namespace: BOT_NS,
    log,
    kinds: [rolloutRestart],
    tuning: {
      pollMs: 50,
      replicaId: 'faulty-1',
      leaseSeconds: 3,
      settleMs: 300,
      verifyBackoffMs: 100,
      storeBackoffMs: 100,
    },
  });
  for (const kind of mtlsRemediationKinds()) approvals.service.registry.register(kind);
  const router = new Router({
    commands: [restartCommand],
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
    retryConfig: { retries: 6, factor: 1.5, minTimeout: 100, maxTimeout: 800 },
  });
  approvals.service.attachMessenger(slack.messenger);
  await slack.start();
  url = `http://127.0.0.1:${slack.port}/slack/events`;
}, 30_000);

afterAll(async () => {
  realProcess.off('unhandledRejection', onUnhandled);
  await slack?.stop();
  await approvals?.service.stop();
  await proxy?.close();
  await fake?.close();
  await sb?.close();
});

function approveValue(blocks: unknown[] | undefined): string | undefined {
  for (const b of (blocks ?? []) as Array<{ elements?: Array<{ action_id: string; value?: string }> }>) {
    const el = b.elements?.find((e) => e.action_id === APPROVE_ACTION);
    if (el) return el.value;
  }
  return undefined;
}

let seq = 0;
/** A fresh Deployment and a proposal to restart it, previewed through the (still quiet) proxy. */
async function proposal(): Promise<{ name: string; id: string; ts: string }> {
  const name = `svc-${++seq}`;
  await direct.create(deployment(name, 'bookinfo', 2));
  await waitFor(
    async () =>
      ((await direct.get('Deployment', 'bookinfo', name))?.status as { readyReplicas?: number } | undefined)
        ?.readyReplicas === 2,
    `${name} to be ready`,
  );
  const before = fake.messages(GENERAL).length;
  await sendSlashCommand(
    url,
    slashCommand(`restart deployment/${name} -n bookinfo`, { responseUrl: fake.responseUrl(), user: ALICE }),
    knobs,
  );
  const msg = await fake.waitFor(
    () =>
      fake
        .messages(GENERAL)
        .slice(before)
        .find((m) => approveValue(m.blocks)),
    10_000,
  );
  return { name, id: approveValue(msg.blocks) as string, ts: msg.ts };
}

/** Bob clicks Approve on the proposal's message. */
function clickApprove(p: { id: string; ts: string }) {
  return sendInteraction(
    url,
    blockActions({
      actionId: APPROVE_ACTION,
      value: p.id,
      responseUrl: fake.responseUrl(),
      messageTs: p.ts,
      user: BOB,
    }),
    knobs,
  );
}

async function approveAndSettle(p: { id: string; ts: string }): Promise<ApprovalRequest> {
  await clickApprove(p);
  const rec = await waitFor(
    async () => {
      const obj = await direct.get('ConfigMap', BOT_NS, objectName(p.id));
      const r = obj
        ? (JSON.parse((obj.data as Record<string, string>)['request.json']!) as ApprovalRequest)
        : undefined;
      return r && isTerminal(r.state) ? r : undefined;
    },
    'the request to reach a final state',
    30_000,
  );
  await approvals.service.idle();
  await slack.idle();
  return rec;
}

function finalMessage(ts: string) {
  return fake.messages(GENERAL).find((m) => m.ts === ts);
}

/** Outcome posts that reached the thread (calls Slack refused with 429/5xx posted nothing). */
function outcomePosts(ts: string) {
  return fake
    .messages(GENERAL)
    .filter((m) => m.threadTs === ts && m.ts !== ts && String(m.text ?? '').includes('Restart deployment'));
}

function auditsOf(id: string): string[] {
  return logs
    .filter((l) => (l.audit as { id?: string } | undefined)?.id === id)
    .map((l) => (l.audit as { action: string }).action);
}

const patchPath = (name: string) => `/apis/apps/v1/namespaces/bookinfo/deployments/${name}`;
const requestPath = (id: string) => `/api/v1/namespaces/${BOT_NS}/configmaps/${objectName(id)}`;

/** The case is done right: one restart, Done in place without buttons, one outcome post, executed + succeeded audited once. */
async function expectDoneOnce(
  p: { name: string; id: string; ts: string },
  rec: ApprovalRequest,
  restarts: { count(): number; stop(): void },
) {
  restarts.stop();
  expect(rec.state).toBe('done');
  expect(restarts.count()).toBe(1);
  const final = finalMessage(p.ts);
  expect(JSON.stringify(final?.blocks)).toContain(`Done: Restart deployment bookinfo/${p.name}`);
  expect(JSON.stringify(final?.blocks)).not.toContain('Nothing ran');
  expect(approveValue(final?.blocks)).toBeUndefined();
  // No other message in the channel offers a fresh Approve for this target.
  expect(
    fake
      .messages(GENERAL)
      .filter(
        (m) => m.ts !== p.ts && JSON.stringify(m.blocks).includes(`bookinfo/${p.name}`) && approveValue(m.blocks),
      ),
  ).toEqual([]);
  expect(outcomePosts(p.ts)).toHaveLength(1);
  const audits = auditsOf(p.id);
  expect(audits.filter((a) => a === 'executed')).toHaveLength(1);
  expect(audits.filter((a) => a === 'succeeded')).toHaveLength(1);
  expect(audits).not.toContain('superseded');
  const events = sb.store
    .list('Event', 'bookinfo')
    .filter((e) => e.metadata.annotations?.['meshops.dev/request'] === p.id)
    .map((e) => e.reason);
  expect(events).toEqual(expect.arrayContaining(['MeshopsExecuted', 'MeshopsSucceeded']));
}

describe('the restart PATCH', () => {
  it('a lost reply (reset after the server applied it): confirmed from the live object, followed up, done once', async () => {
    const p = await proposal();
    const restarts = restartCounter(sb, 'bookinfo', p.name);
    const rule = proxy.rule({
      method: 'PATCH',
      path: patchPath(p.name),
      where: (r) => !r.query.has('dryRun'),
      action: { type: 'cutResponse' },
    });
    const rec = await approveAndSettle(p);
    expect(rule.hits).toBe(1);
    await expectDoneOnce(p, rec, restarts);
    expect(rec.execution?.summary).toMatch(/answer was lost .*confirmed the change/);
    // One delivery id ties each request's lines together: the slash command's for the proposal, the click's after.
    const auditLine = (action: string) =>
      logs.find(
        (l) =>
          (l.audit as { id?: string; action?: string } | undefined)?.id === p.id &&
          (l.audit as { action: string }).action === action,
      );
    expect(auditLine('proposed')?.delivery).toMatch(/^command:/);
    expect(auditLine('approved')?.delivery).toMatch(/^click:/);
    expect(auditLine('executed')?.delivery).toBe(auditLine('approved')?.delivery);
    expect(logs.some((l) => l.delivery === auditLine('proposed')?.delivery && l.msg === 'answered')).toBe(true);
  });

  it('a withheld reply (until the client gives up): the same replica does not take over its own work; done once', async () => {
    const p = await proposal();
    const restarts = restartCounter(sb, 'bookinfo', p.name);
    const rule = proxy.rule({
      method: 'PATCH',
      path: patchPath(p.name),
      where: (r) => !r.query.has('dryRun'),
      action: { type: 'stallResponse' },
    });
    // Housekeeping runs all the while, as it does every 10 s in production.
    const sweeping = setInterval(() => void approvals.service.resume().catch(() => undefined), 100);
    const rec = await approveAndSettle(p).finally(() => clearInterval(sweeping));
    expect(rule.hits).toBe(1);
    await expectDoneOnce(p, rec, restarts);
    // Once done, it stays done: the history never goes back.
    const states = rec.history.map((h) => h.state);
    expect(states.slice(states.indexOf('done'))).toEqual(['done']);
  });

  it('a request that never reached the server: failed, "nothing ran" said after checking, and no fresh Approve button', async () => {
    const p = await proposal();
    const restarts = restartCounter(sb, 'bookinfo', p.name);
    proxy.rule({
      method: 'PATCH',
      path: patchPath(p.name),
      where: (r) => !r.query.has('dryRun'),
      action: { type: 'dropRequest' },
    });
    const rec = await approveAndSettle(p);
    restarts.stop();
    expect(restarts.count()).toBe(0);
    expect(rec.state).toBe('failed');
    expect(rec.outcome?.summary).toMatch(
      /^Nothing ran: the change was not applied \(.*\)\. meshops checked the live object: the pod template's `kubectl\.kubernetes\.io\/restartedAt` is not set/,
    );
    expect(approveValue(finalMessage(p.ts)?.blocks)).toBeUndefined();
    expect(outcomePosts(p.ts)).toHaveLength(1);
    expect(auditsOf(p.id)).toEqual(['proposed', 'approved', 'failed']);
  });

  it('a 500 from the server: failed, checked, nothing ran', async () => {
    const p = await proposal();
    const restarts = restartCounter(sb, 'bookinfo', p.name);
    proxy.rule({
      method: 'PATCH',
      path: patchPath(p.name),
      where: (r) => !r.query.has('dryRun'),
      action: { type: 'status', code: 500, message: 'etcdserver: request timed out' },
    });
    const rec = await approveAndSettle(p);
    restarts.stop();
    expect(restarts.count()).toBe(0);
    expect(rec.state).toBe('failed');
    expect(rec.outcome?.summary).toContain('the API server answered 500');
    expect(rec.outcome?.summary).toContain('meshops checked the live object');
  });
});

describe('a PeerAuthentication change', () => {
  const paPath = '/apis/security.istio.io/v1/namespaces/bookinfo/peerauthentications/default';
  async function strictPolicy(): Promise<void> {
    await direct.create({
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: 'bookinfo' },
      spec: { mtls: { mode: 'STRICT' } },
    });
  }
  async function rollback(): Promise<ApprovalRequest> {
    const r = await approvals.service.propose({
      kind: MTLS_ROLLBACK,
      target: strictTarget('bookinfo'),
      requester: { userId: ALICE, source: 'slack' },
      cluster: 'sandbox',
    });
    if (!r.ok) throw new Error(r.reason);
    await approvals.service.clickHandlers[APPROVE_ACTION]!({
      actionId: APPROVE_ACTION,
      value: r.record.id,
      userId: BOB,
    });
    await approvals.service.idle();
    return (await approvals.service.store.read(r.record.id))!.record;
  }

  it('a lost reply to the rollback: the mode and our marker on the live object say it landed', async () => {
    await strictPolicy();
    const rule = proxy.rule({
      method: 'PATCH',
      path: paPath,
      where: (r) => !r.query.has('dryRun'),
      action: { type: 'cutResponse' },
    });
    const rec = await rollback();
    rule.remove();
    expect(rule.hits).toBe(1);
    expect(rec.state).toBe('done');
    expect(rec.execution?.summary).toMatch(
      /confirmed the change: PeerAuthentication bookinfo\/default has mtls\.mode PERMISSIVE and this request's `meshops\.dev\/request` marker/,
    );
    const pa = await direct.get('PeerAuthentication', 'bookinfo', 'default');
    expect(pa?.metadata.annotations?.[REQUEST_ANNOTATION]).toBe(rec.id);
    await direct.delete('PeerAuthentication', 'bookinfo', 'default');
  });

  it('a rollback that never reached the server: failed, and the policy is still STRICT', async () => {
    await strictPolicy();
    const rule = proxy.rule({
      method: 'PATCH',
      path: paPath,
      where: (r) => !r.query.has('dryRun'),
      action: { type: 'dropRequest' },
    });
    const rec = await rollback();
    rule.remove();
    expect(rec.state).toBe('failed');
    expect(rec.outcome?.summary).toMatch(
      /^Nothing ran: .*PeerAuthentication bookinfo\/default has mtls\.mode STRICT and no meshops marker/,
    );
    const pa = await direct.get('PeerAuthentication', 'bookinfo', 'default');
    expect((pa?.spec as { mtls?: { mode?: string } }).mtls?.mode).toBe('STRICT');
    await direct.delete('PeerAuthentication', 'bookinfo', 'default');
  });
});

describe('the request-state writes around it', () => {
  const writeTo = (id: string, marker: string) => ({
    method: 'PUT',
    path: requestPath(id),
    body: (b: string) => b.includes(marker),
  });

  it('the answer to "executing" is lost: the write is recognised as ours, the restart runs once', async () => {
    const p = await proposal();
    const restarts = restartCounter(sb, 'bookinfo', p.name);
    const rule = proxy.rule({
      ...writeTo(p.id, '\\"state\\":\\"executing\\"'),
      times: 1,
      action: { type: 'cutResponse' },
    });
    const rec = await approveAndSettle(p);
    expect(rule.hits).toBe(1);
    await expectDoneOnce(p, rec, restarts);
  });

  it('the answer to "applied" is withheld: read back, followed up, done once', async () => {
    const p = await proposal();
    const restarts = restartCounter(sb, 'bookinfo', p.name);
    const rule = proxy.rule({ ...writeTo(p.id, 'appliedAt'), times: 1, action: { type: 'stallResponse' } });
    const rec = await approveAndSettle(p);
    expect(rule.hits).toBe(1);
    await expectDoneOnce(p, rec, restarts);
  });

  it('the write of "approved" never arrives (dropped): the click is answered, nothing runs, the request stays approvable', async () => {
    const p = await proposal();
    const restarts = restartCounter(sb, 'bookinfo', p.name);
    // Every attempt to write "approved" is dropped for a while: the store gives up and the click gets an apology.
    const rule = proxy.rule({ ...writeTo(p.id, '\\"state\\":\\"approved\\"'), action: { type: 'dropRequest' } });
    await clickApprove(p);
    await fake.waitFor(
      () =>
        fake
          .calls('chat.postEphemeral')
          .find(
            (c) =>
              c.args.user === BOB &&
              JSON.stringify(c.args.blocks).includes('Cannot reach the Kubernetes API') &&
              JSON.stringify(c.args.blocks).includes('shows where it stands'),
          ),
      20_000,
    );
    rule.remove();
    await approvals.service.idle();
    const rec = JSON.parse(
      ((await direct.get('ConfigMap', BOT_NS, objectName(p.id)))?.data as Record<string, string>)['request.json']!,
    ) as ApprovalRequest;
    expect(rec.state).toBe('pending');
    expect(restarts.count()).toBe(0);
    // And it still works afterwards: one click, one restart.
    const done = await approveAndSettle(p);
    await expectDoneOnce(p, done, restarts);
  });
});

describe('the follow-up reads', () => {
  it('cut and withheld reads of the Deployment during the rollout: looked at again, done once', async () => {
    const p = await proposal();
    const restarts = restartCounter(sb, 'bookinfo', p.name);
    const get = { method: 'GET', path: patchPath(p.name) };
    // Read 1 is the preview's, read 2 the fingerprint before acting: 3 is the first follow-up look, 4 the next.
    const cut = proxy.rule({ ...get, nth: 3, times: 1, action: { type: 'cutResponse' } });
    const stall = proxy.rule({ ...get, nth: 4, times: 1, action: { type: 'stallResponse' } });
    const rec = await approveAndSettle(p);
    expect(cut.hits).toBe(1);
    await expectDoneOnce(p, rec, restarts);
  });
});

describe('Slack failing for a while', () => {
  it('5xx and 429 windows on chat.update and chat.postMessage during approve, execute and follow-up: the message ends on the final state, one outcome post', async () => {
    const p = await proposal();
    const restarts = restartCounter(sb, 'bookinfo', p.name);
    const windows = [
      fake.fault({ method: 'chat.update', status: 503, forMs: 1200 }),
      fake.fault({ method: 'chat.postMessage', status: 429, retryAfterSeconds: 1, calls: 1 }),
    ];
    const rec = await approveAndSettle(p);
    await waitFor(() => outcomePosts(p.ts).length === 1, 'the outcome post', 15_000);
    await slack.idle();
    expect(windows[0]!.hits).toBeGreaterThan(0);
    await expectDoneOnce(p, rec, restarts);
    // The last update that reached the message is the final state, whatever was retried before it.
    const updates = fake
      .calls('chat.update')
      .filter((c) => c.args.ts === p.ts)
      .map((c) => String(c.args.text));
    expect(updates.at(-1)).toMatch(/^Done: /);
  });
});

describe('front door health under these faults', () => {
  it('no unhandled rejection and no error-level line other than the deliberate failures', () => {
    expect(unhandled).toEqual([]);
    const errors = logs.filter((l) => (l.level as number) >= 50).map((l) => String(l.msg));
    for (const m of errors) expect(m).toMatch(/remediation request failed/);
  });
});
