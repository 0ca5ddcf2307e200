// The HTTP receiver, end to end through Bolt: signed requests in, the Slack fake records what the
// bot answers. Nothing here stubs Bolt or our own modules.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { ButtonClick, ClickOutcome } from '../../src/messenger.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { type SignKnobs, sendEvent, sendInteraction, sendSlashCommand } from '../support/slack-http.ts';
import {
  ALICE,
  GENERAL,
  blockActions,
  directMessageEvent,
  mentionEvent,
  newTs,
  slashCommand,
} from '../support/slack-payloads.ts';
import { BOT_TOKEN, type Harness, SIGNING_SECRET, blockText, startApp } from './harness.ts';

const knobs: SignKnobs = { secret: SIGNING_SECRET };
const clicks: ButtonClick[] = [];
let clickOutcome: ClickOutcome = {};
let fake: SlackFake;
let h: Harness;
const ackTimes: number[] = [];

beforeAll(async () => {
  fake = await startSlackFake();
  h = await startApp(fake, 'http', {
    viewHandlers: {
      'silence:': async (v) =>
        v.values.duration?.minutes === 'forever' ? { errors: { duration: 'Give a number of minutes.' } } : undefined,
    },
    clickHandlers: {
      'approve:': async (click) => {
        clicks.push(click);
        return clickOutcome;
      },
    },
  });
});

afterAll(async () => {
  await h?.slack.stop();
  await fake?.close();
  if (ackTimes.length) {
    const sorted = [...ackTimes].sort((a, b) => a - b);
    // The figure the report quotes: Slack's limit is 3000 ms.
    console.log(
      `HTTP ack latency over ${sorted.length} requests one at a time: median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)} ms, max ${sorted[sorted.length - 1]?.toFixed(1)} ms`,
    );
  }
});

beforeEach(() => {
  fake.clear();
  clicks.length = 0;
});

afterEach(async () => {
  await h.slack.idle(5000);
});

async function command(text: string, extra: { channel?: string; triggerId?: string } = {}) {
  const responseUrl = fake.responseUrl();
  const res = await sendSlashCommand(h.eventsUrl, slashCommand(text, { responseUrl, ...extra }), knobs);
  ackTimes.push(res.ms);
  return { res, responseUrl };
}

describe('slash commands over HTTP', () => {
  it('acknowledges a signed /mesh help at once and posts the verbs in the channel, naming who asked', async () => {
    const { res } = await command('help');
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(2500); // Slack's contract is 3 s; the figure itself is printed, not asserted tighter
    const post = await fake.waitFor(() => fake.calls('chat.postMessage')[0]);
    expect(post.token).toBe(BOT_TOKEN);
    expect(post.args.channel).toBe(GENERAL);
    expect(post.args.text).toMatch(/^meshops commands: help, version, config/);
    expect(blockText(post.args)).toContain(`<@${ALICE}> ran`);
    expect(blockText(post.args)).toContain('/mesh config [namespace]');
  });

  it('answers an unknown verb privately with the closest verbs', async () => {
    const { res, responseUrl } = await command('confg bookinfo');
    expect(res.status).toBe(200);
    const reply = await fake.waitFor(() => fake.responses(responseUrl)[0]);
    expect(reply.body.response_type).toBe('ephemeral');
    expect(JSON.stringify(reply.body.blocks)).toContain('Did you mean `config`');
    expect(typeof reply.body.text).toBe('string');
    expect(fake.calls('chat.postMessage')).toHaveLength(0);
  });

  it('answers a namespace that is not a DNS-1123 label with the usage of the verb', async () => {
    const { responseUrl } = await command('config Book_Info');
    const reply = await fake.waitFor(() => fake.responses(responseUrl)[0]);
    const blocks = JSON.stringify(reply.body.blocks);
    expect(blocks).toContain('Book_Info');
    expect(blocks).toContain('Usage: `/mesh config [namespace]`');
  });

  it('answers an over-long argument with a clear message', async () => {
    const { responseUrl } = await command(`config ${'a'.repeat(300)}`);
    const reply = await fake.waitFor(() => fake.responses(responseUrl)[0]);
    expect(JSON.stringify(reply.body.blocks)).toContain('An argument is 300 characters long');
  });

  it('shows "working…" for a cluster command, then updates that message in place with the result', async () => {
    await command('probe bookinfo');
    const update = await fake.waitFor(() => fake.calls('chat.update')[0]);
    const posts = fake.calls('chat.postMessage');
    expect(posts).toHaveLength(1);
    expect(posts[0]?.args.text).toMatch(/^Working on \/mesh probe bookinfo/);
    const [message] = fake.messages(GENERAL).filter((m) => m.ts === update.args.ts);
    expect(message?.updates).toBe(1);
    expect(update.args.text).toBe('probe of bookinfo: all good');
    expect(blockText(update.args)).toContain('cluster *test-cluster*');
  });

  it('falls back to the response_url when the bot is not in the channel, and updates through it', async () => {
    fake.notInChannel.add('CPRIVATE1');
    const { responseUrl } = await command('probe', { channel: 'CPRIVATE1' });
    const [working, result] = await fake.waitFor(() => {
      const r = fake.responses(responseUrl);
      return r.length >= 2 && r;
    });
    expect(fake.calls('chat.postMessage')[0]?.args.channel).toBe('CPRIVATE1');
    expect(working?.body).toMatchObject({ response_type: 'in_channel' });
    expect(String(working?.body.text)).toMatch(/^Working on/);
    expect(result?.body).toMatchObject({
      response_type: 'in_channel',
      replace_original: true,
      text: 'probe of default: all good',
    });
  });

  it('puts long output into the thread as a file with the files.uploadV2 sequence', async () => {
    await command('long');
    const complete = await fake.waitFor(() => fake.calls('files.completeUploadExternal')[0]);
    const post = fake.calls('chat.postMessage')[0];
    const blocks = post?.args.blocks as unknown[];
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(JSON.stringify(blocks).length).toBeLessThanOrEqual(12_000);
    expect(blockText(post?.args)).toMatch(/…and \d+ more parts of this answer in the thread as `long-output.txt`/);
    const ts = fake.messages(GENERAL).find((m) => m.text === post?.args.text)?.ts;
    expect(complete.args).toMatchObject({ channel_id: GENERAL, thread_ts: ts });
    expect(fake.calls('files.getUploadURLExternal')[0]?.args.filename).toBe('long-output.txt');
    expect(fake.uploads[0]?.content).toContain('line 79');
  });

  it('answers a retried slash command (same trigger_id) once', async () => {
    const responseUrl = fake.responseUrl();
    const body = slashCommand('help', { responseUrl, triggerId: '12345.67890.retried' });
    const first = await sendSlashCommand(h.eventsUrl, body, knobs);
    const second = await sendSlashCommand(h.eventsUrl, body, { ...knobs, retryNum: 1, retryReason: 'http_timeout' });
    expect([first.status, second.status]).toEqual([200, 200]);
    await fake.waitFor(() => fake.calls('chat.postMessage')[0]);
    await h.slack.idle();
    expect(fake.calls('chat.postMessage')).toHaveLength(1);
  });

  it('apologises with a reference when a command fails, and keeps tokens out of the log', async () => {
    await command('boom');
    const update = await fake.waitFor(() => fake.calls('chat.update')[0]);
    expect(String(update.args.text)).toMatch(/something went wrong/);
    const logged = h.logs.join('');
    expect(logged).toContain('kaboom');
    expect(logged).not.toContain(BOT_TOKEN);
    expect(logged).not.toContain(SIGNING_SECRET);
  });
});

describe('the front door under load and failure', () => {
  it('acknowledges a cluster command slower than Slack’s 3 s at once, with "working…" posted before the result', async () => {
    const { res } = await command('slow');
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(2500); // Slack's contract is 3 s; the figure itself is printed, not asserted tighter
    const working = await fake.waitFor(() => fake.calls('chat.postMessage')[0]);
    expect(working.args.text).toMatch(/^Working on \/mesh slow/);
    expect(fake.calls('chat.update')).toHaveLength(0);
    const update = await fake.waitFor(() => fake.calls('chat.update')[0], 8000);
    expect(update.args.text).toBe('slow: done');
    expect(update.at - working.at).toBeGreaterThanOrEqual(3000);
  }, 15_000);

  it('tells the router who is asking: the Slack id and the users.info name', async () => {
    const responseUrl = fake.responseUrl();
    await sendSlashCommand(
      h.eventsUrl,
      slashCommand('whoami', { responseUrl, user: 'UBOB0001', userName: 'payload-name' }),
      knobs,
    );
    const post = await fake.waitFor(() => fake.calls('chat.postMessage')[0]);
    expect(post.args.text).toBe(`you are UBOB0001 ubob0001 in ${GENERAL} via slack`);
    expect(fake.calls('users.info').map((c) => c.args.user)).toEqual(['UBOB0001']);
    // A second command from the same person uses the cache.
    await sendSlashCommand(
      h.eventsUrl,
      slashCommand('whoami', { responseUrl: fake.responseUrl(), user: 'UBOB0001' }),
      knobs,
    );
    await fake.waitFor(() => fake.calls('chat.postMessage')[1]);
    expect(fake.calls('users.info')).toHaveLength(1);
  });

  it('answers even when users.info fails, with the name from the payload', async () => {
    fake.failNext('users.info', 'user_not_found');
    await sendSlashCommand(
      h.eventsUrl,
      slashCommand('whoami', { responseUrl: fake.responseUrl(), user: 'UCAROL01', userName: 'carol' }),
      knobs,
    );
    const post = await fake.waitFor(() => fake.calls('chat.postMessage')[0]);
    expect(post.args.text).toBe(`you are UCAROL01 carol in ${GENERAL} via slack`);
  });

  it('returns a modal’s field errors in the ack, and closes it otherwise', async () => {
    const view = (minutes: string) => ({
      type: 'view_submission',
      user: { id: ALICE, username: 'alice' },
      view: {
        id: 'V00000001',
        callback_id: 'silence:reviews',
        private_metadata: '',
        state: { values: { duration: { minutes: { type: 'plain_text_input', value: minutes } } } },
      },
    });
    const bad = await sendInteraction(h.eventsUrl, view('forever'), knobs);
    expect(bad.status).toBe(200);
    expect(JSON.parse(bad.body)).toEqual({
      response_action: 'errors',
      errors: { duration: 'Give a number of minutes.' },
    });
    const good = await sendInteraction(h.eventsUrl, view('30'), knobs);
    expect(good.status).toBe(200);
    expect(good.body).toBe('');
  });
});

describe('many at once', () => {
  it('acknowledges 40 concurrent /mesh help well under 3 s and answers each once', async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, () =>
        sendSlashCommand(h.eventsUrl, slashCommand('help', { responseUrl: fake.responseUrl() }), knobs),
      ),
    );
    expect(results.every((res) => res.status === 200)).toBe(true);
    const slowest = Math.max(...results.map((res) => res.ms));
    console.log(`HTTP ack latency, 40 at once: slowest ${slowest.toFixed(1)} ms`);
    expect(slowest).toBeLessThan(2500); // under Slack's 3 s ack limit
    await fake.waitFor(() => fake.calls('chat.postMessage').length >= 40, 10_000);
    await h.slack.idle();
    expect(fake.calls('chat.postMessage')).toHaveLength(40);
  }, 20_000);
});

describe('request verification', () => {
  it('refuses a bad signature with 401 and does nothing', async () => {
    const res = await sendSlashCommand(h.eventsUrl, slashCommand('help', { responseUrl: fake.responseUrl() }), {
      ...knobs,
      badSignature: true,
    });
    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.calls('chat.postMessage')).toHaveLength(0);
  });

  it('refuses a stale timestamp with 401', async () => {
    const res = await sendSlashCommand(h.eventsUrl, slashCommand('help', { responseUrl: fake.responseUrl() }), {
      ...knobs,
      stale: true,
    });
    expect(res.status).toBe(401);
  });

  it('answers Slack’s url_verification challenge', async () => {
    const res = await sendEvent(h.eventsUrl, { type: 'url_verification', token: 't', challenge: 'c-12345' }, knobs);
    expect(res.status).toBe(200);
    expect(res.body).toContain('c-12345');
  });
});

describe('mentions and direct messages over HTTP', () => {
  it('answers a mention in its thread', async () => {
    const ts = newTs();
    const res = await sendEvent(h.eventsUrl, mentionEvent('help', { ts }), knobs);
    ackTimes.push(res.ms);
    expect(res.status).toBe(200);
    const post = await fake.waitFor(() => fake.calls('chat.postMessage')[0]);
    expect(post.args).toMatchObject({ channel: GENERAL, thread_ts: ts });
    expect(post.args.text).toMatch(/^meshops commands/);
  });

  it('puts a mention’s long output into the mention’s thread', async () => {
    const ts = newTs();
    await sendEvent(h.eventsUrl, mentionEvent('long', { ts }), knobs);
    const complete = await fake.waitFor(() => fake.calls('files.completeUploadExternal')[0]);
    expect(fake.calls('chat.postMessage')[0]?.args).toMatchObject({ channel: GENERAL, thread_ts: ts });
    expect(complete.args).toMatchObject({ channel_id: GENERAL, thread_ts: ts });
  });

  it('answers a mention that is a retry of the same event once', async () => {
    const body = mentionEvent('help', { eventId: 'EvRETRIED01' });
    await sendEvent(h.eventsUrl, body, knobs);
    await sendEvent(h.eventsUrl, body, { ...knobs, retryNum: 1, retryReason: 'http_timeout' });
    await fake.waitFor(() => fake.calls('chat.postMessage')[0]);
    await h.slack.idle();
    expect(fake.calls('chat.postMessage')).toHaveLength(1);
  });

  it('answers a direct message in the DM', async () => {
    const res = await sendEvent(h.eventsUrl, directMessageEvent('help version'), knobs);
    ackTimes.push(res.ms);
    expect(res.status).toBe(200);
    const post = await fake.waitFor(() => fake.calls('chat.postMessage')[0]);
    expect(post.args.channel).toBe('DALICE001');
    expect(post.args.thread_ts).toBeUndefined();
    expect(post.args.text).toMatch(/^version: \/mesh version/);
  });

  it('ignores edits and bot messages in DMs', async () => {
    await sendEvent(h.eventsUrl, directMessageEvent('help', { extra: { subtype: 'message_changed' } }), knobs);
    await sendEvent(h.eventsUrl, directMessageEvent('help', { extra: { bot_id: 'BOTHER01' } }), knobs);
    await new Promise((r) => setTimeout(r, 150));
    await h.slack.idle();
    expect(fake.calls('chat.postMessage')).toHaveLength(0);
  });
});

describe('buttons over HTTP', () => {
  it('dispatches a click to the handler for its action_id prefix and applies the outcome', async () => {
    clickOutcome = {
      update: {
        text: 'Approved by alice',
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'Approved by <@UALICE01>' } }],
      },
      thread: [{ text: 'Rolling out…', blocks: [] }],
      ephemeral: { text: 'You approved it', blocks: [] },
    };
    // chat.update needs a message the fake knows: post one as the bot first.
    const posted = await h.slack.messenger.post(GENERAL, { text: 'proposal', blocks: [] });
    const res = await sendInteraction(
      h.eventsUrl,
      blockActions({ actionId: 'approve:p-42', value: 'p-42', responseUrl: fake.responseUrl(), messageTs: posted.ts }),
      knobs,
    );
    expect(res.status).toBe(200);
    await fake.waitFor(() => fake.calls('chat.postEphemeral')[0]);
    expect(clicks).toHaveLength(1);
    expect(clicks[0]).toMatchObject({
      actionId: 'approve:p-42',
      value: 'p-42',
      userId: ALICE,
      userName: 'alice',
      channelId: GENERAL,
      message: { channel: GENERAL, ts: posted.ts },
    });
    expect(fake.calls('chat.update')[0]?.args).toMatchObject({
      channel: GENERAL,
      ts: posted.ts,
      text: 'Approved by alice',
    });
    const threadPost = fake.calls('chat.postMessage').at(-1)?.args;
    expect(threadPost).toMatchObject({ channel: GENERAL, thread_ts: posted.ts, text: 'Rolling out…' });
    expect(threadPost?.blocks).toBeUndefined();
    expect(fake.calls('chat.postEphemeral')[0]?.args).toMatchObject({
      channel: GENERAL,
      user: ALICE,
      text: 'You approved it',
    });
    // Beside a top-level message, not in a thread of its own.
    expect(fake.calls('chat.postEphemeral')[0]?.args.thread_ts).toBeUndefined();
  });

  it('acts on a retried click once', async () => {
    clickOutcome = { ephemeral: { text: 'ok', blocks: [] } };
    const payload = blockActions({
      actionId: 'approve:p-43',
      value: 'p-43',
      responseUrl: fake.responseUrl(),
      messageTs: newTs(),
      triggerId: '555.666.click',
    });
    await sendInteraction(h.eventsUrl, payload, knobs);
    await sendInteraction(h.eventsUrl, payload, { ...knobs, retryNum: 1 });
    await fake.waitFor(() => fake.calls('chat.postEphemeral')[0]);
    await h.slack.idle();
    expect(clicks).toHaveLength(1);
  });

  it('refuses a tampered click payload: the clicker is told, the handler never runs', async () => {
    const payload = blockActions({
      actionId: 'approve:p-44',
      value: 'p-44',
      responseUrl: fake.responseUrl(),
      messageTs: newTs(),
    });
    (payload.actions as Array<Record<string, unknown>>)[0] = {
      type: 'button',
      action_id: 'approve:p-44',
      value: { $ne: 1 },
      action_ts: 'yesterday',
    };
    const res = await sendInteraction(h.eventsUrl, payload, knobs);
    expect(res.status).toBe(200);
    const refusal = await fake.waitFor(() => fake.calls('chat.postEphemeral')[0]);
    expect(refusal.args).toMatchObject({ channel: GENERAL, user: ALICE });
    expect(String(refusal.args.text)).toContain('That button is not valid');
    expect(clicks).toHaveLength(0);
  });

  it('apologises through the response_url when applying a click outcome fails (Bolt’s error handler)', async () => {
    clickOutcome = { update: { text: 'Approved', blocks: [] } };
    const posted = await h.slack.messenger.post(GENERAL, { text: 'proposal', blocks: [] });
    fake.failNext('chat.update', 'internal_error');
    const responseUrl = fake.responseUrl();
    await sendInteraction(
      h.eventsUrl,
      blockActions({ actionId: 'approve:p-45', value: 'p-45', responseUrl, messageTs: posted.ts }),
      knobs,
    );
    const apology = await fake.waitFor(() => fake.responses(responseUrl)[0]);
    expect(apology.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(String(apology.body.text)).toMatch(/^Sorry, something went wrong/);
    expect(h.logs.join('')).toMatch(/Slack handler failed.*internal_error|internal_error.*Slack handler failed/);
  });

  it('tells the clicker when no handler knows the button', async () => {
    const res = await sendInteraction(
      h.eventsUrl,
      blockActions({ actionId: 'mystery:1', value: '1', responseUrl: fake.responseUrl(), messageTs: newTs() }),
      knobs,
    );
    expect(res.status).toBe(200);
    const refusal = await fake.waitFor(() => fake.calls('chat.postEphemeral')[0]);
    expect(String(refusal.args.text)).toContain('no longer knows this button');
    expect(clicks).toHaveLength(0);
  });
});
