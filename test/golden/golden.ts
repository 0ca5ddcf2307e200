// Golden Block Kit: the normaliser and the file comparison behind test/golden/golden-blocks.test.ts.
//
// The demo runs on a fixed clock, so every age, time and timestamp in an answer is already the same on every run.
// What is still different each run is replaced here, and only that:
//
//   1. Generated pod names. The sandbox names a ReplicaSet's pods `<replicaset>-<5 random chars>` (as Kubernetes
//      does, from the alphabet bcdfghjklmnpqrstvwxz2456789). Each becomes `<replicaset>-00001`, `-00002`, ... in the
//      sorted order of the real names, per ReplicaSet. The placeholder has the suffix's length (tables stay aligned)
//      and uses digits the real alphabet lacks, so it can never be mistaken for a real name. The ReplicaSet part (the
//      pod-template hash) is deterministic and kept.
//   2. Approval request and offer ids (128 random bits, hex; the ConfigMaps `meshops-req-<id>` in the bot's namespace):
//      the n-th to appear in an answer becomes n in 8 digits padded with zeros to 32 (`00000001000000000000000000000000`),
//      so that its 8-character short form (`request 1a2b3c4d`) becomes `00000001`. Numbering restarts in each answer.
//   3. The router's footer timing (`cluster *demo* · 0.3s`): wall-clock time, written `cluster *demo* · [elapsed]`.
//   4. Key material the demo generates per run: a certificate's serial (`*Serial*` field) and SHA-256 fingerprints,
//      written `[serial]` and `[fingerprint]`.
//   5. UUIDs (Envoy's x-request-id in access-log lines): the n-th distinct one becomes 00000000-0000-4000-8000-<n>.
//
// Nothing else is touched: a change anywhere else in an answer shows up in the diff.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Rendered } from '../../src/blocks/block-kit.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import type { Outcome } from '../../src/router.ts';

export const UPDATE_HINT =
  'If the change is intended, rewrite the golden files with `UPDATE_GOLDEN=1 npm test -- test/golden` and review `git diff test/golden`.';

/** What a golden file holds: the question, the outcome, and what Slack is sent (fallback text, blocks, thread files, modal). */
export interface GoldenAnswer {
  input: string;
  requester: { userId: string; channelId?: string; source: string };
  outcome: Outcome;
  text: string;
  blocks: Rendered['blocks'];
  files?: Rendered['files'];
  modal?: Rendered['modal'];
}

/** Real generated pod name → placeholder, from the pods in the store (see 1. above). */
export function podNamePlaceholders(pods: readonly KubeObject[]): Map<string, string> {
  const byPrefix = new Map<string, string[]>();
  for (const p of pods) {
    const prefix = p.metadata.generateName as string | undefined;
    const name = p.metadata.name;
    if (!prefix || !name.startsWith(prefix) || name.length !== prefix.length + 5) continue;
    byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), name]);
  }
  const out = new Map<string, string>();
  for (const [prefix, names] of byPrefix) {
    [...new Set(names)].sort().forEach((name, i) => out.set(name, `${prefix}${String(i + 1).padStart(5, '0')}`));
  }
  return out;
}

const FOOTER = /^(cluster \*[^*]+\*) · \d+(?:\.\d)?s$/;

/** The answer as its golden file holds it, normalised as described at the top of this file. */
export function goldenText(answer: GoldenAnswer, pods: Map<string, string>, requestIds: readonly string[]): string {
  const blocks = answer.blocks.map((b) => {
    if (b.type !== 'context' || b.elements.length !== 1) return b;
    const el = b.elements[0]!;
    const m = 'text' in el && typeof el.text === 'string' ? FOOTER.exec(el.text) : null;
    return m ? { ...b, elements: [{ ...el, text: `${m[1]} · [elapsed]` }] } : b;
  });
  const { files, modal, ...rest } = answer;
  let json = JSON.stringify(
    { ...rest, blocks, ...(files?.length ? { files } : {}), ...(modal ? { modal } : {}) },
    null,
    2,
  );
  // Longest names first, so a name that is a prefix of another is never replaced inside it.
  for (const [real, placeholder] of [...pods].sort((a, b) => b[0].length - a[0].length))
    json = json.replaceAll(real, placeholder);
  const seen = requestIds
    .map((id) => ({ id, at: json.indexOf(id) >= 0 ? json.indexOf(id) : json.indexOf(id.slice(0, 8)) }))
    .filter((x) => x.at >= 0)
    .sort((a, b) => a.at - b.at);
  seen.forEach(({ id }, i) => {
    const placeholder = String(i + 1)
      .padStart(8, '0')
      .padEnd(32, '0');
    json = json
      .replaceAll(id, placeholder)
      .replace(new RegExp(`\\b${id.slice(0, 8)}\\b`, 'g'), placeholder.slice(0, 8));
  });
  // Key material is generated per run (the demo's mesh CA and gateway certificates): certificate serials and
  // SHA-256 fingerprints are placeholders.
  json = json
    .replace(/(\*Serial\*\\n`)[0-9a-fA-F:]+`/g, '$1[serial]`')
    .replace(/SHA-256 `[0-9A-F]{2}(?::[0-9A-F]{2})+…?`/g, 'SHA-256 `[fingerprint]`');
  // Envoy's x-request-id and other generated UUIDs (access-log lines): placeholders in order of appearance.
  const uuids = new Map<string, string>();
  json = json.replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, (id) => {
    if (!uuids.has(id)) uuids.set(id, `00000000-0000-4000-8000-${String(uuids.size + 1).padStart(12, '0')}`);
    return uuids.get(id)!;
  });
  return `${json}\n`;
}

/** The approval request and offer ids the bot has written so far (ConfigMaps `meshops-req-<id>`). */
export function requestIdsIn(configMaps: readonly KubeObject[]): string[] {
  return configMaps
    .map((c) => /^meshops-req-([0-9a-f]{32})$/.exec(c.metadata.name)?.[1])
    .filter((id): id is string => id !== undefined);
}

export const updating = (): boolean => ['1', 'true', 'yes'].includes((process.env.UPDATE_GOLDEN ?? '').toLowerCase());

/**
 * Compares `actual` with the golden file, or (UPDATE_GOLDEN=1) writes it. Throws a readable line diff and the
 * way to update when they differ or the file is missing.
 */
export function checkGolden(dir: string, name: string, actual: string): void {
  const path = join(dir, `${name}.json`);
  const shown = `test/golden/blocks/${name}.json`;
  if (updating()) {
    mkdirSync(dir, { recursive: true });
    if (!existsSync(path) || readFileSync(path, 'utf8') !== actual) writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) throw new Error(`${shown} does not exist yet.\n${UPDATE_HINT}`);
  const expected = readFileSync(path, 'utf8');
  if (expected === actual) return;
  throw new Error(
    `${shown} is not what meshops renders now (- golden file, + rendered now):\n\n${lineDiff(expected, actual)}\n\n${UPDATE_HINT}`,
  );
}

/** Golden files no case writes any more: removed when updating, reported otherwise. */
export function orphans(dir: string, names: readonly string[]): string[] {
  if (!existsSync(dir)) return [];
  const known = new Set(names.map((n) => `${n}.json`));
  const extra = readdirSync(dir).filter((f) => f.endsWith('.json') && !known.has(f));
  if (updating()) for (const f of extra) rmSync(join(dir, f));
  return updating() ? [] : extra;
}

/** A unified-style line diff (LCS) with `contextLines` unchanged lines around each change, hunks headed by line numbers. */
export function lineDiff(expected: string, actual: string, contextLines = 3): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const ops: { op: ' ' | '-' | '+'; line: string; old: number; now: number }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ op: ' ', line: a[i]!, old: i++, now: j++ });
    else if (i < a.length && (j >= b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!))
      ops.push({ op: '-', line: a[i]!, old: i++, now: j });
    else ops.push({ op: '+', line: b[j]!, old: i, now: j++ });
  }
  const near = (k: number) => ops.slice(Math.max(0, k - contextLines), k + contextLines + 1).some((n) => n.op !== ' ');
  const out: string[] = [];
  let open = false;
  ops.forEach((o, k) => {
    if (!near(k)) {
      open = false;
      return;
    }
    if (!open) out.push(`@@ golden line ${o.old + 1}, rendered line ${o.now + 1} @@`);
    open = true;
    out.push(`${o.op} ${o.line}`);
  });
  return out.join('\n');
}
