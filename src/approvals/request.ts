// The persisted approval request: one record per offered fix or proposed change. It is the single
// source of truth for what was asked, by whom, who decided, what ran and what came of it.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

export const PROPOSAL_STATES = [
  'pending',
  'approved',
  'executing',
  'done',
  'failed',
  'denied',
  'expired',
  'superseded',
  'unknown',
] as const;
export const OFFER_STATES = ['offered', 'taken', 'expired'] as const;
export type ProposalState = (typeof PROPOSAL_STATES)[number];
export type RequestState = ProposalState | (typeof OFFER_STATES)[number];

/** The opaque id on a button: 128 random bits, hex, so it is also a valid part of an object name. */
export const requestIdSchema = z.string().regex(/^[a-f0-9]{32}$/);
export function newRequestId(): string {
  return randomBytes(16).toString('hex');
}

const iso = z.string().min(1);
const person = z.object({ userId: z.string().min(1), userName: z.string().optional() });

export const targetSchema = z.object({
  kind: z.string().min(1),
  namespace: z.string().min(1),
  name: z.string().min(1),
});
export type Target = z.infer<typeof targetSchema>;

export const previewSchema = z.object({
  /** What a reader needs to judge the change: Deployment, replicas, strategy, the patch. */
  facts: z.array(z.tuple([z.string(), z.string()])),
  affected: z.array(z.string()),
  affectedLabel: z.string(),
  /** generation:N (or resourceVersion:N): compared again right before executing. */
  fingerprint: z.string(),
  targetUid: z.string().optional(),
  targetApiVersion: z.string(),
  /** What execute() applies: exactly what the dry run accepted. */
  plan: z.unknown(),
  dryRun: z.string(),
});
export type PreviewData = z.infer<typeof previewSchema>;

export const messageRefSchema = z.object({ channel: z.string(), ts: z.string(), threadTs: z.string().optional() });

export const requestSchema = z.object({
  v: z.literal(1),
  id: requestIdSchema,
  type: z.enum(['offer', 'proposal']),
  kind: z.string().min(1),
  cluster: z.string().min(1),
  target: targetSchema,
  params: z.record(z.string(), z.unknown()).default({}),
  why: z.string().default(''),
  risk: z.string().optional(),
  label: z.string().optional(),
  state: z.enum([...PROPOSAL_STATES, 'offered', 'taken']),
  requester: person.extend({ channelId: z.string().optional() }),
  createdAt: iso,
  expiresAt: iso,
  rule: z.object({ approvers: z.number().int().min(1), allowSelfApproval: z.boolean() }),
  preview: previewSchema.optional(),
  approvals: z.array(person.extend({ at: iso })).default([]),
  denial: person.extend({ at: iso }).optional(),
  message: messageRefSchema.optional(),
  execution: z
    .object({
      startedAt: iso,
      as: z.object({ user: z.string(), groups: z.array(z.string()).optional() }).optional(),
      appliedAt: iso.optional(),
      summary: z.string().optional(),
    })
    .optional(),
  followUp: z
    .object({
      since: iso,
      deadline: iso,
      summary: z.string().optional(),
      problems: z.array(z.string()).default([]),
      /** The kind's window state (Progress.window), for the replica that resumes the follow-up. */
      window: z.unknown().optional(),
    })
    .optional(),
  outcome: z.object({ ok: z.boolean(), summary: z.string(), at: iso }).optional(),
  /** An offer points at the proposal its click started; a fresh preview points at the one it replaced. */
  proposalId: requestIdSchema.optional(),
  supersedes: requestIdSchema.optional(),
  supersededBy: requestIdSchema.optional(),
  /** Bumped by every write: orders the updates of the request's message (a stale one never lands last). */
  rev: z.number().int().min(0).default(0),
  /** A random id per write, so a writer whose answer was lost can tell whether its own write landed. */
  writeId: z.string().optional(),
  history: z
    .array(z.object({ at: iso, state: z.string(), by: z.string().optional(), note: z.string().optional() }))
    .default([]),
});
export type ApprovalRequest = z.infer<typeof requestSchema>;

/** The record with a new state and a history line. */
export function moved(
  rec: ApprovalRequest,
  state: RequestState,
  at: Date,
  by?: string,
  note?: string,
): ApprovalRequest {
  return { ...rec, state, history: [...rec.history, { at: at.toISOString(), state, by, note }] };
}
