// The approvals engine: propose (dry-run preview) → Approve/Deny buttons → decide (policy) → execute
// exactly once → follow up → audit. Every step is a state change on the persisted request made with a
// resourceVersion precondition, so concurrent clicks and several replicas agree on one outcome.
// This file holds the clicks and offers; core.ts the shared machinery; execution.ts the executing part.
// The approvals engine: propose (dry-run preview) → Approve/Deny buttons → decide (policy) → execute
// exactly once → follow up → audit. Every step is a state change on the persisted request made with a
// resourceVersion precondition, so concurrent clicks and several replicas agree on one outcome.
import type { Offer, Rendered } from '../blocks/block-kit.ts';
import { actions, button, context, section } from '../blocks/block-kit.ts';
import type { Requester } from '../shared-types.ts';
import { explain } from '../errors.ts';
import type { ButtonClick, ClickHandler, ClickOutcome } from '../messenger.ts';
import type { ApprovalsPort } from './port.ts';
import { APPROVE_ACTION, DENY_ACTION, OFFER_ACTION, refusal } from './messages.ts';
import { type ApprovalRequest, moved, newRequestId, requestIdSchema } from './request.ts';
import type { StoredRequest } from './request-store.ts';
import type { ApprovalsOptions, Stepped } from './core.ts';
import { ApprovalsExecution } from './execution.ts';
export { type ApprovalsOptions, type ProposeInput, type ProposeResult, defaultRegistry } from './core.ts';
type Refusal = { refuse: string };
/** What a click decided on an offer. */
type Verdict = { refuse: string } | { approved: boolean };

export class ApprovalsService extends ApprovalsExecution implements ApprovalsPort {
  readonly clickHandlers: Record<string, ClickHandler>;

  constructor(options: ApprovalsOptions) {
    super(options);
    this.clickHandlers = {
      [APPROVE_ACTION]: (click) => this.guard(click, () => this.approve(click)),
      [DENY_ACTION]: (click) => this.guard(click, () => this.deny(click)),
      [OFFER_ACTION]: (click) => this.guard(click, () => this.takeOffer(click)),
    };
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
    return {
      ...rendered,
      blocks: [
        ...rendered.blocks,
        actions(buttons),
        context('A click proposes the fix with a dry-run preview; it still needs approval before anything changes.'),
      ],
    };
  }

  // ---- clicks ----

  /** Never throws: an unexpected error becomes an apology with a reference id. */
  private async guard(click: ButtonClick, fn: () => Promise<ClickOutcome>): Promise<ClickOutcome> {
    try {
      return await fn();
    } catch (err) {
      const e = explain(
        err,
        this.log.child({ actionId: click.actionId, user: click.userId }),
        'handling an approval click',
      );
      return {
        ephemeral: {
          text: e.text.replace(/^:[a-z_]+: /, '').replace(/[*_`]/g, ''),
          blocks: [section(`${e.text}\nThe request’s message in the channel shows where it stands.`)],
        },
      };
    }
  }

  /** Reads the request behind a button; anything not made by meshops for this message is refused. */
  private async load(click: ButtonClick, type: 'offer' | 'proposal'): Promise<StoredRequest | Refusal> {
    const id = requestIdSchema.safeParse(click.value);
    if (!id.success) return { refuse: "This button's payload was not made by meshops, so nothing was done." };
    const stored = await this.store.read(id.data);
    if (!stored)
      return {
        refuse:
          'meshops has no request with this id: it may be forged, from another installation, or cleaned up. Nothing was done.',
      };
    const rec = stored.record;
    if (rec.type !== type) return { refuse: "This button's payload does not match the button, so nothing was done." };
    if (
      rec.message &&
      click.message &&
      (rec.message.channel !== click.message.channel || rec.message.ts !== click.message.ts)
    ) {
      return { refuse: 'This button does not belong to the message it was clicked in, so nothing was done.' };
    }
    return stored;
  }

  private async approve(click: ButtonClick): Promise<ClickOutcome> {
    const loaded = await this.load(click, 'proposal');
    if ('refuse' in loaded) return { ephemeral: refusal(loaded.refuse) };
    const first = loaded.record;
    if (!this.clusters.has(first.cluster)) {
      return {
        ephemeral: refusal(
          `This request is for cluster \`${first.cluster}\`, which this meshops does not serve (it serves ${[...this.clusters.keys()].map((n) => `\`${n}\``).join(', ') || 'none'}). Nothing was done.`,
        ),
      };
    }
    const notAllowed = await this.policy.mayAct(click.userId, first.kind, first.target.namespace, first.cluster);
    const mapped = notAllowed ? undefined : this.policy.identityFor(click.userId);
    const refusalText = notAllowed ?? (mapped && 'missing' in mapped ? mapped.missing : undefined);
    const by = { userId: click.userId, userName: click.userName };
    const stepped = await this.step(
      first.id,
      () => ({ type: 'approve', by, refusal: refusalText, message: click.message }),
      click,
    );
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
    const notAllowed =
      first.requester.userId === click.userId
        ? undefined
        : await this.policy.mayAct(click.userId, first.kind, first.target.namespace, first.cluster);
    const by = { userId: click.userId, userName: click.userName };
    const stepped = await this.step(
      first.id,
      () => ({ type: 'deny', by, refusal: notAllowed, message: click.message }),
      click,
    );
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
        return {
          write: moved(rec, 'expired', now),
          result: { refuse: 'This suggestion has expired. Run the diagnosis again for fresh buttons.' },
        };
      }
      if (rec.state === 'expired')
        return {
          keep: true,
          result: { refuse: 'This suggestion has expired. Run the diagnosis again for fresh buttons.' },
        };
      if (rec.state !== 'offered') {
        const by = rec.history.at(-1)?.by;
        return {
          keep: true,
          result: {
            refuse: `${by ? `<@${by}>` : 'Someone'} already proposed this fix; see the proposal in the thread.`,
          },
        };
      }
      return { write: { ...moved(rec, 'taken', now, click.userId), proposalId }, result: { approved: false } };
    });
    if (!taken) return { ephemeral: refusal('meshops has no suggestion with this id any more. Nothing was done.') };
    if ('refuse' in taken.result) return { ephemeral: refusal(taken.result.refuse) };

    const requester: Requester = {
      userId: click.userId,
      userName: click.userName,
      channelId: click.channelId,
      source: 'slack',
    };
    const proposed = await this.propose({
      kind: offer.kind,
      target: offer.target,
      params: offer.params,
      why: offer.why,
      risk: offer.risk,
      requester,
      cluster: offer.cluster,
      id: proposalId,
    });
    if (!proposed.ok) {
      // Nothing was proposed, so the suggestion stays clickable once the cause is fixed.
      await this.store.mutate(offer.id, (rec) =>
        rec.state === 'taken' && rec.proposalId === proposalId
          ? { write: moved({ ...rec, proposalId: undefined }, 'offered', this.now()), result: null }
          : { keep: true, result: null },
      );
      return { thread: [proposed.rendered] };
    }
    if (this.messenger && click.message) {
      const ref = await this.messenger.post(click.message.channel, proposed.rendered, {
        threadTs: click.message.threadTs ?? click.message.ts,
      });
      await this.store.mutate(proposalId, (rec) =>
        rec.message ? { keep: true, result: null } : { write: { ...rec, message: ref }, result: null },
      );
      return {};
    }
    return { thread: [proposed.rendered] };
  }

  // ---- executing ----

  /** Recent proposals, newest first (for /mesh audit). */
  async recent(options: { namespace?: string; limit?: number } = {}): Promise<ApprovalRequest[]> {
    const all = await this.store.list({ type: 'proposal', targetNamespace: options.namespace });
    return all
      .map((s) => s.record)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, options.limit ?? 20);
  }

  // ---- helpers ----
}
