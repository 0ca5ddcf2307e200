// The health server and the shutdown sequence over real HTTP: /healthz, /readyz (Slack connected, every
// cluster reachable, 503 while draining), /metrics fed by the router, the cluster client, Slack rate
// limits and dropped redeliveries; and SIGTERM's order: not ready, finish in flight, stop background, close.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import versionCommand from '../../src/features/core/version.ts';
import { section } from '../../src/blocks/block-kit.ts';
import { defineCommand } from '../../src/command.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { createLogger } from '../../src/log.ts';
import { Metrics } from '../../src/ops/metrics.ts';
import { type Operations, startOperations } from '../../src/ops/operations.ts';
import { Router } from '../../src/router.ts';
import { type SlackApp, createSlackApp } from '../../src/slack/app.ts';
import { MemoryDedupStore } from '../../src/slack/dedup.ts';
import { RESTARTING_TEXT } from '../../src/slack/restarting.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { slashCommand } from '../support/slack-payloads.ts';
import { APP_TOKEN, BOT_TOKEN, unreachableKube } from '../slack/harness.ts';

/** A cluster command that takes `ms` (default 600 ms): something to be in flight at SIGTERM. */
const waitCommand = defineCommand({
  name: 'wait',
  summary: 'Test: a cluster command that takes a while',
  usage: '/mesh wait [ms]',
  args: z.object({ ms: z.coerce.number().optional() }),
  argSpec: { positional: ['ms'] },
  permission: 'read',
  touchesCluster: true,
  async run({ args }) {
    await new Promise((r) => setTimeout(r, args.ms ?? 600));
    return args.ms ?? 600;
  },
  render(ms) {
    return { text: `waited ${ms} ms`, blocks: [section(`waited ${ms} ms`)] };
  },
});

let fake: SlackFake;
let sandbox: Sandbox;

function quietLog() {
  const lines: string[] = [];
  const log = createLogger({
    level: 'info',
    destination: new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }),
  });
  return { log, lines };
}

interface Rig {
  front: SlackApp;
  ops: Operations;
  metrics: Metrics;
  url: string;
  order: string[];
  lines: string[];
}

async function rig(
  options: { clusters?: 'reachable' | 'one-unreachable'; deadlineMs?: number; startSlack?: boolean } = {},
): Promise<Rig> {
  const { log, lines } = quietLog();
  const metrics = new Metrics({ defaultMetrics: false });
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  const clusters = [{ name: 'home', kube: new KubeClient(kc, { onRequest: metrics.onKubeRequest }) }];
  if (options.clusters === 'one-unreachable') clusters.push({ name: 'far-away', kube: unreachableKube() });
  const router = new Router({ commands: [versionCommand, waitCommand], clusters, log, onCommand: metrics.onCommand });
  const front = createSlackApp({
    slack: { mode: 'socket', botToken: BOT_TOKEN, appToken: APP_TOKEN, apiUrl: fake.apiUrl },
    router,
    log,
    dedup: metrics.countRedeliveries(new MemoryDedupStore()),
    onRateLimited: metrics.onRateLimited,
    socketPingTimeoutMs: 1500,
    retryConfig: { retries: 1, minTimeout: 10, maxTimeout: 20 },
  });
  const order: string[] = [];
  const ops = await startOperations({
    port: 0,
    host: '127.0.0.1',
    metrics,
    front,
    clusters,
    log,
    deadlineMs: options.deadlineMs ?? 5000,
    checkTimeoutMs: 700,
    background: [
      { name: 'approvals', stop: async () => void order.push(`background stopped, in flight ${front.inFlight}`) },
    ],
    close: async () => void order.push('connection closed'),
  });
  if (options.startSlack !== false) await front.start();
  return { front, ops, metrics, url: `http://127.0.0.1:${ops.health.port}`, order, lines };
}

async function get(url: string): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
}

beforeAll(async () => {
  fake = await startSlackFake();
  sandbox = await startSandbox({ controllers: false });
});

afterAll(async () => {
  await fake?.close();
  await sandbox?.close();
});

describe('health endpoints', () => {
  it('/healthz answers while Slack is not connected; /readyz names what is missing, then turns ready', async () => {
    const r = await rig({ startSlack: false });
    try {
      expect(await get(`${r.url}/healthz`)).toMatchObject({ status: 200, body: 'ok\n' });
      expect(await get(`${r.url}/readyz`)).toMatchObject({ status: 503, body: 'not ready: slack\n' });
      await r.front.start();
      expect(await get(`${r.url}/readyz`)).toMatchObject({ status: 200, body: 'ready\n' });
      expect((await get(`${r.url}/nope`)).status).toBe(404);
      expect((await fetch(`${r.url}/readyz`, { method: 'POST' })).status).toBe(405);
    } finally {
      await r.ops.shutdown('test');
    }
  }, 20_000);

  it('/readyz is 503 when a configured cluster does not answer, naming it', async () => {
    const r = await rig({ clusters: 'one-unreachable' });
    try {
      expect(await get(`${r.url}/readyz`)).toMatchObject({ status: 503, body: 'not ready: cluster far-away\n' });
    } finally {
      await r.ops.shutdown('test');
    }
  }, 20_000);

  it('/metrics counts commands, latency, cluster requests, Slack rate limits and dropped redeliveries', async () => {
    const r = await rig();
    try {
      const payload = slashCommand('version', { responseUrl: fake.responseUrl() });
      fake.clear();
      fake.rateLimitNext('chat.postMessage', 0);
      fake.socket.send('slash_commands', payload);
      await fake.waitFor(() => fake.calls('chat.update')[0], 10_000);
      // The same command again (Slack's retry after a missed ack): dropped and counted, not answered.
      const again = fake.socket.send('slash_commands', payload);
      await fake.socket.waitForAck(again);
      await r.front.idle(5000);
      const m = await get(`${r.url}/metrics`);
      expect(m.status).toBe(200);
      expect(m.type).toContain('text/plain');
      expect(m.body).toMatch(/meshops_commands_total\{verb="version",outcome="ok"\} 1/);
      expect(m.body).toMatch(/meshops_command_duration_seconds_count\{verb="version"\} 1/);
      expect(m.body).toMatch(/meshops_kube_requests_total\{method="GET",code="200"\} [1-9]/);
      expect(m.body).toMatch(/meshops_slack_rate_limited_total\{method="chat.postMessage"\} 1/);
      expect(m.body).toMatch(/meshops_slack_retries_total\{kind="command"\} 1/);
      expect(m.body).toContain('# TYPE meshops_approvals_total counter');
    } finally {
      await r.ops.shutdown('test');
    }
  }, 30_000);
});

describe('graceful shutdown', () => {
  it('goes not-ready at once, finishes the answer in flight, then stops background work and closes', async () => {
    const r = await rig();
    fake.clear();
    fake.socket.send('slash_commands', slashCommand('wait 800', { responseUrl: fake.responseUrl() }));
    await fake.waitFor(
      () => fake.calls('chat.postMessage').find((c) => String(c.args.text).startsWith('Working on /mesh wait')),
      10_000,
    );
    expect(r.front.inFlight).toBe(1);
    const done = r.ops.shutdown('SIGTERM');
    expect(r.ops.shuttingDown).toBe(true);
    const during = await get(`${r.url}/readyz`);
    expect(during.status).toBe(503);
    expect(during.body).toContain('shutting down');
    const report = await done;
    // The answer in flight landed before anything else closed.
    expect(fake.calls('chat.update').some((c) => c.args.text === 'waited 800 ms')).toBe(true);
    expect(report).toMatchObject({ reason: 'SIGTERM', abandoned: 0, problems: [] });
    expect(r.order).toEqual(['background stopped, in flight 0', 'connection closed']);
    expect(r.front.connected).toBe(false);
    await expect(fetch(`${r.url}/healthz`)).rejects.toThrow();
    // A second signal does not run the sequence twice.
    expect(await r.ops.shutdown('SIGINT')).toBe(report);
  }, 30_000);

  it('gives up on answers that outlast the deadline and still releases background work', async () => {
    const r = await rig({ deadlineMs: 300 });
    fake.clear();
    fake.socket.send('slash_commands', slashCommand('wait 2000', { responseUrl: fake.responseUrl() }));
    await fake.waitFor(
      () => fake.calls('chat.postMessage').find((c) => String(c.args.text).startsWith('Working on /mesh wait')),
      10_000,
    );
    const report = await r.ops.shutdown('SIGTERM');
    // Still running at the deadline: its "working…" message now says meshops is restarting, and the shutdown did
    // not wait the command's 2 s.
    expect(report.ms).toBeLessThan(1900);
    expect(fake.calls('chat.update').some((c) => String(c.args.text).includes(RESTARTING_TEXT))).toBe(true);
    expect(report.abandoned).toBe(0);
    expect(r.order).toEqual(['background stopped, in flight 0', 'connection closed']);
    expect(r.lines.join('')).toContain('shutdown deadline passed: answers still running told meshops is restarting');
    await r.front.idle(3000);
  }, 30_000);
});
