// The Messenger over Slack's Web API: post, update in place, ephemeral, and long output as a file in
// the thread (files.uploadV2: getUploadURLExternal → upload → completeUploadExternal). Every message
// passes through fitToSlack and carries fallback text.
import { type types, webApi } from '@slack/bolt';
import { z } from 'zod';
import { type Attachment, type Rendered, context, fitToSlack } from '../blocks/block-kit.ts';
import type { Logger } from '../log.ts';
import type { MessageRef, Messenger, UpdateOptions } from '../messenger.ts';
import { MessageUpdateQueue } from './update-queue.ts';

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

export interface SlackMessengerOptions {
  /** Bounds of the per-message update table (see MessageUpdateQueue). */
  maxTrackedMessages?: number;
  trackedMessageTtlMs?: number;
}

export class SlackMessenger implements Messenger {
  private readonly client: WebClient;
  private readonly log: Logger;
  /** chat.update per message (channel/ts): one at a time, stale versions dropped. */
  readonly updates: MessageUpdateQueue;

  constructor(client: WebClient, log: Logger, options: SlackMessengerOptions = {}) {
    this.client = client;
    this.log = log;
    this.updates = new MessageUpdateQueue({
      log,
      maxMessages: options.maxTrackedMessages,
      idleTtlMs: options.trackedMessageTtlMs,
    });
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

  async update(ref: MessageRef, rendered: Rendered, options: UpdateOptions = {}): Promise<void> {
    const fitted = fitToSlack(rendered);
    const result = await this.updates.run(`${ref.channel}/${ref.ts}`, options.version, async () => {
      if (options.current && !(await options.current())) {
        this.log.info(
          { channel: ref.channel, ts: ref.ts, version: options.version },
          'message update dropped: it no longer shows the latest state',
        );
        return;
      }
      await this.client.chat.update({
        channel: ref.channel,
        ts: ref.ts,
        text: fitted.text,
        blocks: slackBlocks(fitted),
      });
    });
    // Files go into the thread after the message is in place; a dropped update has nothing to add.
    if (result === 'sent') await this.uploadAll(ref, fitted.files);
  }

  async ephemeral(
    channel: string,
    user: string,
    rendered: Rendered,
    options: { threadTs?: string } = {},
  ): Promise<void> {
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
    const body = file.bytes ? { file: Buffer.from(file.bytes) } : { content: file.content };
    const common = { channel_id: channel, filename: file.filename, title: file.title, ...body };
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

/** How a response_url post is retried. Slack takes five posts per response_url in 30 minutes. */
export interface ResponseUrlRetry {
  /** Tries in all, 1 to 4 (default 3): an answer must leave room for the others on the same URL. */
  attempts?: number;
  /** First wait after a failure; doubled each time, with jitter (default 500 ms). */
  baseDelayMs?: number;
  /** Longest wait between tries we choose ourselves (default 4 s). */
  maxDelayMs?: number;
  /** A 429's Retry-After is honoured up to this; a longer one ends the tries (default 30 s). */
  maxRetryAfterMs?: number;
  /** Each try's own deadline (default 10 s). */
  timeoutMs?: number;
}

export interface ResponseUrlOptions extends ResponseUrlRetry {
  fetch?: typeof fetch;
  log?: Logger;
  /** Counts posts per URL across answers, so that retries never go over Slack's five. */
  budget?: ResponseUrlBudget;
}

/**
 * Posts made to each response_url (Slack takes five per URL within 30 minutes), so that the retries of
 * several answers on one URL (working…, the result, an apology) stay within them. Bounded like the
 * update table: entries go after 30 minutes, the oldest first beyond `maxUrls`.
 */
export class ResponseUrlBudget {
  static readonly USES = 5;
  private readonly used = new Map<string, { count: number; since: number }>();
  private readonly maxUrls: number;
  private readonly now: () => number;
  constructor(options: { maxUrls?: number; now?: () => number } = {}) {
    this.maxUrls = Math.max(1, options.maxUrls ?? 10_000);
    this.now = options.now ?? Date.now;
  }
  remaining(url: string): number {
    const entry = this.used.get(url);
    if (!entry || this.now() - entry.since > 30 * 60_000) return ResponseUrlBudget.USES;
    return Math.max(0, ResponseUrlBudget.USES - entry.count);
  }
  spend(url: string): void {
    const now = this.now();
    const entry = this.used.get(url);
    const fresh = !entry || now - entry.since > 30 * 60_000;
    this.used.delete(url);
    this.used.set(url, fresh ? { count: 1, since: now } : { count: entry.count + 1, since: entry.since });
    for (const [key, e] of this.used) {
      if (this.used.size <= this.maxUrls && now - e.since <= 30 * 60_000) break;
      this.used.delete(key);
    }
  }
}

/** A response_url post that did not get through (after its retries, or refused outright). */
export class ResponseUrlError extends Error {
  readonly status: number | undefined;
  readonly attempts: number;
  constructor(message: string, status: number | undefined, attempts: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ResponseUrlError';
    this.status = status;
    this.attempts = attempts;
  }
}

const retryAfterHeader = z
  .string()
  .trim()
  .regex(/^\d{1,6}$/)
  .transform(Number);

/**
 * Posts to a slash command's or a click's response_url: the way to answer in a channel meshops has
 * not joined, and to answer privately. Valid for 30 minutes and five uses. Retried like Web API calls
 * on network errors, 5xx and 429 (after its Retry-After); any other 4xx is final.
 */
export async function postToResponseUrl(
  url: string,
  rendered: Rendered,
  mode: { responseType?: 'in_channel' | 'ephemeral'; replaceOriginal?: boolean },
  options: ResponseUrlOptions | typeof fetch = {},
): Promise<void> {
  const opts: ResponseUrlOptions = typeof options === 'function' ? { fetch: options } : options;
  const fetchFn = opts.fetch ?? fetch;
  const budget = opts.budget;
  const attempts = Math.min(4, Math.max(1, Math.floor(opts.attempts ?? 3)), budget ? budget.remaining(url) : 4);
  if (attempts < 1)
    throw new ResponseUrlError(
      `this response_url has been used ${ResponseUrlBudget.USES} times, all Slack allows`,
      undefined,
      0,
    );
  const baseDelayMs = Math.max(0, opts.baseDelayMs ?? 500);
  const maxDelayMs = Math.max(baseDelayMs, opts.maxDelayMs ?? 4000);
  const maxRetryAfterMs = Math.max(0, opts.maxRetryAfterMs ?? 30_000);
  const fitted = withoutFiles(
    fitToSlack(rendered),
    'The full output could not be attached: invite meshops to this channel (`/invite @meshops`) to get long output as a file.',
  );
  const body = JSON.stringify({
    text: fitted.text,
    blocks: fitted.blocks,
    ...(mode.responseType ? { response_type: mode.responseType } : {}),
    ...(mode.replaceOriginal !== undefined ? { replace_original: mode.replaceOriginal } : {}),
  });
  const where = responseUrlLabel(url);
  for (let attempt = 1; ; attempt++) {
    let waitMs: number;
    let failure: ResponseUrlError;
    budget?.spend(url);
    try {
      const res = await fetchFn(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
      });
      // Slack has the post once it answered 200; a body that fails to arrive is not a reason to post again.
      const answer = await res.text().catch(() => '');
      if (res.status === 200) return;
      failure = new ResponseUrlError(
        `response_url answered HTTP ${res.status}: ${answer.trim().slice(0, 200)}`,
        res.status,
        attempt,
      );
      if (res.status !== 429 && res.status < 500) throw failure;
      const retryAfter =
        res.status === 429 ? retryAfterHeader.safeParse(res.headers.get('retry-after') ?? '') : undefined;
      waitMs = retryAfter?.success ? retryAfter.data * 1000 : backoff(attempt, baseDelayMs, maxDelayMs);
      if (waitMs > maxRetryAfterMs) {
        throw new ResponseUrlError(
          `response_url rate-limited for ${Math.round(waitMs / 1000)} s; not waiting that long`,
          429,
          attempt,
        );
      }
    } catch (err) {
      if (err instanceof ResponseUrlError) throw err;
      failure = new ResponseUrlError(
        `response_url could not be reached: ${(err as Error)?.message ?? String(err)}`,
        undefined,
        attempt,
        err,
      );
      waitMs = backoff(attempt, baseDelayMs, maxDelayMs);
    }
    if (attempt >= attempts) {
      opts.log?.warn({ url: where, attempts: attempt, status: failure.status }, 'response_url post failed; giving up');
      throw failure;
    }
    opts.log?.warn(
      { url: where, attempt, status: failure.status, retryInMs: Math.round(waitMs), reason: failure.message },
      'response_url post failed; retrying',
    );
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}

/** Exponential, with jitter between half and all of the step, as the Web API client waits. */
function backoff(attempt: number, baseMs: number, maxMs: number): number {
  const step = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return step / 2 + Math.random() * (step / 2);
}

/** A response_url is a bearer credential for its message: logs get its host and a short prefix of the path only. */
function responseUrlLabel(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname.slice(0, 24)}…`;
  } catch {
    return 'response_url';
  }
}
