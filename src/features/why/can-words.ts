// `/mesh can`'s answer in words: the verdict first, the rule that decides it (or the nearest ALLOW rule and
// what it wants, or what the answer depends on), the identity the sidecar sees, then every policy's rules.
import {
  type Attachment,
  type Block,
  type Rendered,
  context,
  count,
  esc,
  header,
  section,
  tableBlock,
} from '../../blocks/block-kit.ts';
import { type AuthzVerdict, type PolicyEval, policyName, ruleRef } from '../../mesh/authz-eval.ts';
import type { MtlsMode } from '../../mesh/peer-authentication.ts';

export interface Party {
  /** What the person typed, e.g. `productpage.bookinfo`, `svc/reviews.bookinfo`. */
  text: string;
  service: boolean;
}

export interface CanRequest {
  source: Party;
  destination: Party;
  namespace?: string;
  port?: number;
  method?: string;
  path?: string;
  host?: string;
  headers?: Record<string, string>;
}

export interface CanPair {
  source: { serviceAccount: string; hasSidecar: boolean; pods: string[] };
  destination: { labels: Record<string, string>; hasSidecar: boolean; pods: string[] };
  peer: { mode: MtlsMode; decidedBy: string };
  principal?: string;
  verdict: AuthzVerdict;
}

export interface CanResult {
  asked: CanRequest;
  /** The method evaluated: the one asked, or POST on a gRPC port. */
  method?: string;
  source: { via: string; namespace: string };
  destination: { via: string; namespace: string };
  /** The destination port the sidecar sees (a Service port becomes its targetPort). */
  port?: number;
  portNote?: string;
  protocol: 'http' | 'tcp';
  protocolNote: string;
  pairs: CanPair[];
}

const MARK: Record<AuthzVerdict['decision'], string> = {
  ALLOWED: ':white_check_mark:',
  DENIED: ':no_entry:',
  DEPENDS: ':grey_question:',
};
const MAX_LINES = 8;

function requestText(r: CanResult): string {
  const what =
    r.method || r.asked.path
      ? [r.method ?? '(no method)', r.asked.path ?? '(no path)'].join(' ')
      : 'no method or path given';
  const port = r.port === undefined ? 'no port given' : `port ${r.port}${r.portNote ? ` (${r.portNote})` : ''}`;
  return `${what} · ${port} · ${r.protocolNote}${r.asked.host ? ` · Host ${r.asked.host}` : ''}`;
}

function identityLine(p: CanPair): string {
  const mode = `mTLS ${p.peer.mode} on the port (${p.peer.decidedBy})`;
  if (!p.destination.hasSidecar) return 'The destination has no sidecar: nothing checks the caller.';
  return p.principal
    ? `Source identity \`${esc(p.principal)}\` over mTLS · ${esc(mode)}`
    : `No source identity: ${p.source.hasSidecar ? 'plaintext' : 'the source has no sidecar, so it sends plaintext'} · ${esc(mode)}. Principals and namespaces never match plaintext; their not* forms always do.`;
}

function bullets(lines: readonly string[], files: Attachment[], filename: string): string {
  const shown = lines.slice(0, MAX_LINES).map((l) => `• ${esc(l)}`);
  if (lines.length > MAX_LINES) {
    files.push({ filename, title: filename, content: `${lines.join('\n')}\n` });
    shown.push(`_…and ${lines.length - MAX_LINES} more (all of them are in the thread as \`${filename}\`)_`);
  }
  return shown.join('\n');
}

function verdictText(v: AuthzVerdict, files: Attachment[]): string {
  const lines = [`${MARK[v.decision]} *${v.decision}* — ${esc(v.reason)}.`];
  if (v.decision === 'DENIED' && v.stage === 'default-deny' && v.nearest) {
    const n = v.nearest;
    if (!n.rule) lines.push(`The nearest was ${esc(ruleRef(n.policy))}, which has no rules and so allows nothing.`);
    else
      lines.push(
        `The nearest was ${esc(ruleRef(n.policy, n.rule))}. It does not match: ${
          n.misses.length ? esc(n.misses.map((m) => m.why).join('; ')) : esc(n.rule.note ?? 'it cannot be told')
        }.`,
      );
  }
  if (v.decision === 'DEPENDS') lines.push(`It depends on:\n${bullets(v.unknowns, files, 'can-depends-on.txt')}`);
  if (v.decidedBy?.rule?.note) lines.push(`_${esc(v.decidedBy.rule.note)}_`);
  return lines.join('\n');
}

function notes(v: AuthzVerdict): string[] {
  const out: string[] = [];
  const dry = v.dryRun.map(
    (p) =>
      `${p.action} ${policyName(p)} ${p.result === 'yes' ? 'would match' : p.result === 'no' ? 'would not match' : 'may match'}`,
  );
  if (dry.length) out.push(`Dry-run (logged, not enforced): ${esc(dry.join('; '))}.`);
  const audit = v.audit.filter((p) => p.result !== 'no').map(policyName);
  if (audit.length) out.push(`AUDIT (logs only): ${esc(audit.join(', '))}.`);
  if (v.problems.length)
    out.push(
      `:warning: Could not read ${count(v.problems.length, 'policy', 'policies')}, so this answer leaves them out: ${esc(
        v.problems.map((p) => `${p.object} (${p.problem})`).join('; '),
      )}.`,
    );
  return out;
}

function policyRows(policies: readonly PolicyEval[]): string[][] {
  const word = { yes: 'matches', no: 'no match', unknown: 'cannot tell' } as const;
  return policies.flatMap((p) => {
    const name = `${policyName(p)}${p.dryRun ? ' (dry-run)' : ''}`;
    if (p.rules.length === 0) return [[name, p.action, p.scope, '-', 'no rules: matches nothing']];
    return p.rules.map((r) => [name, p.action, p.scope, `${r.index}: ${r.wants}`, word[r.result]]);
  });
}

function pairTitle(p: CanPair): string {
  const labels = Object.entries(p.destination.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `From ${count(p.source.pods.length, 'pod')} with service account \`${esc(p.source.serviceAccount)}\`${p.source.hasSidecar ? '' : ' (no sidecar)'} to ${count(p.destination.pods.length, 'pod')} labelled \`${esc(labels || 'none')}\`${p.destination.hasSidecar ? '' : ' (no sidecar)'}`;
}

function detailsFile(r: CanResult): Attachment {
  const lines = r.pairs.flatMap((p) => [
    pairTitle(p).replace(/`/g, ''),
    `  ${p.verdict.decision}: ${p.verdict.reason}`,
    ...p.verdict.unknowns.map((u) => `  depends on: ${u}`),
    ...policyRows(p.verdict.policies).map((row) => `  ${row.join(' | ')}`),
    ...p.verdict.policies.flatMap((pol) =>
      pol.rules.flatMap((rule) => rule.checks.map((c) => `    ${policyName(pol)} rule ${rule.index}: ${c.why}`)),
    ),
    '',
  ]);
  return { filename: 'can-details.txt', title: 'can-details.txt', content: `${lines.join('\n')}\n` };
}

const sameAnswer = (a: CanPair, b: CanPair) =>
  a.verdict.decision === b.verdict.decision && a.verdict.reason === b.verdict.reason;

export function renderCan(r: CanResult): Rendered {
  const files: Attachment[] = [];
  const blocks: Block[] = [header(`Can ${r.asked.source.text} call ${r.asked.destination.text}?`)];
  blocks.push(context(`${esc(requestText(r))} · from ${esc(r.source.via)} · to ${esc(r.destination.via)}`));
  const first = r.pairs[0]!;
  const uniform = r.pairs.every((p) => sameAnswer(p, first));
  const shown = uniform ? [first] : r.pairs.slice(0, 6);
  for (const p of shown) {
    const lines = [
      ...(uniform ? [] : [`*${pairTitle(p)}*`]),
      verdictText(p.verdict, files),
      identityLine(p),
      ...notes(p.verdict),
    ];
    blocks.push(section(lines.join('\n')));
  }
  if (!uniform && r.pairs.length > shown.length)
    blocks.push(context(`_…and ${r.pairs.length - shown.length} more kinds of pod: all are in \`can-details.txt\`._`));
  if (first.verdict.policies.length) {
    const t = tableBlock(
      ['POLICY', 'ACTION', 'SCOPE', 'RULE', 'RESULT'],
      policyRows(first.verdict.policies),
      'can-policies.txt',
    );
    blocks.push(t.block);
    if (t.overflow) files.push(t.overflow);
  }
  if (!uniform) files.push(detailsFile(r));
  const decisions = [...new Set(r.pairs.map((p) => p.verdict.decision))];
  const text = uniform
    ? `${first.verdict.decision}: ${r.asked.source.text} → ${r.asked.destination.text} (${requestText(r)}): ${first.verdict.reason}`
    : `${decisions.join(' / ')} depending on the pod: ${r.asked.source.text} → ${r.asked.destination.text} (${requestText(r)})`;
  return { text, blocks, ...(files.length ? { files } : {}) };
}
