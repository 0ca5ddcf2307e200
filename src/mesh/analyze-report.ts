// One analysis answer, whatever asked for it (/mesh analyze, the paste modal, the CLI): our
// analyzers' messages, merged with istioctl's when it ran, errors first, and the words to render them.
import type { AnalysisCoverage, AnalysisMessage, Level } from './analyzers/index.ts';
import { partialLine, skippedLine } from './analyzers/coverage.ts';
import { isMeshopsCode, messageResource } from './analyzers/types.ts';
import type { IstioctlMessage, IstioctlResult } from '../istio/istioctl.ts';
import { type Attachment, type Block, context, esc, header, section } from '../blocks/block-kit.ts';

export type MessageSource = 'meshops' | 'istioctl' | 'both';

export interface ReportedMessage {
  code: string;
  name?: string;
  level: Level;
  resource: string;
  namespace?: string;
  text: string;
  source: MessageSource;
  line?: number;
  origin?: string;
}

export interface AnalyzeReport {
  scope: string;
  objectsAnalyzed: number;
  messages: ReportedMessage[];
  /** Analyzers not run (their inputs were not loaded) and ones run without an optional input, in words. */
  notChecked?: NotChecked;
  istioctl?: { status: IstioctlResult['status']; reason?: string; count?: number };
}

export interface NotChecked {
  /** `gateway.SecretAnalyzer needs Secrets, which meshops does not read` */
  skipped: string[];
  /** `injection.Analyzer ran without ConfigMaps, ...; it leaves out ...` */
  partial: string[];
}

export function notCheckedOf(coverage: AnalysisCoverage): NotChecked {
  const byName = <T extends { analyzer: string }>(a: T, b: T) =>
    a.analyzer < b.analyzer ? -1 : a.analyzer > b.analyzer ? 1 : 0;
  return {
    skipped: [...coverage.skipped].sort(byName).map(skippedLine),
    partial: [...coverage.partial].sort(byName).map(partialLine),
  };
}

/** The not-checked lines as plain text (CLI, the attached file), empty when every analyzer ran in full. */
export function notCheckedText(n: NotChecked | undefined): string[] {
  if (!n) return [];
  return [...n.skipped.map((l) => `not checked: ${l}`), ...n.partial.map((l) => `partly checked: ${l}`)];
}

function notCheckedBlock(n: NotChecked | undefined): Block[] {
  if (!n || (n.skipped.length === 0 && n.partial.length === 0)) return [];
  const parts: string[] = [];
  const bullets = (lines: readonly string[]) => lines.map((l) => `• ${esc(l)}`).join('\n');
  const count = `${n.skipped.length} analyzer${n.skipped.length === 1 ? '' : 's'} not run`;
  if (n.skipped.length) parts.push(`*Not checked* (${count}):\n${bullets(n.skipped)}`);
  if (n.partial.length) parts.push(`*Partly checked:*\n${bullets(n.partial)}`);
  return [section(parts.join('\n'))];
}

export const DOCS_BASE = 'https://istio.io/latest/docs/reference/config/analysis';

/** Istio's page for an IST code; meshops' own codes (MSH...) are explained in docs/analyzers.md instead. */
export function docUrl(code: string): string | undefined {
  if (isMeshopsCode(code)) return undefined;
  return `${DOCS_BASE}/${code.toLowerCase()}/`;
}

const LEVELS: readonly Level[] = ['Error', 'Warning', 'Info'];

function normalizeLevel(level: string): Level {
  const l = level.toLowerCase();
  if (l.startsWith('err')) return 'Error';
  if (l.startsWith('warn')) return 'Warning';
  return 'Info';
}

/** Istio writes origins as `Kind namespace/name` (older releases `Kind name.namespace`); compare on one form. */
export function normalizeOrigin(origin: string): string {
  const m = origin.trim().match(/^(\S+)\s+(\S+)$/);
  if (!m) return origin.trim();
  const [, kind, rest] = m as unknown as [string, string, string];
  if (rest.includes('/')) return `${kind} ${rest}`;
  const dot = rest.lastIndexOf('.');
  return dot > 0 && kind !== 'Namespace' ? `${kind} ${rest.slice(dot + 1)}/${rest.slice(0, dot)}` : `${kind} ${rest}`;
}

/** Ours and istioctl's, without duplicates (same code on the same resource), each marked with its source. */
export function mergeMessages(
  ours: readonly AnalysisMessage[],
  theirs: readonly IstioctlMessage[] = [],
): ReportedMessage[] {
  const out = new Map<string, ReportedMessage>();
  for (const m of ours) {
    const resource = messageResource(m);
    const key = `${m.code}\u0000${resource}\u0000${m.text}`;
    out.set(key, {
      code: m.code,
      name: m.name,
      level: m.level,
      resource,
      namespace: m.resource.namespace,
      text: m.text,
      source: 'meshops',
      line: m.line,
      origin: m.origin,
    });
  }
  for (const t of theirs) {
    const resource = normalizeOrigin(t.origin);
    const same = [...out.values()].find((m) => m.code === t.code && m.resource === resource);
    if (same) {
      if (same.source === 'meshops') same.source = 'both';
      continue;
    }
    const ns = resource.match(/^\S+ ([^/]+)\//)?.[1];
    out.set(`${t.code}\u0000${resource}\u0000${t.message}`, {
      code: t.code,
      level: normalizeLevel(t.level),
      resource,
      namespace: ns,
      text: t.message,
      source: 'istioctl',
    });
  }
  return [...out.values()].sort(
    (a, b) =>
      LEVELS.indexOf(a.level) - LEVELS.indexOf(b.level) ||
      a.resource.localeCompare(b.resource) ||
      a.code.localeCompare(b.code),
  );
}

const ICON: Record<Level, string> = {
  Error: ':red_circle:',
  Warning: ':large_yellow_circle:',
  Info: ':large_blue_circle:',
};
export const MAX_MESSAGES_INLINE = 15;

export function messageLine(m: ReportedMessage): string {
  const src = m.source === 'istioctl' ? ' _(istioctl)_' : m.source === 'both' ? ' _(meshops + istioctl)_' : '';
  const where = m.origin ? ` _${esc(m.origin)}${m.line ? `:${m.line}` : ''}_` : '';
  const url = docUrl(m.code);
  const code = url ? `<${url}|${m.code}>` : `*${m.code}*`;
  return `${ICON[m.level]} ${code} ${esc(m.text)}${src}${where}`;
}

export function messageToPlainLine(m: ReportedMessage): string {
  return `${m.level} [${m.code}] (${m.resource}) ${m.text}${m.source !== 'meshops' ? ` [${m.source}]` : ''}${m.origin ? ` ${m.origin}${m.line ? `:${m.line}` : ''}` : ''}`;
}

/** Errors, then warnings, then info, grouped by resource; past 15 messages the rest go to a file. */
export function renderAnalyzeReport(r: AnalyzeReport): { text: string; blocks: Block[]; files: Attachment[] } {
  const counts = LEVELS.map((l) => [l, r.messages.filter((m) => m.level === l).length] as const);
  const istioctlNote =
    r.istioctl?.status === 'absent'
      ? `istioctl: not used (${r.istioctl.reason})`
      : r.istioctl?.status === 'failed'
        ? `istioctl: failed (${r.istioctl.reason}); meshops' own analysis is shown`
        : r.istioctl?.status === 'ok'
          ? `istioctl: ran, ${r.istioctl.count ?? 0} message${r.istioctl.count === 1 ? '' : 's'} merged`
          : undefined;
  if (r.messages.length === 0) {
    const text = `No issues found in ${r.scope}: ${r.objectsAnalyzed} objects analyzed.`;
    const blocks = [
      section(`:white_check_mark: ${esc(text)}`),
      ...notCheckedBlock(r.notChecked),
      ...(istioctlNote ? [context(esc(istioctlNote))] : []),
    ];
    return { text, blocks, files: [] };
  }
  const summary = counts
    .filter(([, n]) => n > 0)
    .map(([l, n]) => `${n} ${l.toLowerCase()}${n === 1 || l === 'Info' ? '' : 's'}`)
    .join(', ');
  const text = `Istio analysis of ${r.scope}: ${summary} (${r.objectsAnalyzed} objects analyzed)`;
  const blocks: Block[] = [
    header(`Istio analysis · ${r.scope}`),
    section(`*${summary}* across ${r.objectsAnalyzed} objects.`),
  ];
  const shown = r.messages.slice(0, MAX_MESSAGES_INLINE);
  let lastGroup = '';
  let group: string[] = [];
  const flush = () => {
    if (group.length) blocks.push(section(`*${esc(lastGroup)}*\n${group.join('\n')}`));
    group = [];
  };
  for (const m of shown) {
    const key = `${m.level}\u0000${m.resource}`;
    if (key !== lastGroup && group.length) flush();
    lastGroup = key === lastGroup ? lastGroup : key;
    group.push(messageLine(m));
  }
  flush();
  // The group title is the resource; the level is already in each line's icon.
  for (const b of blocks)
    if (b.type === 'section' && b.text) b.text.text = b.text.text.replace(/^\*(Error|Warning|Info)\u0000/, '*');
  const files: Attachment[] = [];
  if (r.messages.length > shown.length) {
    const rest = r.messages.length - shown.length;
    blocks.push(
      context(`_…and ${rest} more: all ${r.messages.length} messages are in the thread as \`istio-analysis.txt\`._`),
    );
    const lines = [...r.messages.map(messageToPlainLine), ...notCheckedText(r.notChecked)];
    files.push({ filename: 'istio-analysis.txt', title: 'istio-analysis.txt', content: lines.join('\n') + '\n' });
  }
  blocks.push(...notCheckedBlock(r.notChecked));
  if (istioctlNote) blocks.push(context(esc(istioctlNote)));
  return { text, blocks, files };
}
