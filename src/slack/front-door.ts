// In front of Bolt, on both doors: a delivery is checked for the shape Bolt itself relies on before Bolt
// sees it. Bolt reads `body.event.type`, `body.user.id`, `body.view.…` and more without checking, so a
// signed but malformed delivery (payload=null, `event: null`, `actions` not an array, no `user`) would
// throw inside it: an unhandled rejection, a 500, or an envelope never acknowledged. Here such a
// delivery gets its answer at once and is dropped, and so does anything Bolt has no listener for.
// HTTP also refuses a request timestamp more than five minutes away from our clock in either direction
// (Bolt refuses only old ones).
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import { type HTTPReceiver, type SocketModeReceiver, verifySlackRequest } from '@slack/bolt';
import { z } from 'zod';
import type { Logger } from '../log.ts';

/** How far a request's X-Slack-Request-Timestamp may be from our clock, either way. */
export const MAX_CLOCK_SKEW_SECONDS = 300;
/** Bolt's own body limit. */
const BODY_LIMIT_BYTES = 4 * 1024 * 1024;

/** What to do with a parsed delivery. */
export type Verdict =
  /** Hand it to Bolt. */
  | { kind: 'pass' }
  /** Answer now (HTTP 200, or the Socket Mode ack), with `response` as the body; Bolt never sees it. */
  | { kind: 'ack'; reason: string; response?: Record<string, unknown> }
  /** Not a delivery at all: HTTP 400 (Socket Mode: acked so Slack does not resend it, and dropped). */
  | { kind: 'refuse'; reason: string };

const record = z.record(z.string(), z.unknown());
/** Absent, or an object: Bolt dereferences these when they are there. */
const recordIfPresent = record.optional();
/** Absent, or an array of objects (Bolt reads `[0].…`). */
const recordsIfPresent = z.array(record).optional();
/** A string or an object, never null (Bolt reads `.id` of an object and `'x' in` it). */
const stringOrRecord = z.union([z.string(), record]).optional();

const eventSchema = z.looseObject({
  type: z.string().min(1).max(255),
  channel: stringOrRecord,
  user: stringOrRecord,
  item: recordIfPresent,
  subteam: recordIfPresent,
});
const eventCallbackSchema = z.looseObject({
  event: eventSchema,
  authorizations: z.unknown().refine((v) => !Array.isArray(v) || v.every((a) => record.safeParse(a).success)),
});
const commandSchema = z.looseObject({ command: z.string().min(1).max(64) });
/** What every interaction carries that Bolt reads: who (user.id, team), where (channel.id). */
const interactionSchema = z.looseObject({
  type: z.string().min(1).max(64),
  user: record,
  response_urls: recordsIfPresent,
});
/** Bolt reads `channel.id` of actions, options requests and message shortcuts (a view's channel it leaves alone). */
const channelSchema = z.looseObject({ channel: stringOrRecord });
const actionsSchema = z.looseObject({ actions: z.array(record).min(1).max(25) });
const viewSchema = z.looseObject({ view: record });

/** Interaction types Bolt dispatches that meshops has listeners for. */
const ACTION_TYPES = new Set(['block_actions']);
const VIEW_TYPES = new Set(['view_submission', 'view_closed']);

export interface CheckOptions {
  /** The slash command this app answers; others are acknowledged and ignored. */
  commandName: string;
}

/**
 * Sorts a delivery the way Bolt will (App#processEvent → getTypeAndConversation) and checks the fields
 * Bolt reads for that sort. Never throws.
 */
export function checkDelivery(body: unknown, options: CheckOptions): Verdict {
  const top = record.safeParse(body);
  if (!top.success) return { kind: 'refuse', reason: `the delivery is ${describe(body)}, not a JSON object` };
  const b = top.data;
  if (b.type === 'url_verification' || b.ssl_check === '1') return { kind: 'pass' };

  if (b.event !== undefined) {
    const parsed = eventCallbackSchema.safeParse(b);
    if (!parsed.success) return { kind: 'ack', reason: `event envelope: ${firstIssue(parsed.error)}` };
    // Bolt leaves function_executed unacknowledged for a listener to ack; meshops has none.
    if (parsed.data.event.type === 'function_executed')
      return { kind: 'ack', reason: 'function_executed is not handled' };
    return { kind: 'pass' };
  }
  if (b.command !== undefined) {
    const parsed = commandSchema.safeParse(b);
    if (!parsed.success) return { kind: 'ack', reason: `slash command: ${firstIssue(parsed.error)}` };
    if (parsed.data.command !== options.commandName)
      return { kind: 'ack', reason: `slash command ${parsed.data.command.slice(0, 64)} is not ours` };
    return { kind: 'pass' };
  }
  const isOptions = b.name !== undefined || b.type === 'block_suggestion';
  const isAction = !isOptions && (b.actions !== undefined || b.type === 'dialog_submission');
  const isShortcut = !isOptions && !isAction && (b.type === 'shortcut' || b.type === 'message_action');
  const isView = !isOptions && !isAction && !isShortcut && typeof b.type === 'string' && VIEW_TYPES.has(b.type);
  if (!isOptions && !isAction && !isShortcut && !isView)
    return { kind: 'ack', reason: `a delivery of type ${describeType(b.type)} is not handled` };

  const interaction = interactionSchema.safeParse(b);
  if (!interaction.success)
    return {
      kind: 'ack',
      reason: `interaction: ${firstIssue(interaction.error)}`,
      ...(isOptions ? { response: { options: [] } } : {}),
    };
  const type = interaction.data.type;
  if (!isView) {
    const channel = channelSchema.safeParse(b);
    if (!channel.success)
      return {
        kind: 'ack',
        reason: `interaction: ${firstIssue(channel.error)}`,
        ...(isOptions ? { response: { options: [] } } : {}),
      };
  }
  // Menus with options loaded from the app: meshops has none, so the honest answer is no options.
  if (isOptions)
    return { kind: 'ack', reason: `${type.slice(0, 64)} (options request) is not handled`, response: { options: [] } };
  if (isShortcut) return { kind: 'ack', reason: `${type} is not handled` };
  if (isAction) {
    if (!ACTION_TYPES.has(type))
      return { kind: 'ack', reason: `an action of type ${type.slice(0, 64)} is not handled` };
    const parsed = actionsSchema.safeParse(b);
    if (!parsed.success) return { kind: 'ack', reason: `block_actions: ${firstIssue(parsed.error)}` };
    return { kind: 'pass' };
  }
  const view = viewSchema.safeParse(b);
  if (!view.success) return { kind: 'ack', reason: `${type}: ${firstIssue(view.error)}` };
  return { kind: 'pass' };
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'malformed';
  const path = issue.path.map(String).join('.') || 'the body';
  // Our words, not zod's: what was expected where.
  if (issue.code === 'invalid_type') return `${path} is missing or of the wrong type (expected ${issue.expected})`;
  if (issue.code === 'too_small') return `${path} is empty`;
  if (issue.code === 'too_big') return `${path} is too large`;
  return `${path} is not valid`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function describeType(type: unknown): string {
  return typeof type === 'string' ? type.slice(0, 64) || '(empty)' : `(${describe(type)})`;
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface HttpGuardOptions extends CheckOptions {
  signingSecret: string;
  /** The receiver's endpoint path (Bolt's `endpoints`). */
  endpoint: string;
  log: Logger;
  now?: () => number;
}

/**
 * Puts the checks in front of Bolt's HTTPReceiver: its request listener is wrapped, so requests to the
 * events endpoint are read, verified (signature and a timestamp within five minutes either way), parsed
 * and sorted here first; the body is handed on already read, which Bolt's own reader accepts.
 */
export function guardHttpReceiver(receiver: HTTPReceiver, options: HttpGuardOptions): void {
  const inner = receiver.requestListener;
  const log = options.log;
  receiver.requestListener = (req, res) => {
    if (!isEndpoint(req, options.endpoint)) {
      inner(req, res); // Bolt routes the rest (404 for unknown paths)
      return;
    }
    screenHttp(req, res, options)
      .then((pass) => {
        if (pass) inner(req, res);
      })
      .catch((err: unknown) => {
        log.error({ err }, 'the Slack front door failed on a request');
        if (!res.headersSent) answer(res, 400);
      });
  };
}

function isEndpoint(req: IncomingMessage, endpoint: string): boolean {
  if ((req.method ?? '').toUpperCase() !== 'POST') return false;
  try {
    return new URL(req.url ?? '/', 'http://localhost').pathname === endpoint;
  } catch {
    return false;
  }
}

const timestampHeader = z
  .string()
  .regex(/^\d{1,12}$/)
  .transform(Number);

/** Resolves true when Bolt should take the request; otherwise it has been answered. */
async function screenHttp(req: IncomingMessage, res: ServerResponse, options: HttpGuardOptions): Promise<boolean> {
  const log = options.log;
  const raw = await readBody(req, BODY_LIMIT_BYTES);
  if (raw === 'too_large') {
    log.warn({ limit: BODY_LIMIT_BYTES }, 'Slack request refused: body over the limit');
    answer(res, 413);
    return false;
  }
  // Bolt reads the body from here instead of the (consumed) stream.
  (req as IncomingMessage & { rawBody?: Buffer }).rawBody = raw;
  const text = raw.toString('utf8');
  const form = req.headers['content-type'] === 'application/x-www-form-urlencoded';
  // Slack's ssl_check is unsigned by design; Bolt answers it and drops anything else in the body.
  if (form && parseQueryString(text).ssl_check === '1') return true;

  const stamp = timestampHeader.safeParse(req.headers['x-slack-request-timestamp']);
  if (!stamp.success) {
    log.warn('Slack request refused: no usable X-Slack-Request-Timestamp');
    answer(res, 401);
    return false;
  }
  const skew = stamp.data - Math.floor((options.now ?? Date.now)() / 1000);
  if (Math.abs(skew) > MAX_CLOCK_SKEW_SECONDS) {
    log.warn(
      { skewSeconds: skew },
      `Slack request refused: its timestamp is more than ${MAX_CLOCK_SKEW_SECONDS / 60} minutes ${skew > 0 ? 'ahead of' : 'behind'} our clock`,
    );
    answer(res, 401);
    return false;
  }
  const signature = req.headers['x-slack-signature'];
  try {
    verifySlackRequest({
      signingSecret: options.signingSecret,
      body: text,
      headers: {
        'x-slack-signature': typeof signature === 'string' ? signature : '',
        'x-slack-request-timestamp': stamp.data,
      },
      ...(options.now ? { nowMilliseconds: options.now() } : {}),
    });
  } catch {
    log.warn('Slack request refused: the signature does not match');
    answer(res, 401);
    return false;
  }

  let body: unknown;
  try {
    body = parseLikeBolt(text, form);
  } catch {
    log.warn('Slack request refused: the body does not parse');
    answer(res, 400);
    return false;
  }
  const verdict = checkDelivery(body, options);
  if (verdict.kind === 'pass') return true;
  if (verdict.kind === 'refuse') {
    log.warn({ reason: verdict.reason }, 'Slack request refused');
    answer(res, 400);
    return false;
  }
  log.info({ reason: verdict.reason }, 'Slack delivery acknowledged and ignored');
  answer(res, 200, verdict.response);
  return false;
}

/** As Bolt's parseHTTPRequestBody: a form's `payload` is JSON, another form is its fields, else JSON. */
function parseLikeBolt(text: string, form: boolean): unknown {
  if (!form) return JSON.parse(text);
  const fields = parseQueryString(text);
  return typeof fields.payload === 'string' ? JSON.parse(fields.payload) : fields;
}

function answer(res: ServerResponse, status: number, body?: Record<string, unknown>): void {
  if (res.headersSent) return;
  if (body) {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  } else {
    res.writeHead(status);
    res.end();
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        resolve('too_large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

// ---------------------------------------------------------------------------------------------
// Socket Mode

/** The envelope type a refused delivery is rewritten to: only our own listener acts on it. */
const GUARD_ACK = 'meshops_guard_ack';

const envelopeSchema = z.looseObject({
  envelope_id: z.string().min(1).max(256),
  type: z.string().max(64),
  payload: z.unknown(),
});
const DELIVERY_ENVELOPES = new Set(['events_api', 'slash_commands', 'interactive']);

/**
 * Puts the checks in front of the Socket Mode client's message handler. A refused envelope is not
 * given to Bolt as it is: it is rewritten into an envelope of our own type that our listener acks
 * (with the answer, e.g. empty options), so Slack does not resend it and Bolt has nothing to act on.
 */
export function guardSocketMode(receiver: SocketModeReceiver, options: CheckOptions & { log: Logger }): void {
  const client = receiver.client;
  const log = options.log;
  const originals = client.listeners('ws_message') as Array<(data: unknown, isBinary: boolean) => unknown>;
  if (originals.length === 0) {
    // The client no longer reads messages this way (a Socket Mode upgrade): better unguarded than deaf.
    log.warn('Socket Mode front door not installed: the client has no ws_message listener to guard');
    return;
  }
  client.removeAllListeners('ws_message');
  client.on('ws_message', (data: unknown, isBinary: boolean) => {
    let forwarded = data;
    try {
      forwarded = screenEnvelope(data, isBinary, options);
    } catch (err) {
      log.error({ err }, 'the Slack front door failed on a Socket Mode message');
    }
    if (forwarded === undefined) return;
    for (const listener of originals) {
      try {
        Promise.resolve(listener.call(client, forwarded, isBinary)).catch((err: unknown) =>
          log.error({ err }, 'a Socket Mode message could not be processed'),
        );
      } catch (err) {
        log.error({ err }, 'a Socket Mode message could not be processed');
      }
    }
  });
  client.on(
    GUARD_ACK,
    (args: {
      ack?: (response?: Record<string, unknown>) => Promise<void>;
      body?: { response?: Record<string, unknown> };
    }) => {
      args
        .ack?.(args.body?.response)
        .catch((err: unknown) => log.warn({ err }, 'could not acknowledge a refused Socket Mode envelope'));
    },
  );
}

/** Returns what the client should see: the message as it came, a rewritten one, or undefined to drop it. */
function screenEnvelope(data: unknown, isBinary: boolean, options: CheckOptions & { log: Logger }): unknown {
  if (isBinary) return data; // the client ignores binary messages
  const text =
    typeof data === 'string'
      ? data
      : data instanceof ArrayBuffer || ArrayBuffer.isView(data)
        ? new TextDecoder().decode(data as ArrayBuffer)
        : undefined;
  if (text === undefined) return data;
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return data; // the client logs and ignores it
  }
  const top = record.safeParse(message);
  if (!top.success) {
    options.log.warn({ reason: `the message is ${describe(message)}` }, 'Socket Mode message dropped');
    return undefined;
  }
  if (top.data.type === 'hello' || top.data.type === 'disconnect') return data;
  const envelope = envelopeSchema.safeParse(top.data);
  if (!envelope.success) {
    // Nothing to acknowledge it with: Slack resends what it does not get an ack for, so this is logged only.
    options.log.warn({ reason: `envelope: ${firstIssue(envelope.error)}` }, 'Socket Mode message dropped');
    return undefined;
  }
  const { envelope_id: envelopeId, type, payload } = envelope.data;
  let verdict: Verdict;
  if (!DELIVERY_ENVELOPES.has(type))
    verdict = { kind: 'ack', reason: `an envelope of type ${type || '(empty)'} is not handled` };
  else if (type === 'events_api' && !record.safeParse(record.safeParse(payload).data?.event).success)
    verdict = { kind: 'ack', reason: 'events_api envelope without an event object' };
  else verdict = checkDelivery(payload, options);
  if (verdict.kind === 'pass') return data;
  options.log[verdict.kind === 'refuse' ? 'warn' : 'info'](
    { reason: verdict.reason, envelopeType: type },
    'Socket Mode delivery acknowledged and ignored',
  );
  const response = verdict.kind === 'ack' ? verdict.response : undefined;
  return JSON.stringify({
    envelope_id: envelopeId,
    type: GUARD_ACK,
    payload: { meshops_guard_ack: true, ...(response ? { response } : {}) },
    accepts_response_payload: Boolean(response),
  });
}
