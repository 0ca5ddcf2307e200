// `/mesh why` in words: the cause first (the finding whose evidence explains a failure seen), with its evidence,
// its confidence and its fix; then the other findings; then failures no check explains; then what was checked
// and found fine (look-alikes not flagged are said there); then what could not be checked and why.
import { type Block, type Offer, type Rendered, context, esc, section, truncate } from '../../blocks/block-kit.ts';
import type { Fix } from '../../mesh/diagnostics/types.ts';
import { CHECK_LABELS, type CheckOutcome, type WhyFinding, type WhyReport, explainsSeen, isCause } from './why-rank.ts';
import { WHY_BOUNDS } from './why-reads.ts';
import { flagWords } from './why-traffic.ts';

/** Findings shown in full after the cause; the rest go on one line each. */
const MAX_DETAILED = 6;
const MAX_EVIDENCE = 6;

const CONFIDENCE_ICON = { high: ':red_circle:', medium: ':large_orange_circle:', low: ':white_circle:' } as const;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function fixLine(fix: Fix | undefined): string | undefined {
  if (!fix) return undefined;
  const target = `${fix.target.kind} ${fix.target.namespace ? `${fix.target.namespace}/` : ''}${fix.target.name}`;
  const what =
    fix.kind === 'create'
      ? `create ${target}`
      : fix.kind === 'mesh-config'
        ? `set in the mesh config`
        : `patch ${target}`;
  return `*Fix:* ${esc(what)}: ${esc(fix.why)}`;
}

function findingText(f: WhyFinding, r: WhyReport, n: number, lead: boolean): string {
  const seen = explainsSeen(f, r.symptoms) ? 'explains a failure seen' : 'no failure seen that it explains';
  const head = lead
    ? `:rotating_light: *Most likely cause:* ${esc(f.title)}`
    : `*${n}.* ${CONFIDENCE_ICON[f.confidence]} ${esc(f.title)}`;
  const lines = [
    head,
    `_${f.confidence} confidence · ${seen} · ${esc(CHECK_LABELS[f.check])}_`,
    esc(f.cause),
    ...f.evidence.slice(0, MAX_EVIDENCE).map((e) => `• ${esc(truncate(e, 400))}`),
    ...(f.evidence.length > MAX_EVIDENCE ? [`• _…and ${f.evidence.length - MAX_EVIDENCE} more_`] : []),
  ];
  const fix = fixLine(f.fix);
  if (fix) lines.push(fix);
  return lines.join('\n');
}

function passedLine(c: CheckOutcome): string {
  const notes = c.notes.slice(0, 3).map((n) => esc(truncate(n, 300)));
  return `:white_check_mark: ${esc(CHECK_LABELS[c.check])}${notes.length ? `: ${notes.join('; ')}` : ''}`;
}

/** The answer. `offers` are the fix buttons for the findings (fix-offers.ts). */
export function renderWhy(r: WhyReport, offers: Offer[] = []): Rendered {
  const blocks: Block[] = [];
  const who = r.target.via;
  const failed = r.checks.filter((c) => c.outcome === 'could-not-check');
  const ran = r.checks.length - failed.length;
  const seenLine = r.symptoms.length
    ? `Failures seen in its sidecars' ${r.symptoms.some((s) => s.source === 'metrics') ? 'metrics' : 'access logs'}: ${r.symptoms
        .slice(0, 4)
        .map((s) => `${s.count}× ${esc(s.text)}`)
        .join(' · ')}${r.symptoms.length > 4 ? ` · ${r.symptoms.length - 4} more` : ''}`
    : undefined;
  const [first, ...rest] = r.ranked;
  let text: string;
  if (!first) {
    text = `Nothing wrong found for ${who}: ${plural(ran, 'check')} ran${failed.length ? `, ${failed.length} could not` : ''}.`;
    blocks.push(
      section(
        `:white_check_mark: *Nothing wrong found* for ${esc(who)}: ${plural(ran, 'check')} of the mesh and its sidecars ran and none found a cause${
          failed.length
            ? `; ${plural(failed.length, 'check')} could not run (below), so this is not a clean bill of health`
            : ''
        }.${r.unexplained.length ? `\nBut failures were seen that no check explains (below).` : ''}`,
      ),
    );
  } else if (isCause(first, r.symptoms)) {
    text = `Why ${who}: most likely ${first.title} (${first.confidence} confidence)`;
    blocks.push(
      section(
        `*Why ${esc(who)}?* ${plural(ran, 'check')} ran${failed.length ? `, ${failed.length} could not` : ''}.${seenLine ? `\n${seenLine}` : ''}`,
      ),
    );
    blocks.push(section(findingText(first, r, 1, true)));
  } else {
    text = `Why ${who}: no finding explains a failure seen; ${plural(r.ranked.length, 'possible cause')}`;
    blocks.push(
      section(
        `*Why ${esc(who)}?* No finding explains a failure that was seen; ${plural(r.ranked.length, 'thing')} worth a look, best first.${seenLine ? `\n${seenLine}` : ''}`,
      ),
    );
    blocks.push(section(findingText(first, r, 1, false)));
  }
  rest.slice(0, MAX_DETAILED).forEach((f, i) => blocks.push(section(findingText(f, r, i + 2, false))));
  if (rest.length > MAX_DETAILED)
    blocks.push(
      section(
        rest
          .slice(MAX_DETAILED)
          .map(
            (f, i) => `*${i + MAX_DETAILED + 2}.* ${CONFIDENCE_ICON[f.confidence]} ${esc(f.title)} _(${f.confidence})_`,
          )
          .join('\n'),
      ),
    );
  if (r.unexplained.length)
    blocks.push(
      section(
        [
          ':grey_question: *Failures no check explains:*',
          ...r.unexplained.slice(0, 6).map((s) => {
            const meaning = flagWords(s.flags);
            return `• ${s.count}× ${esc(s.text)}${meaning.length ? ` — ${esc(meaning.join('; '))}` : ''}`;
          }),
        ].join('\n'),
      ),
    );
  const passed = r.checks.filter((c) => c.outcome === 'nothing-found');
  const foundNotes = r.checks.flatMap((c) => (c.outcome === 'found' ? c.notes : []));
  if (passed.length || foundNotes.length)
    blocks.push(
      section(
        [
          '*Checked and fine:*',
          ...passed.map(passedLine),
          ...foundNotes.slice(0, 4).map((n) => `:information_source: ${esc(truncate(n, 300))}`),
        ].join('\n'),
      ),
    );
  if (failed.length)
    blocks.push(
      section(
        [
          '*Could not check:*',
          ...failed.map(
            (c) =>
              `:no_entry_sign: ${esc(CHECK_LABELS[c.check])}: ${c.outcome === 'could-not-check' ? esc(truncate(c.reason, 400)) : ''}`,
          ),
        ].join('\n'),
      ),
    );
  const unread = [...new Set(r.checks.flatMap((c) => c.unread))];
  if (unread.length)
    blocks.push(
      context(
        `Not read: ${esc(truncate(unread.slice(0, 6).join('; '), 1500))}${unread.length > 6 ? ` and ${unread.length - 6} more` : ''}`,
      ),
    );
  blocks.push(
    context(
      `${esc(who)} · ${plural(r.target.pods.length, 'pod')} · ${plural(r.checks.length, 'check')} · access logs of the last ${WHY_BOUNDS.logSinceSeconds / 60} minutes`,
    ),
  );
  return { text, blocks, ...(offers.length ? { offers } : {}) };
}
