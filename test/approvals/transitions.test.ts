// The approval state machine as a table: every state × every event, with no cluster. Each cell says
// where the request goes (or that the event is refused) and what the service must do about it.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { ApprovalRequest } from '../../src/approvals/request.ts';
import {
  type ApprovalEvent,
  EVENT_TYPES,
  type EventType,
  isTerminal,
  transition,
} from '../../src/approvals/transitions.ts';

const T0 = new Date('2026-12-02T10:00:00.000Z');
const LATER = new Date('2026-12-02T10:05:00.000Z');
const AFTER_EXPIRY = new Date('2026-12-02T12:00:00.000Z');

type Row =
  | 'pending'
  | 'approved'
  | 'executing'
  | 'applied'
  | 'done'
  | 'failed'
  | 'unknown'
  | 'denied'
  | 'expired'
  | 'superseded';
const ROWS: Row[] = [
  'pending',
  'approved',
  'executing',
  'applied',
  'done',
  'failed',
  'unknown',
  'denied',
  'expired',
  'superseded',
];

function request(row: Row): ApprovalRequest {
  const base: ApprovalRequest = {
    v: 1,
    id: 'a'.repeat(32),
    type: 'proposal',
    kind: 'rollout-restart',
    cluster: 'prod',
    target: { kind: 'Deployment', namespace: 'bookinfo', name: 'reviews' },
    params: {},
    why: 'stale proxies',
    state: 'pending',
    requester: { userId: 'U_ALICE', userName: 'alice' },
    createdAt: T0.toISOString(),
    expiresAt: new Date(T0.getTime() + 3_600_000).toISOString(),
    rule: { approvers: 1, allowSelfApproval: false },
    preview: {
      facts: [],
      affected: [],
      affectedLabel: 'Pods',
      fingerprint: 'generation:3',
      targetApiVersion: 'apps/v1',
      plan: {},
      dryRun: 'ok',
    },
    approvals: [],
    rev: 4,
    history: [{ at: T0.toISOString(), state: 'pending', by: 'U_ALICE' }],
  };
  const approved = { ...base, approvals: [{ userId: 'U_BOB', at: T0.toISOString() }] };
  const started = { ...approved, execution: { startedAt: T0.toISOString() } };
  const applied = {
    ...started,
    execution: { startedAt: T0.toISOString(), appliedAt: T0.toISOString(), summary: 'annotated' },
    followUp: { since: T0.toISOString(), deadline: LATER.toISOString(), summary: 'Rolling out', problems: [] },
  };
  const outcome = { ok: false, summary: 'x', at: T0.toISOString() };
  switch (row) {
    case 'pending':
      return base;
    case 'approved':
      return { ...approved, state: 'approved' };
    case 'executing':
      return { ...started, state: 'executing' };
    case 'applied':
      return { ...applied, state: 'executing' };
    case 'done':
      return { ...applied, state: 'done', outcome: { ...outcome, ok: true } };
    case 'failed':
      return { ...applied, state: 'failed', outcome };
    case 'unknown':
      return { ...started, state: 'unknown', outcome };
    case 'denied':
      return { ...base, state: 'denied', denial: { userId: 'U_BOB', at: T0.toISOString() } };
    case 'expired':
      return { ...base, state: 'expired' };
    case 'superseded':
      return { ...approved, state: 'superseded', supersededBy: 'b'.repeat(32) };
  }
}

/** The ordinary form of each event: a person with a role, the target as previewed, the change landed. */
function event(type: EventType): ApprovalEvent {
  switch (type) {
    case 'approve':
      return { type, by: { userId: 'U_CAROL', userName: 'carol' } };
    case 'deny':
      return { type, by: { userId: 'U_CAROL', userName: 'carol' } };
    case 'expire':
      return { type };
    case 'start':
      return { type, replica: 'r1', fingerprint: 'generation:3', freshId: 'c'.repeat(32) };
    case 'abandon':
      return { type, reason: 'meshops stopped.' };
    case 'applied':
      return { type, summary: 'annotated', followUpMs: 60_000 };
    case 'verified':
      return {
        type,
        result: 'landed',
        evidence: 'annotation is ours',
        cause: 'connection reset',
        fingerprint: 'generation:4',
        followUpMs: 60_000,
        freshId: 'c'.repeat(32),
      };
    case 'progress':
      return { type, summary: 'Rolling out · 2/3 updated', problems: [] };
    case 'finish':
      return { type, result: 'done', summary: 'Rollout complete', problems: [] };
  }
}

// Where each ordinary event takes each state: a state name, 'applied' (executing with the change in),
// or '—' for refused (no write, no effect). `expire` is sent after the expiry time, everything else before.
const TABLE: Record<Row, Record<EventType, Row | '—'>> = {
  pending: {
    approve: 'approved',
    deny: 'denied',
    expire: 'expired',
    start: '—',
    abandon: '—',
    applied: '—',
    verified: '—',
    progress: '—',
    finish: '—',
  },
  approved: {
    approve: '—',
    deny: '—',
    expire: '—',
    start: 'executing',
    abandon: 'failed',
    applied: '—',
    verified: '—',
    progress: '—',
    finish: '—',
  },
  executing: {
    approve: '—',
    deny: '—',
    expire: '—',
    start: '—',
    abandon: '—',
    applied: 'applied',
    verified: 'applied',
    progress: '—',
    finish: '—',
  },
  applied: {
    approve: '—',
    deny: '—',
    expire: '—',
    start: '—',
    abandon: '—',
    applied: '—',
    verified: '—',
    progress: 'applied',
    finish: 'done',
  },
  done: {
    approve: '—',
    deny: '—',
    expire: '—',
    start: '—',
    abandon: '—',
    applied: '—',
    verified: '—',
    progress: '—',
    finish: '—',
  },
  failed: {
    approve: '—',
    deny: '—',
    expire: '—',
    start: '—',
    abandon: '—',
    applied: '—',
    verified: '—',
    progress: '—',
    finish: '—',
  },
  unknown: {
    approve: '—',
    deny: '—',
    expire: '—',
    start: '—',
    abandon: '—',
    applied: '—',
    verified: '—',
    progress: '—',
    finish: '—',
  },
  denied: {
    approve: '—',
    deny: '—',
    expire: '—',
    start: '—',
    abandon: '—',
    applied: '—',
    verified: '—',
    progress: '—',
    finish: '—',
  },
  expired: {
    approve: '—',
    deny: '—',
    expire: '—',
    start: '—',
    abandon: '—',
    applied: '—',
    verified: '—',
    progress: '—',
    finish: '—',
  },
  superseded: {
    approve: '—',
    deny: '—',
    expire: '—',
    start: '—',
    abandon: '—',
    applied: '—',
    verified: '—',
    progress: '—',
    finish: '—',
  },
};

// What the service must do after each allowed cell (effect types, in order).
const EFFECTS: Partial<Record<`${Row}/${EventType}`, string[]>> = {
  'pending/approve': ['audit:approved', 'show', 'execute'],
  'pending/deny': ['audit:denied', 'show'],
  'pending/expire': ['audit:expired', 'show'],
  'approved/start': ['show', 'execute'],
  'approved/abandon': ['audit:failed', 'show', 'postOutcome'],
  'executing/applied': ['audit:executed', 'show', 'follow'],
  'executing/verified': ['audit:executed', 'show', 'follow'],
  'applied/progress': ['show'],
  'applied/finish': ['audit:succeeded', 'show', 'postOutcome'],
};

function rowOf(rec: ApprovalRequest): Row {
  if (rec.state === 'executing') return rec.execution?.appliedAt ? 'applied' : 'executing';
  return rec.state as Row;
}

describe('approval transitions: every state × every event', () => {
  for (const row of ROWS) {
    for (const type of EVENT_TYPES) {
      const expected = TABLE[row][type];
      it(`${row} × ${type} → ${expected === '—' ? 'refused' : expected}`, () => {
        const rec = request(row);
        const t = transition(rec, event(type), type === 'expire' ? AFTER_EXPIRY : LATER);
        if (expected === '—') {
          expect(t.ok).toBe(false);
          if (!t.ok) expect(t.refusal.length).toBeGreaterThan(10);
          return;
        }
        expect(t.ok).toBe(true);
        if (!t.ok) return;
        expect(rowOf(t.next)).toBe(expected);
        expect(t.effects.map((e) => (e.type === 'audit' ? `audit:${e.action}` : e.type))).toEqual(
          EFFECTS[`${row}/${type}`],
        );
        // Every move is written down, and nothing that was recorded is forgotten.
        expect(t.next.history.length).toBe(rec.history.length + (expected === row && type === 'progress' ? 0 : 1));
        expect(t.next.approvals.slice(0, rec.approvals.length)).toEqual(rec.approvals);
        expect(t.next.requester).toEqual(rec.requester);
        expect(t.next.preview).toEqual(rec.preview);
      });
    }
  }

  it('covers every event type and every state the record can hold', () => {
    expect(Object.keys(TABLE).sort()).toEqual([...ROWS].sort());
    for (const row of ROWS) expect(Object.keys(TABLE[row]).sort()).toEqual([...EVENT_TYPES].sort());
  });
});

describe('who may move a request', () => {
  it('the requester may not approve their own change unless the rule allows it', () => {
    const rec = request('pending');
    const self = transition(rec, { type: 'approve', by: { userId: 'U_ALICE' } }, LATER);
    expect(self).toMatchObject({ ok: false, refusal: expect.stringContaining('someone else must approve') });
    const allowed = transition(
      { ...rec, rule: { approvers: 1, allowSelfApproval: true } },
      { type: 'approve', by: { userId: 'U_ALICE' } },
      LATER,
    );
    expect(allowed.ok && allowed.next.state).toBe('approved');
  });

  it('a person without a role is refused with the policy’s words', () => {
    const t = transition(
      request('pending'),
      { type: 'approve', by: { userId: 'U_EVE' }, refusal: 'You have no role for rollout-restart in bookinfo.' },
      LATER,
    );
    expect(t).toEqual({ ok: false, refusal: 'You have no role for rollout-restart in bookinfo.' });
  });

  it('two approvers: the first approval is recorded and the request stays pending; the same person twice is refused', () => {
    const rec = { ...request('pending'), rule: { approvers: 2, allowSelfApproval: false } };
    const first = transition(rec, { type: 'approve', by: { userId: 'U_BOB' } }, LATER);
    if (!first.ok) throw new Error(first.refusal);
    expect(first.next.state).toBe('pending');
    expect(first.effects.map((e) => e.type)).toEqual(['audit', 'show']);
    expect(transition(first.next, { type: 'approve', by: { userId: 'U_BOB' } }, LATER)).toMatchObject({
      ok: false,
      refusal: expect.stringContaining('already approved'),
    });
    const second = transition(first.next, { type: 'approve', by: { userId: 'U_CAROL' } }, LATER);
    expect(second.ok && second.next.state).toBe('approved');
    expect(second.ok && second.next.approvals.map((a) => a.userId)).toEqual(['U_BOB', 'U_CAROL']);
  });

  it('the requester may always withdraw; anyone else needs a role to deny', () => {
    const rec = request('pending');
    const withdraw = transition(rec, { type: 'deny', by: { userId: 'U_ALICE' }, refusal: 'no role' }, LATER);
    expect(withdraw.ok && withdraw.next.state).toBe('denied');
    expect(transition(rec, { type: 'deny', by: { userId: 'U_EVE' }, refusal: 'no role' }, LATER)).toEqual({
      ok: false,
      refusal: 'no role',
    });
  });

  it('a click after the expiry expires the request (written, audited, shown) and tells the clicker', () => {
    for (const type of ['approve', 'deny'] as const) {
      const t = transition(request('pending'), { type, by: { userId: 'U_BOB' } }, AFTER_EXPIRY);
      if (!t.ok) throw new Error(t.refusal);
      expect(t.next.state).toBe('expired');
      expect(t.note).toContain('expired');
      expect(t.effects.map((e) => e.type)).toEqual(['audit', 'show']);
    }
    expect(transition(request('pending'), { type: 'expire' }, LATER)).toMatchObject({ ok: false });
  });

  it('an offer is never moved by the proposal machine', () => {
    const offer = { ...request('pending'), type: 'offer' as const, state: 'offered' as const };
    for (const type of EVENT_TYPES) expect(transition(offer, event(type), LATER).ok).toBe(false);
  });
});

describe('ambiguous outcomes', () => {
  const verified = (result: 'landed' | 'absent' | 'unknown', fingerprint?: string): ApprovalEvent => ({
    type: 'verified',
    result,
    evidence: 'seen on the live object',
    cause: 'connection reset',
    fingerprint,
    followUpMs: 60_000,
    freshId: 'c'.repeat(32),
  });

  it('landed: applied and followed up, saying the answer was lost', () => {
    const t = transition(request('executing'), verified('landed', 'generation:4'), LATER);
    if (!t.ok) throw new Error(t.refusal);
    expect(t.next.state).toBe('executing');
    expect(t.next.execution?.appliedAt).toBe(LATER.toISOString());
    expect(t.next.execution?.summary).toMatch(/answer was lost \(connection reset\).*confirmed/);
  });

  it('absent on a target as previewed: failed, "nothing ran", with what was checked; no fresh preview', () => {
    const t = transition(request('executing'), verified('absent', 'generation:3'), LATER);
    if (!t.ok) throw new Error(t.refusal);
    expect(t.next.state).toBe('failed');
    expect(t.next.outcome?.summary).toMatch(/^Nothing ran: .*checked the live object: seen on the live object/);
    expect(t.effects.some((e) => e.type === 'proposeFresh')).toBe(false);
  });

  it('absent on a target that changed: superseded with a fresh preview', () => {
    const t = transition(request('executing'), verified('absent', 'generation:9'), LATER);
    if (!t.ok) throw new Error(t.refusal);
    expect(t.next.state).toBe('superseded');
    expect(t.next.supersededBy).toBe('c'.repeat(32));
    expect(t.effects.find((e) => e.type === 'proposeFresh')).toMatchObject({
      id: 'c'.repeat(32),
      note: expect.stringContaining('its own change is not there'),
    });
  });

  it('unknown: its own state, final words, no fresh preview, never "nothing ran"', () => {
    const t = transition(request('executing'), verified('unknown'), LATER);
    if (!t.ok) throw new Error(t.refusal);
    expect(t.next.state).toBe('unknown');
    expect(isTerminal(t.next.state)).toBe(true);
    expect(t.next.outcome?.summary).not.toMatch(/nothing ran/i);
    expect(t.effects.map((e) => (e.type === 'audit' ? `audit:${e.action}` : e.type))).toEqual([
      'audit:unknown',
      'show',
      'postOutcome',
    ]);
  });

  it('a target that changed before the start supersedes without executing', () => {
    const t = transition(
      request('approved'),
      { type: 'start', replica: 'r1', fingerprint: 'generation:5', freshId: 'd'.repeat(32) },
      LATER,
    );
    if (!t.ok) throw new Error(t.refusal);
    expect(t.next.state).toBe('superseded');
    expect(t.effects.some((e) => e.type === 'execute')).toBe(false);
    expect(t.effects.some((e) => e.type === 'proposeFresh')).toBe(true);
  });

  it('finish can end unknown or failed too', () => {
    for (const result of ['failed', 'unknown'] as const) {
      const t = transition(
        request('applied'),
        { type: 'finish', result, summary: 'deadline', problems: ['pod x: ImagePullBackOff'] },
        LATER,
      );
      expect(t.ok && t.next.state).toBe(result);
      expect(t.ok && t.next.followUp?.problems).toEqual(['pod x: ImagePullBackOff']);
    }
  });
});

describe('properties', () => {
  const events = fc.constantFrom(...EVENT_TYPES).map(event);
  it('no sequence of events leaves a terminal state or executes twice', () => {
    fc.assert(
      fc.property(fc.array(events, { maxLength: 25 }), (seq) => {
        let rec = request('pending');
        let executes = 0;
        let terminal = false;
        for (const e of seq) {
          const t = transition(rec, e, LATER);
          if (!t.ok) continue;
          expect(terminal).toBe(false);
          executes += t.effects.filter((x) => x.type === 'execute' && t.next.state === 'executing').length;
          rec = t.next;
          terminal = isTerminal(rec.state);
        }
        expect(executes).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });
});
