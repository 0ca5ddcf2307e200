// What we rely on in Slack's payloads, checked with zod before anything acts on it. Ids are
// checked for shape, text for size; a payload that fails is refused, never half-used.
import { z } from 'zod';

const slackId = z.string().regex(/^[A-Z0-9][A-Z0-9_-]{1,40}$/, 'a Slack id');
const ts = z.string().regex(/^\d{1,12}\.\d{1,9}$/, 'a Slack timestamp');
/** Slack's hosts in production; any http(s) URL is accepted because GovSlack and the tests use others. */
const responseUrl = z.url({ protocol: /^https?$/ }).max(2048);

export const slashCommandSchema = z.looseObject({
  command: z.string().max(64),
  text: z.string().max(40_000),
  user_id: slackId,
  user_name: z.string().max(128).optional(),
  channel_id: slackId,
  channel_name: z.string().max(256).optional(),
  team_id: slackId.optional(),
  trigger_id: z.string().min(1).max(256),
  response_url: responseUrl,
});
export type SlashCommand = z.infer<typeof slashCommandSchema>;

export const mentionEventSchema = z.looseObject({
  type: z.literal('app_mention'),
  user: slackId,
  text: z.string().max(40_000),
  ts,
  channel: slackId,
  thread_ts: ts.optional(),
});
export type MentionEvent = z.infer<typeof mentionEventSchema>;

/** A person's message in a DM: no subtype (edits, joins, bot posts all carry one), no bot_id. */
export const directMessageSchema = z.looseObject({
  type: z.literal('message'),
  channel_type: z.literal('im'),
  subtype: z.undefined(),
  bot_id: z.undefined(),
  user: slackId,
  text: z.string().max(40_000),
  ts,
  channel: slackId,
  thread_ts: ts.optional(),
});
export type DirectMessageEvent = z.infer<typeof directMessageSchema>;

export const eventEnvelopeSchema = z.looseObject({
  event_id: z.string().min(1).max(128),
});

export const blockActionsSchema = z.looseObject({
  type: z.literal('block_actions'),
  user: z.looseObject({ id: slackId, username: z.string().max(128).optional(), name: z.string().max(128).optional() }),
  trigger_id: z.string().min(1).max(256).optional(),
  response_url: responseUrl.optional(),
  channel: z.looseObject({ id: slackId }).optional(),
  container: z
    .looseObject({ is_ephemeral: z.boolean().optional(), message_ts: ts.optional(), thread_ts: ts.optional() })
    .optional(),
  message: z.looseObject({ ts, thread_ts: ts.optional() }).optional(),
  actions: z
    .array(
      z.looseObject({
        type: z.literal('button'),
        action_id: z.string().min(1).max(255),
        value: z.string().max(2000),
        action_ts: ts,
        block_id: z.string().max(255).optional(),
      }),
    )
    .length(1),
});
export type BlockActions = z.infer<typeof blockActionsSchema>;

export const viewSubmissionSchema = z.looseObject({
  type: z.literal('view_submission'),
  user: z.looseObject({ id: slackId, username: z.string().max(128).optional(), name: z.string().max(128).optional() }),
  view: z.looseObject({
    id: slackId,
    callback_id: z.string().max(255),
    private_metadata: z.string().max(3000).optional(),
    state: z.looseObject({
      values: z.record(
        z.string(),
        z.record(
          z.string(),
          z.looseObject({
            value: z.string().max(3000).nullable().optional(),
            selected_option: z.looseObject({ value: z.string() }).nullable().optional(),
          }),
        ),
      ),
    }),
  }),
});

/** The few fields a refusal needs, read loosely from a payload that failed validation. */
export function looseClickContext(body: unknown): { userId?: string; channelId?: string; responseUrl?: string } {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const pick = (v: unknown) => (typeof v === 'string' && v.length <= 2048 ? v : undefined);
  const user = b.user as Record<string, unknown> | undefined;
  const channel = b.channel as Record<string, unknown> | undefined;
  const url = pick(b.response_url);
  return {
    userId: pick(user?.id),
    channelId: pick(channel?.id),
    responseUrl: url && responseUrl.safeParse(url).success ? url : undefined,
  };
}
