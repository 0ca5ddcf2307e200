// The shared core of the approvals engine: options, the request store, the registry, and `step`, which
// moves a request by one event of the pure transition function and carries out its effects once written.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Rendered } from '../blocks/block-kit.ts';
import { context } from '../blocks/block-kit.ts';
import type { ClusterTarget, Requester } from '../shared-types.ts';
import type { ProposeInput, ProposeResult } from './port.ts';

export type { ProposeInput, ProposeResult } from './port.ts';
import type { KubeClient } from '../kube/client.ts';
import { LeaseLock } from '../kube/lease.ts';
import type { Logger } from '../log.ts';
import type { ButtonClick, ClickOutcome, MessageRef, Messenger } from '../messenger.ts';
import { type AuditAction, Auditor } from './audit.ts';
import { refusal, renderOutcome, renderPreviewFailure, renderRequest, withAffectedFile } from './messages.ts';
import type { AccessPolicy } from './policy.ts';
import { RemediationRegistry, type RemediationKind } from './remediation-kinds.ts';
import { type ApprovalRequest, newRequestId } from './request.ts';
import { RequestStore, objectName } from './request-store.ts';
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

/** A request moved (or refused to move) by one event, and what the clicker should see. */
export type Stepped = { rec: ApprovalRequest; t: Transition; outcome: ClickOutcome };

/** "connection reset", "no answer within 15 s": an error's first line, for people. */
export function shortCause(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.slice(0, 300);
}

/** An empty registry: the features register their kinds (src/features/*, through meshops.ts). */
export function defaultRegistry(): RemediationRegistry {
  return new RemediationRegistry();
}

/**
 * What every part of the engine shares: settings, the request store, the registry of kinds, and the one
 * way a request moves: `step` (read → transition → write with a precondition → effects, only if written).
 */
export class ApprovalsCore {
  readonly registry: RemediationRegistry;
  readonly store: RequestStore;
  readonly replicaId: string;
  protected readonly options: ApprovalsOptions;
  protected readonly policy: AccessPolicy;
  protected readonly clusters: Map<string, ClusterTarget>;
  protected readonly log: Logger;
  protected readonly now: () => Date;
  protected readonly auditor: Auditor;
  protected messenger: Messenger | undefined;
  protected readonly following = new Set<string>();
  protected readonly tasks = new Set<Promise<void>>();
  protected readonly stopping = new AbortController();
  protected sweepTimer: NodeJS.Timeout | undefined;
  protected readonly settleMs: number;
  protected readonly verifyBackoffMs: number;

  constructor(options: ApprovalsOptions) {
    this.options = options;
    this.policy = options.policy;
    this.registry = options.registry ?? defaultRegistry();
    this.clusters = new Map(options.clusters.map((c) => [c.name, c]));
    this.log = options.log.child({ component: 'approvals' });
    this.now = options.now ?? (() => new Date());
    this.replicaId = options.replicaId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.store = new RequestStore(options.stateKube, options.namespace, this.log, {
      backoffMs: options.storeBackoffMs,
    });
    this.settleMs = options.settleMs ?? 3000;
    this.verifyBackoffMs = options.verifyBackoffMs ?? 500;
    this.auditor = new Auditor(this.log, this.replicaId, this.now);
    this.messenger = options.messenger;
  }

  /** The front door that can post and update messages (Slack, console); follow-ups need it. */
  attachMessenger(messenger: Messenger): void {
    this.messenger = messenger;
  }

  // ---- proposing ----

  async propose(input: ProposeInput): Promise<ProposeResult> {
    const def = this.registry.get(input.kind);
    const title = def?.title(input.target) ?? `${input.kind} ${input.target.namespace}/${input.target.name}`;
    const fail = (reason: string): ProposeResult => ({
      ok: false,
      reason,
      rendered: renderPreviewFailure(title, reason, input.requester.userId, input.cluster),
    });
    if (!def)
      return fail(`meshops knows no remediation called \`${input.kind}\`. Known: ${this.registry.kinds().join(', ')}.`);
    if (!def.targetKinds.includes(input.target.kind))
      return fail(`\`${input.kind}\` works on ${def.targetKinds.join(', ')}, not on ${input.target.kind}.`);
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
      requester: {
        userId: input.requester.userId,
        userName: input.requester.userName,
        channelId: input.requester.channelId,
      },
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
    await this.audit(
      cluster.kube,
      rec,
      'proposed',
      input.requester.userId,
      `${input.requester.userName ?? input.requester.userId} proposed: ${title}${input.supersedes ? ' (fresh preview after the target changed)' : ''}`,
    );
    return { ok: true, record: rec, rendered: withAffectedFile(this.render(rec), rec) };
  }

  /** Moves a request by one event, on its latest state; effects run only when the write went through. */
  protected async step(
    id: string,
    event: (cur: ApprovalRequest) => ApprovalEvent,
    click?: ButtonClick,
  ): Promise<Stepped | undefined> {
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
  protected async perform(rec: ApprovalRequest, effects: Effect[], click?: ButtonClick): Promise<ClickOutcome> {
    let outcome: ClickOutcome = {};
    const kube = this.clusters.get(rec.cluster)?.kube;
    for (const e of effects) {
      if (e.type === 'audit') await this.audit(kube, rec, e.action, e.by, `${this.title(rec)}: ${e.detail}`);
      else if (e.type === 'show')
        outcome = click
          ? await this.deliver(rec.message ?? click.message, this.render(rec), rec.rev, rec.id)
          : (await this.show(rec), {});
      else if (e.type === 'postOutcome') {
        if (this.messenger && rec.message) {
          await this.messenger
            .post(rec.message.channel, renderOutcome(rec, this.title(rec)), {
              threadTs: rec.message.threadTs ?? rec.message.ts,
            })
            .catch((err: unknown) => this.log.warn({ err, id: rec.id }, 'could not post the outcome in the thread'));
        } else if (click) outcome = { ...outcome, thread: [renderOutcome(rec, this.title(rec))] };
      } else if (e.type === 'proposeFresh') outcome = await this.proposeFresh(rec, e.id, e.note, click);
    }
    return outcome;
  }

  /** A fresh preview in the superseded request's place (its message, its thread), with why. */
  protected async proposeFresh(
    rec: ApprovalRequest,
    id: string,
    note: string,
    click?: ButtonClick,
  ): Promise<ClickOutcome> {
    const message = rec.message ?? click?.message;
    const requester: Requester = {
      userId: rec.requester.userId,
      userName: rec.requester.userName,
      channelId: rec.requester.channelId,
      source: 'slack',
    };
    const fresh = await this.propose({
      kind: rec.kind,
      target: rec.target,
      params: rec.params,
      why: rec.why,
      risk: rec.risk,
      requester,
      cluster: rec.cluster,
      supersedes: rec.id,
      message,
      id,
      rev: rec.rev + 1,
    });
    const rendered = fresh.ok
      ? this.render(fresh.record, note)
      : { ...fresh.rendered, blocks: [...fresh.rendered.blocks, context(`:information_source: ${note}`)] };
    return this.deliver(
      message,
      rendered,
      fresh.ok ? fresh.record.rev : rec.rev + 1,
      fresh.ok ? fresh.record.id : undefined,
    );
  }

  title(rec: ApprovalRequest): string {
    return this.registry.get(rec.kind)?.title(rec.target) ?? `${rec.kind} ${rec.target.namespace}/${rec.target.name}`;
  }

  render(rec: ApprovalRequest, note?: string): Rendered {
    const def = this.registry.get(rec.kind);
    const confirm = def && rec.preview ? def.confirm(rec.target, rec.preview) : `${this.title(rec)}?`;
    return renderRequest(rec, this.title(rec), confirm, this.now(), note);
  }

  protected kindOf(rec: ApprovalRequest): RemediationKind {
    const def = this.registry.get(rec.kind);
    if (!def) throw new Error(`remediation kind ${rec.kind} is not registered in this replica`);
    return def;
  }

  protected kubeFor(rec: ApprovalRequest): KubeClient {
    const cluster = this.clusters.get(rec.cluster);
    if (!cluster) throw new Error(`cluster ${rec.cluster} is not configured in this replica`);
    return cluster.kube;
  }

  protected lease(id: string): LeaseLock {
    return new LeaseLock(this.options.stateKube, this.options.namespace, objectName(id), this.replicaId, {
      durationSeconds: this.options.leaseSeconds ?? 15,
      now: this.now,
    });
  }

  protected async audit(
    kube: KubeClient | undefined,
    rec: ApprovalRequest,
    action: AuditAction,
    by: string | undefined,
    message: string,
  ): Promise<void> {
    this.options.onAudit?.(rec.kind, action);
    await this.auditor.record(kube, rec, { action, by, message });
  }

  /** Updates the request's message in place, when we know where it is and can reach it. */
  protected async show(rec: ApprovalRequest, note?: string): Promise<void> {
    if (!this.messenger || !rec.message) return;
    await this.messenger
      .update(rec.message, this.render(rec, note), { version: rec.rev, current: this.stillLatest(rec.id, rec.rev) })
      .catch((err: unknown) => this.log.warn({ err, id: rec.id }, 'could not update the approval message'));
    await this.reshowIfMovedOn(rec.id, rec.rev);
  }

  /**
   * The check before sending and the send are not one step: a replica paused between them (SIGSTOP, a long GC)
   * sends an older state after another replica showed a newer one. Looked at again after sending: when the
   * request moved on meanwhile, its latest state is shown again, so the message ends on the newest state.
   */
  protected async reshowIfMovedOn(id: string, sentRev: number): Promise<void> {
    if (!this.messenger) return;
    const latest = await this.store.read(id).catch(() => undefined);
    if (!latest || latest.record.rev <= sentRev || !latest.record.message) return;
    this.log.info({ id, rev: sentRev, latest: latest.record.rev }, 'showing the newer state again');
    await this.messenger
      .update(latest.record.message, this.render(latest.record), {
        version: latest.record.rev,
        current: this.stillLatest(id, latest.record.rev),
      })
      .catch((err: unknown) => this.log.warn({ err, id }, 'could not update the approval message'));
  }

  /**
   * For a message update: is revision `rev` still the request's latest? Another process may have moved it on
   * while this one was held up (a paused replica), which no per-process order can see; asked right before
   * sending, so an older state never lands over a newer one's message. Unreadable: sent anyway.
   */
  protected stillLatest(id: string, rev: number): () => Promise<boolean> {
    return async () => {
      const latest = await this.store.read(id).catch(() => undefined);
      if (!latest || latest.record.rev <= rev) return true;
      this.log.info({ id, rev, latest: latest.record.rev }, 'not showing an older state of the request');
      return false;
    };
  }

  /** After a click: update the message ourselves when we can (ordered with follow-ups), else via the click's answer. */
  protected async deliver(
    message: MessageRef | undefined,
    rendered: Rendered,
    version: number,
    id?: string,
  ): Promise<ClickOutcome> {
    if (this.messenger && message) {
      try {
        await this.messenger.update(message, rendered, {
          version,
          ...(id ? { current: this.stillLatest(id, version) } : {}),
        });
        if (id) await this.reshowIfMovedOn(id, version);
        return {};
      } catch (err) {
        this.log.warn({ err }, 'could not update the approval message; handing it to the front door');
      }
    }
    return { update: rendered, version };
  }
}
