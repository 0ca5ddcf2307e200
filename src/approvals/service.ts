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
import { APPROVE_ACTION, DENY_ACTION, OFFER_ACTION, refusal, renderOutcome, renderPreviewFailure, renderRequest } from './messages.ts';
import type { AccessPolicy } from './policy.ts';
import { type Progress, RemediationRegistry, type RemediationKind, type Verification } from './remediation-kinds.ts';
import { type ApprovalRequest, type Target, moved, newRequestId, requestIdSchema } from './request.ts';
import { RequestStore, type StoredRequest, objectName } from './request-store.ts';
import { rolloutRestart } from './rollout-restart.ts';
import { type ApprovalEvent, type Effect, type Transition, transition } from './transitions.ts';

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
  /**
   * After a change whose answer was lost is found absent, how long to wait before looking again (a
   * request in flight may still land). Default 3 s.
   */
  settleMs?: number;
  /** First wait between tries when the cluster does not answer a verification read (doubles). Default 500 ms. */
  verifyBackoffMs?: number;
  /** First wait before reading a request back after a lost answer to its write. Default 200 ms. */
  storeBackoffMs?: number;
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
  /** Internal: the first revision (a fresh preview continues the numbering of the message it replaces). */
  rev?: number;
  supersedes?: string;
  message?: MessageRef;
}

export type ProposeResult = { ok: true; record: ApprovalRequest; rendered: Rendered } | { ok: false; reason: string; rendered: Rendered };

type Refusal = { refuse: string };
/** What a click decided on an offer. */
type Verdict = { refuse: string } | { approved: boolean };
/** A request moved (or refused to move) by one event, and what the clicker should see. */
type Stepped = { rec: ApprovalRequest; t: Transition; outcome: ClickOutcome };

/** "connection reset", "no answer within 15 s": an error's first line, for people. */
function shortCause(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.slice(0, 300);
}

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
  private readonly settleMs: number;
  private readonly verifyBackoffMs: number;

  constructor(options: ApprovalsOptions) {
    this.options = options;
    this.policy = options.policy;
    this.registry = options.registry ?? defaultRegistry();
    this.clusters = new Map(options.clusters.map((c) => [c.name, c]));
    this.log = options.log.child({ component: 'approvals' });
    this.now = options.now ?? (() => new Date());
    this.replicaId = options.replicaId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.store = new RequestStore(options.stateKube, options.namespace, this.log, { backoffMs: options.storeBackoffMs });
    this.settleMs = options.settleMs ?? 3000;
    this.verifyBackoffMs = options.verifyBackoffMs ?? 500;
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
      rev: input.rev ?? 0,
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
        rev: 0,
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

  /** Moves a request by one event, on its latest state; effects run only when the write went through. */
  private async step(id: string, event: (cur: ApprovalRequest) => ApprovalEvent, click?: ButtonClick): Promise<Stepped | undefined> {
    const r = await this.store.mutate<Transition>(id, (cur) => {
      const t = transition(cur, event(cur), this.now());
      return t.ok ? { write: t.next, result: t } : { keep: true, result: t };
    });
    if (!r) return undefined;
    const rec = r.stored.record;
    const t = r.result;
    if (!t.ok) return { rec, t, outcome: { ephemeral: refusal(t.refusal) } };
    return { rec, t, outcome: await this.perform(rec, t.effects, click) };
  }

  /** Audit, message, thread and fresh-preview effects of a written transition; the click's own answer. */
  private async perform(rec: ApprovalRequest, effects: Effect[], click?: ButtonClick): Promise<ClickOutcome> {
    let outcome: ClickOutcome = {};
    const kube = this.clusters.get(rec.cluster)?.kube;
    for (const e of effects) {
      if (e.type === 'audit') await this.audit(kube, rec, e.action, e.by, `${this.title(rec)}: ${e.detail}`);
      else if (e.type === 'show') outcome = click ? await this.deliver(rec.message ?? click.message, this.render(rec), rec.rev) : (await this.show(rec), {});
      else if (e.type === 'postOutcome') {
        if (this.messenger && rec.message) {
          await this.messenger.post(rec.message.channel, renderOutcome(rec, this.title(rec)), { threadTs: rec.message.threadTs ?? rec.message.ts }).catch((err: unknown) => this.log.warn({ err, id: rec.id }, 'could not post the outcome in the thread'));
        } else if (click) outcome = { ...outcome, thread: [renderOutcome(rec, this.title(rec))] };
      } else if (e.type === 'proposeFresh') outcome = await this.proposeFresh(rec, e.id, e.note, click);
    }
    return outcome;
  }

  /** A fresh preview in the superseded request's place (its message, its thread), with why. */
  private async proposeFresh(rec: ApprovalRequest, id: string, note: string, click?: ButtonClick): Promise<ClickOutcome> {
    const message = rec.message ?? click?.message;
    const requester: Requester = { userId: rec.requester.userId, userName: rec.requester.userName, channelId: rec.requester.channelId, source: 'slack' };
    const fresh = await this.propose({ kind: rec.kind, target: rec.target, params: rec.params, why: rec.why, risk: rec.risk, requester, cluster: rec.cluster, supersedes: rec.id, message, id, rev: rec.rev + 1 });
    const rendered = fresh.ok ? this.render(fresh.record, note) : { ...fresh.rendered, blocks: [...fresh.rendered.blocks, context(`:information_source: ${note}`)] };
    return this.deliver(message, rendered, fresh.ok ? fresh.record.rev : rec.rev + 1);
  }

  private async approve(click: ButtonClick): Promise<ClickOutcome> {
    const loaded = await this.load(click, 'proposal');
    if ('refuse' in loaded) return { ephemeral: refusal(loaded.refuse) };
    const first = loaded.record;
    if (!this.clusters.has(first.cluster)) {
      return { ephemeral: refusal(`This request is for cluster \`${first.cluster}\`, which this meshops does not serve (it serves ${[...this.clusters.keys()].map((n) => `\`${n}\``).join(', ') || 'none'}). Nothing was done.`) };
    }
    const notAllowed = await this.policy.mayAct(click.userId, first.kind, first.target.namespace, first.cluster);
    const mapped = notAllowed ? undefined : this.policy.identityFor(click.userId);
    const refusalText = notAllowed ?? (mapped && 'missing' in mapped ? mapped.missing : undefined);
    const by = { userId: click.userId, userName: click.userName };
    const stepped = await this.step(first.id, () => ({ type: 'approve', by, refusal: refusalText, message: click.message }), click);
    if (!stepped) return { ephemeral: refusal('meshops has no request with this id any more. Nothing was done.') };
    if (!stepped.t.ok || !stepped.t.effects.some((e) => e.type === 'execute')) return this.withNote(stepped);
    const identity = mapped && 'identity' in mapped ? mapped.identity : undefined;
    return this.execute(stepped.rec, click, identity);
  }

  /** A transition that refused but still moved (expired on click) answers the clicker in words too. */
  private withNote(stepped: Stepped): ClickOutcome {
    if (stepped.t.ok && stepped.t.note) return { ...stepped.outcome, ephemeral: refusal(stepped.t.note) };
    return stepped.outcome;
  }

  private async deny(click: ButtonClick): Promise<ClickOutcome> {
    const loaded = await this.load(click, 'proposal');
    if ('refuse' in loaded) return { ephemeral: refusal(loaded.refuse) };
    const first = loaded.record;
    const notAllowed = first.requester.userId === click.userId ? undefined : await this.policy.mayAct(click.userId, first.kind, first.target.namespace, first.cluster);
    const by = { userId: click.userId, userName: click.userName };
    const stepped = await this.step(first.id, () => ({ type: 'deny', by, refusal: notAllowed, message: click.message }), click);
    if (!stepped) return { ephemeral: refusal('meshops has no request with this id any more. Nothing was done.') };
    return this.withNote(stepped);
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

  /**
   * Only the click whose write moved the request to approved gets here. The execution Lease is held
   * (and renewed) from before "executing" is written until the follow-up ends, so no housekeeping pass,
   * on any replica or this one, takes over work that is still running.
   */
  private async execute(rec: ApprovalRequest, click: ButtonClick, identity: Identity | undefined): Promise<ClickOutcome> {
    const def = this.kindOf(rec);
    const kube = this.kubeFor(rec);
    const lease = this.lease(rec.id);
    if (!(await lease.tryAcquire({ reentrant: false }).catch(() => false))) {
      this.log.warn({ id: rec.id }, 'approved request is already leased; leaving it to its holder or to housekeeping');
      return this.deliver(rec.message ?? click.message, this.render(rec), rec.rev);
    }
    const keepalive = this.keepalive(lease, rec.id);
    let handedOver = false;
    try {
      let fingerprint: string | undefined;
      try {
        fingerprint = await def.fingerprint(kube, rec.target);
      } catch (err) {
        // Nothing was sent: the request is still "approved", so it can honestly be closed as not run.
        const stepped = await this.step(rec.id, () => ({ type: 'abandon', reason: `meshops could not read the target before acting (${shortCause(err)}).` }), click);
        return stepped?.outcome ?? {};
      }
      const started = await this.step(rec.id, () => ({ type: 'start', replica: this.replicaId, fingerprint, as: identity, freshId: newRequestId() }), click);
      if (!started?.t.ok || !started.t.effects.some((e) => e.type === 'execute')) return started?.outcome ?? {};
      // The last look before sending: the lease must still be ours, or someone else is (or will be) deciding.
      if (!(await lease.renew().catch(() => false))) {
        this.log.warn({ id: rec.id }, 'lost the execution lease before sending the change; not sending it');
        return started.outcome;
      }
      const ctx = { requestId: rec.id };
      const followUpMs = this.options.followUpTimeoutMs ?? def.followUpTimeoutMs ?? 10 * 60_000;
      let event: ApprovalEvent;
      try {
        const summary = await def.execute(identity ? kube.as(identity) : kube, rec.target, started.rec.preview?.plan, ctx);
        event = { type: 'applied', summary, followUpMs };
      } catch (err) {
        this.log.warn({ err, id: rec.id }, 'the change failed or its answer was lost; asking the cluster whether it landed');
        event = await this.verifyEvent(def, kube, started.rec, this.words(err, def, identity));
      }
      const done = await this.step(rec.id, () => event, click);
      if (done?.t.ok && done.t.effects.some((e) => e.type === 'follow')) {
        handedOver = true;
        keepalive.stop();
        this.spawn(rec.id, lease);
      }
      return done?.outcome ?? {};
    } finally {
      keepalive.stop();
      if (!handedOver) await lease.release().catch(() => undefined);
    }
  }

  /** Renews the lease every third of its duration while work runs outside the follow-up loop. */
  private keepalive(lease: LeaseLock, id: string): { stop(): void } {
    const every = ((this.options.leaseSeconds ?? 15) * 1000) / 3;
    const timer = setInterval(() => {
      lease.renew().then(
        (ok) => ok || this.log.warn({ id }, 'the execution lease was taken over while this replica was still working'),
        (err: unknown) => this.log.warn({ err, id }, 'could not renew the execution lease'),
      );
    }, every);
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }

  /**
   * Whether this request's own change is in the live object: asked a few times when the cluster does
   * not answer; an absence is looked at again after a short wait, since a request whose answer was lost
   * may still be applied. No answer at all is "unknown", never "nothing ran".
   */
  private async verifyEvent(def: RemediationKind, kube: KubeClient, rec: ApprovalRequest, cause: string): Promise<ApprovalEvent> {
    const ctx = { requestId: rec.id };
    const followUpMs = this.options.followUpTimeoutMs ?? def.followUpTimeoutMs ?? 10 * 60_000;
    const base = { type: 'verified' as const, cause, followUpMs, freshId: newRequestId() };
    const check = async (): Promise<Verification | { error: string }> => {
      let last = '';
      for (let attempt = 0; attempt < 4; attempt++) {
        if (attempt) await delay(this.verifyBackoffMs * 2 ** (attempt - 1));
        try {
          return await def.verify(kube, rec.target, rec.preview?.plan, ctx);
        } catch (err) {
          last = shortCause(err);
          this.log.warn({ err, id: rec.id, attempt }, 'could not read the target to verify the change');
        }
      }
      return { error: last };
    };
    let seen = await check();
    if (!('error' in seen) && !seen.landed && this.settleMs > 0) {
      await delay(this.settleMs);
      seen = await check();
    }
    if ('error' in seen) return { ...base, result: 'unknown', evidence: `reading it failed: ${seen.error}` };
    return { ...base, result: seen.landed ? 'landed' : 'absent', evidence: seen.evidence, fingerprint: seen.fingerprint };
  }

  private words(err: unknown, def: RemediationKind, identity: Identity | undefined): string {
    if (err instanceof KubeApiError) {
      if (err.status === 403) return `the cluster refused ${identity ? `Kubernetes user ${identity.user}` : 'meshops'}: ${err.message}; it needs ${def.permissions.join('; ')}`;
      if (err.status === 404) return `the target is gone: ${err.message}`;
      return `the API server answered ${err.status} ${err.reason}: ${err.message}`;
    }
    const ref = referenceId();
    this.log.error({ err, ref }, 'remediation request failed');
    return `${shortCause(err)}; details in the bot's log under ref ${ref}`;
  }

  // ---- following up ----

  private spawn(id: string, lease: LeaseLock): void {
    if (this.following.has(id)) return;
    this.following.add(id);
    const task = this.follow(id, lease)
      .catch((err: unknown) => this.log.error({ err, id }, 'follow-up failed; a later housekeeping pass picks it up once the lease lapses'))
      .finally(() => {
        this.following.delete(id);
        this.tasks.delete(task);
      });
    this.tasks.add(task);
  }

  private async follow(id: string, lease: LeaseLock): Promise<void> {
    const pollMs = this.options.pollMs ?? 2000;
    let lastShown = 0;
    let failures = 0;
    try {
      for (;;) {
        if (this.stopping.signal.aborted) return;
        try {
          if (!(await this.followOnce(id, () => Date.now() - lastShown >= SHOW_EVERY_MS, () => (lastShown = Date.now())))) return;
          failures = 0;
        } catch (err) {
          // A read or write the cluster did not answer: look again next time, holding the lease meanwhile.
          failures++;
          this.log.warn({ err, id, failures }, 'a follow-up look failed; trying again');
        }
        const renewed = await lease.renew().catch(() => undefined);
        if (renewed === false) {
          this.log.info({ id }, 'another replica took over this follow-up');
          return;
        }
        try {
          await delay(pollMs, undefined, { signal: this.stopping.signal });
        } catch {
          // stopping: released below
        }
      }
    } finally {
      await lease.release().catch(() => undefined);
    }
  }

  /** One look; false when there is nothing more to follow. */
  private async followOnce(id: string, mayShow: () => boolean, shown: () => void): Promise<boolean> {
    const stored = await this.store.read(id);
    if (!stored || stored.record.state !== 'executing') return false;
    const rec = stored.record;
    if (!this.clusters.has(rec.cluster)) {
      // Recorded under a cluster this replica does not serve (renamed or removed from its settings): no
      // one here can check it, so say so once instead of failing every pass.
      const served = [...this.clusters.keys()].map((n) => `\`${n}\``).join(', ') || 'none';
      const why = `meshops cannot check this: it does not serve a cluster named \`${rec.cluster}\` (it serves ${served}). Check ${rec.target.kind} ${rec.target.namespace}/${rec.target.name} in that cluster.`;
      const event: ApprovalEvent = rec.execution?.appliedAt
        ? { type: 'finish', result: 'unknown', summary: `Not known whether the change finished: ${why}`, problems: [] }
        : { type: 'verified', result: 'unknown', evidence: why, cause: 'meshops stopped before it recorded the result', followUpMs: 0, freshId: newRequestId() };
      await this.step(id, () => event);
      return false;
    }
    const def = this.kindOf(rec);
    const kube = this.kubeFor(rec);
    if (!rec.execution?.appliedAt) {
      // Resumed after a replica stopped between "executing" and the write that says how the change went.
      const event = await this.verifyEvent(def, kube, rec, 'meshops stopped before it recorded the result');
      const r = await this.step(id, () => event);
      return r?.t.ok === true && r.t.effects.some((e) => e.type === 'follow');
    }
    const progress: Progress = def.followUp ? await def.followUp(kube, rec.target, rec.preview?.plan, new Date(rec.followUp?.since ?? rec.execution.appliedAt)) : { done: true, ok: true, summary: rec.execution.summary ?? 'Done.', problems: [] };
    const timedOut = rec.followUp ? this.now().getTime() > Date.parse(rec.followUp.deadline) : false;
    if (progress.done || timedOut) {
      const summary = progress.done ? progress.summary : `The rollout did not finish in time. Last seen: ${progress.summary}`;
      await this.step(id, () => ({ type: 'finish', result: progress.done && progress.ok ? 'done' : 'failed', summary, problems: progress.problems }));
      return false;
    }
    // chat.update is rate-limited per channel: progress is written every time, shown every few seconds.
    const r = await this.store.mutate(id, (cur) => {
      const t = transition(cur, { type: 'progress', summary: progress.summary, problems: progress.problems }, this.now());
      return t.ok ? { write: t.next, result: true } : { keep: true, result: false };
    });
    if (r?.result && mayShow()) {
      shown();
      await this.show(r.stored.record);
    }
    return true;
  }

  /**
   * Housekeeping any replica may run, any number of times: expire pending requests, close requests a
   * stopped replica left approved but never started, and resume follow-ups whose lease lapsed. A lease
   * that is held, by anyone (this replica included), is work still running: it is left alone.
   */
  async resume(): Promise<void> {
    const now = this.now().getTime();
    for (const s of await this.store.list({ type: 'proposal', state: 'pending' })) {
      if (now >= Date.parse(s.record.expiresAt)) await this.step(s.record.id, () => ({ type: 'expire' }));
    }
    for (const s of await this.store.list({ type: 'offer', state: 'offered' })) {
      if (now >= Date.parse(s.record.expiresAt)) await this.store.mutate(s.record.id, (cur) => (cur.state === 'offered' ? { write: moved(cur, 'expired', this.now()), result: null } : { keep: true, result: null }));
    }
    for (const s of await this.store.list({ type: 'proposal', state: 'approved' })) {
      const approvedAt = Date.parse(s.record.history.at(-1)?.at ?? s.record.createdAt);
      if (now - approvedAt < 30_000) continue;
      const lease = this.lease(s.record.id);
      if (!(await lease.tryAcquire({ reentrant: false }))) continue;
      try {
        await this.step(s.record.id, () => ({ type: 'abandon', reason: 'meshops stopped between the approval and the change.' }));
      } finally {
        await lease.release().catch(() => undefined);
      }
    }
    for (const s of await this.store.list({ type: 'proposal', state: 'executing' })) {
      if (this.following.has(s.record.id)) continue;
      const lease = this.lease(s.record.id);
      if (await lease.tryAcquire({ reentrant: false })) this.spawn(s.record.id, lease);
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
    await this.messenger.update(rec.message, this.render(rec, note), { version: rec.rev }).catch((err: unknown) => this.log.warn({ err, id: rec.id }, 'could not update the approval message'));
  }

  /** After a click: update the message ourselves when we can (ordered with follow-ups), else via the click's answer. */
  private async deliver(message: MessageRef | undefined, rendered: Rendered, version: number): Promise<ClickOutcome> {
    if (this.messenger && message) {
      try {
        await this.messenger.update(message, rendered, { version });
        return {};
      } catch (err) {
        this.log.warn({ err }, 'could not update the approval message; handing it to the front door');
      }
    }
    return { update: rendered };
  }
}
