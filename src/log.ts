// pino JSON logs. Secrets never reach them: tokens, signing secrets and Authorization headers are
// redacted by path, and token-shaped strings are masked wherever else they appear.
import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'token',
  'botToken',
  'appToken',
  'signingSecret',
  'password',
  '*.token',
  '*.botToken',
  '*.appToken',
  '*.signingSecret',
  '*.password',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  'req.headers.authorization',
  'req.headers["x-slack-signature"]',
  'settings.slack',
];

const TOKEN_PATTERN = /\b(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+)\b/g;

/** Masks Slack token shapes inside free text (error messages can quote a token). */
export function maskTokens(text: string): string {
  return text.replace(TOKEN_PATTERN, (t) => `${t.slice(0, 5)}[REDACTED]`);
}

function isErrorLike(e: unknown): boolean {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as Error).message === 'string' &&
    typeof (e as Error).name === 'string'
  );
}

interface SerializedError {
  type: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: SerializedError | string;
}

/** An error for the log: type, message, code and stack (tokens masked), with its chain of causes kept. */
export function serializeError(err: Error, depth = 0): SerializedError {
  const code = (err as { code?: unknown }).code;
  const out: SerializedError = { type: err.name, message: maskTokens(err.message) };
  if (typeof code === 'string' || typeof code === 'number') out.code = String(code);
  if (err.stack) out.stack = maskTokens(err.stack);
  const cause = err.cause;
  if (cause !== undefined && depth < 5)
    out.cause =
      cause instanceof Error || isErrorLike(cause)
        ? serializeError(cause as Error, depth + 1)
        : maskTokens(String(cause));
  return out;
}

/**
 * The delivery being handled (Slack's trigger id, event id or envelope id). Set once where a delivery
 * comes in; every line logged while handling it (router, commands, approvals, audit) carries it, also
 * from loggers made before the delivery arrived, since pino asks for it on each line.
 */
const delivery = new AsyncLocalStorage<{ delivery: string }>();

export function withDelivery<T>(id: string, fn: () => T): T {
  return delivery.run({ delivery: id }, fn);
}

export function currentDelivery(): string | undefined {
  return delivery.getStore()?.delivery;
}

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    base: { app: 'meshops' },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    mixin: () => {
      const d = delivery.getStore();
      return d ? { delivery: d.delivery } : {};
    },
    serializers: { err: (e: unknown) => (e instanceof Error || isErrorLike(e) ? serializeError(e as Error) : e) },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? maskTokens(a) : a)) as Parameters<typeof method>);
      },
    },
  };
  return options.destination ? pino(opts, options.destination as pino.DestinationStream) : pino(opts);
}
