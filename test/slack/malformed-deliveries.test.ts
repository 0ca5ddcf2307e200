// Signed but malformed deliveries, and interaction types meshops does not handle, through Bolt's own
// receivers (HTTP and Socket Mode): each is answered at once (200 or 400, never a 500 or Bolt's 3 s
// timeout), and none leaves an unhandled rejection or an error-level line in the log.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { type SignKnobs, postSigned, sendSlashCommand } from '../support/slack-http.ts';
import { ALICE, GENERAL, TEAM, blockActions, mentionEvent, newTs, slashCommand } from '../support/slack-payloads.ts';
import { type Harness, SIGNING_SECRET, captureUnhandledRejections, logLines, startApp } from './harness.ts';

const knobs: SignKnobs = { secret: SIGNING_SECRET };
const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
/** Well under Slack's 3 s: these are answered without any work. */
const PROMPT_MS = 1000;

let fake: SlackFake;
let http: Harness;
let socket: Harness;
let capture: ReturnType<typeof captureUnhandledRejections>;
let rejections: unknown[] = [];

beforeAll(async () => {
  capture = captureUnhandledRejections();
  rejections = capture.seen;
  fake = await startSlackFake();
  http = await startApp(fake, 'http', {
    clickHandlers: { 'approve:': async () => ({ ephemeral: { text: 'ok', blocks: [] } }) },
  });
  socket = await startApp(fake, 'socket');
});

afterAll(async () => {
  capture?.stop();
  // Nothing leaked between tests either.
  expect(rejections).toEqual([]);
  await http?.slack.stop();
  await socket?.slack.stop();
  await fake?.close();
});

const user = { id: ALICE, username: 'alice', team_id: TEAM };
const team = { id: TEAM, domain: 'fake' };
const form = (payload: string) => new URLSearchParams({ payload }).toString();
const interaction = (payload: unknown) => form(JSON.stringify(payload));
const eventCallback = (event: unknown, extra: Record<string, unknown> = {}) => ({
  type: 'event_callback',
  team_id: TEAM,
  api_app_id: 'A0000001',
  event_id: `Ev${newTs().replace('.', '')}`,
  event_time: 1,
  event,
  ...extra,
});
const button = (over: Record<string, unknown> = {}) => ({
  ...blockActions({ actionId: 'approve:x', value: 'x', responseUrl: fake.responseUrl(), messageTs: newTs() }),
  ...over,
});

interface Case {
  name: string;
  body: () => string;
  contentType: string;
  status: number;
  /** The answer's body, when it matters (options requests). */
  answer?: unknown;
}

const cases: Case[] = [
  { name: 'payload=null', contentType: FORM, body: () => form('null'), status: 400 },
  { name: 'a JSON body that is null', contentType: JSON_TYPE, body: () => 'null', status: 400 },
  { name: 'a payload that is a JSON string', contentType: FORM, body: () => form('"block_actions"'), status: 400 },
  { name: 'a payload that is an array', contentType: FORM, body: () => form('[1,2]'), status: 400 },
  { name: 'a body that is not JSON', contentType: JSON_TYPE, body: () => '{"type":', status: 400 },
  { name: 'a payload that is not JSON', contentType: FORM, body: () => form('{nope'), status: 400 },
  {
    name: 'block_actions with actions not an array',
    contentType: FORM,
    body: () => interaction(button({ actions: 'approve' })),
    status: 200,
  },
  {
    name: 'block_actions with actions an object',
    contentType: FORM,
    body: () => interaction(button({ actions: { 0: { action_id: 'approve:x' } } })),
    status: 200,
  },
  {
    name: 'block_actions with no actions',
    contentType: FORM,
    body: () => interaction(button({ actions: [] })),
    status: 200,
  },
  {
    name: 'block_actions whose action is null',
    contentType: FORM,
    body: () => interaction(button({ actions: [null] })),
    status: 200,
  },
  {
    name: 'block_actions without user',
    contentType: FORM,
    body: () => interaction(button({ user: undefined, team: null })),
    status: 200,
  },
  {
    name: 'block_actions with user null',
    contentType: FORM,
    body: () => interaction(button({ user: null })),
    status: 200,
  },
  {
    name: 'block_actions with channel null',
    contentType: FORM,
    body: () => interaction(button({ channel: null })),
    status: 200,
  },
  {
    name: 'block_actions with a select menu instead of a button',
    contentType: FORM,
    body: () =>
      interaction(
        button({
          actions: [
            { type: 'static_select', action_id: 'approve:x', action_ts: '1.2', selected_option: { value: 'a' } },
          ],
        }),
      ),
    status: 200,
  },
  {
    name: 'view_submission with view null',
    contentType: FORM,
    body: () => interaction({ type: 'view_submission', user, team, view: null }),
    status: 200,
  },
  {
    name: 'view_submission without user',
    contentType: FORM,
    body: () =>
      interaction({ type: 'view_submission', team: null, view: { id: 'V1', callback_id: 'x', state: { values: {} } } }),
    status: 200,
  },
  {
    name: 'view_submission with response_urls null',
    contentType: FORM,
    body: () =>
      interaction({
        type: 'view_submission',
        user,
        team,
        view: { id: 'V00000001', callback_id: 'x', state: { values: {} } },
        response_urls: null,
      }),
    status: 200,
  },
  {
    name: 'view_submission with state null',
    contentType: FORM,
    body: () =>
      interaction({ type: 'view_submission', user, team, view: { id: 'V00000001', callback_id: 'x', state: null } }),
    status: 200,
  },
  {
    name: 'view_closed without view',
    contentType: FORM,
    body: () => interaction({ type: 'view_closed', user, team }),
    status: 200,
  },
  {
    name: 'event: null in an event_callback',
    contentType: JSON_TYPE,
    body: () => JSON.stringify(eventCallback(null)),
    status: 200,
  },
  {
    name: 'event that is a string',
    contentType: JSON_TYPE,
    body: () => JSON.stringify(eventCallback('app_mention')),
    status: 200,
  },
  {
    name: 'event without a type',
    contentType: JSON_TYPE,
    body: () => JSON.stringify(eventCallback({ user: ALICE, text: 'hi', channel: GENERAL })),
    status: 200,
  },
  {
    name: 'app_mention with channel null',
    contentType: JSON_TYPE,
    body: () =>
      JSON.stringify(
        eventCallback({ type: 'app_mention', user: ALICE, text: '<@UBOT0001> help', ts: '1.1', channel: null }),
      ),
    status: 200,
  },
  {
    name: 'app_mention with user null',
    contentType: JSON_TYPE,
    body: () =>
      JSON.stringify(
        eventCallback({ type: 'app_mention', user: null, text: '<@UBOT0001> help', ts: '1.1', channel: GENERAL }),
      ),
    status: 200,
  },
  {
    name: 'app_mention without user or text',
    contentType: JSON_TYPE,
    body: () => JSON.stringify(eventCallback({ type: 'app_mention', ts: '1.1', channel: GENERAL })),
    status: 200,
  },
  {
    name: 'reaction_added with item null',
    contentType: JSON_TYPE,
    body: () => JSON.stringify(eventCallback({ type: 'reaction_added', user: ALICE, item: null })),
    status: 200,
  },
  {
    name: 'authorizations: [null]',
    contentType: JSON_TYPE,
    body: () =>
      JSON.stringify(
        eventCallback(
          { type: 'app_mention', user: ALICE, text: 'x', ts: '1.1', channel: GENERAL },
          { authorizations: [null] },
        ),
      ),
    status: 200,
  },
  {
    name: 'function_executed (no listener acks it)',
    contentType: JSON_TYPE,
    body: () => JSON.stringify(eventCallback({ type: 'function_executed', function_execution_id: 'Fx1', inputs: {} })),
    status: 200,
  },
  {
    name: 'an event type meshops does not listen to',
    contentType: JSON_TYPE,
    body: () =>
      JSON.stringify(eventCallback({ type: 'channel_created', channel: { id: 'CNEW00001', creator: ALICE } })),
    status: 200,
  },
  {
    name: 'a global shortcut',
    contentType: FORM,
    body: () => interaction({ type: 'shortcut', callback_id: 'do_it', trigger_id: '1.2.3', user, team }),
    status: 200,
  },
  {
    name: 'a message shortcut',
    contentType: FORM,
    body: () =>
      interaction({
        type: 'message_action',
        callback_id: 'do_it',
        trigger_id: '1.2.3',
        user,
        team,
        channel: { id: GENERAL },
        message: { ts: '1.1', text: 'x' },
      }),
    status: 200,
  },
  {
    name: 'a block_suggestion',
    contentType: FORM,
    body: () => interaction({ type: 'block_suggestion', action_id: 'pick', block_id: 'b', value: 're', user, team }),
    status: 200,
    answer: { options: [] },
  },
  {
    name: 'a block_suggestion without user',
    contentType: FORM,
    body: () => interaction({ type: 'block_suggestion', action_id: 'pick', value: 're', team: null }),
    status: 200,
    answer: { options: [] },
  },
  {
    name: 'a legacy interactive_message',
    contentType: FORM,
    body: () =>
      interaction({
        type: 'interactive_message',
        callback_id: 'c',
        actions: [{ name: 'a', type: 'button', value: 'v' }],
        user,
        team,
        channel: { id: GENERAL },
      }),
    status: 200,
  },
  {
    name: 'a dialog_submission',
    contentType: FORM,
    body: () =>
      interaction({
        type: 'dialog_submission',
        callback_id: 'c',
        submission: {},
        user,
        team,
        channel: { id: GENERAL },
      }),
    status: 200,
  },
  {
    name: 'an interaction type nobody knows',
    contentType: FORM,
    body: () => interaction({ type: 'something_new', user, team }),
    status: 200,
  },
  {
    name: 'a type that is not a string',
    contentType: FORM,
    body: () => interaction({ type: 42, user, team }),
    status: 200,
  },
  { name: 'a form with neither payload nor command', contentType: FORM, body: () => 'foo=bar', status: 200 },
  {
    name: 'a slash command for another app command',
    contentType: FORM,
    body: () =>
      new URLSearchParams(slashCommand('help', { responseUrl: fake.responseUrl() }))
        .toString()
        .replace('%2Fmesh', '%2Fother'),
    status: 200,
  },
  { name: 'an empty JSON object', contentType: JSON_TYPE, body: () => '{}', status: 200 },
];

/** Error-level lines (and Bolt's 'Slack handler failed') logged since `from`. */
function errorLines(h: Harness, from = 0) {
  return logLines(h.logs.slice(from)).filter((l) => l.level >= 50 || l.msg === 'Slack handler failed');
}

describe('malformed deliveries over HTTP', () => {
  it('the rejection capture works (a control: an unhandled rejection is seen)', async () => {
    const before = rejections.length;
    const control = Promise.reject(new Error('control rejection'));
    await new Promise((r) => setTimeout(r, 20));
    expect(rejections.length).toBe(before + 1);
    // Handled late: Node says so, and Jest forgets it instead of failing this test.
    await control.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 20));
    rejections.length = before;
  });

  it.each(cases)('answers $name at once with $status', async (c) => {
    const logMark = http.logs.length;
    const rejectionMark = rejections.length;
    const res = await postSigned(http.eventsUrl, c.body(), c.contentType, knobs);
    expect(res.status).toBe(c.status);
    expect(res.ms).toBeLessThan(PROMPT_MS);
    if (c.answer !== undefined) expect(JSON.parse(res.body)).toEqual(c.answer);
    // Anything the bot does after the ack (a refusal to the clicker) has its chance to fail too.
    await http.slack.idle(2000);
    await new Promise((r) => setTimeout(r, 30));
    expect(rejections.slice(rejectionMark)).toEqual([]);
    expect(errorLines(http, logMark)).toEqual([]);
  });

  it('still answers a well-formed command after all of them', async () => {
    const res = await sendSlashCommand(
      http.eventsUrl,
      slashCommand('help', { responseUrl: fake.responseUrl() }),
      knobs,
    );
    expect(res.status).toBe(200);
    await fake.waitFor(() =>
      fake.calls('chat.postMessage').find((c) => String(c.args.text).startsWith('meshops commands')),
    );
  });

  it('refuses a malformed body with a bad signature as unsigned (401), not as malformed', async () => {
    const res = await postSigned(http.eventsUrl, form('null'), FORM, { ...knobs, badSignature: true });
    expect(res.status).toBe(401);
  });
});

describe('request timestamps', () => {
  const body = () => JSON.stringify(mentionEvent('help'));
  const now = () => Math.floor(Date.now() / 1000);

  it('refuses a timestamp more than 5 minutes in the future with 401, as a stale one', async () => {
    const future = await postSigned(http.eventsUrl, body(), JSON_TYPE, { ...knobs, timestamp: now() + 301 });
    const farFuture = await postSigned(http.eventsUrl, body(), JSON_TYPE, { ...knobs, timestamp: now() + 86_400 });
    const stale = await postSigned(http.eventsUrl, body(), JSON_TYPE, { ...knobs, stale: true });
    expect([future.status, farFuture.status, stale.status]).toEqual([401, 401, 401]);
    expect(
      logLines(http.logs).some((l) =>
        /Slack request refused: its timestamp is more than 5 minutes ahead of our clock/.test(l.msg),
      ),
    ).toBe(true);
  });

  it('accepts a timestamp a little ahead of our clock (Slack’s clock may run fast)', async () => {
    const res = await postSigned(http.eventsUrl, body(), JSON_TYPE, { ...knobs, timestamp: now() + 200 });
    expect(res.status).toBe(200);
  });

  it('refuses a request without a usable timestamp with 401', async () => {
    const res = await fetch(http.eventsUrl, {
      method: 'POST',
      headers: { 'content-type': JSON_TYPE, 'x-slack-signature': 'v0=00' },
      body: body(),
    });
    expect(res.status).toBe(401);
    const res2 = await postSigned(http.eventsUrl, body(), JSON_TYPE, { ...knobs, timestamp: -5 });
    expect(res2.status).toBe(401);
  });

  it('leaves other paths to Bolt (404)', async () => {
    const res = await fetch(http.eventsUrl.replace('/slack/events', '/other'), { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
  });
});

describe('malformed envelopes over Socket Mode', () => {
  const envelopes: Array<{ name: string; type: string; payload: unknown; answer?: unknown }> = [
    { name: 'interactive with payload null', type: 'interactive', payload: null },
    {
      name: 'interactive with actions not an array',
      type: 'interactive',
      payload: { type: 'block_actions', user, team, actions: 'x' },
    },
    {
      name: 'interactive without user',
      type: 'interactive',
      payload: {
        type: 'block_actions',
        team: null,
        actions: [{ type: 'button', action_id: 'a', value: 'v', action_ts: '1.1' }],
      },
    },
    { name: 'events_api with event: null', type: 'events_api', payload: eventCallback(null) },
    { name: 'events_api with payload null', type: 'events_api', payload: null },
    { name: 'events_api without an event', type: 'events_api', payload: { type: 'event_callback' } },
    { name: 'slash_commands with payload null', type: 'slash_commands', payload: null },
    { name: 'slash_commands with payload a string', type: 'slash_commands', payload: 'command=/mesh' },
    {
      name: 'a global shortcut',
      type: 'interactive',
      payload: { type: 'shortcut', callback_id: 'x', trigger_id: '1.2.3', user, team },
    },
    {
      name: 'a block_suggestion',
      type: 'interactive',
      payload: { type: 'block_suggestion', action_id: 'pick', value: 're', user, team },
      answer: { options: [] },
    },
    { name: 'an envelope type nobody knows', type: 'something_new', payload: { a: 1 } },
  ];

  it.each(envelopes)('acks $name at once', async (e) => {
    const logMark = socket.logs.length;
    const rejectionMark = rejections.length;
    const envelopeId = `env-${Math.random().toString(36).slice(2)}`;
    const sent = Date.now();
    fake.socket.sendRaw(
      JSON.stringify({ envelope_id: envelopeId, type: e.type, payload: e.payload, accepts_response_payload: true }),
    );
    const ack = await fake.socket.waitForAck(envelopeId, PROMPT_MS);
    expect(ack.at - sent).toBeLessThan(PROMPT_MS);
    if (e.answer !== undefined) expect(ack.payload).toEqual(e.answer);
    await socket.slack.idle(2000);
    await new Promise((r) => setTimeout(r, 30));
    expect(rejections.slice(rejectionMark)).toEqual([]);
    expect(errorLines(socket, logMark)).toEqual([]);
  });

  it('drops messages that are not envelopes at all, without a rejection', async () => {
    const logMark = socket.logs.length;
    const rejectionMark = rejections.length;
    for (const raw of ['null', '[]', '"hello"', '{"type":"events_api"}', '{"envelope_id":7}', '{not json'])
      fake.socket.sendRaw(raw);
    await new Promise((r) => setTimeout(r, 100));
    expect(rejections.slice(rejectionMark)).toEqual([]);
    expect(errorLines(socket, logMark)).toEqual([]);
    // …and the connection still works.
    const id = fake.socket.send('slash_commands', slashCommand('help', { responseUrl: fake.responseUrl() }));
    await fake.socket.waitForAck(id, PROMPT_MS);
  });
});
