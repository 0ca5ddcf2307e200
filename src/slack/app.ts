// The Slack front door on Bolt, over Socket Mode (the default) or HTTP. It acknowledges every
// delivery at once, drops redeliveries, asks the router, and answers: "working…" then chat.update
// for anything that talks to the cluster, long output as a file in the thread, and the slash
// command's response_url where meshops has not joined the channel.
import { App, SocketModeReceiver, webApi } from '@slack/bolt';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Rendered, section } from '../blocks/block-kit.ts';
import type { Requester } from '../command.ts';
import { explain, referenceId } from '../errors.ts';
import { withDelivery } from '../log.ts';
import type { ButtonClick, ClickOutcome, FormHandler, FormOutcome, FormSubmission, MessageRef } from '../messenger.ts';
import { AckGate } from './ack-gate.ts';
import { boltLogger } from './bolt-logger.ts';
import {
  type AnswerTarget,
  type ReplyDeps,
  apology,
  applyClickOutcome,
  refuseClick,
  slashTarget,
  threadTarget,
} from './replies.ts';
import { DEDUP_TTL_MS, MemoryDedupStore } from './dedup.ts';
import { SlackDirectory } from './identity.ts';
import { Drain, RESTARTING_TEXT, RestartingError, restartingNotice } from './restarting.ts';
import {
  type BlockActions,
  blockActionsSchema,
  directMessageSchema,
  eventEnvelopeSchema,
  looseClickContext,
  mentionEventSchema,
  slashCommandSchema,
} from './payloads.ts';
import {
  ResponseUrlBudget,
  ResponseUrlError,
  SlackMessenger,
  type WebClient,
  postToResponseUrl,
} from './slack-messenger.ts';
import { answerer } from './answering.ts';
import { buildReceiver } from './receivers.ts';
import { byPrefix, registerForms } from './forms.ts';
import { slackTextToPlain, stripBotMention } from './slack-text.ts';

/** Slack's names for the front-door-neutral form types (src/messenger.ts). */
export type ViewSubmission = FormSubmission;
export type ViewOutcome = FormOutcome;
export type ViewHandler = FormHandler;

import type { SlackApp, SlackAppOptions } from './app-options.ts';

export type { SlackApp, SlackAppOptions } from './app-options.ts';

const EVENTS_ENDPOINT = '/slack/events';

/** What ties one delivery's log lines together: the trigger id of a command or click, the event id of an event. */
function deliveryId(kind: 'command' | 'event' | 'click', body: unknown): string {
  const b = (body ?? {}) as Record<string, unknown>;
  const id = kind === 'event' ? b.event_id : b.trigger_id;
  return `${kind}:${typeof id === 'string' && id.length <= 100 ? id : 'unknown'}`;
}

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

  const gate = new AckGate(options.ackGate);
  const receiver = buildReceiver(options, { log, logger, clientOptions, commandName, endpoint: EVENTS_ENDPOINT, gate });

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
  const toResponseUrl = (
    url: string,
    rendered: Rendered,
    mode: Parameters<typeof postToResponseUrl>[2],
  ): Promise<void> =>
    postToResponseUrl(url, rendered, mode, { ...options.responseUrlRetry, log, budget: responseUrlBudget });
  const replies: ReplyDeps = { messenger, toResponseUrl, log };
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
  // Every listener acks first (Bolt acks events itself before the listener runs); the work then starts once no
  // request at the door waits for its ack (src/slack/ack-gate.ts), so a burst is acknowledged before any of it runs.
  const track = async (work: () => Promise<void>): Promise<void> => {
    const p = gate.admit().then(work);
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

  const drain = new Drain();
  const answer = answerer({ router, log, commandName, forms: options.forms, drain });
  /** After SIGTERM a new question gets the restarting notice at once, privately where the door allows. */
  const sayRestarting = async (target: AnswerTarget, label: string): Promise<void> => {
    log.info({ command: label }, 'shutting down: told the asker meshops is restarting');
    await target.private(restartingNotice(label));
  };

  // /mesh <verb> [args]
  app.command(commandName, async ({ ack, body }) => {
    await ack();
    await track(() =>
      withDelivery(deliveryId('command', body), async () => {
        const parsed = slashCommandSchema.safeParse(body);
        if (!parsed.success) {
          log.warn({ issues: parsed.error.issues.slice(0, 3) }, 'slash command payload refused');
          return;
        }
        const cmd = parsed.data;
        if (drain.stopping) {
          const label = `${commandName} ${slackTextToPlain(cmd.text)}`.trim();
          return sayRestarting(slashTarget(replies, cmd.channel_id, cmd.user_id, cmd.response_url, label), label);
        }
        if (!(await claim(`command:${cmd.trigger_id}`))) return logDuplicate('command', cmd.trigger_id);
        const requester = await requesterFor(cmd.user_id, cmd.channel_id, cmd.user_name);
        const text = slackTextToPlain(cmd.text);
        const label = `${commandName} ${text}`.trim();
        const target: AnswerTarget = {
          ...slashTarget(replies, cmd.channel_id, cmd.user_id, cmd.response_url, label),
          openModal: async (view) => {
            await client.views.open({ trigger_id: cmd.trigger_id, view: view as never });
          },
        };
        await answer(text, requester, target, label);
      }),
    );
  });

  // @meshops <verb> [args], answered in the mention's thread. Bolt has acknowledged the event already.
  app.event('app_mention', async ({ body, event, context }) => {
    await track(() =>
      withDelivery(deliveryId('event', body), async () => {
        const parsed = mentionEventSchema.safeParse(event);
        const envelope = eventEnvelopeSchema.safeParse(body);
        if (!parsed.success || !envelope.success) {
          log.warn({ issues: (parsed.error ?? envelope.error)?.issues.slice(0, 3) }, 'app_mention payload refused');
          return;
        }
        const e = parsed.data;
        const text = slackTextToPlain(stripBotMention(e.text, context.botUserId));
        const thread = threadTarget(replies, e.channel, e.thread_ts ?? e.ts);
        if (drain.stopping) return sayRestarting(thread, `@meshops ${text}`);
        if (!(await claim(`event:${envelope.data.event_id}`))) return logDuplicate('event', envelope.data.event_id);
        const requester = await requesterFor(e.user, e.channel);
        await answer(text, requester, thread, `@meshops ${text}`);
      }),
    );
  });

  // Direct messages: the whole message is the command.
  app.event('message', async ({ body, event, context }) => {
    const parsed = directMessageSchema.safeParse(event);
    if (!parsed.success) return; // other channels, edits, bot posts: not for us
    await track(() =>
      withDelivery(deliveryId('event', body), async () => {
        const envelope = eventEnvelopeSchema.safeParse(body);
        if (!envelope.success) return;
        const e = parsed.data;
        const text = slackTextToPlain(stripBotMention(e.text, context.botUserId));
        const thread = threadTarget(replies, e.channel, e.thread_ts);
        if (drain.stopping) return sayRestarting(thread, text);
        if (!(await claim(`event:${envelope.data.event_id}`))) return logDuplicate('event', envelope.data.event_id);
        const requester = await requesterFor(e.user, e.channel);
        await answer(text, requester, thread, text);
      }),
    );
  });

  // Buttons: dispatched by action_id prefix.
  app.action({ type: 'block_actions' }, async ({ ack, body }) => {
    await ack();
    await track(() =>
      withDelivery(deliveryId('click', body), async () => {
        const raw = body as unknown as Record<string, unknown>;
        const rawAction = (Array.isArray(raw.actions) ? raw.actions[0] : undefined) as
          | Record<string, unknown>
          | undefined;
        const key = `click:${String(raw.trigger_id ?? '')}:${String(rawAction?.action_ts ?? '')}:${String(rawAction?.action_id ?? '')}`;
        // After SIGTERM no click starts anything (an approval would begin a change the deadline may cut): the
        // clicker is told to try again, and the button still works on the replica that takes over.
        if (drain.stopping) {
          log.info('shutting down: a click told meshops is restarting, nothing done');
          await refuseClick(replies, raw, `:arrows_counterclockwise: ${RESTARTING_TEXT} Nothing was done.`);
          return;
        }
        if (!(await claim(key))) return logDuplicate('click', key);
        const parsed = blockActionsSchema.safeParse(body);
        if (!parsed.success) {
          log.warn({ issues: parsed.error.issues.slice(0, 3) }, 'button payload refused');
          await refuseClick(replies, raw, ':no_entry: That button is not valid. Nothing was done.');
          return;
        }
        await handleClick(parsed.data);
      }),
    );
  });

  registerForms(app, { forms: options.forms, viewHandlers: options.viewHandlers, log });

  // Anything a listener did not catch: logged whole, the person gets a short apology.
  const onError = async ({ error, body }: { error: Error; body?: unknown }): Promise<void> => {
    // Bolt wraps what a listener threw; a response_url that would not take the answer is Slack's fault,
    // already logged try by try, and an apology down the same URL would not get through either.
    const original = (error as { original?: unknown }).original ?? error;
    if (original instanceof ResponseUrlError) {
      log.warn({ err: original }, 'an answer could not be delivered through the response_url');
      return;
    }
    // A listener that threw is our bug: logged whole at error level under one fixed message tests look for.
    const ref = referenceId();
    log.error({ err: error, ref, code: 'internal' }, 'Slack handler failed');
    const ctx = looseClickContext(body);
    try {
      if (ctx.responseUrl)
        await toResponseUrl(ctx.responseUrl, apology(ref), { responseType: 'ephemeral', replaceOriginal: false });
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
    const message: MessageRef | undefined =
      channelId && messageTs
        ? { channel: channelId, ts: messageTs, threadTs: b.message?.thread_ts ?? b.container?.thread_ts ?? messageTs }
        : undefined;
    if (!handler) {
      log.warn({ actionId: action.action_id }, 'no handler for this button');
      await refuseClick(
        replies,
        b,
        ':grey_question: meshops no longer knows this button. Run the command again for fresh buttons.',
      );
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
      const e = explain(err, log.child({ actionId: action.action_id }), 'handling a click');
      outcome = {
        ephemeral: { text: e.text.replace(/^:[a-z_]+: /, '').replace(/[*_`]/g, ''), blocks: [section(e.text)] },
      };
    }
    await applyClickOutcome(replies, b, message, outcome);
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
      while (inFlight.size > 0 && Date.now() < deadline)
        await Promise.race([Promise.allSettled([...inFlight]), delay(deadline - Date.now())]);
    },
    async start() {
      stopping = false;
      drain.stopping = false;
      // auth.test: a bad token stops start-up here, with Slack's reason.
      await app.init();
      if (slack.mode === 'http') {
        const port = options.listen?.port ?? slack.port;
        httpServer = (await app.start(options.listen?.host ? { port, host: options.listen.host } : port)) as Server;
        log.info(
          { mode: 'http', port: (httpServer.address() as AddressInfo | null)?.port, endpoint: '/slack/events' },
          'Slack receiver listening',
        );
      } else {
        await app.start();
        log.info({ mode: 'socket' }, 'connected to Slack over Socket Mode');
      }
    },
    async stop(deadlineMs = 10_000) {
      if (stopping) return;
      stopping = true;
      // The door stays open while answers finish: new questions are told "restarting" instead of refused.
      drain.stopping = true;
      const dropped = router.flights.cancelQueued(new RestartingError());
      if (dropped) log.info({ dropped }, 'shutting down: queued questions told meshops is restarting');
      await this.idle(deadlineMs);
      const gaveUp = drain.giveUpAll();
      if (gaveUp) {
        log.warn({ gaveUp }, 'shutdown deadline passed: answers still running told meshops is restarting');
        await this.idle(RESTARTING_NOTICE_MS);
      }
      if (receiver instanceof SocketModeReceiver) await receiver.client.disconnect();
      else if (httpServer) await app.stop();
      httpServer = undefined;
    },
  };
}

/** How long the "restarting" updates of answers given up at the deadline may take to reach Slack. */
const RESTARTING_NOTICE_MS = 1500;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)).unref());
}
