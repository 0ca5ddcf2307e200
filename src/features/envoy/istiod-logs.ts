// `/mesh logs istiod [--grep text] [--since 1h]`: istiod's errors and warnings (push failures, NACKs,
// rejected config) from every istiod pod, grouped by shape and counted as `/mesh stale` does
// (parseLogLine and logPattern from src/istio/istiod-logs.ts), newest first, the raw lines as a file.
import {
  type Attachment,
  type Block,
  type Rendered,
  context,
  count,
  esc,
  section,
  truncate,
} from '../../blocks/block-kit.ts';
import { ISTIOD_LOG_LIMIT_BYTES, ISTIOD_LOG_TAIL_LINES, logPattern, parseLogLine } from '../../istio/istiod-logs.ts';
import { istiodContainer } from '../../istio/mesh-sync-read.ts';
import { humanDuration } from '../../istio/proxy-status.ts';
import type { KubeClient } from '../../kube/client.ts';
import { windowWords } from './logs-words.ts';

const ISTIOD_NS = 'istio-system';
const SHOWN_GROUPS = 8;

export interface IstiodLogGroup {
  level: string;
  pattern: string;
  count: number;
  lastAt?: string;
  sample: string;
  istiods: string[];
}

export interface IstiodLogsReport {
  kind: 'istiod';
  namespace: string;
  sinceSeconds: number;
  grep?: string;
  istiods: Array<{ pod: string; ok: boolean; error?: string; lines: number; cut: boolean }>;
  groups: IstiodLogGroup[];
  /** The matching lines as logged, by istiod pod. */
  raw: string[];
}

// istiod's NACK line is "ACK ERROR"; errors and warnings by level, and lines that say so in words.
const EVIDENCE = /\b(error|nack|nacked|rejected|failed)\b/i;
const LEVELS = new Set(['error', 'warn', 'warning', 'fatal']);

export function groupIstiodLines(
  logs: ReadonlyArray<{ pod: string; text: string }>,
  grep?: string,
): { groups: IstiodLogGroup[]; raw: string[] } {
  const groups = new Map<string, IstiodLogGroup>();
  const raw: string[] = [];
  for (const l of logs) {
    for (const line of l.text.split('\n')) {
      if (!line.trim()) continue;
      const p = parseLogLine(line);
      if (!LEVELS.has(p.level.toLowerCase()) && !EVIDENCE.test(p.message)) continue;
      if (grep && !line.toLowerCase().includes(grep.toLowerCase())) continue;
      raw.push(`${l.pod} ${line}`);
      const level = p.level.toLowerCase() === 'warning' ? 'warn' : p.level.toLowerCase();
      const pattern = logPattern(p.message);
      const key = `${level}\u0000${pattern}`;
      const g = groups.get(key);
      if (!g) {
        groups.set(key, {
          level,
          pattern,
          count: 1,
          ...(p.time ? { lastAt: p.time } : {}),
          sample: p.message.slice(0, 500),
          istiods: [l.pod],
        });
        continue;
      }
      g.count++;
      if (!g.istiods.includes(l.pod)) g.istiods.push(l.pod);
      if (p.time && (!g.lastAt || p.time >= g.lastAt)) {
        g.lastAt = p.time;
        g.sample = p.message.slice(0, 500);
      }
    }
  }
  const list = [...groups.values()];
  list.sort(
    (a, b) => (b.lastAt ?? '').localeCompare(a.lastAt ?? '') || b.count - a.count || a.pattern.localeCompare(b.pattern),
  );
  return { groups: list, raw };
}

export async function readIstiodLogReport(
  kube: KubeClient,
  sinceSeconds: number,
  grep: string | undefined,
  _now: Date,
): Promise<IstiodLogsReport> {
  const pods = (await kube.list('Pod', { namespace: ISTIOD_NS })).filter(
    (p) => p.metadata.labels?.app === 'istiod' && !p.metadata.deletionTimestamp,
  );
  const texts: Array<{ pod: string; text: string }> = [];
  const istiods = await Promise.all(
    pods.map(async (p) => {
      const container = istiodContainer(p);
      try {
        const text = await kube.podLogs(ISTIOD_NS, p.metadata.name, {
          ...(container ? { container } : {}),
          sinceSeconds,
          tailLines: ISTIOD_LOG_TAIL_LINES,
          limitBytes: ISTIOD_LOG_LIMIT_BYTES,
        });
        texts.push({ pod: p.metadata.name, text });
        const lines = text.split('\n').filter((l) => l.trim()).length;
        const cut = lines >= ISTIOD_LOG_TAIL_LINES || Buffer.byteLength(text, 'utf8') >= ISTIOD_LOG_LIMIT_BYTES;
        return { pod: p.metadata.name, ok: true, lines, cut };
      } catch (err) {
        return { pod: p.metadata.name, ok: false, error: (err as Error).message, lines: 0, cut: false };
      }
    }),
  );
  texts.sort((a, b) => a.pod.localeCompare(b.pod));
  const { groups, raw } = groupIstiodLines(texts, grep);
  return { kind: 'istiod', namespace: ISTIOD_NS, sinceSeconds, ...(grep ? { grep } : {}), istiods, groups, raw };
}

export function renderIstiodLogs(r: IstiodLogsReport, now: Date): Rendered {
  const window = windowWords(r.sinceSeconds);
  const blocks: Block[] = [];
  const files: Attachment[] = [];
  const failed = r.istiods.filter((i) => !i.ok);
  const what = r.grep ? `errors and warnings matching \`${esc(r.grep)}\`` : 'errors and warnings';
  if (r.istiods.length === 0) {
    const text = `There is no istiod pod (label app=istiod) in ${r.namespace}: no log to read.`;
    blocks.push(section(`:x: *No istiod pod* (label \`app=istiod\`) in \`${r.namespace}\`: there is no log to read.`));
    blocks.push(context(`Check the control plane: \`kubectl -n ${r.namespace} get pods -l app=istiod\`.`));
    return { text, blocks };
  }
  const total = r.groups.reduce((n, g) => n + g.count, 0);
  let text: string;
  if (failed.length === r.istiods.length) {
    text = `Could not read the log of any istiod (${count(failed.length, 'pod')}).`;
    blocks.push(section(`:x: *${esc(text)}*`));
  } else if (total === 0) {
    text = `istiod logged no ${r.grep ? `errors or warnings matching "${r.grep}"` : 'errors or warnings'} in the last ${window} (${count(r.istiods.length - failed.length, 'istiod')} read).`;
    blocks.push(section(`:white_check_mark: ${esc(text)}`));
  } else {
    const newest = r.groups[0];
    text = `istiod logged ${count(total, 'error or warning', 'errors and warnings')} of ${count(r.groups.length, 'kind')} in the last ${window}${newest?.lastAt ? `; the newest ${humanDuration(now.getTime() - Date.parse(newest.lastAt))} ago` : ''}.`;
    blocks.push(section(`:rotating_light: *${esc(text)}*`));
    const lines = r.groups
      .slice(0, SHOWN_GROUPS)
      .map(
        (g) =>
          `• \`${g.count}×\` ${esc(g.level)}${g.lastAt ? `, last ${humanDuration(now.getTime() - Date.parse(g.lastAt))} ago` : ''} on ${g.istiods.map(esc).join(', ')}: \`${esc(truncate(g.sample, 300))}\``,
      );
    if (r.groups.length > SHOWN_GROUPS)
      lines.push(`…and ${r.groups.length - SHOWN_GROUPS} more kinds, all in the thread as \`istiod-log-groups.txt\`.`);
    blocks.push(section(truncate(`*${what}, newest first:*\n${lines.join('\n')}`, 2900)));
    if (r.groups.length > SHOWN_GROUPS)
      files.push({
        filename: 'istiod-log-groups.txt',
        title: 'istiod log lines by kind',
        content: `${r.groups.map((g) => `${g.count}x ${g.level}${g.lastAt ? ` last ${g.lastAt}` : ''} on ${g.istiods.join(', ')}: ${g.sample}`).join('\n')}\n`,
      });
    files.push({ filename: 'istiod-log-lines.txt', title: 'istiod log lines', content: `${r.raw.join('\n')}\n` });
  }
  for (const f of failed)
    blocks.push(
      section(
        `:warning: Could not read the log of \`${esc(f.pod)}\`: ${esc(truncate(f.error ?? 'unknown error', 300))}. Its errors are not counted here.`,
      ),
    );
  const cut = r.istiods.filter((i) => i.cut).map((i) => i.pod);
  const bounds = `Read: the last ${window} of ${count(r.istiods.length - failed.length, 'istiod')} (at most ${ISTIOD_LOG_TAIL_LINES} lines and ${ISTIOD_LOG_LIMIT_BYTES / 1024} KiB each)`;
  blocks.push(
    context(
      `${bounds}${cut.length ? `; the bounds cut the log of ${cut.map(esc).join(', ')}, so older lines in the window were not read` : ''}. Sync status: \`/mesh stale\`.`,
    ),
  );
  return { text, blocks, files };
}
