// Bolt, the Socket Mode client and the WebClient log through this adapter into our pino logger, so
// their lines are JSON and pass the same redaction. Their debug output quotes whole payloads, so it
// goes to pino's trace level: seen only when asked for.
import { LogLevel } from '@slack/bolt';
import type { Logger } from '../log.ts';

interface SlackLogger {
  debug(...msg: unknown[]): void;
  info(...msg: unknown[]): void;
  warn(...msg: unknown[]): void;
  error(...msg: unknown[]): void;
  setLevel(level: LogLevel): void;
  getLevel(): LogLevel;
  setName(name: string): void;
}

export function boltLogger(log: Logger): SlackLogger {
  let name = 'bolt';
  const emit = (level: 'trace' | 'info' | 'warn' | 'error', msg: unknown[]) => {
    const err = msg.find((m): m is Error => m instanceof Error);
    const text = msg
      .filter((m) => m !== err)
      .map((m) => (typeof m === 'string' ? m : safeJson(m)))
      .join(' ');
    log[level]({ component: name, ...(err ? { err } : {}) }, text || err?.message || '');
  };
  return {
    debug: (...msg) => emit('trace', msg),
    info: (...msg) => emit('info', msg),
    warn: (...msg) => emit('warn', msg),
    error: (...msg) => emit('error', msg),
    // Our level comes from LOG_LEVEL; Bolt's attempts to change it are ignored.
    setLevel: () => {},
    getLevel: () => {
      const level = log.level;
      if (level === 'trace' || level === 'debug') return LogLevel.DEBUG;
      if (level === 'info') return LogLevel.INFO;
      if (level === 'warn') return LogLevel.WARN;
      return LogLevel.ERROR;
    },
    setName: (n) => {
      name = n;
    },
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
