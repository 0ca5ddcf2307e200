// Under Slack faults, through Bolt and the real WebClient against the Slack fake: chat.update answering
// 500 or 429 for a while, and response URLs failing. The message ends on the newest state (a retried
// older update never lands after a newer one), and a private answer is delivered once.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Rendered } from '../../src/blocks/block-kit.ts';
import type { ClickOutcome, MessageRef } from '../../src/messenger.ts';
import { postToResponseUrl, ResponseUrlError } from '../../src/slack/slack-messenger.ts';
import { type FakeMessage, type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { type SignKnobs, sendInteraction, sendSlashCommand } from '../support/slack-http.ts';
import { GENERAL, blockActions, slashCommand } from '../support/slack-payloads.ts';
import { type Harness, SIGNING_SECRET, logLines, startApp } from './harness.ts';

const knobs: SignKnobs = { secret: SIGNING_SECRET };
let fake: SlackFake;
let h: Harness;
const rateLimited: string[] = [];
/** What the click handler does: set per test. */
let onClick: (message: MessageRef | undefined) => Promise<ClickOutcome> = async () => ({});

const state = (text: string): Rendered => ({
  text,
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `*${text}*` } }],
});

beforeAll(async () => {
  fake = await startSlackFake();
  h = await startApp(fake, 'http', {
    // The WebClient retries as in production, only faster.
    retryConfig: { retries: 20, factor: 1, minTimeout: 100, maxTimeout: 150 },
    onRateLimited: (method) => rateLimited.push(method),
    clickHandlers: { 'approve:': async (click) => onClick(click.message) },
  });
});

afterAll(async () => {
  await h?.slack.stop();
  await fake?.close();
});

afterEach(async () => {
  fake.clearFaults();
  await h.slack.idle(5000);
  fake.clear();
});

function texts(m: FakeMessage | undefined): Array<string | undefined> {
  return (m?.history ?? []).map((s) => s.text);
}

async function postProposal(): Promise<MessageRef> {
  return h.slack.messenger.post(GENERAL, state('Proposed'));
}

function messageAt(ref: MessageRef): FakeMessage | undefined {
  return fake.messages(ref.channel).find((m) => m.ts === ref.ts);
}

describe('message updates under Slack faults', () => {
  it('ends on "Done" when chat.update answers 500 for 1.5 s while "Running…" then "Done" are sent', async () => {
    const ref = await postProposal();
    const window = fake.fault({ method: 'chat.update', status: 500, forMs: 1500 });
    const running = h.slack.messenger.update(ref, state('Running…'), { version: 1 });
    await new Promise((r) => setTimeout(r, 30));
    const done = h.slack.messenger.update(ref, state('Done'), { version: 2 });
    await Promise.all([running, done]);
    expect(window.hits).toBeGreaterThan(3);
    const message = messageAt(ref);
    expect(message?.text).toBe('Done');
    expect(JSON.stringify(message?.blocks)).toContain('*Done*');
    const history = texts(message);
    // Running… may land (it was first), but never after Done.
    expect(history.lastIndexOf('Running…')).toBeLessThan(history.indexOf('Done'));
    expect(history.at(-1)).toBe('Done');
    // Serialized: no chat.update for Done was attempted before Running… had landed.
    const calls = fake.calls('chat.update');
    const runningLanded = calls.find((c) => c.args.text === 'Running…' && c.status === 200);
    const firstDone = calls.find((c) => c.args.text === 'Done');
    expect(runningLanded && firstDone && firstDone.at >= runningLanded.at).toBe(true);
  }, 15_000);

  it('sends only the newest of several updates queued behind one that is being retried', async () => {
    const ref = await postProposal();
    fake.fault({ method: 'chat.update', status: 503, forMs: 800 });
    const all = [1, 2, 3, 4].map((v) => h.slack.messenger.update(ref, state(`step ${v}`), { version: v }));
    await Promise.all(all);
    const attempted = new Set(fake.calls('chat.update').map((c) => c.args.text));
    expect([...attempted].sort()).toEqual(['step 1', 'step 4']);
    expect(messageAt(ref)?.text).toBe('step 4');
  }, 15_000);

  it('ends on the newest state through a 429 window, waiting out Retry-After', async () => {
    const ref = await postProposal();
    rateLimited.length = 0;
    fake.fault({ method: 'chat.update', status: 429, retryAfterSeconds: 1, calls: 1 });
    const started = Date.now();
    await Promise.all([
      h.slack.messenger.update(ref, state('Running…'), { version: 1 }),
      h.slack.messenger.update(ref, state('Done'), { version: 2 }),
    ]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(rateLimited).toContain('chat.update');
    const history = texts(messageAt(ref));
    expect(history.at(-1)).toBe('Done');
    expect(history.lastIndexOf('Running…')).toBeLessThan(history.indexOf('Done'));
  }, 15_000);

  it('drops a click outcome older than the state a background update already put on the message', async () => {
    const ref = await postProposal();
    fake.fault({ method: 'chat.update', status: 500, forMs: 700 });
    let background: Promise<void> | undefined;
    // The engine moves on (v3, "Done") while the click path still returns the state it saw (v2).
    onClick = async (message) => {
      background = h.slack.messenger.update(message ?? ref, state('Done'), { version: 3 });
      return { update: state('Approved, running…'), version: 2 };
    };
    const res = await sendInteraction(
      h.eventsUrl,
      blockActions({ actionId: 'approve:r-1', value: 'r-1', responseUrl: fake.responseUrl(), messageTs: ref.ts }),
      knobs,
    );
    expect(res.status).toBe(200);
    await fake.waitFor(() => background);
    await background;
    await h.slack.idle(5000);
    expect(messageAt(ref)?.text).toBe('Done');
    expect(fake.calls('chat.update').some((c) => c.args.text === 'Approved, running…')).toBe(false);
    expect(
      logLines(h.logs).some(
        (l) => l.msg === 'stale message update dropped: a newer one is on its way' && l.version === 2,
      ),
    ).toBe(true);
  }, 15_000);

  it('keeps unversioned updates (the command answers) in the order they were made', async () => {
    const ref = await postProposal();
    // Only the first call fails: unserialized, b and c would land while a waits for its retry.
    fake.fault({ method: 'chat.update', status: 500, calls: 1 });
    await Promise.all(['a', 'b', 'c'].map((t) => h.slack.messenger.update(ref, state(t))));
    expect(texts(messageAt(ref))).toEqual(['Proposed', 'a', 'b', 'c']);
  }, 15_000);
});

describe('response_url under faults', () => {
  it('delivers a private answer once when its response_url fails twice with 500 and then works', async () => {
    const responseUrl = fake.responseUrl();
    const window = fake.fault({ method: 'response_url', status: 500, calls: 2 });
    const res = await sendSlashCommand(h.eventsUrl, slashCommand('confg bookinfo', { responseUrl }), knobs);
    expect(res.status).toBe(200);
    const delivered = await fake.waitFor(() => fake.responses(responseUrl)[0]);
    await h.slack.idle(5000);
    expect(window.hits).toBe(2);
    expect(fake.responseAttempts(responseUrl).map((r) => r.status)).toEqual([500, 500, 200]);
    expect(fake.responses(responseUrl)).toHaveLength(1);
    expect(delivered.body.response_type).toBe('ephemeral');
    expect(JSON.stringify(delivered.body.blocks)).toContain('Did you mean `config`');
  });

  it('gives up after three tries, and the failure is logged, not thrown at Bolt', async () => {
    const responseUrl = fake.responseUrl();
    fake.fault({ method: 'response_url', status: 502, calls: 10 });
    await sendSlashCommand(h.eventsUrl, slashCommand('confg', { responseUrl }), knobs);
    await fake.waitFor(() => fake.responseAttempts(responseUrl).length >= 3);
    await h.slack.idle(5000);
    expect(fake.responseAttempts(responseUrl)).toHaveLength(3);
    expect(fake.responses(responseUrl)).toHaveLength(0);
    expect(logLines(h.logs).some((l) => l.msg === 'response_url post failed; giving up')).toBe(true);
  });

  it('never posts more than five times to one response_url, retries and apology included', async () => {
    // Not in the channel: "working…" and the result both go through the response_url.
    fake.notInChannel.add('CNOTIN001');
    const responseUrl = fake.responseUrl();
    await sendSlashCommand(h.eventsUrl, slashCommand('probe', { responseUrl, channel: 'CNOTIN001' }), knobs);
    await fake.waitFor(() => fake.responses(responseUrl)[0]); // working… went through
    fake.fault({ method: 'response_url', status: 500, calls: 100 });
    await h.slack.idle(5000);
    const attempts = fake.responseAttempts(responseUrl);
    expect(attempts).toHaveLength(5);
    expect(attempts.map((a) => a.status)).toEqual([200, 500, 500, 500, 500]);
    // The last one is the apology, with the one try left.
    expect(String(attempts[4]?.body.text)).toMatch(/^Sorry, something went wrong/);
    fake.notInChannel.delete('CNOTIN001');
  });

  it('logs a click answer that cannot be delivered as a warning, and sends no apology down the same dead URL', async () => {
    const responseUrl = fake.responseUrl();
    fake.fault({ method: 'response_url', status: 503, calls: 100 });
    const mark = h.logs.length;
    // No channel: the refusal of this tampered click can only go through the response_url.
    const payload: Record<string, unknown> = {
      ...blockActions({ actionId: 'approve:r-9', value: 'r-9', responseUrl, messageTs: '1700000000.000900' }),
      channel: undefined,
      container: undefined,
    };
    payload.actions = [{ type: 'button', action_id: 'approve:r-9', value: 'r-9', action_ts: 'yesterday' }];
    const res = await sendInteraction(h.eventsUrl, payload, knobs);
    expect(res.status).toBe(200);
    await fake.waitFor(() => fake.responseAttempts(responseUrl).length >= 3);
    await h.slack.idle(5000);
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.responseAttempts(responseUrl)).toHaveLength(3);
    expect(
      fake.responseAttempts(responseUrl).every((a) => String(a.body.text).includes('That button is not valid')),
    ).toBe(true);
    const lines = logLines(h.logs.slice(mark));
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(
      lines.some((l) => l.msg === 'an answer could not be delivered through the response_url' && l.level === 40),
    ).toBe(true);
  });

  it('does not retry a 4xx other than 429', async () => {
    const url = fake.responseUrl();
    fake.fault({ method: 'response_url', status: 404, calls: 5 });
    const err = await postToResponseUrl(url, state('x'), { responseType: 'ephemeral' }, { baseDelayMs: 1 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ResponseUrlError);
    expect((err as ResponseUrlError).status).toBe(404);
    expect(fake.responseAttempts(url)).toHaveLength(1);
  });

  it('honours a 429’s Retry-After before trying again', async () => {
    const url = fake.responseUrl();
    fake.fault({ method: 'response_url', status: 429, retryAfterSeconds: 1, calls: 1 });
    await postToResponseUrl(url, state('x'), { responseType: 'ephemeral' }, { baseDelayMs: 1 });
    const [first, second] = fake.responseAttempts(url);
    expect([first?.status, second?.status]).toEqual([429, 200]);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('gives up at once on a Retry-After longer than it will wait', async () => {
    const url = fake.responseUrl();
    fake.fault({ method: 'response_url', status: 429, retryAfterSeconds: 120, calls: 1 });
    await expect(postToResponseUrl(url, state('x'), {}, { maxRetryAfterMs: 5000 })).rejects.toThrow(
      /rate-limited for 120 s/,
    );
    expect(fake.responseAttempts(url)).toHaveLength(1);
  });

  it('retries a response_url that cannot be reached (connection refused)', async () => {
    const tried: number[] = [];
    const failing = (async () => {
      tried.push(Date.now());
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    const err = await postToResponseUrl(
      'http://127.0.0.1:9/response/x',
      state('x'),
      {},
      { fetch: failing, baseDelayMs: 5, attempts: 4 },
    ).catch((e: unknown) => e);
    expect(tried).toHaveLength(4);
    expect(err).toBeInstanceOf(ResponseUrlError);
    expect((err as Error).message).toMatch(/^response_url could not be reached: fetch failed/);
  });
});
