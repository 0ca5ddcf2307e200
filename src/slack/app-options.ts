// What the Slack front door is given and what it gives back. Its own module, so the pieces of the
// front door (receivers, forms, replies) can name the options without importing the app itself.
import type { App } from '@slack/bolt';
import type { SlackSettings } from '../config.ts';
import type { Logger } from '../log.ts';
import type { ClickHandler, FormHandler, FormSpec, Messenger } from '../messenger.ts';
import type { Router } from '../router.ts';
import type { DedupStore } from './dedup.ts';
import type { ResponseUrlRetry } from './slack-messenger.ts';

export interface SlackAppOptions {
  slack: SlackSettings;
  router: Router;
  log: Logger;
  /** Keyed by action_id prefix; the longest matching prefix wins. */
  clickHandlers?: Record<string, ClickHandler>;
  /** Keyed by callback_id prefix. */
  viewHandlers?: Record<string, FormHandler>;
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
  /** HTTP mode: work waits for a quiet door (quietMs, 40) but never longer than maxHoldMs (300): ack-gate.ts. */
  ackGate?: { maxHoldMs?: number; quietMs?: number };
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
