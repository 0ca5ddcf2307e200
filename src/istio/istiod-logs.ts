// What istiod logged for /mesh stale: the last hour of each istiod's log (the one cluster read here),
// and its error, NACK and rejection lines grouped by shape and counted.
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/objects.ts';
import { istiodContainer } from './mesh-sync-read.ts';
import { cmp, type IstiodLogRead, type LogGroup } from './stale-report.ts';

export const ISTIOD_LOG_WINDOW_SECONDS = 3600;
export const ISTIOD_LOG_LIMIT_BYTES = 512 * 1024;
export const ISTIOD_LOG_TAIL_LINES = 5000;

/** The last hour of each istiod's log, bounded in lines and bytes; a failed read is an answer, not a throw. */
export async function readIstiodLogs(
  kube: KubeClient,
  istiodNamespace: string,
  pods: readonly KubeObject[],
): Promise<IstiodLogRead[]> {
  return Promise.all(
    pods.map(async (p): Promise<IstiodLogRead> => {
      const container = istiodContainer(p);
      try {
        const text = await kube.podLogs(istiodNamespace, p.metadata.name, {
          ...(container ? { container } : {}),
          sinceSeconds: ISTIOD_LOG_WINDOW_SECONDS,
          tailLines: ISTIOD_LOG_TAIL_LINES,
          limitBytes: ISTIOD_LOG_LIMIT_BYTES,
        });
        return { istiod: p.metadata.name, ok: true, text };
      } catch (err) {
        return { istiod: p.metadata.name, ok: false, error: (err as Error).message };
      }
    }),
  );
}

// A line is evidence when it says error, NACK or rejected (istiod's NACK line is "ACK ERROR").
const EVIDENCE = /\b(error|nack|nacked|rejected)\b/i;

/** Matching lines of every istiod log, grouped by their shape and counted, newest group first. */
export function groupLogLines(logs: readonly IstiodLogRead[]): {
  groups: LogGroup[];
  failures: Array<{ istiod: string; error: string }>;
} {
  const groups = new Map<string, LogGroup>();
  const failures: Array<{ istiod: string; error: string }> = [];
  for (const l of logs) {
    if (!l.ok) {
      failures.push({ istiod: l.istiod, error: l.error ?? 'unknown error' });
      continue;
    }
    for (const raw of (l.text ?? '').split('\n')) {
      if (!raw || !EVIDENCE.test(raw)) continue;
      const parsed = parseLogLine(raw);
      const key = `${parsed.level}\u0000${parsed.pattern}`;
      const g = groups.get(key);
      if (!g) {
        groups.set(key, {
          level: parsed.level,
          pattern: parsed.pattern,
          count: 1,
          ...(parsed.time ? { lastAt: parsed.time } : {}),
          sample: parsed.message.slice(0, 500),
          istiods: [l.istiod],
        });
        continue;
      }
      g.count++;
      if (!g.istiods.includes(l.istiod)) g.istiods.push(l.istiod);
      if (parsed.time && (!g.lastAt || parsed.time >= g.lastAt)) {
        g.lastAt = parsed.time;
        g.sample = parsed.message.slice(0, 500);
      }
    }
  }
  const list = [...groups.values()];
  for (const g of list) g.istiods.sort();
  list.sort((a, b) => cmp(b.lastAt ?? '', a.lastAt ?? '') || b.count - a.count || cmp(a.pattern, b.pattern));
  return { groups: list, failures };
}

/** istiod's text format (`<time>\t<level>\t<scope>\t<msg>`) or its JSON format (--log_as_json). */
export function parseLogLine(line: string): { time?: string; level: string; message: string; pattern: string } {
  let time: string | undefined;
  let level = 'info';
  let message = line.trim();
  if (message.startsWith('{')) {
    try {
      const j = JSON.parse(message) as Record<string, unknown>;
      if (typeof j.time === 'string') time = j.time;
      if (typeof j.level === 'string') level = j.level;
      message = `${typeof j.scope === 'string' ? `${j.scope} ` : ''}${typeof j.msg === 'string' ? j.msg : message}`;
    } catch {
      // not JSON after all: treat as text
    }
  } else {
    const parts = message.split('\t');
    if (parts.length >= 4 && !Number.isNaN(Date.parse(parts[0]!.trim()))) {
      time = parts[0]!.trim();
      level = parts[1]!.trim();
      message = parts.slice(2).join(' ');
    }
  }
  if (time) time = new Date(Date.parse(time)).toISOString();
  return { ...(time ? { time } : {}), level, message, pattern: logPattern(message) };
}

/** Blanks what differs between repeats of one problem: connection IDs, addresses, nonces. */
export function logPattern(message: string): string {
  return message
    .replace(/(ACK ERROR|node:|connection for node:?)\s*\S+/g, '$1 <proxy>')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<id>')
    .replace(/\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b/g, '<addr>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
}
