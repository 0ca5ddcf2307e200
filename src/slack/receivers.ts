// Bolt's receivers, built by us: so that the Socket Mode client's own WebClient (apps.connections.open)
// uses the same API URL, so that its ping timeout can be set, and so that the front door's checks
// (front-door.ts) sit in front of Bolt on both.
import { HTTPReceiver, SocketModeReceiver } from '@slack/bolt';
import type { AckGate } from './ack-gate.ts';
import type { Logger } from '../log.ts';
import type { SlackAppOptions } from './app-options.ts';
import type { boltLogger } from './bolt-logger.ts';
import { guardHttpReceiver, guardSocketMode } from './front-door.ts';

export interface ReceiverDeps {
  log: Logger;
  logger: ReturnType<typeof boltLogger>;
  clientOptions: Record<string, unknown>;
  commandName: string;
  endpoint: string;
  /** Counts HTTP requests until answered, so that work after an ack waits for the acks at the door. */
  gate?: AckGate;
}

export function buildReceiver(options: SlackAppOptions, deps: ReceiverDeps): SocketModeReceiver | HTTPReceiver {
  const { slack } = options;
  const { log, logger, clientOptions, commandName } = deps;
  const EVENTS_ENDPOINT = deps.endpoint;
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
  if (receiver instanceof HTTPReceiver && slack.mode === 'http')
    guardHttpReceiver(receiver, { signingSecret: slack.signingSecret, endpoint: EVENTS_ENDPOINT, commandName, log });
  else if (receiver instanceof SocketModeReceiver) guardSocketMode(receiver, { commandName, log });
  // Outermost, so that a request counts from the moment it arrives, before the front door reads its body.
  if (receiver instanceof HTTPReceiver && deps.gate)
    receiver.requestListener = deps.gate.wrap(receiver.requestListener);

  return receiver;
}
