// Forms (Slack modals) and the interactions meshops does not use. A submission goes to the form a
// feature declared for its callback id; field errors travel in the ack, so the handler gets most of
// Slack's 3 s and no more. Shortcuts and option menus are acked at once rather than left to time out.
import type { App } from '@slack/bolt';
import type { Logger } from '../log.ts';
import type { FormHandler, FormSpec, FormSubmission } from '../messenger.ts';
import { viewSubmissionSchema } from './payloads.ts';

export function registerForms(
  app: App,
  options: { forms?: readonly FormSpec[]; viewHandlers?: Record<string, FormHandler>; log: Logger },
): void {
  const { log } = options;
  const handlers = {
    ...Object.fromEntries((options.forms ?? []).map((f) => [f.callbackId, f.submit])),
    ...options.viewHandlers,
  };
  app.view({ type: 'view_submission' }, async ({ ack, body }) => {
    const parsed = viewSubmissionSchema.safeParse(body);
    if (!parsed.success) {
      log.warn({ issues: parsed.error.issues.slice(0, 3) }, 'view submission refused');
      await ack();
      return;
    }
    const v = parsed.data;
    const handler = byPrefix(handlers, v.view.callback_id);
    if (!handler) {
      await ack();
      return;
    }
    const submission: FormSubmission = {
      callbackId: v.view.callback_id,
      viewId: v.view.id,
      userId: v.user.id,
      userName: v.user.username ?? v.user.name,
      privateMetadata: v.view.private_metadata,
      values: Object.fromEntries(
        Object.entries(v.view.state.values).map(([block, fields]) => [
          block,
          Object.fromEntries(
            Object.entries(fields).map(([id, f]) => [id, f.value ?? f.selected_option?.value ?? undefined]),
          ),
        ]),
      ),
    };
    // Field errors must travel in the ack, so the handler gets most of Slack's 3 s and no more.
    const outcome = await Promise.race([
      handler(submission).catch((err) => (log.error({ err }, 'view handler failed'), undefined)),
      delay(2000).then(() => 'late' as const),
    ]);
    if (outcome === 'late')
      log.warn({ callbackId: submission.callbackId }, 'view handler was too slow to return field errors');
    if (outcome && outcome !== 'late' && outcome.errors && Object.keys(outcome.errors).length)
      await ack({ response_action: 'errors', errors: outcome.errors });
    else await ack();
  });

  // A modal closed without submitting: nothing to do, but Slack wants its ack.
  app.view({ type: 'view_closed' }, async ({ ack }) => {
    await ack();
  });
  // Shortcuts and menus with options from the app are not declared in the manifest; should Slack send
  // one anyway, it is acknowledged at once (no options to offer) rather than left to time out after 3 s.
  // (The front door answers these before Bolt; the listeners stay for a receiver without it.)
  app.shortcut({ type: 'shortcut' }, async ({ ack }) => {
    await ack();
  });
  app.shortcut({ type: 'message_action' }, async ({ ack }) => {
    await ack();
  });
  app.options({ type: 'block_suggestion' }, async ({ ack }) => {
    await ack({ options: [] });
  });
}

/** The handler whose key is the longest prefix of `id`. */
export function byPrefix<T>(handlers: Record<string, T> | undefined, id: string): T | undefined {
  let best: { prefix: string; handler: T } | undefined;
  for (const [prefix, handler] of Object.entries(handlers ?? {})) {
    if (id.startsWith(prefix) && (!best || prefix.length > best.prefix.length)) best = { prefix, handler };
  }
  return best?.handler;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)).unref());
}
