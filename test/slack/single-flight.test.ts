// Concurrent identical questions share one execution; a bounded number of distinct executions run at once
// and the rest are told "queued", then answered. Through Bolt's HTTP receiver with the recording Slack fake
// and the sandbox API server; then the store itself (its limit, expiry, queue bound, failures).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { section } from '../../src/blocks/block-kit.ts';
import { defineCommand } from '../../src/command.ts';
import type { SlackSettings } from '../../src/config.ts';
import staleCommand from '../../src/features/stale/stale.ts';
import { createLogger } from '../../src/log.ts';
import { Router } from '../../src/router.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { SingleFlight } from '../../src/single-flight.ts';
import { type SlackApp, createSlackApp } from '../../src/slack/app.ts';
import { ISTIODS, kubeOf, meshSeed, serveScenario } from '../stale/support.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { sendSlashCommand } from '../support/slack-http.ts';
import { slashCommand } from '../support/slack-payloads.ts';
import { SIGNING_SECRET } from './harness.ts';

const knobs = { secret: SIGNING_SECRET };
const LIMIT = 2;

/** Runs, and the most that ran at once, of the test commands below. */
const runs = { lookup: 0, change: 0, running: 0, most: 0 };

/** A read-only cluster question that takes a moment, so that asks overlap. */
const lookupCommand = defineCommand({
  name: 'lookup',
  summary: 'Test: a read-only cluster question that takes 300 ms',
  usage: '/mesh lookup <what>',
  args: z.object({ what: z.string() }),
  argSpec: { positional: ['what'] },
  permission: 'read',
  touchesCluster: true,
  namespaceMustExist: false,
  readOnly: true,
  async run({ args }) {
    runs.lookup++;
    runs.running++;
    runs.most = Math.max(runs.most, runs.running);
    await new Promise((r) => setTimeout(r, 300));
    runs.running--;
    return args.what;
  },
  render(what) {
    return { text: `lookup of ${what}: found`, blocks: [section(`lookup of \`${what}\`: found`)] };
  },
});

/** A command with a side effect (not readOnly): identical asks must each run. */
const changeCommand = defineCommand({
  name: 'change',
  summary: 'Test: a cluster command with a side effect',
  usage: '/mesh change <what>',
  args: z.object({ what: z.string() }),
  argSpec: { positional: ['what'] },
  permission: 'remediate',
  touchesCluster: true,
  namespaceMustExist: false,
  async run({ args }) {
    runs.change++;
    await new Promise((r) => setTimeout(r, 100));
    return args.what;
  },
  render(what) {
    return { text: `changed ${what}`, blocks: [section(`changed \`${what}\``)] };
  },
});

let sandbox: Sandbox;
let fake: SlackFake;
let slack: SlackApp;
let router: Router;
let url: string;

beforeAll(async () => {
  sandbox = await startSandbox({ seed: meshSeed(), controllers: false });
  serveScenario(sandbox, { istiods: ISTIODS });
  fake = await startSlackFake();
  const log = createLogger({ level: 'silent' });
  router = new Router({
    commands: [staleCommand, lookupCommand, changeCommand],
    clusters: [{ name: 'lab', kube: kubeOf(sandbox) }],
    log,
    // As with MESHOPS_SHARED_ANSWER_MS=30000: a finished answer is reused, so all 50 asks share one diagnosis
    // however the burst spreads (without it, only asks that arrive while it runs share; see the unit tests).
    flights: new SingleFlight({ maxConcurrent: LIMIT, shareWindowMs: 30_000 }),
  });
  const settings: SlackSettings = {
    mode: 'http',
    botToken: 'xoxb-1111-2222-testtoken',
    signingSecret: SIGNING_SECRET,
    port: 0,
    apiUrl: fake.apiUrl,
  };
  slack = createSlackApp({
    slack: settings,
    router,
    log,
    listen: { host: '127.0.0.1', port: 0 },
    retryConfig: { retries: 0 },
  });
  await slack.start();
  url = `http://127.0.0.1:${slack.port}/slack/events`;
});

afterAll(async () => {
  await slack?.stop();
  await fake?.close();
  await sandbox?.close();
});

beforeEach(async () => {
  await slack.idle(10_000);
  fake.clear();
  Object.assign(runs, { lookup: 0, change: 0, running: 0, most: 0 });
});

/** Sends `count` slash commands at once, from `count` different people in `channel`. */
async function burst(text: string | ((i: number) => string), count: number, channel: string) {
  const results = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      sendSlashCommand(
        url,
        slashCommand(typeof text === 'string' ? text : text(i), {
          responseUrl: fake.responseUrl(),
          channel,
          user: `UASKER${String(i).padStart(3, '0')}`,
        }),
        knobs,
      ),
    ),
  );
  for (const r of results) expect(r.status).toBe(200);
}

/** The channel's messages once every "working…"/"queued" has been replaced by an answer. */
async function answered(channel: string, count: number, answer: RegExp) {
  return fake.waitFor(() => {
    const done = fake.messages(channel).filter((m) => answer.test(m.text ?? ''));
    return done.length === count ? done : undefined;
  }, 20_000);
}

describe('identical questions through Bolt share one execution', () => {
  it('50 identical /mesh stale bookinfo: one diagnosis, the API requests of one, 50 answers', async () => {
    // One ask alone first, in other channels: what one diagnosis costs the API server once the client has
    // read the API's discovery documents (the first ask of a process reads them too).
    await burst('stale bookinfo', 1, 'CWARM0001');
    await answered('CWARM0001', 1, /proxies in bookinfo/);
    sandbox.requests.length = 0;
    await burst('stale bookinfo', 1, 'CSOLO0001');
    await answered('CSOLO0001', 1, /proxies in bookinfo/);
    const perDiagnosis = sandbox.requests.length;
    expect(perDiagnosis).toBeGreaterThan(0);
    const executions = router.flights.executions;

    sandbox.requests.length = 0;
    await burst('stale bookinfo', 50, 'CINCIDENT');
    const messages = await answered('CINCIDENT', 50, /^All 6 proxies in bookinfo are SYNCED/);
    expect(router.flights.executions - executions).toBe(1);
    expect(sandbox.requests.length).toBe(perDiagnosis);
    // Each asker got an answer of their own: 50 messages, each naming who asked.
    expect(new Set(messages.map((m) => m.ts)).size).toBe(50);
    const askers = new Set(messages.map((m) => JSON.stringify(m.blocks).match(/<@(UASKER\d+)> ran/)?.[1]));
    expect(askers.size).toBe(50);
    expect(askers.has(undefined)).toBe(false);
  });

  it('the same question asked in another channel is not shared (the visibility differs)', async () => {
    await Promise.all([burst('lookup alpha', 3, 'CVISONE01'), burst('lookup alpha', 3, 'CVISTWO01')]);
    await answered('CVISONE01', 3, /^lookup of alpha: found/);
    await answered('CVISTWO01', 3, /^lookup of alpha: found/);
    expect(runs.lookup).toBe(2);
  });

  it('a command with a side effect is never shared: five identical asks run five times', async () => {
    await burst('change alpha', 5, 'CCHANGE01');
    await answered('CCHANGE01', 5, /^changed alpha/);
    expect(runs.change).toBe(5);
  });

  it(`distinct questions beyond the limit (${LIMIT}) say "queued", then answer; at most ${LIMIT} run at once`, async () => {
    await burst((i) => `lookup item-${i}`, 5, 'CQUEUE001');
    const messages = await answered('CQUEUE001', 5, /^lookup of item-\d: found/);
    expect(runs.lookup).toBe(5);
    expect(runs.most).toBe(LIMIT);
    const queued = messages.filter((m) => m.history.some((h) => /^Queued: \/mesh lookup/.test(h.text ?? '')));
    expect(queued).toHaveLength(5 - LIMIT);
    for (const m of messages) {
      const states = m.history.map((h) => h.text ?? '');
      expect(states[0]).toMatch(/^Working on \/mesh lookup/);
      expect(states.at(-1)).toMatch(/^lookup of item-\d: found/);
    }
    // Working… → Queued → Working… again once its slot comes → the answer, in that order, on each queued ask's own
    // message (a command that runs never still says it waits for others).
    for (const m of queued)
      expect(m.history.map((h) => (h.text ?? '').replace(/^(Working on|Queued|lookup of).*$/s, '$1'))).toEqual([
        'Working on',
        'Queued',
        'Working on',
        'lookup of',
      ]);
  });
});

describe('SingleFlight', () => {
  const later = <T>(value: T, ms = 20) => new Promise<T>((r) => setTimeout(() => r(value), ms));

  it('without a window, asks share an execution only while it runs (the default)', async () => {
    const f = new SingleFlight({ maxConcurrent: 8 });
    let n = 0;
    const all = await Promise.all(Array.from({ length: 20 }, () => f.run('k', () => later(++n, 30))));
    expect(all.map((r) => r.value)).toEqual(Array(20).fill(1));
    expect(all.filter((r) => !r.shared)).toHaveLength(1);
    expect(await f.run('k', () => later(++n))).toEqual({ value: 2, shared: false, ageMs: 0 });
    expect(f.executions).toBe(2);
    expect(f.load).toEqual({ running: 0, queued: 0, shared: 0 });
  });

  it('keeps at most maxShared finished answers, oldest dropped first', async () => {
    const f = new SingleFlight({ maxConcurrent: 4, shareWindowMs: 60_000, maxShared: 2 });
    let n = 0;
    const work = () => later(++n);
    for (const k of ['a', 'b', 'c']) await f.run(k, work);
    expect(f.load.shared).toBe(2);
    expect((await f.run('c', work)).shared).toBe(true);
    expect((await f.run('a', work)).shared).toBe(false); // dropped: asked the cluster again
    expect(f.executions).toBe(4);
  });

  it('forgets a finished answer after the window, and says how old a shared one is', async () => {
    let now = 1_000;
    const f = new SingleFlight({ maxConcurrent: 1, shareWindowMs: 5_000, now: () => now });
    await f.run('k', () => later('first'));
    now += 3_000;
    expect(await f.run('k', () => later('second'))).toEqual({ value: 'first', shared: true, ageMs: 3_000 });
    now += 2_000;
    expect(await f.run('k', () => later('third'))).toEqual({ value: 'third', shared: false, ageMs: 0 });
  });

  it('refuses in words beyond the queue bound, and does not share a failure afterwards', async () => {
    const f = new SingleFlight({ maxConcurrent: 1, maxQueued: 1, shareWindowMs: 60_000 });
    const slow = f.run('a', () => later('a', 50));
    const waiting = f.run('b', () => later('b'));
    await expect(f.run('c', () => later('c'))).rejects.toThrow(/meshops is busy: 1 questions are already waiting/);
    expect(await slow).toMatchObject({ value: 'a' });
    expect(await waiting).toMatchObject({ value: 'b' });
    await expect(f.run('x', () => Promise.reject(new Error('api down')))).rejects.toThrow('api down');
    expect(await f.run('x', () => later('fine'))).toMatchObject({ value: 'fine', shared: false });
  });

  it('a joiner of a queued execution is told it is queued too', async () => {
    const f = new SingleFlight({ maxConcurrent: 1 });
    const told: number[] = [];
    const first = f.run('a', () => later('a', 40));
    const second = f.run('b', () => later('b'), { onQueued: (ahead) => told.push(ahead) });
    const joiner = f.run('b', () => later('never'), { onQueued: (ahead) => told.push(ahead) });
    expect(told).toEqual([0, 0]);
    await first;
    expect((await second).value).toBe('b');
    expect(await joiner).toEqual({ value: 'b', shared: true, ageMs: 0 });
    expect(f.executions).toBe(2);
  });

  it('an ask told it is queued hears when its execution starts; one that ran at once hears nothing', async () => {
    const f = new SingleFlight({ maxConcurrent: 1 });
    const events: string[] = [];
    let releaseFirst!: () => void;
    const first = f.run('a', () => new Promise<string>((r) => (releaseFirst = () => r('a'))), {
      onStarted: () => events.push('a started'),
    });
    const second = f.run(
      'b',
      async () => {
        events.push('b runs');
        return 'b';
      },
      { onQueued: () => events.push('b queued'), onStarted: () => events.push('b started') },
    );
    const joiner = f.run('b', () => later('never'), { onStarted: () => events.push('joiner started') });
    expect(events).toEqual(['b queued']);
    releaseFirst();
    await Promise.all([first, second, joiner]);
    expect(events).toEqual(['b queued', 'b started', 'joiner started', 'b runs']);
  });
});
