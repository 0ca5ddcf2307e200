// SIGTERM under load, on the real process: `npm start` in HTTP mode against the recording Slack fake, its cluster a
// sandbox API server behind the fault proxy, where reads of the `slow-*` namespaces stall for a minute. A burst of
// signed slash commands (some slow, more than MESHOPS_MAX_CONCURRENT_COMMANDS, so some queue), then SIGTERM in the
// middle of it, then more commands. Asserted: the process exits 0 within the grace period plus 3 s, and not before
// the answers in flight had their grace; every command ends with its answer or "meshops is restarting", none left
// on "Working on…" or "Queued"; commands and a mention sent after SIGTERM are acked and told the same. Then the
// same over Socket Mode (the socket stays open through the drain).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { RESTARTING_TEXT } from '../../src/slack/restarting.ts';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.ts';
import { projectRoot } from '../support/shared.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { sendEvent, sendInteraction, sendSlashCommand } from '../support/slack-http.ts';
import { blockActions, GENERAL, mentionEvent, slashCommand } from '../support/slack-payloads.ts';
import { APP_TOKEN, BOT_TOKEN } from '../slack/harness.ts';

const SECRET = '8f14e45fceea167a5a36dedd4bea2543';
const GRACE_MS = 5000;
/** Reads of these namespaces stall far past the grace period (and the bot's own 15 s cluster timeout). */
const STALL_MS = 60_000;
/** Reading these namespaces (each GET of the Namespace) takes a while but ends within the grace period: running at SIGTERM, they finish. */
const MEDIUM_MS = 1500;
/**
 * 27 distinct questions, every fourth one slow and every fourth a medium one, so the three slots fill and the rest
 * queue; 3 more after SIGTERM.
 */
const BURST = Array.from({ length: 27 }, (_, i) => `${i % 4 === 0 ? 'slow' : i % 4 === 2 ? 'medium' : 'fast'}-${i}`);
const LATE = ['fast-late-1', 'fast-late-2', 'slow-late-3'];

let fake: SlackFake;
let sandbox: Sandbox;
let proxy: FaultProxy;
let dir: string;
let child: ChildProcess | undefined;
/** Every process started, so that a failed test leaves none running behind it. */
const children: ChildProcess[] = [];
let output = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function poll<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await Promise.resolve()
      .then(fn)
      .catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end || (child && child.exitCode !== null && !what.includes('shutdown')))
      throw new Error(`timed out waiting for ${what}\n--- meshops output ---\n${output.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Sent {
  ns: string;
  label: string;
  responseUrl: string;
}

/** What the asker sees last: the channel message that began as "Working on <label>…", or the ephemeral answer. */
function lastWords(sent: Sent): string | undefined {
  // The label whole: `/mesh config fast-1` must not find the message of `/mesh config fast-17`.
  const whole = new RegExp(`${sent.label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`);
  const message = fake
    .messages(GENERAL)
    .find((m) => m.history[0]?.text?.startsWith(`Working on ${sent.label}…`) || whole.test(m.text ?? ''));
  const ephemeral = fake.responses(sent.responseUrl).at(-1)?.body.text;
  return typeof ephemeral === 'string' ? ephemeral : message?.text;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshops-sigterm-'));
  fake = await startSlackFake();
  // Real namespaces, so an answer is an answer (an unknown namespace would be a user error).
  const seed = [...BURST, ...LATE, 'fast-late-mention'].map((name) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name },
  }));
  sandbox = await startSandbox({ seed, controllers: false });
  proxy = await startFaultProxy({ upstream: { url: sandbox.url, ca: sandbox.caCert } });
  proxy.rule({ name: 'slow namespaces', path: /\/namespaces\/slow-/, action: { type: 'delay', ms: STALL_MS } });
  proxy.rule({
    name: 'medium namespaces',
    path: /^\/api\/v1\/namespaces\/medium-\d+$/,
    action: { type: 'delay', ms: MEDIUM_MS },
  });
  await writeFile(join(dir, 'kubeconfig'), proxy.kubeconfig(sandbox.kubeconfig()));
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await proxy?.close();
  await sandbox?.close();
  await fake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** `npm start` as a real process on the sandbox behind the proxy; resolves on exit with when it happened. */
function startMeshops(slackEnv: Record<string, string>): Promise<{ code: number | null; at: number }> {
  output = '';
  child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', 'src/main.ts'], {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_API_URL: fake.apiUrl,
      ...slackEnv,
      MESHOPS_KUBE: 'kubeconfig',
      KUBECONFIG: join(dir, 'kubeconfig'),
      MESHOPS_MAX_CONCURRENT_COMMANDS: '3',
      MESHOPS_SHUTDOWN_GRACE_MS: String(GRACE_MS),
      // The fault proxy stalls reads by namespace path (/namespaces/slow-…); the watch cache reads cluster-wide
      // lists once and would answer the slow questions from memory, so nothing would be in flight at SIGTERM.
      MESHOPS_WATCH_CACHE: 'false',
      HEALTH_PORT: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  child.stdout?.on('data', (d) => (output += String(d)));
  child.stderr?.on('data', (d) => (output += String(d)));
  return new Promise((resolve) => child?.on('exit', (code) => resolve({ code, at: Date.now() })));
}

describe('SIGTERM under load', () => {
  it('exits 0 within the grace period plus 3 s, every command answered or told meshops is restarting', async () => {
    const port = await freePort();
    const exited = startMeshops({ SLACK_SIGNING_SECRET: SECRET, SLACK_MODE: 'http', PORT: String(port) });
    const url = `http://127.0.0.1:${port}/slack/events`;
    await poll(
      'the Slack receiver to listen',
      () => (output.includes('Slack receiver listening') ? true : undefined),
      20_000,
    );

    const send = async (ns: string): Promise<Sent> => {
      const responseUrl = fake.responseUrl();
      const res = await sendSlashCommand(url, slashCommand(`config ${ns}`, { responseUrl }), { secret: SECRET });
      expect(res.status).toBe(200); // acked, before and after SIGTERM
      return { ns, label: `/mesh config ${ns}`, responseUrl };
    };
    const names = BURST;
    const burst = await Promise.all(names.map(send));
    // Mid-burst: the slow ones are running, some fast ones answered, the rest still queued.
    await poll('a fast answer, a slow and a medium "working…"', () => {
      const answered = burst.some(
        (s) => s.ns.startsWith('fast-') && (lastWords(s) ?? '').startsWith('Istio config in namespace'),
      );
      const working = (kind: string) =>
        burst.some((s) => s.ns.startsWith(kind) && lastWords(s)?.startsWith('Working on'));
      return answered && working('slow-') && working('medium-') ? true : undefined;
    });
    const atSigterm = new Map(burst.map((s) => [s.ns, lastWords(s) ?? '(nothing)']));
    const termAt = Date.now();
    child?.kill('SIGTERM');
    await poll('the shutdown to start', () => (output.includes('shutting down: not ready') ? true : undefined), 5000);
    // After SIGTERM: more commands and a mention, each acked and told to try again.
    const late = await Promise.all(LATE.map(send));
    const mention = mentionEvent('config fast-late-mention');
    expect((await sendEvent(url, mention, { secret: SECRET })).status).toBe(200);
    // A button clicked after SIGTERM (an Approve, say) starts nothing: acked, and told to try again.
    const clickUrl = fake.responseUrl();
    const clicked = blockActions({
      actionId: 'meshops:approve',
      value: '0123456789abcdef0123456789abcdef',
      responseUrl: clickUrl,
      messageTs: '1700000000.000100',
    });
    expect((await sendInteraction(url, clicked, { secret: SECRET })).status).toBe(200);

    const { code, at } = await exited;
    const exitMs = at - termAt;
    process.stdout.write(`sigterm-under-load: exit ${code} after ${exitMs} ms (grace ${GRACE_MS} ms)\n`);
    expect(code).toBe(0);
    expect(exitMs).toBeLessThanOrEqual(GRACE_MS + 3000);
    // It waited for the slow answers in flight instead of dropping them at once.
    expect(exitMs).toBeGreaterThanOrEqual(GRACE_MS - 500);

    const outcomes = burst.map((s) => ({ ns: s.ns, last: lastWords(s) ?? '(nothing)' }));
    for (const o of outcomes) {
      const answered = o.last.startsWith(`Istio config in namespace ${o.ns}`);
      const restarting = o.last.includes(RESTARTING_TEXT);
      expect({ ...o, ok: answered || restarting }).toEqual({ ...o, ok: true });
      if (o.ns.startsWith('slow-')) expect({ ...o, restarting }).toEqual({ ...o, restarting: true });
    }
    // An answer still being worked on at SIGTERM was finished within the grace period, not dropped.
    const finishedInGrace = outcomes.filter(
      (o) => atSigterm.get(o.ns)?.startsWith('Working on') && o.last.startsWith('Istio config in namespace'),
    );
    const mediumInFlight = outcomes.filter(
      (o) => o.ns.startsWith('medium-') && atSigterm.get(o.ns)?.startsWith('Working on'),
    );
    expect(mediumInFlight.length).toBeGreaterThan(0);
    expect(finishedInGrace.map((o) => o.ns)).toEqual(expect.arrayContaining(mediumInFlight.map((o) => o.ns)));
    // Both kinds happened: this was a shutdown under load, not after it.
    expect(outcomes.filter((o) => o.last.includes(RESTARTING_TEXT)).length).toBeGreaterThan(names.length / 4);
    expect(outcomes.filter((o) => !o.last.includes(RESTARTING_TEXT)).length).toBeGreaterThan(0);
    for (const s of late) expect(fake.responses(s.responseUrl).map((r) => r.body.text)).toEqual([RESTARTING_TEXT]);
    const thread = fake.messages(GENERAL).filter((m) => m.threadTs === (mention.event as { ts: string }).ts);
    expect(thread.map((m) => m.text)).toEqual([RESTARTING_TEXT]);
    const toClicker = [
      ...fake.responses(clickUrl).map((r) => String(r.body.text)),
      ...fake.calls('chat.postEphemeral').map((c) => String((c.args as { text?: string }).text ?? '')),
    ];
    expect(toClicker.some((t) => t.includes(RESTARTING_TEXT) && t.includes('Nothing was done'))).toBe(true);
    // Nobody was left on "working…": no message ends there.
    expect(fake.messages(GENERAL).filter((m) => /^(Working on|Queued)/.test(m.text ?? ''))).toEqual([]);
  }, 40_000);

  it('over Socket Mode too: the socket stays open while answers finish, and new questions hear meshops is restarting', async () => {
    fake.clear();
    const exited = startMeshops({ SLACK_APP_TOKEN: APP_TOKEN });
    await fake.socket.waitForConnections(1, 20_000);
    const slow = { ns: 'slow-socket', label: '/mesh config slow-socket', responseUrl: fake.responseUrl() };
    fake.socket.send('slash_commands', slashCommand(`config ${slow.ns}`, { responseUrl: slow.responseUrl }));
    await poll('the slow command to be working', () => (lastWords(slow)?.startsWith('Working on') ? true : undefined));
    const termAt = Date.now();
    child?.kill('SIGTERM');
    await poll('the shutdown to start', () => (output.includes('shutting down: not ready') ? true : undefined), 5000);
    const late = { ns: 'fast-late-1', label: '/mesh config fast-late-1', responseUrl: fake.responseUrl() };
    fake.socket.send('slash_commands', slashCommand(`config ${late.ns}`, { responseUrl: late.responseUrl }));
    const mention = mentionEvent('config fast-late-mention');
    fake.socket.send('events_api', mention);
    const { code, at } = await exited;
    process.stdout.write(`sigterm-under-load (socket): exit ${code} after ${at - termAt} ms (grace ${GRACE_MS} ms)\n`);
    expect(code).toBe(0);
    expect(at - termAt).toBeLessThanOrEqual(GRACE_MS + 3000);
    expect(lastWords(slow)).toContain(RESTARTING_TEXT);
    expect(fake.responses(late.responseUrl).map((r) => r.body.text)).toEqual([RESTARTING_TEXT]);
    const thread = fake.messages(GENERAL).filter((m) => m.threadTs === (mention.event as { ts: string }).ts);
    expect(thread.map((m) => m.text)).toEqual([RESTARTING_TEXT]);
  }, 30_000);
});
