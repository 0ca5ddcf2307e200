// The App Home tab through Bolt and the Slack fake: app_home_opened → views.publish with the clusters, the
// bot's health and the recent actions from the approvals state in the sandbox API server.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import helpCommand from '../../src/features/core/help.ts';
import type { ApprovalRequest } from '../../src/approvals/request.ts';
import type { ApprovalsService } from '../../src/approvals/service.ts';
import { createLogger } from '../../src/log.ts';
import { Router } from '../../src/router.ts';
import type { Sandbox } from '../../src/sandbox/server.ts';
import { type SlackApp, createSlackApp } from '../../src/slack/app.ts';
import { type HomeStatus, registerAppHome, renderHome } from '../../src/slack/app-home.ts';
import { kubeFor, sandboxWithDemo, service } from '../approvals/support.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { ALICE } from '../support/slack-payloads.ts';
import { APP_TOKEN, BOT_TOKEN, unreachableKube } from '../slack/harness.ts';

let sb: Sandbox;
let fake: SlackFake;
let front: SlackApp;
let approvals: ApprovalsService;

function homeOpened(user: string, tab: 'home' | 'messages'): Record<string, unknown> {
  const ts = `${Math.floor(Date.now() / 1000)}.000100`;
  return {
    type: 'event_callback',
    team_id: 'T0000001',
    api_app_id: 'A0000001',
    event: { type: 'app_home_opened', user, channel: 'D0HOME001', tab, event_ts: ts },
    event_id: `EvHOME${Math.random().toString(36).slice(2, 10).toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
  };
}

const blocksOf = (call: { args: Record<string, unknown> } | undefined) =>
  JSON.stringify((call?.args.view as { blocks?: unknown[] } | undefined)?.blocks ?? []);

beforeAll(async () => {
  sb = await sandboxWithDemo();
  fake = await startSlackFake();
  approvals = service(sb, { replicaId: 'meshops-6c9f-abcde' });
  const proposed = await approvals.propose({
    kind: 'rollout-restart',
    target: { kind: 'Deployment', namespace: 'bookinfo', name: 'reviews' },
    requester: { userId: ALICE, userName: 'alice', channelId: 'C0OPS', source: 'slack' },
    cluster: 'sandbox',
    why: 'stale proxies',
  });
  expect(proposed.ok).toBe(true);
  const log = createLogger({ level: 'silent' });
  const clusters = [
    { name: 'sandbox', kube: kubeFor(sb) },
    { name: 'far-away', kube: unreachableKube() },
  ];
  front = createSlackApp({
    slack: { mode: 'socket', botToken: BOT_TOKEN, appToken: APP_TOKEN, apiUrl: fake.apiUrl },
    router: new Router({ commands: [helpCommand], clusters, log }),
    log,
    socketPingTimeoutMs: 1500,
    retryConfig: { retries: 0 },
  });
  registerAppHome(front.app, {
    clusters,
    defaultCluster: 'sandbox',
    slackConnected: () => front.connected,
    approvals,
    log,
    minIntervalMs: 60_000,
  });
  await front.start();
  await fake.socket.waitForConnections(1);
}, 30_000);

afterAll(async () => {
  await front?.stop(1000);
  await approvals?.stop();
  await fake?.close();
  await sb?.close();
});

describe('App Home tab', () => {
  it('publishes the clusters, the health and the recent actions for the person who opened it', async () => {
    const envelope = fake.socket.send('events_api', homeOpened(ALICE, 'home'));
    await fake.socket.waitForAck(envelope);
    const call = await fake.waitFor(() => fake.calls('views.publish')[0], 10_000);
    expect(call.args.user_id).toBe(ALICE);
    expect((call.args.view as { type: string }).type).toBe('home');
    const text = blocksOf(call);
    expect(text).toContain('*sandbox* (default): API server answering');
    expect(text).toContain('*far-away*: API server not answering');
    expect(text).toContain('Slack connected');
    expect(text).toContain('replica `meshops-6c9f-abcde`');
    expect(text).toContain('*Follow-ups in progress*\\nNone.');
    expect(text).toMatch(/:hourglass: \*[^*]*reviews[^*]*\* on \*sandbox\*: pending/);
    expect(text).toContain(`asked by <@${ALICE}>`);
  }, 20_000);

  it('ignores the Messages tab, and does not re-read everything on every open', async () => {
    fake.clear();
    fake.socket.send('events_api', homeOpened('UBOB0001', 'messages'));
    fake.socket.send('events_api', homeOpened(ALICE, 'home'));
    await new Promise((r) => setTimeout(r, 500));
    expect(fake.calls('views.publish')).toEqual([]);
  });
});

describe('renderHome', () => {
  const base: HomeStatus = {
    clusters: [{ name: 'prod', reachable: true, isDefault: true }],
    slackConnected: true,
    replica: 'meshops-a',
    readOnly: false,
    followUps: [],
    recent: [],
    now: new Date('2026-05-01T10:00:00Z'),
  };

  it('names who follows a rollout, or that it waits for a replica to take it over', () => {
    const text = JSON.stringify(
      renderHome({
        ...base,
        followUps: [
          { title: 'Restart deployment/reviews in bookinfo', cluster: 'prod', holder: 'meshops-b' },
          { title: 'Restart deployment/ratings in bookinfo', cluster: 'prod' },
        ],
      }).blocks,
    );
    expect(text).toContain('followed by `meshops-b`');
    expect(text).toContain('waiting for a replica to take it over');
  });

  it('says a read-only installation does not act, and flags a disconnected Slack', () => {
    const text = JSON.stringify(
      renderHome({ ...base, readOnly: true, slackConnected: false, followUps: undefined, recent: undefined }).blocks,
    );
    expect(text).toContain('Read-only installation');
    expect(text).toContain('None: this installation does not act.');
    expect(text).toContain(':red_circle: Slack not connected');
    expect(text).not.toContain('Follow-ups in progress');
  });

  it('stays within the 100 blocks of a Home tab however many actions it is given', () => {
    const rec = {
      id: 'a'.repeat(32),
      state: 'done',
      cluster: 'prod',
      createdAt: '2026-05-01T09:00:00.000Z',
      requester: { userId: 'UALICE01' },
      approvals: [{ userId: 'UBOB0001', at: '2026-05-01T09:01:00.000Z' }],
      outcome: { ok: true, summary: 'rolled out', at: '2026-05-01T09:02:00.000Z' },
    } as unknown as ApprovalRequest;
    const view = renderHome({
      ...base,
      recent: Array.from({ length: 60 }, () => ({ rec, title: 'Restart deployment/reviews in bookinfo' })),
    });
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    expect(JSON.stringify(view.blocks[6])).toContain('rolled out');
    expect(JSON.stringify(view.blocks.at(-1))).toContain('open the tab again to refresh');
  });
});
