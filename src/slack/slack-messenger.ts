// The Messenger over Slack's Web API: post, update in place, ephemeral, and long output as a file in
// the thread (files.uploadV2: getUploadURLExternal → upload → completeUploadExternal). Every message
// passes through fitToSlack and carries fallback text.
import { type types, webApi } from '@slack/bolt';
import { z } from 'zod';
import { type Attachment, type Rendered, context, fitToSlack } from '../blocks/block-kit.ts';
import type { Logger } from '../log.ts';
import type { MessageRef, Messenger } from '../messenger.ts';

export type WebClient = webApi.WebClient;

const postAnswer = z.looseObject({ ok: z.literal(true), channel: z.string(), ts: z.string() });

/** Our Block type is Slack's Block Kit JSON; the cast only bridges two descriptions of the same shape. */
export function slackBlocks(rendered: Rendered): types.KnownBlock[] {
  return rendered.blocks as unknown as types.KnownBlock[];
}

/** The Slack error code of a failed Web API call (`not_in_channel`, …), or undefined. */
export function slackErrorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && err.code === webApi.ErrorCode.PlatformError) {
    const data = (err as { data?: { error?: unknown } }).data;
    return typeof data?.error === 'string' ? data.error : undefined;
  }
  return undefined;
}

export class SlackMessenger implements Messenger {
  private readonly client: WebClient;
  private readonly log: Logger;

  constructor(client: WebClient, log: Logger) {
    this.client = client;
    this.log = log;
  }

  async post(channel: string, rendered: Rendered, options: { threadTs?: string } = {}): Promise<MessageRef> {
    const fitted = fitToSlack(rendered);
    const answer = postAnswer.parse(
      await this.client.chat.postMessage({
        channel,
        text: fitted.text,
        // Slack refuses an empty blocks array on a new message; fallback text alone is a message.
        ...(fitted.blocks.length ? { blocks: slackBlocks(fitted) } : {}),
        ...(options.threadTs ? { thread_ts: options.threadTs } : {}),
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
    const ref: MessageRef = { channel: answer.channel, ts: answer.ts, threadTs: options.threadTs ?? answer.ts };
    await this.uploadAll(ref, fitted.files);
    return ref;
  }

  async update(ref: MessageRef, rendered: Rendered): Promise<void> {
    const fitted = fitToSlack(rendered);
    await this.client.chat.update({ channel: ref.channel, ts: ref.ts, text: fitted.text, blocks: slackBlocks(fitted) });
    await this.uploadAll(ref, fitted.files);
  }

  async ephemeral(channel: string, user: string, rendered: Rendered, options: { threadTs?: string } = {}): Promise<void> {
    // Files cannot be ephemeral: say so rather than leak long output into the channel.
    const fitted = withoutFiles(fitToSlack(rendered));
    await this.client.chat.postEphemeral({
      channel,
      user,
      text: fitted.text,
      ...(fitted.blocks.length ? { blocks: slackBlocks(fitted) } : {}),
      ...(options.threadTs ? { thread_ts: options.threadTs } : {}),
    });
  }

  async upload(channel: string, threadTs: string | undefined, file: Attachment): Promise<void> {
    const common = { channel_id: channel, filename: file.filename, title: file.title, content: file.content };
    await this.client.filesUploadV2(threadTs ? { ...common, thread_ts: threadTs } : common);
  }

  private async uploadAll(ref: MessageRef, files: Attachment[] | undefined): Promise<void> {
    for (const file of files ?? []) {
      try {
        await this.upload(ref.channel, ref.threadTs ?? ref.ts, file);
      } catch (err) {
        // The message itself went out; a failed attachment is logged, not fatal.
        this.log.warn({ err, filename: file.filename, channel: ref.channel }, 'file upload failed');
      }
    }
  }
}

/** Drops attachments from a message that cannot carry them, and says where the full output is not. */
export function withoutFiles(rendered: Rendered, why = 'The full output could not be attached here.'): Rendered {
  if (!rendered.files?.length) return rendered;
  return fitToSlack({ text: rendered.text, blocks: [...rendered.blocks, context(`_${why}_`)] });
}

const responseUrlAnswer = z.union([z.literal('ok'), z.string().transform((s) => s.trim())]);

/**
 * Posts to a slash command's or a click's response_url: the way to answer in a channel meshops has
 * not joined, and to answer privately. Valid for 30 minutes and five uses.
 */
export async function postToResponseUrl(
  url: string,
  rendered: Rendered,
  mode: { responseType?: 'in_channel' | 'ephemeral'; replaceOriginal?: boolean },
  fetchFn: typeof fetch = fetch,
): Promise<void> {
  const fitted = withoutFiles(fitToSlack(rendered), 'The full output could not be attached: invite meshops to this channel (`/invite @meshops`) to get long output as a file.');
  const res = await fetchFn(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      text: fitted.text,
      blocks: fitted.blocks,
      ...(mode.responseType ? { response_type: mode.responseType } : {}),
      ...(mode.replaceOriginal !== undefined ? { replace_original: mode.replaceOriginal } : {}),
    }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = responseUrlAnswer.parse(await res.text());
  if (res.status !== 200) throw new Error(`response_url answered HTTP ${res.status}: ${body.slice(0, 200)}`);
}
