// The approvals engine: propose (dry-run preview) → Approve/Deny buttons → decide (policy) → execute
// exactly once → follow up → audit. Every step is a state change on the persisted request made with a
// resourceVersion precondition, so concurrent clicks and several replicas agree on one outcome.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import type { Offer, Rendered } from '../blocks/block-kit.ts';
import { actions, button, context } from '../blocks/block-kit.ts';
import type { ClusterTarget, Requester } from '../command.ts';
import { referenceId } from '../errors.ts';
import { KubeApiError, type Identity, type KubeClient } from '../kube/client.ts';
import { LeaseLock } from '../kube/lease.ts';
import type { Logger } from '../log.ts';
import type { ButtonClick, ClickHandler, ClickOutcome, MessageRef, Messenger } from '../messenger.ts';
import type { OfferSink } from '../services.ts';
import { type AuditAction, Auditor } from './audit.ts';
import { APPROVE_ACTION, DENY_ACTION, OFFER_ACTION, refusal, renderOutcome, renderPreviewFailure, renderRequest, when } from './messages.ts';
import type { AccessPolicy } from './policy.ts';
import { type Progress, RemediationRegistry, type RemediationKind } from './remediation-kinds.ts';
import { type ApprovalRequest, type Target, moved, newRequestId, requestIdSchema } from './request.ts';
import { RequestStore, type StoredRequest, objectName } from './request-store.ts';
import { rolloutRestart } from './rollout-restart.ts';

export interface ApprovalsOptions {
  policy: AccessPolicy;
  /** Clusters the remediations act on, by name (the router's clusters). */
  clusters: readonly ClusterTarget[];
  /** Where request objects and leases live: the cluster the bot runs in. */
  stateKube: KubeClient;
  /** The bot's own namespace. */
  namespace: string;
  log: Logger;
  registry?: RemediationRegistry;
  messenger?: Messenger;
  now?: () => Date;
  replicaId?: string;
  /** How often a follow-up looks at the rollout. */
  pollMs?: number;
  /** Overrides each kind's follow-up timeout (tests). */
  followUpTimeoutMs?: number;
  leaseSeconds?: number;
  /** How long a suggested fix's button stays valid. */
  offerTtlMs?: number;
  /** Finished requests older than this are deleted by housekeeping (default 30 days). */
  /** Called with every audit step (metrics: approvals by kind and outcome). */
  onAudit?: (kind: string, action: AuditAction) => void;
}

export interface ProposeInput {
  kind: string;
  target: Target;
  params?: Record<string, unknown>;
  why?: string;
  risk?: string;
  requester: Requester;
  cluster: string;
  /** Internal: a preset id (offers reserve one), the request this replaces, the message it lives in. */
  id?: string;
  supersedes?: string;
  message?: MessageRef;
}

export type ProposeResult = { ok: true; record: ApprovalRequest; rendered: Rendered } | { ok: false; reason: string; rendered: Rendered };

type Refusal = { refuse: string };
/** What a click decided on the latest state of the request. */
type Verdict = { refuse: string; expired?: boolean } | { approved: boolean };

/** Minimum gap between progress updates of one message during a follow-up. */
const SHOW_EVERY_MS = 3000;

export function defaultRegistry(): RemediationRegistry {
  return new RemediationRegistry([rolloutRestart]);
}

export class ApprovalsService implements OfferSink {
  readonly registry: RemediationRegistry;
  readonly store: RequestStore;
  readonly replicaId: string;
  readonly clickHandlers: Record<string, ClickHandler>;
  private readonly options: ApprovalsOptions;
  private readonly policy: AccessPolicy;
  private readonly clusters: Map<string, ClusterTarget>;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly auditor: Auditor;
  private messenger: Messenger | undefined;
  private readonly following = new Set<string>();
  private readonly tasks = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(options: ApprovalsOptions) {
    this.options = options;
    this.policy = options.policy;
    this.registry = options.registry ?? defaultRegistry();
    this.clusters = new Map(options.clusters.map((c) => [c.name, c]));
    this.log = options.log.child({ component: 'approvals' });
    this.now = options.now ?? (() => new Date());
    this.replicaId = options.replicaId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.store = new RequestStore(options.stateKube, options.namespace, this.log);
    this.auditor = new Auditor(this.log, this.replicaId, this.now);
    this.messenger = options.messenger;
    this.clickHandlers = {
      [APPROVE_ACTION]: (click) => this.guard(click, () => this.approve(click)),
      [DENY_ACTION]: (click) => this.guard(click, () => this.deny(click)),
      [OFFER_ACTION]: (click) => this.guard(click, () => this.takeOffer(click)),
    };
  }

  /** The front door that can post and update messages (Slack, console); follow-ups need it. */
  attachMessenger(messenger: Messenger): void {
    this.messenger = messenger;
  }

  // ---- proposing ----

  async propose(input: ProposeInput): Promise<ProposeResult> {
    const def = this.registry.get(input.kind);
    const title = def?.title(input.target) ?? `${input.kind} ${input.target.namespace}/${input.target.name}`;
    const fail = (reason: string): ProposeResult => ({ ok: false, reason, rendered: renderPreviewFailure(title, reason, input.requester.userId, input.cluster) });
    if (!def) return fail(`meshops knows no remediation called \`${input.kind}\`. Known: ${this.registry.kinds().join(', ')}.`);
    if (!def.targetKinds.includes(input.target.kind)) return fail(`\`${input.kind}\` works on ${def.targetKinds.join(', ')}, not on ${input.target.kind}.`);
    const cluster = this.clusters.get(input.cluster);
    if (!cluster) return fail(`meshops has no cluster named \`${input.cluster}\`.`);
    const denied = await this.policy.mayAct(input.requester.userId, def.kind, input.target.namespace, input.cluster);
    if (denied) return fail(denied);
    const now = this.now();
    const preview = await def.preview(cluster.kube, input.target, input.params ?? {}, now);
    if (!preview.ok) return fail(preview.reason);
    const rule = this.policy.rule(def.kind);
    const { ok: _ok, ...previewData } = preview;
    const rec: ApprovalRequest = {
      v: 1,
      id: input.id ?? newRequestId(),
      type: 'proposal',
      kind: def.kind,
      cluster: input.cluster,
      target: input.target,
      params: input.params ?? {},
      why: input.why ?? '',
      risk: input.risk,
      state: 'pending',
      requester: { userId: input.requester.userId, userName: input.requester.userName, channelId: input.requester.channelId },
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + rule.ttlMs).toISOString(),
      rule: { approvers: rule.approvers, allowSelfApproval: rule.allowSelfApproval },
      preview: previewData,
      approvals: [],
      message: input.message,
      supersedes: input.supersedes,
      history: [{ at: now.toISOString(), state: 'pending', by: input.requester.userId }],
    };
    await this.store.create(rec);
    await this.audit(cluster.kube, rec, 'proposed', input.requester.userId, `${input.requester.userName ?? input.requester.userId} proposed: ${title}${input.supersedes ? ' (fresh preview after the target changed)' : ''}`);
    return { ok: true, record: rec, rendered: this.render(rec) };
  }

  /** The OfferSink: each offered fix becomes a persisted offer and a button carrying only its id. */
  async attachOffers(rendered: Rendered, offers: Offer[], requester: Requester, cluster: string): Promise<Rendered> {
    const buttons = [];
    const now = this.now();
    for (const [i, offer] of offers.slice(0, 5).entries()) {
      const r = offer.remediation;
      if (!this.registry.get(r.kind)) {
        this.log.warn({ kind: r.kind }, 'a command offered a remediation kind nobody registered; no button');
        continue;
      }
      const rec: ApprovalRequest = {
        v: 1,
        id: newRequestId(),
        type: 'offer',
        kind: r.kind,
        cluster,
        target: r.target,
        params: r.params ?? {},
        why: r.why,
        risk: r.risk,
        label: offer.label,
        state: 'offered',
        requester: { userId: requester.userId, userName: requester.userName, channelId: requester.channelId },
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + (this.options.offerTtlMs ?? 24 * 3_600_000)).toISOString(),
        rule: { approvers: 1, allowSelfApproval: false },
        approvals: [],
        history: [{ at: now.toISOString(), state: 'offered', by: requester.userId }],
      };
      try {
        await this.store.create(rec);
        // Slack wants action_ids unique within a message; the front door dispatches on the prefix.
        buttons.push(button(offer.label, `${OFFER_ACTION}:${i}`, rec.id));
      } catch (err) {
        this.log.warn({ err, kind: r.kind }, 'could not persist an offered fix; no button for it');
      }
    }
    if (buttons.length === 0) return rendered;
    return { ...rendered, blocks: [...rendered.blocks, actions(buttons), context('A click proposes the fix with a dry-run preview; it still needs approval before anything changes.')] };
  }

  // ---- clicks ----

  /** Never throws: an unexpected error becomes an apology with a reference id. */
  private async guard(click: ButtonClick, fn: () => Promise<ClickOutcome>): Promise<ClickOutcome> {
    try {
      return await fn();
    } catch (err) {
      const ref = referenceId();
      this.log.error({ err, ref, actionId: click.actionId, user: click.userId }, 'approval click failed');
      return { ephemeral: refusal(`Sorry, meshops could not handle that click. The details are in the bot's log under ref \`${ref}\`.`) };
    }
  }

  /** Reads the request behind a button; anything not made by meshops for this message is refused. */
  private async load(click: ButtonClick, type: 'offer' | 'proposal'): Promise<StoredRequest | Refusal> {
    const id = requestIdSchema.safeParse(click.value);
    if (!id.success) return { refuse: "This button's payload was not made by meshops, so nothing was done." };
    const stored = await this.store.read(id.data);
    if (!stored) return { refuse: 'meshops has no request with this id: it may be forged, from another installation, or cleaned up. Nothing was done.' };
    const rec = stored.record;
    if (rec.type !== type) return { refuse: "This button's payload does not match the button, so nothing was done." };
    if (rec.message && click.message && (rec.message.channel !== click.message.channel || rec.message.ts !== click.message.ts)) {
      return { refuse: 'This button does not belong to the message it was clicked in, so nothing was done.' };
    }
    return stored;
  }

  private decided(rec: ApprovalRequest): string {
    const now = this.now();
    const approvers = rec.approvals.map((a) => `<@${a.userId}> at ${when(a.at, now)}`).join(', ');
    switch (rec.state) {
      case 'approved':
      case 'executing':
        return `Already approved by ${approvers}; it is running now and runs only once.`;
      case 'done':
      case 'failed':
        return `Already approved by ${approvers} and carried out (${rec.state}: ${rec.outcome?.summary ?? ''}). It runs only once.`;
      case 'denied':
        return `Already denied by <@${rec.denial?.userId}> at ${when(rec.denial?.at ?? rec.createdAt, now)}; nothing ran.`;
      case 'expired':
        return `This request expired at ${when(rec.expiresAt, now)}; nothing ran. Run the command again for a fresh proposal.`;
      case 'superseded':
        return 'This preview was replaced by a fresh one because the target changed; use the buttons on the fresh preview.';
      default:
        return `This request is ${rec.state}.`;
    }
  }

  private async approve(click: ButtonClick): Promise<ClickOutcome> {
    const loaded = await this.load(click, 'proposal');
    if ('refuse' in loaded) return { ephemeral: refusal(loaded.refuse) };
    const first = loaded.record;
    if (!this.clusters.has(first.cluster)) {
      return { ephemeral: refusal(`This request is for cluster \`${first.cluster}\`, which this meshops does not serve (it serves ${[...this.clusters.keys()].map((n) => `\`${n}\``).join(', ') || 'none'}). Nothing was done.`) };
    }
    const notAllowed = await this.policy.mayAct(click.userId, first.kind, first.target.namespace, first.cluster);
    if (notAllowed) return { ephemeral: refusal(notAllowed) };
    const mapped = this.policy.identityFor(click.userId);
    if (mapped && 'missing' in mapped) return { ephemeral: refusal(mapped.missing) };

    const result = await this.store.mutate<Verdict>(first.id, (rec) => {
      const now = this.now();
      if (rec.state === 'pending' && now.getTime() >= Date.parse(rec.expiresAt)) {
        return { write: moved({ ...rec, message: rec.message ?? click.message }, 'expired', now, undefined, 'expired before approval'), result: { refuse: this.decided({ ...rec, state: 'expired' }), expired: true } };
      }
      if (rec.state !== 'pending') return { keep: true, result: { refuse: this.decided(rec) } };
      if (rec.requester.userId === click.userId && !rec.rule.allowSelfApproval) {
        return { keep: true, result: { refuse: 'You asked for this change, so someone else must approve it: the policy does not allow self-approval.' } };
      }
      if (rec.approvals.some((a) => a.userId === click.userId)) {
        return { keep: true, result: { refuse: `You already approved this; it needs ${rec.rule.approvers - rec.approvals.length} more approval(s) from other people.` } };
      }
      const next: ApprovalRequest = { ...rec, approvals: [...rec.approvals, { userId: click.userId, userName: click.userName, at: now.toISOString() }], message: rec.message ?? click.message };
      if (next.approvals.length >= rec.rule.approvers) return { write: moved(next, 'approved', now, click.userId), result: { approved: true } };
      return { write: next, result: { approved: false } };
    });
    if (!result) return { ephemeral: refusal('meshops has no request with this id any more. Nothing was done.') };
    const { stored } = result;
    const r = result.result;
    const kube = this.clusters.get(stored.record.cluster)?.kube;
    if ('refuse' in r) {
      if ('expired' in r) {
        await this.audit(kube, stored.record, 'expired', undefined, `Expired without approval: ${this.title(stored.record)}`);
        await this.show(stored.record);
      }
      return { ephemeral: refusal(r.refuse) };
    }
    await this.audit(kube, stored.record, 'approved', click.userId, `${click.userName ?? click.userId} approved: ${this.title(stored.record)}`);
    if (!r.approved) return this.reply(stored.record, click);
    return this.runApproved(stored, click, mapped?.identity);
  }

  private async deny(click: ButtonClick): Promise<ClickOutcome> {
    const loaded = await this.load(click, 'proposal');
    if ('refuse' in loaded) return { ephemeral: refusal(loaded.refuse) };
    const first = loaded.record;
    // The requester may always withdraw; anyone else needs a role for this change.
    if (first.requester.userId !== click.userId) {
      const notAllowed = await this.policy.mayAct(click.userId, first.kind, first.target.namespace, first.cluster);
      if (notAllowed) return { ephemeral: refusal(notAllowed) };
    }
    const result = await this.store.mutate<Verdict>(first.id, (rec) => {
      const now = this.now();
      if (rec.state === 'pending' && now.getTime() >= Date.parse(rec.expiresAt)) {
        return { write: moved({ ...rec, message: rec.message ?? click.message }, 'expired', now), result: { refuse: this.decided({ ...rec, state: 'expired' }), expired: true } };
      }
      if (rec.state !== 'pending') return { keep: true, result: { refuse: this.decided(rec) } };
      const next = { ...rec, denial: { userId: click.userId, userName: click.userName, at: now.toISOString() }, message: rec.message ?? click.message };
      return { write: moved(next, 'denied', now, click.userId), result: { approved: false } };
    });
    if (!result) return { ephemeral: refusal('meshops has no request with this id any more. Nothing was done.') };
    const rec = result.stored.record;
    const kube = this.clusters.get(rec.cluster)?.kube;
    if ('refuse' in result.result) {
      if ('expired' in result.result) {
        await this.audit(kube, rec, 'expired', undefined, `Expired without approval: ${this.title(rec)}`);
        await this.show(rec);
      }
      return { ephemeral: refusal(result.result.refuse) };
    }
    await this.audit(kube, rec, 'denied', click.userId, `${click.userName ?? click.userId} denied: ${this.title(rec)}`);
    return this.reply(rec, click);
  }

  private async takeOffer(click: ButtonClick): Promise<ClickOutcome> {
    const loaded = await this.load(click, 'offer');
    if ('refuse' in loaded) return { ephemeral: refusal(loaded.refuse) };
    const offer = loaded.record;
    const notAllowed = await this.policy.mayAct(click.userId, offer.kind, offer.target.namespace, offer.cluster);
    if (notAllowed) return { ephemeral: refusal(notAllowed) };
    const proposalId = newRequestId();
    const taken = await this.store.mutate<Verdict>(offer.id, (rec) => {
      const now = this.now();
      if (rec.state === 'offered' && now.getTime() >= Date.parse(rec.expiresAt)) {
        return { write: moved(rec, 'expired', now), result: { refuse: 'This suggestion has expired. Run the diagnosis again for fresh buttons.' } };
      }
      if (rec.state === 'expired') return { keep: true, result: { refuse: 'This suggestion has expired. Run the diagnosis again for fresh buttons.' } };
      if (rec.state !== 'offered') {
        const by = rec.history.at(-1)?.by;
        return { keep: true, result: { refuse: `${by ? `<@${by}>` : 'Someone'} already proposed this fix; see the proposal in the thread.` } };
      }
      return { write: { ...moved(rec, 'taken', now, click.userId), proposalId }, result: { approved: false } };
    });
    if (!taken) return { ephemeral: refusal('meshops has no suggestion with this id any more. Nothing was done.') };
    if ('refuse' in taken.result) return { ephemeral: refusal(taken.result.refuse) };

    const requester: Requester = { userId: click.userId, userName: click.userName, channelId: click.channelId, source: 'slack' };
    const proposed = await this.propose({ kind: offer.kind, target: offer.target, params: offer.params, why: offer.why, risk: offer.risk, requester, cluster: offer.cluster, id: proposalId });
    if (!proposed.ok) {
      // Nothing was proposed, so the suggestion stays clickable once the cause is fixed.
      await this.store.mutate(offer.id, (rec) => (rec.state === 'taken' && rec.proposalId === proposalId ? { write: moved({ ...rec, proposalId: undefined }, 'offered', this.now()), result: null } : { keep: true, result: null }));
      return { thread: [proposed.rendered] };
    }
    if (this.messenger && click.message) {
      const ref = await this.messenger.post(click.message.channel, proposed.rendered, { threadTs: click.message.threadTs ?? click.message.ts });
      await this.store.mutate(proposalId, (rec) => (rec.message ? { keep: true, result: null } : { write: { ...rec, message: ref }, result: null }));
      return {};
    }
    return { thread: [proposed.rendered] };
  }

  // ---- executing ----

  /** Only the click whose write moved the request to approved gets here. */
  private async runApproved(stored: StoredRequest, click: ButtonClick, identity: Identity | undefined): Promise<ClickOutcome> {
    const rec = stored.record;
    const def = this.kindOf(rec);
    const kube = this.kubeFor(rec);
    const lease = this.lease(rec.id);
    if (!(await lease.tryAcquire())) {
      this.log.warn({ id: rec.id }, 'approved request is already leased by another replica');
      return this.reply(rec, click);
    }
    const now = this.fingerprintNow(def, kube, rec.target);
    const fingerprint = await now;
    if (fingerprint !== rec.preview?.fingerprint) {
      await lease.release();
      return this.supersede(rec, 'approved', fingerprint, click);
    }
    const started = await this.store.mutate(rec.id, (cur) =>
      cur.state === 'approved'
        ? { write: { ...moved(cur, 'executing', this.now(), click.userId), execution: { startedAt: this.now().toISOString(), as: identity } }, result: true }
        : { keep: true, result: false },
    );
    if (!started?.result) {
      await lease.release();
      return this.reply(started?.stored.record ?? rec, click);
    }
    let summary: string;
    try {
      summary = await def.execute(identity ? kube.as(identity) : kube, rec.target, rec.preview?.plan);
    } catch (err) {
      const after = await this.fingerprintNow(def, kube, rec.target).catch(() => rec.preview?.fingerprint);
      if (after !== rec.preview?.fingerprint) {
        await lease.release();
        return this.supersede(started.stored.record, 'executing', after, click);
      }
      const failed = await this.finish(rec.id, false, this.words(err, def, identity), lease);
      return failed ? this.reply(failed, click, true) : {};
    }
    const deadlineMs = this.options.followUpTimeoutMs ?? def.followUpTimeoutMs ?? 10 * 60_000;
    const applied = await this.store.mutate(rec.id, (cur) => {
      if (cur.state !== 'executing') return { keep: true, result: null };
      const at = this.now();
      return {
        write: {
          ...cur,
          execution: { ...(cur.execution ?? { startedAt: at.toISOString() }), appliedAt: at.toISOString(), summary },
          followUp: { since: at.toISOString(), deadline: new Date(at.getTime() + deadlineMs).toISOString(), problems: [] },
        },
        result: null,
      };
    });
    const execRec = applied?.stored.record ?? rec;
    await this.audit(kube, execRec, 'executed', click.userId, `meshops executed ${this.title(execRec)}${identity ? ` as ${identity.user}` : ''}, approved by ${execRec.approvals.map((a) => a.userName ?? a.userId).join(', ')}: ${summary.replace(/`/g, '')}`);
    const outcome = await this.reply(execRec, click);
    this.spawn(rec.id, lease);
    return outcome;
  }

  /** The target moved since the preview: close this request and put a fresh preview in its place. */
  private async supersede(rec: ApprovalRequest, from: 'approved' | 'executing', fingerprint: string | undefined, click: ButtonClick): Promise<ClickOutcome> {
    const message = rec.message ?? click.message;
    const requester: Requester = { userId: rec.requester.userId, userName: rec.requester.userName, channelId: rec.requester.channelId, source: 'slack' };
    const fresh = await this.propose({ kind: rec.kind, target: rec.target, params: rec.params, why: rec.why, risk: rec.risk, requester, cluster: rec.cluster, supersedes: rec.id, message });
    const closed = await this.store.mutate(rec.id, (cur) =>
      cur.state === from ? { write: { ...moved(cur, 'superseded', this.now(), undefined, `target changed: ${rec.preview?.fingerprint} → ${fingerprint ?? 'gone'}`), supersededBy: fresh.ok ? fresh.record.id : undefined }, result: true } : { keep: true, result: false },
    );
    const closedRec = closed?.stored.record ?? rec;
    await this.audit(this.kubeFor(rec), closedRec, 'superseded', undefined, `Not executed: the target changed since the preview (${rec.preview?.fingerprint} → ${fingerprint ?? 'gone'}); previewed again.`);
    const what = fingerprint ? `${rec.target.kind} changed since the preview (${rec.preview?.fingerprint} → ${fingerprint})` : `${rec.target.kind} no longer exists`;
    const note = `Nothing ran: the ${what}, so meshops previewed it again. Approve the fresh preview if it still looks right.`;
    const rendered = fresh.ok ? this.render(fresh.record, note) : { ...fresh.rendered, blocks: [...fresh.rendered.blocks, context(`:information_source: ${note}`)] };
    return this.deliver(message, click, rendered);
  }

  private words(err: unknown, def: RemediationKind, identity: Identity | undefined): string {
    if (err instanceof KubeApiError) {
      if (err.status === 403) {
        return `The cluster refused ${identity ? `Kubernetes user ${identity.user}` : 'meshops'}: ${err.message}. It needs ${def.permissions.join('; ')}. Nothing was changed.`;
      }
      if (err.status === 404) return `The target is gone: ${err.message}. Nothing was changed.`;
      return `The API server refused the change (${err.status} ${err.reason}): ${err.message}.`;
    }
    const ref = referenceId();
    this.log.error({ err, ref }, 'remediation failed');
    return `meshops hit an error while executing; the details are in the bot's log under ref ${ref}.`;
  }

  // ---- following up ----

  private spawn(id: string, lease: LeaseLock): void {
    if (this.following.has(id)) return;
    this.following.add(id);
    const task = this.follow(id, lease)
      .catch((err: unknown) => this.log.error({ err, id }, 'rollout follow-up failed; another pass of resume() picks it up'))
      .finally(() => {
        this.following.delete(id);
        this.tasks.delete(task);
      });
    this.tasks.add(task);
  }

  private async follow(id: string, lease: LeaseLock): Promise<void> {
    const pollMs = this.options.pollMs ?? 2000;
    let lastShown = 0;
    for (;;) {
      if (this.stopping.signal.aborted) {
        await lease.release().catch(() => undefined);
        return;
      }
      const stored = await this.store.read(id);
      if (!stored || stored.record.state !== 'executing') break;
      const rec = stored.record;
      if (!this.clusters.has(rec.cluster)) {
        // Recorded under a cluster this replica does not serve (renamed or removed from its settings): no
        // one here can check it, so say so once instead of failing every pass.
        const served = [...this.clusters.keys()].map((n) => `\`${n}\``).join(', ') || 'none';
        await this.finish(id, false, `meshops cannot follow this up: it does not serve a cluster named \`${rec.cluster}\` (it serves ${served}). Whether the change finished is not known; check ${rec.target.kind} ${rec.target.namespace}/${rec.target.name} in that cluster.`, lease);
        return;
      }
      const def = this.kindOf(rec);
      const kube = this.kubeFor(rec);
      if (!rec.execution?.appliedAt) {
        // Resumed after a replica died between "executing" and the write that says the change landed.
        const landed = def.applied ? await def.applied(kube, rec.target, rec.preview?.plan) : false;
        if (!landed) {
          await this.finish(id, false, 'meshops stopped before the change was applied, so nothing ran. Propose it again.', lease);
          return;
        }
        const at = this.now();
        const deadlineMs = this.options.followUpTimeoutMs ?? def.followUpTimeoutMs ?? 10 * 60_000;
        await this.store.mutate(id, (cur) =>
          cur.state === 'executing' && !cur.execution?.appliedAt
            ? { write: { ...cur, execution: { ...(cur.execution ?? { startedAt: at.toISOString() }), appliedAt: at.toISOString(), summary: 'Applied (confirmed after a restart of meshops).' }, followUp: { since: at.toISOString(), deadline: new Date(at.getTime() + deadlineMs).toISOString(), problems: [] } }, result: null }
            : { keep: true, result: null },
        );
        continue;
      }
      const progress: Progress = def.followUp ? await def.followUp(kube, rec.target, rec.preview?.plan, new Date(rec.followUp?.since ?? rec.execution.appliedAt)) : { done: true, ok: true, summary: rec.execution.summary ?? 'Done.', problems: [] };
      const timedOut = rec.followUp ? this.now().getTime() > Date.parse(rec.followUp.deadline) : false;
      if (progress.done || timedOut) {
        const summary = progress.done ? progress.summary : `The rollout did not finish in time. Last seen: ${progress.summary}`;
        await this.finish(id, progress.done && progress.ok, summary, lease, progress.problems);
        return;
      }
      if (progress.summary !== rec.followUp?.summary || progress.problems.join('\n') !== (rec.followUp?.problems ?? []).join('\n')) {
        const updated = await this.store.mutate(id, (cur) =>
          cur.state === 'executing' && cur.followUp ? { write: { ...cur, followUp: { ...cur.followUp, summary: progress.summary, problems: progress.problems } }, result: null } : { keep: true, result: null },
        );
        // chat.update is rate-limited per channel: progress goes out at most every few seconds.
        if (updated && Date.now() - lastShown >= SHOW_EVERY_MS) {
          lastShown = Date.now();
          await this.show(updated.stored.record);
        }
      }
      if (!(await lease.renew())) {
        this.log.info({ id }, 'another replica took over this follow-up');
        return;
      }
      try {
        await delay(pollMs, undefined, { signal: this.stopping.signal });
      } catch {
        // stopping: the loop releases the lease at the top
      }
    }
    await lease.release().catch(() => undefined);
  }

  /** executing → done/failed, once: the winner audits, updates the message and posts in the thread. */
  private async finish(id: string, ok: boolean, summary: string, lease: LeaseLock, problems: string[] = []): Promise<ApprovalRequest | undefined> {
    const result = await this.store.mutate(id, (cur) => {
      if (cur.state !== 'executing') return { keep: true, result: false };
      const at = this.now();
      const followUp = cur.followUp ? { ...cur.followUp, summary, problems } : undefined;
      return { write: { ...moved(cur, ok ? 'done' : 'failed', at, undefined, summary), outcome: { ok, summary, at: at.toISOString() }, followUp }, result: true };
    });
    await lease.release().catch(() => undefined);
    if (!result?.result) return undefined;
    const rec = result.stored.record;
    await this.audit(this.clusters.get(rec.cluster)?.kube, rec, ok ? 'succeeded' : 'failed', undefined, `${this.title(rec)}: ${summary}`);
    await this.show(rec);
    if (this.messenger && rec.message) {
      await this.messenger.post(rec.message.channel, renderOutcome(rec, this.title(rec)), { threadTs: rec.message.threadTs ?? rec.message.ts }).catch((err: unknown) => this.log.warn({ err, id }, 'could not post the outcome in the thread'));
    }
    return rec;
  }

  /**
   * Housekeeping any replica may run, any number of times: expire pending requests, fail requests a dead
   * replica left approved but never started, and resume follow-ups whose lease lapsed.
   */
  async resume(): Promise<void> {
    const now = this.now().getTime();
    for (const s of await this.store.list({ type: 'proposal', state: 'pending' })) {
      if (now < Date.parse(s.record.expiresAt)) continue;
      const r = await this.store.mutate(s.record.id, (cur) => (cur.state === 'pending' && now >= Date.parse(cur.expiresAt) ? { write: moved(cur, 'expired', this.now()), result: true } : { keep: true, result: false }));
      if (r?.result) {
        await this.audit(this.clusters.get(r.stored.record.cluster)?.kube, r.stored.record, 'expired', undefined, `Expired without approval: ${this.title(r.stored.record)}`);
        await this.show(r.stored.record);
      }
    }
    for (const s of await this.store.list({ type: 'offer', state: 'offered' })) {
      if (now >= Date.parse(s.record.expiresAt)) await this.store.mutate(s.record.id, (cur) => (cur.state === 'offered' ? { write: moved(cur, 'expired', this.now()), result: null } : { keep: true, result: null }));
    }
    for (const s of await this.store.list({ type: 'proposal', state: 'approved' })) {
      const approvedAt = Date.parse(s.record.history.at(-1)?.at ?? s.record.createdAt);
      if (now - approvedAt < 30_000) continue;
      const lease = this.lease(s.record.id);
      if (!(await lease.tryAcquire())) continue;
      const r = await this.store.mutate(s.record.id, (cur) => (cur.state === 'approved' ? { write: moved(cur, 'executing', this.now(), undefined, 'interrupted') , result: true } : { keep: true, result: false }));
      if (r?.result) await this.finish(s.record.id, false, 'meshops stopped between the approval and the change, so nothing ran. Propose it again.', lease);
      else await lease.release();
    }
    for (const s of await this.store.list({ type: 'proposal', state: 'executing' })) {
      if (this.following.has(s.record.id)) continue;
      const lease = this.lease(s.record.id);
      if (await lease.tryAcquire()) this.spawn(s.record.id, lease);
    }
  }


  /** Runs resume() every intervalMs until stop(). */
  start(intervalMs = 10_000): void {
    if (this.sweepTimer) return;
    const tick = () => {
      this.resume().catch((err: unknown) => this.log.warn({ err }, 'approvals housekeeping failed; trying again later'));
    };
    this.sweepTimer = setInterval(tick, intervalMs);
    this.sweepTimer.unref();
    tick();
  }

  /** Stops housekeeping and follow-ups, releasing their leases so another replica resumes at once. */
  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.stopping.abort();
    await this.idle();
  }

  /** Resolves when no follow-up is running in this process (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.tasks.size) await Promise.allSettled([...this.tasks]);
  }

  /** Recent proposals, newest first (for /mesh audit). */
  async recent(options: { namespace?: string; limit?: number } = {}): Promise<ApprovalRequest[]> {
    const all = await this.store.list({ type: 'proposal', targetNamespace: options.namespace });
    return all
      .map((s) => s.record)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, options.limit ?? 20);
  }

  // ---- helpers ----

  title(rec: ApprovalRequest): string {
    return this.registry.get(rec.kind)?.title(rec.target) ?? `${rec.kind} ${rec.target.namespace}/${rec.target.name}`;
  }

  render(rec: ApprovalRequest, note?: string): Rendered {
    const def = this.registry.get(rec.kind);
    const confirm = def && rec.preview ? def.confirm(rec.target, rec.preview) : `${this.title(rec)}?`;
    return renderRequest(rec, this.title(rec), confirm, this.now(), note);
  }

  private kindOf(rec: ApprovalRequest): RemediationKind {
    const def = this.registry.get(rec.kind);
    if (!def) throw new Error(`remediation kind ${rec.kind} is not registered in this replica`);
    return def;
  }

  private kubeFor(rec: ApprovalRequest): KubeClient {
    const cluster = this.clusters.get(rec.cluster);
    if (!cluster) throw new Error(`cluster ${rec.cluster} is not configured in this replica`);
    return cluster.kube;
  }

  private fingerprintNow(def: RemediationKind, kube: KubeClient, target: Target): Promise<string | undefined> {
    return def.fingerprint(kube, target);
  }

  private lease(id: string): LeaseLock {
    return new LeaseLock(this.options.stateKube, this.options.namespace, objectName(id), this.replicaId, { durationSeconds: this.options.leaseSeconds ?? 15, now: this.now });
  }

  private async audit(kube: KubeClient | undefined, rec: ApprovalRequest, action: AuditAction, by: string | undefined, message: string): Promise<void> {
    this.options.onAudit?.(rec.kind, action);
    await this.auditor.record(kube, rec, { action, by, message });
  }

  /** Updates the request's message in place, when we know where it is and can reach it. */
  private async show(rec: ApprovalRequest, note?: string): Promise<void> {
    if (!this.messenger || !rec.message) return;
    await this.messenger.update(rec.message, this.render(rec, note)).catch((err: unknown) => this.log.warn({ err, id: rec.id }, 'could not update the approval message'));
  }

  /** After a click: update the message ourselves when we can (keeps order with follow-ups), else via the outcome. */
  private async reply(rec: ApprovalRequest, click: ButtonClick, withThread = false): Promise<ClickOutcome> {
    const rendered = this.render(rec);
    const outcome = await this.deliver(rec.message ?? click.message, click, rendered);
    if (withThread && !this.messenger) outcome.thread = [renderOutcome(rec, this.title(rec))];
    return outcome;
  }

  private async deliver(message: MessageRef | undefined, _click: ButtonClick, rendered: Rendered): Promise<ClickOutcome> {
    if (this.messenger && message) {
      try {
        await this.messenger.update(message, rendered);
        return {};
      } catch (err) {
        this.log.warn({ err }, 'could not update the approval message; handing it to the front door');
      }
    }
    return { update: rendered };
  }
}
