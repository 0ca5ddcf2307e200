// Property-based tests (fast-check): arbitrary command texts through the words-to-answer path the
// front door uses (Slack markup → plain words → Router), and arbitrary or mangled payloads through our
// zod schemas, the front-door checks and, a bounded number of times, Bolt's real HTTP receiver and
// Socket Mode client. Properties: nothing throws, every answer fits Slack, every delivery gets a
// prompt 200/400 and no unhandled rejection. Runs are few enough for the file to take seconds.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { type Block, LIMITS, type Rendered, fitToSlack } from '../../src/blocks/block-kit.ts';
import { commandsOf, allFeatures } from '../../src/features/index.ts';
import { createLogger } from '../../src/log.ts';
import { Router } from '../../src/router.ts';
import { checkDelivery } from '../../src/slack/front-door.ts';
import {
  blockActionsSchema,
  directMessageSchema,
  eventEnvelopeSchema,
  looseClickContext,
  mentionEventSchema,
  slashCommandSchema,
  viewSubmissionSchema,
} from '../../src/slack/payloads.ts';
import { slackTextToPlain, stripBotMention } from '../../src/slack/slack-text.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { type SignKnobs, postSigned } from '../support/slack-http.ts';
import {
  ALICE,
  BOT,
  GENERAL,
  TEAM,
  blockActions,
  mentionEvent,
  newTs,
  slashCommand,
} from '../support/slack-payloads.ts';
import {
  type Harness,
  SIGNING_SECRET,
  captureUnhandledRejections,
  logLines,
  startApp,
  unreachableKube,
} from './harness.ts';

const knobs: SignKnobs = { secret: SIGNING_SECRET };

// ---------------------------------------------------------------------------------------------
// Arbitraries

const verbs = commandsOf(allFeatures).flatMap((c) => [c.name, ...(c.aliases ?? [])]);
const slackMarkup = fc.oneof(
  fc.constantFrom(
    '<@U1>',
    `<@${BOT}>`,
    '<@W12345|bob>',
    '<#C1|x>',
    '<#C0123ABC|general>',
    '<https://x|y>',
    '<http://reviews.bookinfo|reviews.bookinfo>',
    '<mailto:a@b.c|a@b.c>',
    '<!here>',
    '<!subteam^S123|@sre>',
    '&lt;',
    '&gt;',
    '&amp;',
    '<',
    '>',
    '|',
  ),
  fc.string({ maxLength: 12 }).map((s) => `<${s}>`),
  fc.string({ maxLength: 12 }).map((s) => `<https://${s}|${s}>`),
);
const controlChars = fc.constantFrom(
  '\u0000',
  '\u0007',
  '\b',
  '\t',
  '\n',
  '\r',
  '\u001b[31m',
  '\u007f',
  '\u200b',
  '\u200d',
  '\u202e',
  '\ufeff',
  '\u2028',
  '\ud800',
  '\udfff',
);
const word = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 16 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 16 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  { weight: 3, arbitrary: slackMarkup },
  { weight: 2, arbitrary: controlChars },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '-n',
      '--namespace',
      '--all',
      '--cluster',
      '--cluster=nope',
      '--paste',
      '--istioctl',
      '-o',
      'json',
      '--',
      '-',
      '"',
      "'",
      '“quoted”',
      'bookinfo',
      'reviews-v2.bookinfo',
      'deployment/reviews-v2',
      'pod',
      'service',
    ),
  },
  { weight: 1, arbitrary: fc.string({ minLength: 240, maxLength: 300 }) },
);
const commandText = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(fc.constantFrom(...verbs, 'HELP', 'Stale', ''), fc.array(word, { maxLength: 8 }))
      .map(([v, ws]) => [v, ...ws].join(' ')),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.array(word, { maxLength: 10 }), fc.constantFrom(' ', '  ', '\t', '\n', '\u00a0'))
      .map(([ws, sep]) => ws.join(sep)),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 1990, maxLength: 2100 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 5000, maxLength: 40_000 }).map((s) => `help ${s}`) },
);

/** Every path into a JSON value: the places a mutation can hit. */
function pathsOf(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
}

const oddValue = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.constantFrom('', 'null', '[]', '{}', 0, -1, 1e308, true, false),
  fc.string({ maxLength: 20 }),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
  fc.jsonValue({ maxDepth: 2 }),
);

/** A real-looking payload with a few of its fields replaced by odd values or deleted. */
function mangled(base: Record<string, unknown>): fc.Arbitrary<unknown> {
  const paths = pathsOf(base);
  const op = fc.record({ path: fc.constantFrom(...paths), del: fc.boolean(), value: oddValue });
  return fc.array(op, { minLength: 1, maxLength: 4 }).map((ops) => {
    let root: unknown = structuredClone(base);
    for (const { path, del, value } of ops) {
      if (path.length === 0) {
        root = value;
        continue;
      }
      let node: unknown = root;
      for (const key of path.slice(0, -1))
        node = node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>)[key] : undefined;
      if (node === null || typeof node !== 'object') continue;
      const last = path[path.length - 1] as string | number;
      if (del) delete (node as Record<string | number, unknown>)[last];
      else (node as Record<string | number, unknown>)[last] = value;
    }
    return root;
  });
}

const user = { id: ALICE, username: 'alice', team_id: TEAM };
const samples = {
  blockActions: () =>
    blockActions({
      actionId: 'approve:p-1',
      value: 'p-1',
      responseUrl: 'http://127.0.0.1:9/response/R1',
      messageTs: '1700000000.000100',
    }),
  viewSubmission: () => ({
    type: 'view_submission',
    user,
    team: { id: TEAM },
    view: {
      id: 'V00000001',
      callback_id: 'silence:x',
      private_metadata: '{"channel":"C1"}',
      state: { values: { b: { a: { type: 'plain_text_input', value: 'v' } } } },
    },
  }),
  mention: () => mentionEvent('help', { ts: '1700000000.000200' }),
  slash: () => slashCommand('help', { responseUrl: 'http://127.0.0.1:9/response/R2', triggerId: '1.2.3' }),
};
const anyPayload = fc.oneof(
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 3, arbitrary: mangled(samples.blockActions()) },
  { weight: 3, arbitrary: mangled(samples.viewSubmission()) },
  { weight: 3, arbitrary: mangled(samples.mention()) },
  { weight: 1, arbitrary: mangled(samples.slash()) },
);

// ---------------------------------------------------------------------------------------------
// Slack's limits, as the fake (and Slack) enforce them

function expectFitsSlack(rendered: Rendered): void {
  expect(typeof rendered.text).toBe('string');
  expect(rendered.text.length).toBeGreaterThan(0);
  expect(rendered.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
  expect(rendered.blocks.length).toBeLessThanOrEqual(LIMITS.blocksPerMessage);
  expect(JSON.stringify(rendered.blocks).length).toBeLessThanOrEqual(LIMITS.totalBlockChars + 2000);
  for (const b of rendered.blocks as Block[]) {
    if (b.type === 'section') {
      expect((b.text?.text ?? '').length).toBeLessThanOrEqual(LIMITS.sectionText);
      for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(LIMITS.fieldText);
      expect((b.fields ?? []).length).toBeLessThanOrEqual(LIMITS.fieldsPerSection);
    }
    if (b.type === 'header') expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.headerText);
    if (b.type === 'context') expect(b.elements.length).toBeLessThanOrEqual(LIMITS.contextElements);
    if (b.type === 'actions') expect(b.elements.length).toBeLessThanOrEqual(LIMITS.actionsElements);
  }
}

// ---------------------------------------------------------------------------------------------

describe('command texts (property)', () => {
  const router = new Router({
    commands: commandsOf(allFeatures),
    clusters: [{ name: 'test-cluster', kube: unreachableKube() }],
    log: createLogger({ level: 'silent' }),
  });
  const requester = { userId: ALICE, userName: 'alice', channelId: GENERAL, source: 'slack' as const };

  it('reading any text never throws and answers within Slack’s limits', async () => {
    const seen = new Map<string, number>();
    const count = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);
    await fc.assert(
      fc.asyncProperty(commandText, async (raw) => {
        const text = slackTextToPlain(stripBotMention(raw, BOT));
        const prepared = await router.prepare(text, requester);
        count(
          'rendered' in prepared ? prepared.outcome : prepared.touchesCluster ? 'runs on the cluster' : 'runs locally',
        );
        if ('rendered' in prepared) {
          expect(['user_error', 'refused', 'error', 'ok']).toContain(prepared.outcome);
          expectFitsSlack(prepared.rendered);
          expectFitsSlack(fitToSlack(prepared.rendered));
        } else {
          expect(typeof prepared.touchesCluster).toBe('boolean');
        }
      }),
      { numRuns: 400 },
    );
    // The generator reaches every path: refusals in words, and commands that would run. Runnable texts are about
    // one in twenty of a random run (19 of 400 seen once), so their floor is low enough never to fail by chance.
    expect(seen.get('user_error') ?? 0).toBeGreaterThan(20);
    expect((seen.get('runs on the cluster') ?? 0) + (seen.get('runs locally') ?? 0)).toBeGreaterThan(5);
  });

  it('running what parses never throws and answers within Slack’s limits (the cluster is unreachable)', async () => {
    const outcomes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(commandText, async (raw) => {
        const reply = await router.handle(slackTextToPlain(stripBotMention(raw, BOT)), requester);
        outcomes.add(reply.outcome);
        expectFitsSlack(fitToSlack(reply.rendered));
      }),
      { numRuns: 60 },
    );
    expect(outcomes.has('user_error')).toBe(true);
    expect(outcomes.has('ok') || outcomes.has('error')).toBe(true);
  }, 30_000);
});

describe('payloads (property)', () => {
  it('our zod schemas and the loose click reader never throw on any payload', () => {
    fc.assert(
      fc.property(anyPayload, (p) => {
        for (const schema of [
          blockActionsSchema,
          viewSubmissionSchema,
          mentionEventSchema,
          directMessageSchema,
          eventEnvelopeSchema,
          slashCommandSchema,
        ]) {
          const r = schema.safeParse(p);
          expect(typeof r.success).toBe('boolean');
        }
        const loose = looseClickContext(p);
        for (const v of [loose.userId, loose.channelId, loose.responseUrl])
          expect(v === undefined || typeof v === 'string').toBe(true);
        const event = (p as { event?: unknown } | null)?.event;
        expect(() => mentionEventSchema.safeParse(event)).not.toThrow();
      }),
      { numRuns: 1500 },
    );
  });

  it('the front-door check never throws, and passes only what has the shape Bolt reads', () => {
    fc.assert(
      fc.property(anyPayload, (p) => {
        const verdict = checkDelivery(p, { commandName: '/mesh' });
        expect(['pass', 'ack', 'refuse']).toContain(verdict.kind);
        if (p === null || typeof p !== 'object' || Array.isArray(p)) expect(verdict.kind).toBe('refuse');
        if (verdict.kind === 'pass') {
          const b = p as Record<string, unknown>;
          if (b.event !== undefined) expect(typeof (b.event as { type?: unknown }).type).toBe('string');
          if (b.type === 'block_actions' && b.event === undefined && b.command === undefined && b.name === undefined) {
            expect(Array.isArray(b.actions) && b.actions.length > 0).toBe(true);
            expect(typeof b.user === 'object' && b.user !== null).toBe(true);
          }
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('passes the real payloads meshops handles', () => {
    for (const p of [samples.blockActions(), samples.viewSubmission(), samples.mention(), samples.slash()])
      expect(checkDelivery(p, { commandName: '/mesh' })).toEqual({ kind: 'pass' });
  });
});

describe('deliveries through Bolt (property, bounded)', () => {
  let fake: SlackFake;
  let http: Harness;
  let socket: Harness;
  let capture: ReturnType<typeof captureUnhandledRejections>;

  beforeAll(async () => {
    capture = captureUnhandledRejections();
    fake = await startSlackFake();
    const handlers = {
      clickHandlers: { 'approve:': async () => ({ ephemeral: { text: 'ok', blocks: [] } }) },
      viewHandlers: { 'silence:': async () => undefined },
    };
    http = await startApp(fake, 'http', handlers);
    socket = await startApp(fake, 'socket', handlers);
  });

  afterAll(async () => {
    capture?.stop();
    await http?.slack.stop();
    await socket?.slack.stop();
    await fake?.close();
  });

  const noErrors = (h: Harness, from: number) =>
    logLines(h.logs.slice(from)).filter((l) => l.level >= 50 || l.msg === 'Slack handler failed');

  it('answers any signed payload over HTTP at once with 200 or 400, with no rejection and no error logged', async () => {
    const mark = http.logs.length;
    await fc.assert(
      fc.asyncProperty(anyPayload, fc.boolean(), async (p, asForm) => {
        const json = JSON.stringify(p) ?? 'null';
        const res = asForm
          ? await postSigned(
              http.eventsUrl,
              new URLSearchParams({ payload: json }).toString(),
              'application/x-www-form-urlencoded',
              knobs,
            )
          : await postSigned(http.eventsUrl, json, 'application/json', knobs);
        expect([200, 400]).toContain(res.status);
        expect(res.ms).toBeLessThan(1000);
      }),
      { numRuns: 60 },
    );
    await http.slack.idle(5000);
    await new Promise((r) => setTimeout(r, 50));
    expect(capture.seen).toEqual([]);
    expect(noErrors(http, mark)).toEqual([]);
  }, 30_000);

  it('acks any envelope over Socket Mode at once, with no rejection and no error logged', async () => {
    const mark = socket.logs.length;
    const type = fc.constantFrom('interactive', 'events_api', 'slash_commands');
    await fc.assert(
      fc.asyncProperty(anyPayload, type, async (p, t) => {
        const envelopeId = `env-${newTs()}`;
        fake.socket.sendRaw(
          JSON.stringify({
            envelope_id: envelopeId,
            type: t,
            payload: p,
            accepts_response_payload: t !== 'events_api',
          }),
        );
        await fake.socket.waitForAck(envelopeId, 1000);
      }),
      { numRuns: 40 },
    );
    await socket.slack.idle(5000);
    await new Promise((r) => setTimeout(r, 50));
    expect(capture.seen).toEqual([]);
    expect(noErrors(socket, mark)).toEqual([]);
  }, 30_000);

  it('answers arbitrary slash command texts over HTTP, and what it posts Slack accepts', async () => {
    fake.clear();
    await fc.assert(
      fc.asyncProperty(
        commandText.filter((t) => t.length <= 3000),
        async (text) => {
          const responseUrl = fake.responseUrl();
          const res = await postSigned(
            http.eventsUrl,
            new URLSearchParams(slashCommand(text, { responseUrl })).toString(),
            'application/x-www-form-urlencoded',
            knobs,
          );
          expect(res.status).toBe(200);
          expect(res.ms).toBeLessThan(1000);
        },
      ),
      { numRuns: 25 },
    );
    await http.slack.idle(10_000);
    expect(fake.calls('chat.postMessage').length + fake.responses().length).toBeGreaterThanOrEqual(25);
    // Every chat.postMessage / chat.update was accepted by the fake, which refuses what Slack refuses.
    const refused = fake
      .calls()
      .filter((c) => c.method.startsWith('chat.'))
      .filter((c) => c.status !== 200);
    expect(refused).toEqual([]);
    expect(noErrors(http, 0).filter((l) => l.msg === 'could not even apologise')).toEqual([]);
  }, 30_000);
});
