// In front of Bolt, on both doors: a delivery is checked for the shape Bolt itself relies on before Bolt
// sees it. Bolt reads `body.event.type`, `body.user.id`, `body.view.…` and more without checking, so a
// signed but malformed delivery (payload=null, `event: null`, `actions` not an array, no `user`) would
// throw inside it: an unhandled rejection, a 500, or an envelope never acknowledged. Here such a
// delivery gets its answer at once and is dropped, and so does anything Bolt has no listener for.
// HTTP also refuses a request timestamp more than five minutes away from our clock in either direction
// (Bolt refuses only old ones).
// The checks are in delivery-check.ts, the HTTP door in http-guard.ts; the Socket Mode door is here.
import type { SocketModeReceiver } from '@slack/bolt';
import { z } from 'zod';
import type { Logger } from '../log.ts';
import { type CheckOptions, checkDelivery, describe, firstIssue, record, type Verdict } from './delivery-check.ts';

export { type CheckOptions, checkDelivery, type Verdict } from './delivery-check.ts';
export { guardHttpReceiver, type HttpGuardOptions, MAX_CLOCK_SKEW_SECONDS } from './http-guard.ts';

// ---------------------------------------------------------------------------------------------
// Socket Mode

/** The envelope type a refused delivery is rewritten to: only our own listener acts on it. */
const GUARD_ACK = 'meshops_guard_ack';

const envelopeSchema = z.looseObject({
  envelope_id: z.string().min(1).max(256),
  type: z.string().max(64),
  payload: z.unknown(),
});
const DELIVERY_ENVELOPES = new Set(['events_api', 'slash_commands', 'interactive']);

/**
 * Puts the checks in front of the Socket Mode client's message handler. A refused envelope is not
 * given to Bolt as it is: it is rewritten into an envelope of our own type that our listener acks
 * (with the answer, e.g. empty options), so Slack does not resend it and Bolt has nothing to act on.
 */
export function guardSocketMode(receiver: SocketModeReceiver, options: CheckOptions & { log: Logger }): void {
  const client = receiver.client;
  const log = options.log;
  const originals = client.listeners('ws_message') as Array<(data: unknown, isBinary: boolean) => unknown>;
  if (originals.length === 0) {
    // The client no longer reads messages this way (a Socket Mode upgrade): better unguarded than deaf.
    log.warn('Socket Mode front door not installed: the client has no ws_message listener to guard');
    return;
  }
  client.removeAllListeners('ws_message');
  client.on('ws_message', (data: unknown, isBinary: boolean) => {
    let forwarded = data;
    try {
      forwarded = screenEnvelope(data, isBinary, options);
    } catch (err) {
      log.error({ err }, 'the Slack front door failed on a Socket Mode message');
    }
    if (forwarded === undefined) return;
    for (const listener of originals) {
      try {
        Promise.resolve(listener.call(client, forwarded, isBinary)).catch((err: unknown) =>
          log.error({ err }, 'a Socket Mode message could not be processed'),
        );
      } catch (err) {
        log.error({ err }, 'a Socket Mode message could not be processed');
      }
    }
  });
  client.on(
    GUARD_ACK,
    (args: {
      ack?: (response?: Record<string, unknown>) => Promise<void>;
      body?: { response?: Record<string, unknown> };
    }) => {
      args
        .ack?.(args.body?.response)
        .catch((err: unknown) => log.warn({ err }, 'could not acknowledge a refused Socket Mode envelope'));
    },
  );
}

/** Returns what the client should see: the message as it came, a rewritten one, or undefined to drop it. */
function screenEnvelope(data: unknown, isBinary: boolean, options: CheckOptions & { log: Logger }): unknown {
  if (isBinary) return data; // the client ignores binary messages
  const text =
    typeof data === 'string'
      ? data
      : data instanceof ArrayBuffer || ArrayBuffer.isView(data)
        ? new TextDecoder().decode(data as ArrayBuffer)
        : undefined;
  if (text === undefined) return data;
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return data; // the client logs and ignores it
  }
  const top = record.safeParse(message);
  if (!top.success) {
    options.log.warn({ reason: `the message is ${describe(message)}` }, 'Socket Mode message dropped');
    return undefined;
  }
  if (top.data.type === 'hello' || top.data.type === 'disconnect') return data;
  const envelope = envelopeSchema.safeParse(top.data);
  if (!envelope.success) {
    // Nothing to acknowledge it with: Slack resends what it does not get an ack for, so this is logged only.
    options.log.warn({ reason: `envelope: ${firstIssue(envelope.error)}` }, 'Socket Mode message dropped');
    return undefined;
  }
  const { envelope_id: envelopeId, type, payload } = envelope.data;
  let verdict: Verdict;
  if (!DELIVERY_ENVELOPES.has(type))
    verdict = { kind: 'ack', reason: `an envelope of type ${type || '(empty)'} is not handled` };
  else if (type === 'events_api' && !record.safeParse(record.safeParse(payload).data?.event).success)
    verdict = { kind: 'ack', reason: 'events_api envelope without an event object' };
  else verdict = checkDelivery(payload, options);
  if (verdict.kind === 'pass') return data;
  options.log[verdict.kind === 'refuse' ? 'warn' : 'info'](
    { reason: verdict.reason, envelopeType: type },
    'Socket Mode delivery acknowledged and ignored',
  );
  const response = verdict.kind === 'ack' ? verdict.response : undefined;
  return JSON.stringify({
    envelope_id: envelopeId,
    type: GUARD_ACK,
    payload: { meshops_guard_ack: true, ...(response ? { response } : {}) },
    accepts_response_payload: Boolean(response),
  });
}
