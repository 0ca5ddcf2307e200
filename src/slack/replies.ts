// How meshops answers on Slack once it knows what to say: where a slash command's, a mention's or a DM's
// answers go (the channel, the thread, the response_url where meshops has not joined), what a click's
// outcome does to its message, and private words beside it.
import { type Rendered, context, esc, fitToSlack, section } from '../blocks/block-kit.ts';
import type { Logger } from '../log.ts';
import type { ClickOutcome, MessageRef } from '../messenger.ts';
import type { BlockActions } from './payloads.ts';
import { looseClickContext } from './payloads.ts';
import { type SlackMessenger, type postToResponseUrl, slackErrorCode } from './slack-messenger.ts';

export interface ReplyDeps {
  messenger: SlackMessenger;
  /** Every response_url post goes through here (retries within Slack's five posts per URL). */
  toResponseUrl(url: string, rendered: Rendered, mode: Parameters<typeof postToResponseUrl>[2]): Promise<void>;
  log: Logger;
}

/** Where the answers to one request go. */
export interface AnswerTarget {
  post(rendered: Rendered): Promise<Posted>;
  update(posted: Posted, rendered: Rendered): Promise<void>;
  /** Seen by the asker alone where the door allows it, else like post. */
  private(rendered: Rendered): Promise<void>;
  /** Slash commands only: open a modal with the command's trigger_id (valid for 3 s). */
  openModal?(view: Record<string, unknown>): Promise<void>;
}

export type Posted = { kind: 'message'; ref: MessageRef } | { kind: 'response_url' };

export const NOT_A_MEMBER = new Set(['not_in_channel', 'channel_not_found']);
export const UPDATE_VIA_RESPONSE_URL = new Set([
  ...NOT_A_MEMBER,
  'cant_update_message',
  'message_not_found',
  'edit_window_closed',
]);

export async function applyClickOutcome(
  deps: ReplyDeps,
  b: BlockActions,
  message: MessageRef | undefined,
  outcome: ClickOutcome,
): Promise<void> {
  const user = b.user.id;
  const channel = b.channel?.id;
  if (outcome.update) {
    let done = false;
    if (message) {
      try {
        // The same per-message queue as background updates: a click's state never lands over a newer one.
        await deps.messenger.update(message, outcome.update, { version: outcome.version });
        done = true;
      } catch (err) {
        if (!UPDATE_VIA_RESPONSE_URL.has(slackErrorCode(err) ?? '') || !b.response_url) throw err;
      }
    }
    if (!done && b.response_url) await deps.toResponseUrl(b.response_url, outcome.update, { replaceOriginal: true });
  }
  for (const post of outcome.thread ?? []) {
    if (message) await deps.messenger.post(message.channel, post, { threadTs: message.threadTs ?? message.ts });
    else if (b.response_url)
      await deps.toResponseUrl(b.response_url, post, { responseType: 'in_channel', replaceOriginal: false });
  }
  // Beside the button's message: in its thread only when the message is itself in a thread.
  if (outcome.ephemeral)
    await ephemeralTo(
      deps,
      channel,
      user,
      b.response_url,
      outcome.ephemeral,
      b.message?.thread_ts ?? b.container?.thread_ts,
    );
}

export async function refuseClick(deps: ReplyDeps, body: unknown, words: string): Promise<void> {
  const ctx = looseClickContext(body);
  await ephemeralTo(deps, ctx.channelId, ctx.userId, ctx.responseUrl, {
    text: words.replace(/:[a-z_]+: /, ''),
    blocks: [section(words)],
  });
}

/** chat.postEphemeral, or the response_url where meshops is not in the channel. */
export async function ephemeralTo(
  deps: ReplyDeps,
  channel: string | undefined,
  user: string | undefined,
  responseUrl: string | undefined,
  rendered: Rendered,
  threadTs?: string,
): Promise<void> {
  if (channel && user) {
    try {
      await deps.messenger.ephemeral(channel, user, rendered, { threadTs });
      return;
    } catch (err) {
      if (!NOT_A_MEMBER.has(slackErrorCode(err) ?? '') || !responseUrl) throw err;
    }
  }
  if (responseUrl)
    await deps.toResponseUrl(responseUrl, rendered, { responseType: 'ephemeral', replaceOriginal: false });
  else deps.log.warn('nowhere to send an ephemeral message');
}

/** Slash commands answer in the channel, as the bot, naming who asked; privately through response_url. */
export function slashTarget(
  deps: ReplyDeps,
  channel: string,
  user: string,
  responseUrl: string,
  label: string,
): AnswerTarget {
  const asked = context(`<@${user}> ran \`${esc(label)}\``);
  const withAsker = (r: Rendered): Rendered => fitToSlack({ ...r, blocks: [asked, ...r.blocks] });
  return {
    async post(rendered) {
      try {
        return { kind: 'message', ref: await deps.messenger.post(channel, withAsker(rendered)) };
      } catch (err) {
        const code = slackErrorCode(err);
        if (!NOT_A_MEMBER.has(code ?? '')) throw err;
        deps.log.info({ channel, code }, 'not in the channel; answering through the response_url');
        await deps.toResponseUrl(responseUrl, withAsker(rendered), { responseType: 'in_channel' });
        return { kind: 'response_url' };
      }
    },
    async update(posted, rendered) {
      if (posted.kind === 'message') await deps.messenger.update(posted.ref, withAsker(rendered));
      else
        await deps.toResponseUrl(responseUrl, withAsker(rendered), {
          responseType: 'in_channel',
          replaceOriginal: true,
        });
    },
    async private(rendered) {
      await deps.toResponseUrl(responseUrl, rendered, { responseType: 'ephemeral' });
    },
  };
}

/** Mentions answer in their thread; DMs in the DM (in its thread when the message was in one). */
export function threadTarget(deps: ReplyDeps, channel: string, threadTs: string | undefined): AnswerTarget {
  return {
    async post(rendered) {
      return { kind: 'message', ref: await deps.messenger.post(channel, rendered, { threadTs }) };
    },
    async update(posted, rendered) {
      if (posted.kind === 'message') await deps.messenger.update(posted.ref, rendered);
    },
    async private(rendered) {
      await deps.messenger.post(channel, rendered, { threadTs });
    },
  };
}

export function working(label: string): Rendered {
  const text = `Working on ${label}…`;
  return { text, blocks: [context(`:hourglass_flowing_sand: Working on \`${esc(label)}\`…`)] };
}

/** The cluster is busy with other questions: this one waits its turn, then the message is updated in place. */
export function queuedNotice(label: string, ahead: number): Rendered {
  const before = ahead > 0 ? ` (${ahead} ahead of it)` : '';
  return {
    text: `Queued: ${label} waits for other questions to the cluster${before}.`,
    blocks: [
      context(
        `:hourglass: Queued: \`${esc(label)}\` waits for other questions to the cluster${before}; the answer comes here.`,
      ),
    ],
  };
}

export function apology(ref: string): Rendered {
  return {
    text: `Sorry, something went wrong on our side (ref ${ref}).`,
    blocks: [
      section(`:x: Sorry, something went wrong on our side. The details are in the bot's log under ref \`${ref}\`.`),
    ],
  };
}
