// Sends requests to Bolt's HTTP receiver the way Slack does: v0 signatures (HMAC-SHA256 of
// `v0:<timestamp>:<body>` with the signing secret), form-encoded slash commands and interactions,
// JSON events. Knobs break the signature or age the timestamp for the refusal tests.
import { createHmac } from 'node:crypto';

export interface SignKnobs {
  secret: string;
  /** Seconds since the epoch; now by default. */
  timestamp?: number;
  /** Sign with the wrong secret. */
  badSignature?: boolean;
  /** A timestamp ten minutes old: Bolt accepts five. */
  stale?: boolean;
  /** Slack's retry headers (X-Slack-Retry-Num / X-Slack-Retry-Reason). */
  retryNum?: number;
  retryReason?: string;
}

export interface SignedResult {
  status: number;
  body: string;
  /** Request sent → response received, in milliseconds: the ack latency Slack sees. */
  ms: number;
}

export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export async function postSigned(
  url: string,
  body: string,
  contentType: string,
  knobs: SignKnobs,
): Promise<SignedResult> {
  const timestamp = knobs.timestamp ?? Math.floor(Date.now() / 1000) - (knobs.stale ? 600 : 0);
  const secret = knobs.badSignature ? `${knobs.secret}-wrong` : knobs.secret;
  const headers: Record<string, string> = {
    'content-type': contentType,
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': slackSignature(secret, timestamp, body),
  };
  if (knobs.retryNum !== undefined) headers['x-slack-retry-num'] = String(knobs.retryNum);
  if (knobs.retryReason !== undefined) headers['x-slack-retry-reason'] = knobs.retryReason;
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, body: text, ms: performance.now() - started };
}

/** A slash command, form-encoded as Slack posts it. */
export function sendSlashCommand(url: string, fields: Record<string, string>, knobs: SignKnobs): Promise<SignedResult> {
  return postSigned(url, new URLSearchParams(fields).toString(), 'application/x-www-form-urlencoded', knobs);
}

/** An Events API request (event_callback or url_verification), as JSON. */
export function sendEvent(url: string, body: Record<string, unknown>, knobs: SignKnobs): Promise<SignedResult> {
  return postSigned(url, JSON.stringify(body), 'application/json', knobs);
}

/** An interaction (block_actions, view_submission): form-encoded with the JSON in `payload`. */
export function sendInteraction(
  url: string,
  payload: Record<string, unknown>,
  knobs: SignKnobs,
): Promise<SignedResult> {
  return postSigned(
    url,
    new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
    'application/x-www-form-urlencoded',
    knobs,
  );
}
