// What Slack sends, shaped like the real payloads, for both the HTTP and the Socket Mode tests.
import { randomBytes } from 'node:crypto';

export const TEAM = 'T0000001';
export const ALICE = 'UALICE01';
export const GENERAL = 'CGENERAL1';
export const BOT = 'UBOT0001';

const hex = () => randomBytes(6).toString('hex');
let tsCounter = 0;
export const newTs = () => `${1_700_100_000 + tsCounter++}.000200`;

export function slashCommand(
  text: string,
  options: { responseUrl: string; user?: string; userName?: string; channel?: string; triggerId?: string },
): Record<string, string> {
  return {
    token: 'legacy-verification-token',
    team_id: TEAM,
    team_domain: 'fake',
    channel_id: options.channel ?? GENERAL,
    channel_name: 'general',
    user_id: options.user ?? ALICE,
    user_name: options.userName ?? 'alice',
    command: '/mesh',
    text,
    api_app_id: 'A0000001',
    is_enterprise_install: 'false',
    response_url: options.responseUrl,
    trigger_id: options.triggerId ?? `${Date.now()}.${hex()}`,
  };
}

function eventCallback(event: Record<string, unknown>, eventId?: string): Record<string, unknown> {
  return {
    token: 'legacy-verification-token',
    team_id: TEAM,
    api_app_id: 'A0000001',
    event,
    type: 'event_callback',
    event_id: eventId ?? `Ev${hex().toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: TEAM, user_id: BOT, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  };
}

export function mentionEvent(
  text: string,
  options: { user?: string; channel?: string; ts?: string; threadTs?: string; eventId?: string } = {},
): Record<string, unknown> {
  const ts = options.ts ?? newTs();
  return eventCallback(
    {
      type: 'app_mention',
      user: options.user ?? ALICE,
      text: `<@${BOT}> ${text}`,
      ts,
      channel: options.channel ?? GENERAL,
      event_ts: ts,
      ...(options.threadTs ? { thread_ts: options.threadTs } : {}),
    },
    options.eventId,
  );
}

export function directMessageEvent(
  text: string,
  options: { user?: string; channel?: string; ts?: string; eventId?: string; extra?: Record<string, unknown> } = {},
): Record<string, unknown> {
  const ts = options.ts ?? newTs();
  return eventCallback(
    {
      type: 'message',
      channel_type: 'im',
      user: options.user ?? ALICE,
      text,
      ts,
      channel: options.channel ?? 'DALICE001',
      event_ts: ts,
      ...options.extra,
    },
    options.eventId,
  );
}

export function blockActions(options: {
  actionId: string;
  value: string;
  responseUrl: string;
  user?: string;
  channel?: string;
  messageTs: string;
  triggerId?: string;
}): Record<string, unknown> {
  const actionTs = `${Math.floor(Date.now() / 1000)}.${String(Date.now() % 1_000_000).padStart(6, '0')}`;
  return {
    type: 'block_actions',
    user: { id: options.user ?? ALICE, username: 'alice', name: 'alice', team_id: TEAM },
    api_app_id: 'A0000001',
    token: 'legacy-verification-token',
    container: {
      type: 'message',
      message_ts: options.messageTs,
      channel_id: options.channel ?? GENERAL,
      is_ephemeral: false,
    },
    trigger_id: options.triggerId ?? `${Date.now()}.${hex()}`,
    team: { id: TEAM, domain: 'fake' },
    channel: { id: options.channel ?? GENERAL, name: 'general' },
    message: { type: 'message', ts: options.messageTs, user: BOT, text: 'a message with buttons' },
    response_url: options.responseUrl,
    actions: [
      {
        type: 'button',
        action_id: options.actionId,
        block_id: 'b1',
        text: { type: 'plain_text', text: 'Approve' },
        value: options.value,
        action_ts: actionTs,
      },
    ],
  };
}
