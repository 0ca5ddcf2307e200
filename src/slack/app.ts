// The Slack front door on Bolt, over Socket Mode (the default) or HTTP. It acknowledges every
// delivery at once, drops redeliveries, asks the router, and answers: "working…" then chat.update
// for anything that talks to the cluster, long output as a file in the thread, and the slash
// command's response_url where meshops has not joined the channel.
import { App, HTTPReceiver, SocketModeReceiver, webApi } from '@slack/bolt';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Rendered, context, esc, fitToSlack, section } from '../blocks/block-kit.ts';
import type { Requester } from '../command.ts';
import type { SlackSettings } from '../config.ts';
import { referenceId } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ButtonClick, ClickHandler, ClickOutcome, FormHandler, FormOutcome, FormSpec, FormSubmission, MessageRef, Messenger } from '../messenger.ts';
import type { Router } from '../router.ts';
import { boltLogger } from './bolt-logger.ts';
import { DEDUP_TTL_MS, type DedupStore, MemoryDedupStore } from './dedup.ts';
import { SlackDirectory } from './identity.ts';
import {
  type BlockActions,
  blockActionsSchema,
  directMessageSchema,
  eventEnvelopeSchema,
  looseClickContext,
  mentionEventSchema,
  slashCommandSchema,
  viewSubmissionSchema,
} from './payloads.ts';
import { ResponseUrlBudget, ResponseUrlError, type ResponseUrlRetry, SlackMessenger, type WebClient, postToResponseUrl, slackErrorCode } from './slack-messenger.ts';
import { guardHttpReceiver, guardSocketMode } from './front-door.ts';
import { slackTextToPlain, stripBotMention } from './slack-text.ts';

/** Slack's names for the front-door-neutral form types (src/messenger.ts). */
export type ViewSubmission = FormSubmission;
export type ViewOutcome = FormOutcome;
export type ViewHandler = FormHandler;

export interface SlackAppOptions {
  slack: SlackSettings;
  router: Router;
  log: Logger;
  /** Keyed by action_id prefix; the longest matching prefix wins. */
  clickHandlers?: Record<string, ClickHandler>;
  /** Keyed by callback_id prefix. */
  viewHandlers?: Record<string, ViewHandler>;
  /** Forms the features declare: a reply's `rendered.modal` opens one by callback id; its submissions go to it. */
  forms?: readonly FormSpec[];
  dedup?: DedupStore;
  /** The slash command this app answers. */
  commandName?: string;
  /** HTTP mode: where to listen (defaults: settings' port, all interfaces). */
  listen?: { port?: number; host?: string };
  /** Socket Mode: the client pings every third of this and reconnects after it (Bolt's default 5000). */
  socketPingTimeoutMs?: number;
  /** Slack answered 429 to a Web API call (metrics). The WebClient waits and retries by itself. */
  onRateLimited?: (method: string, retryAfterSeconds: number) => void;
  /** The Web API's retry policy (the tests keep it short). */
  retryConfig?: { retries: number; factor?: number; minTimeout?: number; maxTimeout?: number };
  /** How response_url posts are retried (the tests keep the waits short). */
  responseUrlRetry?: ResponseUrlRetry;
}

export interface SlackApp {
  app: App;
  messenger: Messenger;
  start(): Promise<void>;
  /** Stops taking deliveries, then waits for answers in flight up to `deadlineMs`. */
  stop(deadlineMs?: number): Promise<void>;
  /** The HTTP receiver's port once started (HTTP mode). */
  readonly port: number | undefined;
  /** Answers still being worked on. */
  readonly inFlight: number;
  /** Socket Mode: the WebSocket is open and Slack said hello. HTTP: the receiver is listening. For /readyz. */
  readonly connected: boolean;
  /** Resolves when no answer is in flight (or after `timeoutMs`). */
  idle(timeoutMs?: number): Promise<void>;
}

/** Where the answers to one request go. */
interface AnswerTarget {
  post(rendered: Rendered): Promise<Posted>;
  update(posted: Posted, rendered: Rendered): Promise<void>;
  /** Seen by the asker alone where the door allows it, else like post. */
  private(rendered: Rendered): Promise<void>;
  /** Slash commands only: open a modal with the command's trigger_id (valid for 3 s). */
  openModal?(view: Record<string, unknown>): Promise<void>;
}

type Posted = { kind: 'message'; ref: MessageRef } | { kind: 'response_url' };

const EVENTS_ENDPOINT = '/slack/events';

const NOT_A_MEMBER = new Set(['not_in_channel', 'channel_not_found']);
const UPDATE_VIA_RESPONSE_URL = new Set([...NOT_A_MEMBER, 'cant_update_message', 'message_not_found', 'edit_window_closed']);

export function createSlackApp(options: SlackAppOptions): SlackApp {
  const { slack, router } = options;
  const log = options.log.child({ component: 'slack' });
  const dedup = options.dedup ?? new MemoryDedupStore();
  const commandName = options.commandName ?? '/mesh';
  const logger = boltLogger(options.log);
  const clientOptions = {
    ...(slack.apiUrl ? { slackApiUrl: slack.apiUrl } : {}),
    ...(options.retryConfig ? { retryConfig: options.retryConfig } : {}),
  };

  // We build the receivers ourselves so that the Socket Mode client's own WebClient (apps.connections.open)
  // uses the same API URL, and so that its ping timeout can be set. It mutates its options: give it a copy.
  const receiver =
    slack.mode === 'socket'
      ? new SocketModeReceiver({
          appToken: slack.appToken,
          logger,
          clientPingTimeout: options.socketPingTimeoutMs,
          installerOptions: { clientOptions: { ...clientOptions } },
          // Acked all the same: an envelope Bolt failed on would fail again when Slack resends it.
          processEventErrorHandler: async ({ error }) => {
            log.error({ err: error }, 'Bolt could not process a Slack envelope');
            return true;
          },
        })
      : new HTTPReceiver({
          signingSecret: slack.signingSecret,
          endpoints: EVENTS_ENDPOINT,
          logger,
          processBeforeResponse: false,
          // Bolt would answer 500; the front door means this never happens, and if it does Slack gets its ack.
          processEventErrorHandler: async ({ error, response }) => {
            log.error({ err: error, acknowledged: response.headersSent }, 'Bolt could not process a Slack request');
            return !response.headersSent;
          },
        });
  if (receiver instanceof HTTPReceiver && slack.mode === 'http') guardHttpReceiver(receiver, { signingSecret: slack.signingSecret, endpoint: EVENTS_ENDPOINT, commandName, log });
  else if (receiver instanceof SocketModeReceiver) guardSocketMode(receiver, { commandName, log });

  const app = new App({
    token: slack.botToken,
    receiver,
    socketMode: slack.mode === 'socket',
    logger,
    clientOptions: { ...clientOptions },
    // auth.test runs in start(), where a bad token or an unreachable API stops start-up with a clear error.
    deferInitialization: true,
    convoStore: false,
    extendedErrorHandler: true,
  });
  const client: WebClient = app.client;
  const messenger = new SlackMessenger(client, log);
  /** Every response_url post goes through here: retried within Slack's five posts per URL, logged without the URL. */
  const responseUrlBudget = new ResponseUrlBudget();
  const toResponseUrl = (url: string, rendered: Rendered, mode: Parameters<typeof postToResponseUrl>[2]): Promise<void> =>
    postToResponseUrl(url, rendered, mode, { ...options.responseUrlRetry, log, budget: responseUrlBudget });
  const directory = new SlackDirectory(client, log);
  let httpServer: Server | undefined;
  let stopping = false;
  let socketConnected = false;

  if (receiver instanceof SocketModeReceiver) {
    receiver.client.on('connected', () => {
      socketConnected = true;
    });
    // 'close' is the socket dropping; the client reconnects by itself unless we are stopping.
    for (const state of ['close', 'reconnecting', 'disconnecting', 'disconnected']) {
      receiver.client.on(state, () => {
        if (socketConnected && !stopping) log.warn({ state }, 'Socket Mode connection lost; reconnecting');
        socketConnected = false;
      });
    }
  }
  client.on(webApi.WebClientEvent.RATE_LIMITED, (retryAfterSeconds: number, request: { url?: string }) => {
    const method = String(request?.url ?? '').replace(/^.*\/api\//, '');
    log.warn({ method, retryAfterSeconds }, 'Slack rate-limited a Web API call');
    options.onRateLimited?.(method, retryAfterSeconds);
  });

  const inFlight = new Set<Promise<unknown>>();
  const track = async (work: () => Promise<void>): Promise<void> => {
    const p = work();
    inFlight.add(p);
    try {
      await p;
    } finally {
      inFlight.delete(p);
    }
  };

  const claim = async (key: string): Promise<boolean> => {
    try {
      return await dedup.claim(key, DEDUP_TTL_MS);
    } catch (err) {
      // Answering twice beats not answering; actions are exactly-once in the approvals state anyway.
      log.warn({ err, key }, 'dedup store failed; handling the delivery');
      return true;
    }
  };

  const requesterFor = async (userId: string, channelId: string, fallbackName?: string): Promise<Requester> => {
    const user = await directory.user(userId);
    return { userId, userName: user.name ?? fallbackName, channelId, source: 'slack' };
  };

  /** Router in, answers out. Never throws: a failure becomes an apology where the asker will see it. */
  const answer = async (text: string, requester: Requester, target: AnswerTarget, label: string): Promise<void> => {
    const started = performance.now();
    let posted: Posted | undefined;
    let outcome = 'error';
    try {
      const prepared = await router.prepare(text, requester);
      if ('rendered' in prepared) {
        outcome = prepared.outcome;
        await (prepared.outcome === 'ok' ? target.post(prepared.rendered) : target.private(prepared.rendered));
        return;
      }
      if (prepared.touchesCluster) {
        posted = await target.post(working(label));
        const reply = await prepared.execute();
        outcome = reply.outcome;
        await target.update(posted, reply.rendered);
      } else {
        const reply = await prepared.execute();
        outcome = reply.outcome;
        if (reply.rendered.modal) {
          await openModalFor(reply.rendered.modal, reply.cluster ?? prepared.cluster.name, requester, target, text);
          return;
        }
        await (reply.outcome === 'user_error' || reply.outcome === 'refused' ? target.private(reply.rendered) : target.post(reply.rendered));
      }
    } catch (err) {
      outcome = 'error';
      if (err instanceof ResponseUrlError && !posted) {
        // The answer itself could not reach Slack: an apology down the same failing URL would not either.
        log.warn({ err, user: requester.userId, channel: requester.channelId }, 'the answer could not be delivered through the response_url');
        return;
      }
      const ref = referenceId();
      log.error({ err, ref, user: requester.userId, channel: requester.channelId }, 'answering a command failed');
      const sorry = apology(ref);
      try {
        await (posted ? target.update(posted, sorry) : target.private(sorry));
      } catch (err2) {
        log.error({ err: err2, ref }, 'could not even apologise');
      }
    } finally {
      log.info({ command: label, user: requester.userId, channel: requester.channelId, outcome, ms: Math.round(performance.now() - started) }, 'answered');
    }
  };

  /** A command asked for a form: open the feature's view where Slack allows (a slash command's trigger_id), else say how. */
  const openModalFor = async (modal: NonNullable<Rendered['modal']>, cluster: string, requester: Requester, target: AnswerTarget, text: string): Promise<void> => {
    const form = options.forms?.find((f) => f.callbackId === modal.callbackId);
    if (!form) {
      log.warn({ callbackId: modal.callbackId }, 'a reply asked for a form no feature declares');
      await target.private({ text: 'That form is not available', blocks: [section(':grey_question: That form is not available in this meshops.')] });
      return;
    }
    if (!target.openModal || !requester.channelId) {
      const again = `${commandName} ${text}`.trim();
      await target.private({ text: 'Use the slash command for this form', blocks: [section(`:information_source: This form opens from the slash command: type \`${esc(again)}\` in a channel.`)] });
      return;
    }
    await target.openModal(form.view({ channel: requester.channelId, cluster, userId: requester.userId, params: modal.params ?? {} }));
  };

  // /mesh <verb> [args]
  app.command(commandName, async ({ ack, body }) => {
    await ack();
    await track(async () => {
      const parsed = slashCommandSchema.safeParse(body);
      if (!parsed.success) {
        log.warn({ issues: parsed.error.issues.slice(0, 3) }, 'slash command payload refused');
        return;
      }
      const cmd = parsed.data;
      if (!(await claim(`command:${cmd.trigger_id}`))) return logDuplicate('command', cmd.trigger_id);
      const requester = await requesterFor(cmd.user_id, cmd.channel_id, cmd.user_name);
      const text = slackTextToPlain(cmd.text);
      const label = `${commandName} ${text}`.trim();
      const target: AnswerTarget = {
        ...slashTarget(cmd.channel_id, cmd.user_id, cmd.response_url, label),
        openModal: async (view) => {
          await client.views.open({ trigger_id: cmd.trigger_id, view: view as never });
        },
      };
      await answer(text, requester, target, label);
    });
  });

  // @meshops <verb> [args], answered in the mention's thread. Bolt has acknowledged the event already.
  app.event('app_mention', async ({ body, event, context }) => {
    await track(async () => {
      const parsed = mentionEventSchema.safeParse(event);
      const envelope = eventEnvelopeSchema.safeParse(body);
      if (!parsed.success || !envelope.success) {
        log.warn({ issues: (parsed.error ?? envelope.error)?.issues.slice(0, 3) }, 'app_mention payload refused');
        return;
      }
      const e = parsed.data;
      if (!(await claim(`event:${envelope.data.event_id}`))) return logDuplicate('event', envelope.data.event_id);
      const text = slackTextToPlain(stripBotMention(e.text, context.botUserId));
      const requester = await requesterFor(e.user, e.channel);
      await answer(text, requester, threadTarget(e.channel, e.thread_ts ?? e.ts), `@meshops ${text}`);
    });
  });

  // Direct messages: the whole message is the command.
  app.event('message', async ({ body, event, context }) => {
    const parsed = directMessageSchema.safeParse(event);
    if (!parsed.success) return; // other channels, edits, bot posts: not for us
    await track(async () => {
      const envelope = eventEnvelopeSchema.safeParse(body);
      if (!envelope.success) return;
      const e = parsed.data;
      if (!(await claim(`event:${envelope.data.event_id}`))) return logDuplicate('event', envelope.data.event_id);
      const text = slackTextToPlain(stripBotMention(e.text, context.botUserId));
      const requester = await requesterFor(e.user, e.channel);
      await answer(text, requester, threadTarget(e.channel, e.thread_ts), text);
    });
  });

  // Buttons: dispatched by action_id prefix.
  app.action({ type: 'block_actions' }, async ({ ack, body }) => {
    await ack();
    await track(async () => {
      const raw = body as unknown as Record<string, unknown>;
      const rawAction = (Array.isArray(raw.actions) ? raw.actions[0] : undefined) as Record<string, unknown> | undefined;
      const key = `click:${String(raw.trigger_id ?? '')}:${String(rawAction?.action_ts ?? '')}:${String(rawAction?.action_id ?? '')}`;
      if (!(await claim(key))) return logDuplicate('click', key);
      const parsed = blockActionsSchema.safeParse(body);
      if (!parsed.success) {
        log.warn({ issues: parsed.error.issues.slice(0, 3) }, 'button payload refused');
        await refuseClick(raw, ':no_entry: That button is not valid. Nothing was done.');
        return;
      }
      await handleClick(parsed.data);
    });
  });

  app.view({ type: 'view_submission' }, async ({ ack, body }) => {
    const parsed = viewSubmissionSchema.safeParse(body);
    if (!parsed.success) {
      log.warn({ issues: parsed.error.issues.slice(0, 3) }, 'view submission refused');
      await ack();
      return;
    }
    const v = parsed.data;
    const handler = byPrefix({ ...Object.fromEntries((options.forms ?? []).map((f) => [f.callbackId, f.submit])), ...options.viewHandlers }, v.view.callback_id);
    if (!handler) {
      await ack();
      return;
    }
    const submission: ViewSubmission = {
      callbackId: v.view.callback_id,
      viewId: v.view.id,
      userId: v.user.id,
      userName: v.user.username ?? v.user.name,
      privateMetadata: v.view.private_metadata,
      values: Object.fromEntries(
        Object.entries(v.view.state.values).map(([block, fields]) => [block, Object.fromEntries(Object.entries(fields).map(([id, f]) => [id, f.value ?? f.selected_option?.value ?? undefined]))]),
      ),
    };
    // Field errors must travel in the ack, so the handler gets most of Slack's 3 s and no more.
    const outcome = await Promise.race([handler(submission).catch((err) => (log.error({ err }, 'view handler failed'), undefined)), delay(2000).then(() => 'late' as const)]);
    if (outcome === 'late') log.warn({ callbackId: submission.callbackId }, 'view handler was too slow to return field errors');
    if (outcome && outcome !== 'late' && outcome.errors && Object.keys(outcome.errors).length) await ack({ response_action: 'errors', errors: outcome.errors });
    else await ack();
  });

  // A modal closed without submitting: nothing to do, but Slack wants its ack.
  app.view({ type: 'view_closed' }, async ({ ack }) => {
    await ack();
  });
  // Shortcuts and menus with options from the app are not declared in the manifest; should Slack send
  // one anyway, it is acknowledged at once (no options to offer) rather than left to time out after 3 s.
  // (The front door answers these before Bolt; the listeners stay for a receiver without it.)
  app.shortcut({ type: 'shortcut' }, async ({ ack }) => {
    await ack();
  });
  app.shortcut({ type: 'message_action' }, async ({ ack }) => {
    await ack();
  });
  app.options({ type: 'block_suggestion' }, async ({ ack }) => {
    await ack({ options: [] });
  });

  // Anything a listener did not catch: logged whole, the person gets a short apology.
  const onError = async ({ error, body }: { error: Error; body?: unknown }): Promise<void> => {
    // Bolt wraps what a listener threw; a response_url that would not take the answer is Slack's fault,
    // already logged try by try, and an apology down the same URL would not get through either.
    const original = (error as { original?: unknown }).original ?? error;
    if (original instanceof ResponseUrlError) {
      log.warn({ err: original }, 'an answer could not be delivered through the response_url');
      return;
    }
    const ref = referenceId();
    log.error({ err: error, ref }, 'Slack handler failed');
    const ctx = looseClickContext(body);
    try {
      if (ctx.responseUrl) await toResponseUrl(ctx.responseUrl, apology(ref), { responseType: 'ephemeral', replaceOriginal: false });
    } catch (err) {
      log.warn({ err, ref }, 'could not deliver the apology');
    }
  };
  app.error(onError);

  async function handleClick(b: BlockActions): Promise<void> {
    const action = b.actions[0];
    if (!action) return;
    const handler = byPrefix(options.clickHandlers, action.action_id);
    const channelId = b.channel?.id;
    const messageTs = b.container?.is_ephemeral ? undefined : (b.message?.ts ?? b.container?.message_ts);
    const message: MessageRef | undefined = channelId && messageTs ? { channel: channelId, ts: messageTs, threadTs: b.message?.thread_ts ?? b.container?.thread_ts ?? messageTs } : undefined;
    if (!handler) {
      log.warn({ actionId: action.action_id }, 'no handler for this button');
      await refuseClick(b, ':grey_question: meshops no longer knows this button. Run the command again for fresh buttons.');
      return;
    }
    const click: ButtonClick = {
      actionId: action.action_id,
      value: action.value,
      userId: b.user.id,
      userName: b.user.username ?? b.user.name,
      channelId,
      message,
      triggerId: b.trigger_id,
      responseUrl: b.response_url,
    };
    let outcome: ClickOutcome;
    try {
      outcome = await handler(click);
    } catch (err) {
      const ref = referenceId();
      log.error({ err, ref, actionId: action.action_id }, 'click handler failed');
      outcome = { ephemeral: apology(ref) };
    }
    await applyClickOutcome(b, message, outcome);
  }

  async function applyClickOutcome(b: BlockActions, message: MessageRef | undefined, outcome: ClickOutcome): Promise<void> {
    const user = b.user.id;
    const channel = b.channel?.id;
    if (outcome.update) {
      let done = false;
      if (message) {
        try {
          // The same per-message queue as background updates: a click's state never lands over a newer one.
          await messenger.update(message, outcome.update, { version: outcome.version });
          done = true;
        } catch (err) {
          if (!UPDATE_VIA_RESPONSE_URL.has(slackErrorCode(err) ?? '') || !b.response_url) throw err;
        }
      }
      if (!done && b.response_url) await toResponseUrl(b.response_url, outcome.update, { replaceOriginal: true });
    }
    for (const post of outcome.thread ?? []) {
      if (message) await messenger.post(message.channel, post, { threadTs: message.threadTs ?? message.ts });
      else if (b.response_url) await toResponseUrl(b.response_url, post, { responseType: 'in_channel', replaceOriginal: false });
    }
    // Beside the button's message: in its thread only when the message is itself in a thread.
    if (outcome.ephemeral) await ephemeralTo(channel, user, b.response_url, outcome.ephemeral, b.message?.thread_ts ?? b.container?.thread_ts);
  }

  async function refuseClick(body: unknown, words: string): Promise<void> {
    const ctx = looseClickContext(body);
    await ephemeralTo(ctx.channelId, ctx.userId, ctx.responseUrl, { text: words.replace(/:[a-z_]+: /, ''), blocks: [section(words)] });
  }

  /** chat.postEphemeral, or the response_url where meshops is not in the channel. */
  async function ephemeralTo(channel: string | undefined, user: string | undefined, responseUrl: string | undefined, rendered: Rendered, threadTs?: string): Promise<void> {
    if (channel && user) {
      try {
        await messenger.ephemeral(channel, user, rendered, { threadTs });
        return;
      } catch (err) {
        if (!NOT_A_MEMBER.has(slackErrorCode(err) ?? '') || !responseUrl) throw err;
      }
    }
    if (responseUrl) await toResponseUrl(responseUrl, rendered, { responseType: 'ephemeral', replaceOriginal: false });
    else log.warn('nowhere to send an ephemeral message');
  }

  /** Slash commands answer in the channel, as the bot, naming who asked; privately through response_url. */
  function slashTarget(channel: string, user: string, responseUrl: string, label: string): AnswerTarget {
    const asked = context(`<@${user}> ran \`${esc(label)}\``);
    const withAsker = (r: Rendered): Rendered => fitToSlack({ ...r, blocks: [asked, ...r.blocks] });
    return {
      async post(rendered) {
        try {
          return { kind: 'message', ref: await messenger.post(channel, withAsker(rendered)) };
        } catch (err) {
          const code = slackErrorCode(err);
          if (!NOT_A_MEMBER.has(code ?? '')) throw err;
          log.info({ channel, code }, 'not in the channel; answering through the response_url');
          await toResponseUrl(responseUrl, withAsker(rendered), { responseType: 'in_channel' });
          return { kind: 'response_url' };
        }
      },
      async update(posted, rendered) {
        if (posted.kind === 'message') await messenger.update(posted.ref, withAsker(rendered));
        else await toResponseUrl(responseUrl, withAsker(rendered), { responseType: 'in_channel', replaceOriginal: true });
      },
      async private(rendered) {
        await toResponseUrl(responseUrl, rendered, { responseType: 'ephemeral' });
      },
    };
  }

  /** Mentions answer in their thread; DMs in the DM (in its thread when the message was in one). */
  function threadTarget(channel: string, threadTs: string | undefined): AnswerTarget {
    return {
      async post(rendered) {
        return { kind: 'message', ref: await messenger.post(channel, rendered, { threadTs }) };
      },
      async update(posted, rendered) {
        if (posted.kind === 'message') await messenger.update(posted.ref, rendered);
      },
      async private(rendered) {
        await messenger.post(channel, rendered, { threadTs });
      },
    };
  }

  function logDuplicate(kind: string, key: string): void {
    log.info({ kind, key }, 'redelivery ignored: already handled');
  }

  return {
    app,
    messenger,
    get port() {
      const address = httpServer?.address();
      return address && typeof address === 'object' ? (address as AddressInfo).port : undefined;
    },
    get inFlight() {
      return inFlight.size;
    },
    get connected() {
      return slack.mode === 'socket' ? socketConnected : httpServer?.listening === true;
    },
    async idle(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (inFlight.size > 0 && Date.now() < deadline) await Promise.race([Promise.allSettled([...inFlight]), delay(deadline - Date.now())]);
    },
    async start() {
      stopping = false;
      // auth.test: a bad token stops start-up here, with Slack's reason.
      await app.init();
      if (slack.mode === 'http') {
        const port = options.listen?.port ?? slack.port;
        httpServer = (await app.start(options.listen?.host ? { port, host: options.listen.host } : port)) as Server;
        log.info({ mode: 'http', port: (httpServer.address() as AddressInfo | null)?.port, endpoint: '/slack/events' }, 'Slack receiver listening');
      } else {
        await app.start();
        log.info({ mode: 'socket' }, 'connected to Slack over Socket Mode');
      }
    },
    async stop(deadlineMs = 10_000) {
      if (stopping) return;
      stopping = true;
      if (receiver instanceof SocketModeReceiver) await receiver.client.disconnect();
      else if (httpServer) await app.stop();
      httpServer = undefined;
      await this.idle(deadlineMs);
    },
  };
}

function byPrefix<T>(handlers: Record<string, T> | undefined, id: string): T | undefined {
  let best: { prefix: string; handler: T } | undefined;
  for (const [prefix, handler] of Object.entries(handlers ?? {})) {
    if (id.startsWith(prefix) && (!best || prefix.length > best.prefix.length)) best = { prefix, handler };
  }
  return best?.handler;
}

function working(label: string): Rendered {
  const text = `Working on ${label}…`;
  return { text, blocks: [context(`:hourglass_flowing_sand: Working on \`${esc(label)}\`…`)] };
}

function apology(ref: string): Rendered {
  return { text: `Sorry, something went wrong on our side (ref ${ref}).`, blocks: [section(`:x: Sorry, something went wrong on our side. The details are in the bot's log under ref \`${ref}\`.`)] };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)).unref());
}
