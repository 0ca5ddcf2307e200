// Router in, answers out, for one delivery: "working…" first for anything that touches the cluster,
// then the answer in place; private words where the door allows; a form opened by callback id; and a
// failure in words (errors.ts) where the asker will see it. Never throws.
import { type Rendered, esc, section } from '../blocks/block-kit.ts';
import { explain } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { FormSpec } from '../messenger.ts';
import type { Router } from '../router.ts';
import type { Requester } from '../shared-types.ts';
import { type AnswerTarget, type Posted, queuedNotice, working } from './replies.ts';
import { ResponseUrlError } from './slack-messenger.ts';
import { type Drain, RestartingError, restartingNotice } from './restarting.ts';

export interface AnswererDeps {
  router: Router;
  log: Logger;
  commandName: string;
  forms?: readonly FormSpec[];
  /** At shutdown: answers still running at the deadline are given up with RestartingError. */
  drain?: Drain;
}

export function answerer(
  deps: AnswererDeps,
): (text: string, requester: Requester, target: AnswerTarget, label: string) => Promise<void> {
  const { router, log, commandName } = deps;
  const options = { forms: deps.forms };
  const guarded = <T>(work: Promise<T>): Promise<T> => (deps.drain ? deps.drain.guard(work) : work);
  /** Router in, answers out. Never throws: a failure becomes an apology where the asker will see it. */
  const answer = async (text: string, requester: Requester, target: AnswerTarget, label: string): Promise<void> => {
    const started = performance.now();
    let posted: Posted | undefined;
    let outcome = 'error';
    /** The "queued" update (and "working…" again once it runs), awaited before the answer replaces it. */
    let queued: Promise<void> | undefined;
    const onQueued = (ahead: number): void => {
      if (!posted || queued) return;
      queued = target.update(posted, queuedNotice(label, ahead)).catch((err: unknown) => {
        log.warn({ err }, 'could not say the command is queued');
      });
    };
    // Out of the queue: the asker sees it working again, not "waits for others" until the answer.
    const onStarted = (): void => {
      const at = posted;
      if (!at || !queued) return;
      queued = queued.then(() =>
        target.update(at, working(label)).catch((err: unknown) => {
          log.warn({ err }, 'could not say the queued command has started');
        }),
      );
    };
    try {
      const prepared = await router.prepare(text, requester, { queued: onQueued, started: onStarted });
      if ('rendered' in prepared) {
        outcome = prepared.outcome;
        await (prepared.outcome === 'ok' ? target.post(prepared.rendered) : target.private(prepared.rendered));
        return;
      }
      if (prepared.touchesCluster) {
        posted = await target.post(working(label));
        const reply = await guarded(prepared.execute());
        outcome = reply.outcome;
        await queued;
        await target.update(posted, reply.rendered);
      } else {
        const reply = await guarded(prepared.execute());
        outcome = reply.outcome;
        if (reply.rendered.modal) {
          await openModalFor(reply.rendered.modal, reply.cluster ?? prepared.cluster.name, requester, target, text);
          return;
        }
        await (reply.outcome === 'user_error' || reply.outcome === 'refused'
          ? target.private(reply.rendered)
          : target.post(reply.rendered));
      }
    } catch (err) {
      outcome = 'error';
      if (err instanceof RestartingError) {
        // Queued at SIGTERM or still running at the deadline: say so in place of "working…".
        outcome = 'restarting';
        try {
          await queued;
          await (posted ? target.update(posted, restartingNotice(label)) : target.private(restartingNotice(label)));
        } catch (err2) {
          log.warn({ err: err2 }, 'could not say meshops is restarting');
        }
        return;
      }
      if (err instanceof ResponseUrlError && !posted) {
        // The answer itself could not reach Slack: an apology down the same failing URL would not either.
        log.warn(
          { err, user: requester.userId, channel: requester.channelId },
          'the answer could not be delivered through the response_url',
        );
        return;
      }
      const e = explain(
        err,
        log.child({ user: requester.userId, channel: requester.channelId }),
        'answering a command',
      );
      const sorry: Rendered = {
        text: e.text.replace(/^:[a-z_]+: /, '').replace(/[*_`]/g, ''),
        blocks: [section(e.text)],
      };
      try {
        await queued;
        await (posted ? target.update(posted, sorry) : target.private(sorry));
      } catch (err2) {
        log.error({ err: err2, ref: e.ref }, 'could not even apologise');
      }
    } finally {
      log.info(
        {
          command: label,
          user: requester.userId,
          channel: requester.channelId,
          outcome,
          ms: Math.round(performance.now() - started),
        },
        'answered',
      );
    }
  };

  /** A command asked for a form: open the feature's view where Slack allows (a slash command's trigger_id), else say how. */
  const openModalFor = async (
    modal: NonNullable<Rendered['modal']>,
    cluster: string,
    requester: Requester,
    target: AnswerTarget,
    text: string,
  ): Promise<void> => {
    const form = options.forms?.find((f) => f.callbackId === modal.callbackId);
    if (!form) {
      log.warn({ callbackId: modal.callbackId }, 'a reply asked for a form no feature declares');
      await target.private({
        text: 'That form is not available',
        blocks: [section(':grey_question: That form is not available in this meshops.')],
      });
      return;
    }
    if (!target.openModal || !requester.channelId) {
      const again = `${commandName} ${text}`.trim();
      await target.private({
        text: 'Use the slash command for this form',
        blocks: [
          section(`:information_source: This form opens from the slash command: type \`${esc(again)}\` in a channel.`),
        ],
      });
      return;
    }
    await target.openModal(
      form.view({ channel: requester.channelId, cluster, userId: requester.userId, params: modal.params ?? {} }),
    );
  };

  return answer;
}
