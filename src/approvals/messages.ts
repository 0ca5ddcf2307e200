// The words and buttons of an approval request in each of its states. Pure: a record in, Block Kit out.
import {
  type Block,
  type Rendered,
  actions,
  button,
  context,
  esc,
  fields,
  header,
  plain,
  section,
  truncate,
} from '../blocks/block-kit.ts';
import type { ApprovalRequest } from './request.ts';

export const APPROVE_ACTION = 'meshops:approve';
export const DENY_ACTION = 'meshops:deny';
export const OFFER_ACTION = 'meshops:offer';

/** `2026-11-25T18:40:12Z` → `18:40 UTC`; dates other than today's get the day too. */
export function when(iso: string, now = new Date()): string {
  const d = new Date(iso);
  const time = `${iso.slice(11, 16)} UTC`;
  return d.toISOString().slice(0, 10) === now.toISOString().slice(0, 10) ? time : `${iso.slice(0, 10)} ${time}`;
}

const who = (userId: string) => `<@${userId}>`;

function stateLine(rec: ApprovalRequest, now: Date): string {
  const approvers = rec.approvals.map((a) => `${who(a.userId)} at ${when(a.at, now)}`).join(', ');
  switch (rec.state) {
    case 'pending': {
      const need = rec.rule.approvers - rec.approvals.length;
      const so = rec.approvals.length ? `Approved so far by ${approvers}; ` : '';
      const self = rec.rule.allowSelfApproval ? '' : ` other than ${who(rec.requester.userId)}`;
      return `:hourglass_flowing_sand: ${so}needs ${need} more approval${need === 1 ? '' : 's'} from someone${self} with a role for this change · expires ${when(rec.expiresAt, now)}`;
    }
    case 'approved':
      return `:white_check_mark: Approved by ${approvers}. Checking the target before acting…`;
    case 'executing':
      return `:arrows_counterclockwise: Approved by ${approvers}. ${rec.execution?.summary ?? 'Executing…'}${rec.followUp?.summary ? `\n*Rollout:* ${esc(rec.followUp.summary)}` : ''}`;
    case 'done':
      return `:white_check_mark: Approved by ${approvers}. ${esc(rec.outcome?.summary ?? 'Done.')}${rec.outcome ? ` (finished ${when(rec.outcome.at, now)})` : ''}`;
    case 'failed':
      return `:x: ${approvers ? `Approved by ${approvers}. ` : ''}${esc(rec.outcome?.summary ?? 'Failed.')}${rec.outcome ? ` (${when(rec.outcome.at, now)})` : ''}`;
    case 'unknown':
      return `:grey_question: ${approvers ? `Approved by ${approvers}. ` : ''}${esc(rec.outcome?.summary ?? 'Not known whether the change took effect.')}${rec.outcome ? ` (${when(rec.outcome.at, now)})` : ''}`;
    case 'denied':
      return `:no_entry_sign: Denied by ${who(rec.denial?.userId ?? '?')} at ${when(rec.denial?.at ?? rec.createdAt, now)}. Nothing ran.`;
    case 'expired':
      return `:hourglass: Expired at ${when(rec.expiresAt, now)} without enough approvals. Nothing ran; run the command again for a fresh proposal.`;
    case 'superseded':
      return ':leftwards_arrow_with_hook: Replaced by a fresh preview because the target changed since this one. Nothing ran from this request.';
    default:
      return '';
  }
}

const HEADLINE: Record<string, string> = {
  pending: 'Proposed',
  approved: 'Approved',
  executing: 'Running',
  done: 'Done',
  failed: 'Failed',
  denied: 'Denied',
  expired: 'Expired',
  superseded: 'Superseded',
  unknown: 'Outcome unknown',
};

/** The proposal message: preview, who asked, state; Approve/Deny buttons only while pending. */
export function renderRequest(
  rec: ApprovalRequest,
  title: string,
  confirmText: string,
  now: Date,
  note?: string,
): Rendered {
  const blocks: Block[] = [header(`${HEADLINE[rec.state] ?? rec.state}: ${title}`)];
  if (note) blocks.push(section(`:information_source: ${esc(note)}`));
  const why = rec.why ? `*Why:* ${esc(rec.why)}\n` : '';
  const risk = rec.risk ? `*Risk:* ${esc(rec.risk)}\n` : '';
  blocks.push(
    section(
      `${why}${risk}Asked by ${who(rec.requester.userId)} at ${when(rec.createdAt, now)} · cluster *${esc(rec.cluster)}*`,
    ),
  );
  const p = rec.preview;
  if (p) {
    blocks.push(fields(p.facts.map(([k, v]) => [k, v])));
    const shown = p.affected
      .slice(0, 20)
      .map((n) => `\`${esc(n)}\``)
      .join(', ');
    // The whole list goes with the first post only (updates re-send a message's files).
    const more =
      p.affected.length > 20 ? ` and ${p.affected.length - 20} more (all in the thread as \`${AFFECTED_FILE}\`)` : '';
    blocks.push(section(`*${esc(p.affectedLabel)} (${p.affected.length}):* ${shown || '_none_'}${more}`));
  }
  blocks.push(section(stateLine(rec, now)));
  if (
    rec.followUp?.problems.length &&
    (rec.state === 'executing' || rec.state === 'failed' || rec.state === 'done' || rec.state === 'unknown')
  ) {
    blocks.push(
      section(
        `:warning: *Pods failing to start:*\n${rec.followUp.problems
          .slice(0, 10)
          .map((x) => `• ${esc(x)}`)
          .join('\n')}`,
      ),
    );
  }
  blocks.push(context(`${p ? `${esc(p.dryRun)} · ` : ''}request \`${rec.id.slice(0, 8)}\``));
  if (rec.state === 'pending') {
    blocks.push(
      actions(
        [
          button('Approve', APPROVE_ACTION, rec.id, {
            style: 'primary',
            confirm: {
              title: plain(truncate(title, 100)),
              text: { type: 'mrkdwn', text: truncate(esc(confirmText), 300) },
              confirm: plain('Approve'),
              deny: plain('Cancel'),
              style: 'primary',
            },
          }),
          button('Deny', DENY_ACTION, rec.id, { style: 'danger' }),
        ],
        `meshops-approval-${rec.id}`,
      ),
    );
  }
  const text = `${HEADLINE[rec.state] ?? rec.state}: ${title} (asked by ${rec.requester.userName ?? rec.requester.userId})`;
  return { text, blocks };
}

const AFFECTED_FILE = 'affected.txt';

/** The proposal as first posted: with the whole list of what it affects as a file when the message shows part of it. */
export function withAffectedFile(rendered: Rendered, rec: ApprovalRequest): Rendered {
  const p = rec.preview;
  if (!p || p.affected.length <= 20) return rendered;
  const file = { filename: AFFECTED_FILE, title: p.affectedLabel, content: `${p.affected.join('\n')}\n` };
  return { ...rendered, files: [...(rendered.files ?? []), file] };
}

/** A preview that failed: say why, offer nothing to click. */
export function renderPreviewFailure(title: string, reason: string, requesterId: string, cluster: string): Rendered {
  return {
    text: `Cannot propose: ${title}`,
    blocks: [
      header(`Cannot propose: ${title}`),
      section(`:x: ${reason}`),
      context(`Asked by ${who(requesterId)} · cluster *${esc(cluster)}* · nothing was changed`),
    ],
  };
}

/** The thread post when a request reaches its end. */
export function renderOutcome(rec: ApprovalRequest, title: string): Rendered {
  const icon = rec.state === 'done' ? ':white_check_mark:' : rec.state === 'unknown' ? ':grey_question:' : ':x:';
  const lines = [`${icon} *${esc(title)}*: ${esc(rec.outcome?.summary ?? rec.state)}`];
  if (rec.followUp?.problems.length)
    lines.push(
      rec.followUp.problems
        .slice(0, 10)
        .map((x) => `• ${esc(x)}`)
        .join('\n'),
    );
  const approvers = rec.approvals.map((a) => who(a.userId)).join(', ');
  return {
    text: `${title}: ${rec.outcome?.summary ?? rec.state}`,
    blocks: [
      section(lines.join('\n')),
      context(
        `Asked by ${who(rec.requester.userId)}${approvers ? ` · approved by ${approvers}` : ''} · request \`${rec.id.slice(0, 8)}\``,
      ),
    ],
  };
}

export function refusal(text: string): Rendered {
  return { text: text.replace(/[*_`]/g, ''), blocks: [section(`:no_entry: ${text}`)] };
}
