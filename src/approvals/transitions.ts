// The life of an approval request as a pure function: (record, event, now) → the next record and the
// effects the service must carry out, or a refusal in words. No I/O happens here; the service reads,
// asks this function, writes with a resourceVersion precondition, and performs the effects only when
// that write went through. So a write that did not happen never audits, posts or updates a message.
//
//   pending ──approve (enough approvers)──▶ approved ──start──▶ executing ──applied──▶ executing (applied)
//      │  └─deny──▶ denied                      │  └─target changed──▶ superseded        │
//      └─expire──▶ expired                      └─abandon──▶ failed (nothing was sent)    ├─progress (stays)
//                                                                                         └─finish──▶ done | failed
//   executing (not applied) ──verified: landed──▶ executing (applied)
//                           ──verified: absent, target as previewed──▶ failed (nothing ran, checked)
//                           ──verified: absent, target changed──▶ superseded (fresh preview)
//                           ──verified: unknown──▶ unknown (words, no button)
import { count } from '../blocks/count.ts';
import type { AuditAction } from './audit.ts';
import type { ApprovalRequest, ProposalState } from './request.ts';

export interface Actor {
  userId: string;
  userName?: string;
}

export type ApprovalEvent =
  /** A click on Approve; `refusal` is the access policy's answer for this person (undefined: they have a role). */
  | { type: 'approve'; by: Actor; refusal?: string; message?: ApprovalRequest['message'] }
  /** A click on Deny. The requester may always withdraw; anyone else needs a role. */
  | { type: 'deny'; by: Actor; refusal?: string; message?: ApprovalRequest['message'] }
  /** Housekeeping: a pending request past its expiry. */
  | { type: 'expire' }
  /** The replica holding the execution Lease is about to send the change; `fingerprint` is the target now. */
  | {
      type: 'start';
      replica: string;
      fingerprint: string | undefined;
      as?: { user: string; groups?: string[] };
      freshId: string;
    }
  /** Housekeeping: approved long ago and never started. Nothing was sent: executing is written before the change. */
  | { type: 'abandon'; reason: string }
  /** The mutating request answered: the change is in. */
  | { type: 'applied'; summary: string; followUpMs: number }
  /**
   * The mutating request failed or its answer never came, or a replica resumed an execution that has no
   * recorded result: the kind read the live object to tell whether its own change is there.
   */
  | {
      type: 'verified';
      result: 'landed' | 'absent' | 'unknown';
      /** What the check found, in words ("the restart annotation carries this request's value"). */
      evidence: string;
      /** Why the request itself failed, when it did ("connection reset", "409 Conflict: …"). */
      cause?: string;
      fingerprint?: string;
      followUpMs: number;
      freshId: string;
    }
  /** A follow-up look at the change: still going. */
  | { type: 'progress'; summary: string; problems: string[]; window?: unknown }
  /** A follow-up look at the change: it finished (or its window ran out). */
  | { type: 'finish'; result: 'done' | 'failed' | 'unknown'; summary: string; problems: string[] };

export type EventType = ApprovalEvent['type'];
export const EVENT_TYPES: readonly EventType[] = [
  'approve',
  'deny',
  'expire',
  'start',
  'abandon',
  'applied',
  'verified',
  'progress',
  'finish',
];

export type Effect =
  | { type: 'audit'; action: AuditAction; by?: string; detail: string }
  /** Update the request's own message to show the new record. */
  | { type: 'show' }
  /** The final word, once, in the message's thread. */
  | { type: 'postOutcome' }
  /** Send the change (only after approved → executing was written). */
  | { type: 'execute' }
  /** Watch the change until it finishes. */
  | { type: 'follow' }
  /** Preview the change again under this id, replacing this request's message. */
  | { type: 'proposeFresh'; id: string; note: string };

export type Transition =
  | { ok: true; next: ApprovalRequest; effects: Effect[]; note?: string }
  | { ok: false; refusal: string };

const TERMINAL: ReadonlySet<string> = new Set(['done', 'failed', 'unknown', 'denied', 'expired', 'superseded']);

export function isTerminal(state: string): boolean {
  return TERMINAL.has(state);
}

function move(rec: ApprovalRequest, state: ProposalState, now: Date, by?: string, note?: string): ApprovalRequest {
  return { ...rec, state, history: [...rec.history, { at: now.toISOString(), state, by, note }] };
}

const mention = (userId: string) => `<@${userId}>`;

function hhmm(iso: string): string {
  return `${iso.slice(11, 16)} UTC`;
}

/** Why a click on a request that is no longer pending changes nothing, in the clicker's words. */
export function alreadyDecided(rec: ApprovalRequest): string {
  const approvers = rec.approvals.map((a) => `${mention(a.userId)} at ${hhmm(a.at)}`).join(', ');
  switch (rec.state) {
    case 'approved':
    case 'executing':
      return `Already approved by ${approvers}; it is running now and runs only once.`;
    case 'done':
    case 'failed':
      return `Already approved by ${approvers} and carried out (${rec.state}: ${rec.outcome?.summary ?? ''}). It runs only once.`;
    case 'unknown':
      return `Already approved by ${approvers} and attempted once; whether it took effect could not be confirmed (${rec.outcome?.summary ?? ''}). It will not run again from this request.`;
    case 'denied':
      return `Already denied by ${mention(rec.denial?.userId ?? '?')} at ${hhmm(rec.denial?.at ?? rec.createdAt)}; nothing ran.`;
    case 'expired':
      return `This request expired at ${hhmm(rec.expiresAt)}; nothing ran. Run the command again for a fresh proposal.`;
    case 'superseded':
      return 'This preview was replaced by a fresh one because the target changed; use the buttons on the fresh preview.';
    default:
      return `This request is ${rec.state}.`;
  }
}

const refuse = (refusal: string): Transition => ({ ok: false, refusal });

function expiredNow(rec: ApprovalRequest, now: Date): boolean {
  return rec.state === 'pending' && now.getTime() >= Date.parse(rec.expiresAt);
}

function expire(rec: ApprovalRequest, now: Date, message?: ApprovalRequest['message']): Transition {
  const next = move({ ...rec, message: rec.message ?? message }, 'expired', now, undefined, 'expired before approval');
  return {
    ok: true,
    next,
    effects: [{ type: 'audit', action: 'expired', detail: 'Expired without approval' }, { type: 'show' }],
    note: alreadyDecided(next),
  };
}

function withFollowUp(rec: ApprovalRequest, now: Date, summary: string, followUpMs: number): ApprovalRequest {
  const at = now.toISOString();
  return {
    ...rec,
    execution: { ...(rec.execution ?? { startedAt: at }), appliedAt: at, summary },
    followUp: { since: at, deadline: new Date(now.getTime() + followUpMs).toISOString(), problems: [] },
    history: [...rec.history, { at, state: 'executing', note: 'applied' }],
  };
}

function end(
  rec: ApprovalRequest,
  state: 'done' | 'failed' | 'unknown',
  summary: string,
  now: Date,
  problems?: string[],
): ApprovalRequest {
  const followUp = rec.followUp ? { ...rec.followUp, summary, problems: problems ?? rec.followUp.problems } : undefined;
  return {
    ...move(rec, state, now, undefined, summary),
    outcome: { ok: state === 'done', summary, at: now.toISOString() },
    followUp,
  };
}

const FINAL_EFFECTS = (action: AuditAction, detail: string): Effect[] => [
  { type: 'audit', action, detail },
  { type: 'show' },
  { type: 'postOutcome' },
];

/** The one place that decides what an event does to a request. */
export function transition(rec: ApprovalRequest, event: ApprovalEvent, now: Date): Transition {
  if (rec.type !== 'proposal')
    return refuse('This is a suggestion, not a proposal: click it to get a previewed proposal.');
  switch (event.type) {
    case 'approve': {
      if (expiredNow(rec, now)) return expire(rec, now, event.message);
      if (rec.state !== 'pending') return refuse(alreadyDecided(rec));
      if (event.refusal) return refuse(event.refusal);
      if (rec.requester.userId === event.by.userId && !rec.rule.allowSelfApproval) {
        return refuse(
          'You asked for this change, so someone else must approve it: the policy does not allow self-approval.',
        );
      }
      if (rec.approvals.some((a) => a.userId === event.by.userId)) {
        return refuse(
          `You already approved this; it needs ${count(rec.rule.approvers - rec.approvals.length, 'more approval')} from other people.`,
        );
      }
      const approvals = [
        ...rec.approvals,
        { userId: event.by.userId, userName: event.by.userName, at: now.toISOString() },
      ];
      const withApproval: ApprovalRequest = { ...rec, approvals, message: rec.message ?? event.message };
      const audit: Effect = {
        type: 'audit',
        action: 'approved',
        by: event.by.userId,
        detail: `${event.by.userName ?? event.by.userId} approved`,
      };
      if (approvals.length < rec.rule.approvers) {
        return {
          ok: true,
          next: {
            ...withApproval,
            history: [
              ...rec.history,
              { at: now.toISOString(), state: 'pending', by: event.by.userId, note: 'approval recorded' },
            ],
          },
          effects: [audit, { type: 'show' }],
        };
      }
      return {
        ok: true,
        next: move(withApproval, 'approved', now, event.by.userId),
        effects: [audit, { type: 'show' }, { type: 'execute' }],
      };
    }
    case 'deny': {
      if (expiredNow(rec, now)) return expire(rec, now, event.message);
      if (rec.state !== 'pending') return refuse(alreadyDecided(rec));
      const withdrawing = rec.requester.userId === event.by.userId;
      if (!withdrawing && event.refusal) return refuse(event.refusal);
      const next = move(
        {
          ...rec,
          denial: { userId: event.by.userId, userName: event.by.userName, at: now.toISOString() },
          message: rec.message ?? event.message,
        },
        'denied',
        now,
        event.by.userId,
      );
      return {
        ok: true,
        next,
        effects: [
          {
            type: 'audit',
            action: 'denied',
            by: event.by.userId,
            detail: `${event.by.userName ?? event.by.userId} ${withdrawing ? 'withdrew' : 'denied'}`,
          },
          { type: 'show' },
        ],
      };
    }
    case 'expire': {
      if (rec.state !== 'pending') return refuse(alreadyDecided(rec));
      if (!expiredNow(rec, now)) return refuse(`This request is valid until ${hhmm(rec.expiresAt)}.`);
      return expire(rec, now);
    }
    case 'start': {
      if (rec.state !== 'approved')
        return refuse(rec.state === 'pending' ? 'This request is not approved yet.' : alreadyDecided(rec));
      if (event.fingerprint !== rec.preview?.fingerprint) {
        const what = event.fingerprint
          ? `${rec.target.kind} changed since the preview (${rec.preview?.fingerprint} → ${event.fingerprint})`
          : `${rec.target.kind} no longer exists`;
        const note = `Nothing ran: the ${what}, so meshops previewed it again. Approve the fresh preview if it still looks right.`;
        const next = {
          ...move(
            rec,
            'superseded',
            now,
            undefined,
            `target changed: ${rec.preview?.fingerprint} → ${event.fingerprint ?? 'gone'}`,
          ),
          supersededBy: event.freshId,
        };
        return {
          ok: true,
          next,
          effects: [
            { type: 'audit', action: 'superseded', detail: `Not executed: the ${what}; previewed again` },
            { type: 'proposeFresh', id: event.freshId, note },
          ],
        };
      }
      const next = {
        ...move(rec, 'executing', now, event.replica),
        execution: { startedAt: now.toISOString(), as: event.as },
      };
      return { ok: true, next, effects: [{ type: 'show' }, { type: 'execute' }] };
    }
    case 'abandon': {
      if (rec.state !== 'approved') return refuse(alreadyDecided(rec));
      const summary = `${event.reason} Nothing ran: meshops records "executing" before it sends a change, and this request never got there. Propose it again.`;
      return { ok: true, next: end(rec, 'failed', summary, now), effects: FINAL_EFFECTS('failed', summary) };
    }
    case 'applied': {
      if (rec.state !== 'executing') return refuse(alreadyDecided(rec));
      if (rec.execution?.appliedAt) return refuse('The change is already recorded as applied.');
      return {
        ok: true,
        next: withFollowUp(rec, now, event.summary, event.followUpMs),
        effects: [{ type: 'audit', action: 'executed', detail: event.summary }, { type: 'show' }, { type: 'follow' }],
      };
    }
    case 'verified': {
      if (rec.state !== 'executing') return refuse(alreadyDecided(rec));
      if (rec.execution?.appliedAt) return refuse('The change is already recorded as applied.');
      const cause = event.cause ? ` (${event.cause})` : '';
      if (event.result === 'landed') {
        const summary = `Applied: the API server's answer was lost${cause}, so meshops read the live object and confirmed the change: ${event.evidence}`;
        return {
          ok: true,
          next: withFollowUp(rec, now, summary, event.followUpMs),
          effects: [{ type: 'audit', action: 'executed', detail: summary }, { type: 'show' }, { type: 'follow' }],
        };
      }
      if (event.result === 'unknown') {
        const summary = `Not known whether the change took effect: the request failed${cause} and meshops could not check the live object (${event.evidence}). Check ${rec.target.kind} ${rec.target.namespace}/${rec.target.name} before trying again; this request will not run again.`;
        return { ok: true, next: end(rec, 'unknown', summary, now), effects: FINAL_EFFECTS('unknown', summary) };
      }
      if (event.fingerprint !== undefined && event.fingerprint === rec.preview?.fingerprint) {
        const summary = `Nothing ran: the change was not applied${cause}. meshops checked the live object: ${event.evidence} Propose it again when the cause is fixed.`;
        return { ok: true, next: end(rec, 'failed', summary, now), effects: FINAL_EFFECTS('failed', summary) };
      }
      const what = event.fingerprint
        ? `${rec.target.kind} changed since the preview (${rec.preview?.fingerprint} → ${event.fingerprint})`
        : `${rec.target.kind} no longer exists`;
      const note = `Nothing ran: the ${what}, and meshops checked that its own change is not there (${event.evidence}). It previewed it again: approve the fresh preview if it still looks right.`;
      const next = {
        ...move(
          rec,
          'superseded',
          now,
          undefined,
          `not applied; target changed: ${rec.preview?.fingerprint} → ${event.fingerprint ?? 'gone'}`,
        ),
        supersededBy: event.freshId,
        outcome: { ok: false, summary: note, at: now.toISOString() },
      };
      return {
        ok: true,
        next,
        effects: [
          { type: 'audit', action: 'superseded', detail: `Not executed${cause}: the ${what}; previewed again` },
          { type: 'proposeFresh', id: event.freshId, note },
        ],
      };
    }
    case 'progress': {
      if (rec.state !== 'executing') return refuse(alreadyDecided(rec));
      if (!rec.execution?.appliedAt || !rec.followUp)
        return refuse('The change is not applied yet, so there is nothing to follow.');
      const sameWindow = JSON.stringify(event.window) === JSON.stringify(rec.followUp.window);
      const sameText =
        event.summary === rec.followUp.summary && event.problems.join('\n') === rec.followUp.problems.join('\n');
      if (sameText && sameWindow) return refuse('Nothing new to show.');
      const followUp = { ...rec.followUp, summary: event.summary, problems: event.problems };
      if (event.window === undefined) delete followUp.window;
      else followUp.window = event.window;
      // A window's new readings alone are written, not shown: the message did not change.
      return { ok: true, next: { ...rec, followUp }, effects: sameText ? [] : [{ type: 'show' }] };
    }
    case 'finish': {
      if (rec.state !== 'executing') return refuse(alreadyDecided(rec));
      if (!rec.execution?.appliedAt) return refuse('The change is not applied yet, so it cannot have finished.');
      const action: AuditAction = event.result === 'done' ? 'succeeded' : event.result;
      return {
        ok: true,
        next: end(rec, event.result, event.summary, now, event.problems),
        effects: FINAL_EFFECTS(action, event.summary),
      };
    }
  }
}
