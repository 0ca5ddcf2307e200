// pino JSON logs. Secrets never reach them: tokens, signing secrets and Authorization headers are
// redacted by path, and token-shaped strings are masked wherever else they appear.
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

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    base: { app: 'meshops' },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    formatters: {
      log(obj) {
        const msg = obj.err instanceof Error ? { ...obj, err: { type: obj.err.name, message: maskTokens(obj.err.message), stack: obj.err.stack && maskTokens(obj.err.stack) } } : obj;
        return msg;
      },
    },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? maskTokens(a) : a)) as Parameters<typeof method>);
      },
    },
  };
  return options.destination ? pino(opts, options.destination as pino.DestinationStream) : pino(opts);
}
