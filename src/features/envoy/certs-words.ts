// The /mesh certs answer in words: the worst finding first (expired or not rotating, foreign trust
// domain, root not istiod's, a gateway credential warming, missing or expiring) and how sure, then the
// workload certificate, the root, the gateway's credentials as a table (a file when long). Pure.
import {
  type Attachment,
  type Block,
  type Rendered,
  context,
  count,
  esc,
  fields,
  header,
  section,
  tableBlock,
} from '../../blocks/block-kit.ts';
import { type CertReport, type Level, timeLeft } from './cert-check.ts';
import { type AdminFailure, type ProxyTarget, targetLine } from './proxy-target.ts';
import { sentence } from './stats-words.ts';

export type CertsResult =
  | { kind: 'unread'; target: ProxyTarget; unread: AdminFailure }
  | { kind: 'report'; target: ProxyTarget; report: CertReport; unread: string[] };

const ICON: Record<'ok' | Level, string> = {
  error: ':red_circle:',
  warning: ':warning:',
  unknown: ':grey_question:',
  info: ':information_source:',
  ok: ':white_check_mark:',
};

const iso = (d: Date | undefined) => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : 'unknown');
const plain = (s: string) => s.replace(/[*`_]/g, '');

function okLine(r: CertReport, now: Date): string {
  const w = r.workload;
  const parts: string[] = [];
  if (w?.notAfter)
    parts.push(
      `workload certificate \`${esc(w.spiffeId ?? w.serialNumber)}\` valid for ${timeLeft(w.notAfter.getTime() - now.getTime())}${w.rotationDue ? ` (renewal due ${iso(w.rotationDue)})` : ''}`,
    );
  if (r.roots.some((x) => x.matchesIstiod)) parts.push("root CA is istiod's");
  if (r.credentials.length)
    parts.push(`${count(r.credentials.filter((c) => c.level === 'ok').length, 'gateway credential')} loaded and valid`);
  return `Certificates are fine: ${parts.join('; ')}`;
}

function workloadBlock(r: CertReport, now: Date): Block | undefined {
  const w = r.workload;
  if (!w) return undefined;
  const left = w.notAfter ? timeLeft(w.notAfter.getTime() - now.getTime()) : 'unknown';
  return fields([
    ['SPIFFE id', w.spiffeId ? `\`${esc(w.spiffeId)}\`` : '_none_'],
    ['Issuer', w.issuer ? esc(w.issuer) : '_not in /certs_'],
    ['Serial', `\`${w.serialNumber}\``],
    ['Valid', `${iso(w.notBefore)} → ${iso(w.notAfter)}`],
    ['Left', w.rotationDue ? `${left} · renewal due ${iso(w.rotationDue)}` : left],
    ['Read from', w.source],
  ]);
}

function rootLines(r: CertReport, now: Date): string {
  if (r.roots.length === 0) return '*Root CA*: _none loaded_';
  const lines = r.roots.map((x) => {
    const match = x.matchesIstiod === undefined ? '' : x.matchesIstiod ? " · istiod's ✓" : " · *not istiod's*";
    const td = x.trustDomain ? ` · trust domain \`${esc(x.trustDomain)}\`` : '';
    const left = x.notAfter ? `, ${timeLeft(x.notAfter.getTime() - now.getTime())} left` : '';
    const fp = x.fingerprint256 ? ` · SHA-256 \`${x.fingerprint256.slice(0, 23)}…\`` : '';
    return `• ${x.subject ? esc(x.subject) : `serial \`${x.serialNumber}\``} — expires ${iso(x.notAfter)}${left}${td}${fp}${match}`;
  });
  return `*Root CA* (${count(r.roots.length, 'root')}):\n${lines.join('\n')}`;
}

export function renderCerts(result: CertsResult, now: Date): Rendered {
  const t = result.target;
  const from = `from ${targetLine(t)}`;
  if (result.kind === 'unread') {
    const text = `Could not read the certificates ${plain(from)}. ${plain(sentence(result.unread.reason))}`;
    return {
      text,
      blocks: [
        section(`:x: *Could not read the certificates* ${from}. ${sentence(result.unread.reason)}`),
        context(result.unread.hint),
      ],
    };
  }
  const r = result.report;
  const blocks: Block[] = [header(`Envoy certificates: ${t.namespace}/${t.pod}`)];
  const files: Attachment[] = [];
  const problems = r.findings.filter((f) => f.level !== 'info');
  const lead = problems[0];
  const sure =
    r.workload?.source === '/certs'
      ? 'Read from /certs only (the SDS secrets could not be read): no issuer, roots compared by serial.'
      : "The certificates themselves, from the proxy's SDS secrets.";
  const leadText = lead
    ? `${lead.text}${problems.length > 1 ? ` (and ${count(problems.length - 1, 'more finding')} below)` : ''}`
    : okLine(r, now);
  blocks.push(section(`${ICON[lead?.level ?? 'ok']} ${leadText}`));
  blocks.push(context(`Read ${from}. ${sure}`));
  const rest = r.findings.filter((f) => f !== lead);
  if (rest.length) blocks.push(section(rest.map((f) => `${ICON[f.level]} ${f.text}`).join('\n')));
  const w = workloadBlock(r, now);
  if (w) blocks.push(section('*Workload certificate*'), w);
  blocks.push(section(rootLines(r, now)));
  if (t.role === 'gateway') {
    if (r.credentials.length) {
      const rows = r.credentials.map((c) => [
        c.credentialName,
        c.state.toUpperCase(),
        c.notAfter ? iso(c.notAfter) : '-',
        c.daysLeft === undefined ? '-' : String(c.daysLeft),
        c.level === 'ok' ? 'ok' : c.level,
        c.gateways.join(', '),
      ]);
      const filename = `certs-${t.namespace}-${t.pod}-credentials.txt`;
      const table = tableBlock(['CREDENTIAL', 'STATE', 'NOT AFTER', 'DAYS LEFT', 'CHECK', 'GATEWAYS'], rows, filename);
      blocks.push(
        section(
          `*Gateway credentials* (${count(r.credentials.length, 'credentialName')} of the Gateways selecting this gateway):`,
        ),
      );
      blocks.push(table.block);
      if (table.overflow) files.push(table.overflow);
    } else blocks.push(section('*Gateway credentials*: no Gateway selecting this gateway names a `credentialName`.'));
    if (r.otherCredentials.length)
      blocks.push(
        context(
          `Also loaded, named by no selecting Gateway: ${r.otherCredentials
            .slice(0, 5)
            .map((n) => `\`${esc(n)}\``)
            .join(', ')}${r.otherCredentials.length > 5 ? '…' : ''}.`,
        ),
      );
  }
  const notes: string[] = [];
  for (const u of result.unread) notes.push(`:grey_question: ${sentence(u)}`);
  notes.push(
    "meshops reads what the proxy loaded (admin /certs and the config dump's SDS secrets), never the Secrets.",
  );
  blocks.push(context(notes.join(' ')));
  const text = `${plain(leadText)} (${plain(from)}).`;
  return { text, blocks, ...(files.length ? { files } : {}) };
}
