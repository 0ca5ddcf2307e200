// The checks themselves, for both doors: a delivery sorted the way Bolt will sort it, and the fields Bolt
// reads for that sort checked before Bolt sees them (see front-door.ts).
import { z } from 'zod';

/** What to do with a parsed delivery. */
export type Verdict =
  /** Hand it to Bolt. */
  | { kind: 'pass' }
  /** Answer now (HTTP 200, or the Socket Mode ack), with `response` as the body; Bolt never sees it. */
  | { kind: 'ack'; reason: string; response?: Record<string, unknown> }
  /** Not a delivery at all: HTTP 400 (Socket Mode: acked so Slack does not resend it, and dropped). */
  | { kind: 'refuse'; reason: string };

/** A JSON object (any keys); also how the Socket Mode guard tells an object from anything else. */
export const record = z.record(z.string(), z.unknown());
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

/** Our words for the first thing a schema found wrong. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'malformed';
  const path = issue.path.map(String).join('.') || 'the body';
  // Our words, not zod's: what was expected where.
  if (issue.code === 'invalid_type') return `${path} is missing or of the wrong type (expected ${issue.expected})`;
  if (issue.code === 'too_small') return `${path} is empty`;
  if (issue.code === 'too_big') return `${path} is too large`;
  return `${path} is not valid`;
}

/** What a value is, in words ("null", "an array", "a string"). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function describeType(type: unknown): string {
  return typeof type === 'string' ? type.slice(0, 64) || '(empty)' : `(${describe(type)})`;
}
