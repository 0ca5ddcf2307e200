// Execution under a Lease: the change is sent once, a failed or lost answer is resolved by reading the live
// object, the result is followed up, and housekeeping resumes what a stopped replica left.
import { setTimeout as delay } from 'node:timers/promises';
import { referenceId } from '../errors.ts';
import { KubeApiError, type Identity, type KubeClient } from '../kube/client.ts';
import type { LeaseLock } from '../kube/lease.ts';
import type { ButtonClick, ClickOutcome } from '../messenger.ts';
import type { Progress, RemediationKind, Verification } from './remediation-kinds.ts';
import { type ApprovalRequest, moved, newRequestId } from './request.ts';
import { type ApprovalEvent, transition } from './transitions.ts';
import { ApprovalsCore, shortCause } from './core.ts';
/** Minimum gap between progress updates of one message during a follow-up. */
const SHOW_EVERY_MS = 3000;

/** Executing once, verifying lost answers on the live object, following up, and housekeeping. */
export abstract class ApprovalsExecution extends ApprovalsCore {
  /**
   * Only the click whose write moved the request to approved gets here. The execution Lease is held
   * (and renewed) from before "executing" is written until the follow-up ends, so no housekeeping pass,
   * on any replica or this one, takes over work that is still running.
   */
  protected async execute(
    rec: ApprovalRequest,
    click: ButtonClick,
    identity: Identity | undefined,
  ): Promise<ClickOutcome> {
    const def = this.kindOf(rec);
    const kube = this.kubeFor(rec);
    const lease = this.lease(rec.id);
    if (!(await lease.tryAcquire({ reentrant: false }).catch(() => false))) {
      this.log.warn({ id: rec.id }, 'approved request is already leased; leaving it to its holder or to housekeeping');
      return this.deliver(rec.message ?? click.message, this.render(rec), rec.rev, rec.id);
    }
    const keepalive = this.keepalive(lease, rec.id);
    let handedOver = false;
    try {
      let fingerprint: string | undefined;
      try {
        fingerprint = await def.fingerprint(kube, rec.target);
      } catch (err) {
        // Nothing was sent: the request is still "approved", so it can honestly be closed as not run.
        const stepped = await this.step(
          rec.id,
          () => ({ type: 'abandon', reason: `meshops could not read the target before acting (${shortCause(err)}).` }),
          click,
        );
        return stepped?.outcome ?? {};
      }
      const started = await this.step(
        rec.id,
        () => ({ type: 'start', replica: this.replicaId, fingerprint, as: identity, freshId: newRequestId() }),
        click,
      );
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
        const summary = await def.execute(
          identity ? kube.as(identity) : kube,
          rec.target,
          started.rec.preview?.plan,
          ctx,
        );
        event = { type: 'applied', summary, followUpMs };
      } catch (err) {
        this.log.warn(
          { err, id: rec.id },
          'the change failed or its answer was lost; asking the cluster whether it landed',
        );
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
  protected keepalive(lease: LeaseLock, id: string): { stop(): void } {
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
  protected async verifyEvent(
    def: RemediationKind,
    kube: KubeClient,
    rec: ApprovalRequest,
    cause: string,
  ): Promise<ApprovalEvent> {
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
    return {
      ...base,
      result: seen.landed ? 'landed' : 'absent',
      evidence: seen.evidence,
      fingerprint: seen.fingerprint,
    };
  }

  protected words(err: unknown, def: RemediationKind, identity: Identity | undefined): string {
    if (err instanceof KubeApiError) {
      if (err.status === 403)
        return `the cluster refused ${identity ? `Kubernetes user ${identity.user}` : 'meshops'}: ${err.message}; it needs ${def.permissions.join('; ')}`;
      if (err.status === 404) return `the target is gone: ${err.message}`;
      return `the API server answered ${err.status} ${err.reason}: ${err.message}`;
    }
    const ref = referenceId();
    this.log.error({ err, ref }, 'remediation request failed');
    return `${shortCause(err)}; details in the bot's log under ref ${ref}`;
  }

  // ---- following up ----

  protected spawn(id: string, lease: LeaseLock): void {
    if (this.following.has(id)) return;
    this.following.add(id);
    const task = this.follow(id, lease)
      .catch((err: unknown) =>
        this.log.error({ err, id }, 'follow-up failed; a later housekeeping pass picks it up once the lease lapses'),
      )
      .finally(() => {
        this.following.delete(id);
        this.tasks.delete(task);
      });
    this.tasks.add(task);
  }

  protected async follow(id: string, lease: LeaseLock): Promise<void> {
    const pollMs = this.options.pollMs ?? 2000;
    let lastShown = 0;
    let failures = 0;
    try {
      for (;;) {
        if (this.stopping.signal.aborted) return;
        try {
          if (
            !(await this.followOnce(
              id,
              () => Date.now() - lastShown >= SHOW_EVERY_MS,
              () => (lastShown = Date.now()),
            ))
          )
            return;
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
  protected async followOnce(id: string, mayShow: () => boolean, shown: () => void): Promise<boolean> {
    const stored = await this.store.read(id);
    if (stored?.record.state !== 'executing') return false;
    const rec = stored.record;
    if (!this.clusters.has(rec.cluster)) {
      // Recorded under a cluster this replica does not serve (renamed or removed from its settings): no
      // one here can check it, so say so once instead of failing every pass.
      const served = [...this.clusters.keys()].map((n) => `\`${n}\``).join(', ') || 'none';
      const why = `meshops cannot check this: it does not serve a cluster named \`${rec.cluster}\` (it serves ${served}). Check ${rec.target.kind} ${rec.target.namespace}/${rec.target.name} in that cluster.`;
      const event: ApprovalEvent = rec.execution?.appliedAt
        ? { type: 'finish', result: 'unknown', summary: `Not known whether the change finished: ${why}`, problems: [] }
        : {
            type: 'verified',
            result: 'unknown',
            evidence: why,
            cause: 'meshops stopped before it recorded the result',
            followUpMs: 0,
            freshId: newRequestId(),
          };
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
    const progress: Progress = def.followUp
      ? await def.followUp(
          kube,
          rec.target,
          rec.preview?.plan,
          new Date(rec.followUp?.since ?? rec.execution.appliedAt),
          rec.followUp?.window,
        )
      : { done: true, ok: true, summary: rec.execution.summary ?? 'Done.', problems: [] };
    const timedOut = rec.followUp ? this.now().getTime() > Date.parse(rec.followUp.deadline) : false;
    if (progress.done || timedOut) {
      const summary = progress.done
        ? progress.summary
        : `The rollout did not finish in time. Last seen: ${progress.summary}`;
      await this.step(id, () => ({
        type: 'finish',
        result: progress.done && progress.ok ? 'done' : 'failed',
        summary,
        problems: progress.problems,
      }));
      return false;
    }
    // chat.update is rate-limited per channel: progress is written every time, shown every few seconds.
    const r = await this.store.mutate(id, (cur) => {
      const t = transition(
        cur,
        { type: 'progress', summary: progress.summary, problems: progress.problems, window: progress.window },
        this.now(),
      );
      return t.ok ? { write: t.next, result: t.effects.some((e) => e.type === 'show') } : { keep: true, result: false };
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
      if (now >= Date.parse(s.record.expiresAt))
        await this.store.mutate(s.record.id, (cur) =>
          cur.state === 'offered'
            ? { write: moved(cur, 'expired', this.now()), result: null }
            : { keep: true, result: null },
        );
    }
    for (const s of await this.store.list({ type: 'proposal', state: 'approved' })) {
      const approvedAt = Date.parse(s.record.history.at(-1)?.at ?? s.record.createdAt);
      if (now - approvedAt < 30_000) continue;
      const lease = this.lease(s.record.id);
      if (!(await lease.tryAcquire({ reentrant: false }))) continue;
      try {
        await this.step(s.record.id, () => ({
          type: 'abandon',
          reason: 'meshops stopped between the approval and the change.',
        }));
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
      this.resume().catch((err: unknown) =>
        this.log.warn({ err }, 'approvals housekeeping failed; trying again later'),
      );
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
}
