// proxy-config log --level: istioctl's reading of `[<logger>:]<level>,...` against the proxy's
// /logging answer, before it POSTs anything: a bare level sets every logger (`level=`), a logger must
// appear in Envoy's list, a level must be one Envoy knows. Errors in istioctl's words.
import { ProxyConfigError } from './dump.ts';

export type EnvoyLogLevel = 'trace' | 'debug' | 'info' | 'warning' | 'error' | 'critical' | 'off';

const LEVELS: Record<string, EnvoyLogLevel> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warning: 'warning',
  warn: 'warning',
  error: 'error',
  critical: 'critical',
  off: 'off',
};

/** The logger name that means "all loggers" in Envoy's POST /logging?level=... */
export const ALL_LOGGERS = 'level';

/**
 * `--level` → logger → level, as istioctl builds it. `loggers` is the text of Envoy's /logging
 * answer (istioctl checks a logger name by substring against it).
 */
export function parseLogLevels(levelArg: string, loggers: string): Map<string, EnvoyLogLevel> {
  let out = new Map<string, EnvoyLogLevel>();
  for (const ol of levelArg.split(',')) {
    if (!ol.includes(':') && !ol.includes('=')) {
      const level = LEVELS[ol];
      if (!level) throw new ProxyConfigError(`unrecognized logging level: ${ol}`);
      out = new Map([[ALL_LOGGERS, level]]);
      continue;
    }
    const parts = ol.split('::');
    const loggerAndLevel = parts[parts.length - 1]!;
    const at = loggerAndLevel.search(/[:=]/);
    if (at < 0) throw new ProxyConfigError(`unrecognized logging level: ${loggerAndLevel}`);
    const logger = loggerAndLevel.slice(0, at);
    const levelName = loggerAndLevel.slice(at + 1);
    if (!loggers.includes(logger) && logger !== ALL_LOGGERS)
      throw new ProxyConfigError(`unrecognized logger name: ${logger}`);
    const level = LEVELS[levelName];
    if (!level) throw new ProxyConfigError(`unrecognized logging level: ${levelName}`);
    out.set(logger, level);
  }
  return out;
}
