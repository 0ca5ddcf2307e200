// The HTTP front door: in front of Bolt's HTTPReceiver, a request to the events endpoint is read,
// verified (signature, and a timestamp at most five minutes away from our clock in either direction;
// Bolt refuses only old ones), parsed and checked before Bolt sees it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import { type HTTPReceiver, verifySlackRequest } from '@slack/bolt';
import { z } from 'zod';
import type { Logger } from '../log.ts';
import { type CheckOptions, checkDelivery } from './delivery-check.ts';

/** How far a request's X-Slack-Request-Timestamp may be from our clock, either way. */
export const MAX_CLOCK_SKEW_SECONDS = 300;
/** Bolt's own body limit. */
const BODY_LIMIT_BYTES = 4 * 1024 * 1024;

export interface HttpGuardOptions extends CheckOptions {
  signingSecret: string;
  /** The receiver's endpoint path (Bolt's `endpoints`). */
  endpoint: string;
  log: Logger;
  now?: () => number;
}

/**
 * Puts the checks in front of Bolt's HTTPReceiver: its request listener is wrapped, so requests to the
 * events endpoint are read, verified (signature and a timestamp within five minutes either way), parsed
 * and sorted here first; the body is handed on already read, which Bolt's own reader accepts.
 */
export function guardHttpReceiver(receiver: HTTPReceiver, options: HttpGuardOptions): void {
  const inner = receiver.requestListener;
  const log = options.log;
  receiver.requestListener = (req, res) => {
    if (!isEndpoint(req, options.endpoint)) {
      inner(req, res); // Bolt routes the rest (404 for unknown paths)
      return;
    }
    screenHttp(req, res, options)
      .then((pass) => {
        if (pass) inner(req, res);
      })
      .catch((err: unknown) => {
        log.error({ err }, 'the Slack front door failed on a request');
        if (!res.headersSent) answer(res, 400);
      });
  };
}

function isEndpoint(req: IncomingMessage, endpoint: string): boolean {
  if ((req.method ?? '').toUpperCase() !== 'POST') return false;
  try {
    return new URL(req.url ?? '/', 'http://localhost').pathname === endpoint;
  } catch {
    return false;
  }
}

const timestampHeader = z
  .string()
  .regex(/^\d{1,12}$/)
  .transform(Number);

/** Resolves true when Bolt should take the request; otherwise it has been answered. */
async function screenHttp(req: IncomingMessage, res: ServerResponse, options: HttpGuardOptions): Promise<boolean> {
  const log = options.log;
  const raw = await readBody(req, BODY_LIMIT_BYTES);
  if (raw === 'too_large') {
    log.warn({ limit: BODY_LIMIT_BYTES }, 'Slack request refused: body over the limit');
    answer(res, 413);
    return false;
  }
  // Bolt reads the body from here instead of the (consumed) stream.
  (req as IncomingMessage & { rawBody?: Buffer }).rawBody = raw;
  const text = raw.toString('utf8');
  const form = req.headers['content-type'] === 'application/x-www-form-urlencoded';
  // Slack's ssl_check is unsigned by design; Bolt answers it and drops anything else in the body.
  if (form && parseQueryString(text).ssl_check === '1') return true;

  const stamp = timestampHeader.safeParse(req.headers['x-slack-request-timestamp']);
  if (!stamp.success) {
    log.warn('Slack request refused: no usable X-Slack-Request-Timestamp');
    answer(res, 401);
    return false;
  }
  const skew = stamp.data - Math.floor((options.now ?? Date.now)() / 1000);
  if (Math.abs(skew) > MAX_CLOCK_SKEW_SECONDS) {
    log.warn(
      { skewSeconds: skew },
      `Slack request refused: its timestamp is more than ${MAX_CLOCK_SKEW_SECONDS / 60} minutes ${skew > 0 ? 'ahead of' : 'behind'} our clock`,
    );
    answer(res, 401);
    return false;
  }
  const signature = req.headers['x-slack-signature'];
  try {
    verifySlackRequest({
      signingSecret: options.signingSecret,
      body: text,
      headers: {
        'x-slack-signature': typeof signature === 'string' ? signature : '',
        'x-slack-request-timestamp': stamp.data,
      },
      ...(options.now ? { nowMilliseconds: options.now() } : {}),
    });
  } catch {
    log.warn('Slack request refused: the signature does not match');
    answer(res, 401);
    return false;
  }

  let body: unknown;
  try {
    body = parseLikeBolt(text, form);
  } catch {
    log.warn('Slack request refused: the body does not parse');
    answer(res, 400);
    return false;
  }
  const verdict = checkDelivery(body, options);
  if (verdict.kind === 'pass') return true;
  if (verdict.kind === 'refuse') {
    log.warn({ reason: verdict.reason }, 'Slack request refused');
    answer(res, 400);
    return false;
  }
  log.info({ reason: verdict.reason }, 'Slack delivery acknowledged and ignored');
  answer(res, 200, verdict.response);
  return false;
}

/** As Bolt's parseHTTPRequestBody: a form's `payload` is JSON, another form is its fields, else JSON. */
function parseLikeBolt(text: string, form: boolean): unknown {
  if (!form) return JSON.parse(text);
  const fields = parseQueryString(text);
  return typeof fields.payload === 'string' ? JSON.parse(fields.payload) : fields;
}

function answer(res: ServerResponse, status: number, body?: Record<string, unknown>): void {
  if (res.headersSent) return;
  if (body) {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  } else {
    res.writeHead(status);
    res.end();
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        resolve('too_large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}
