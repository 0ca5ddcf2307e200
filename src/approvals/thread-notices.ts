// What a guarded window's verdict hook needs to speak in the request's thread (features/canary/notices.ts,
// features/mtls/migration-notices.ts): the executing request it belongs to (the engine gives a follow-up
// no message, so it is found by its target), a post with offers (next step, rollback) in that thread, and
// the window's chart as a PNG file, or the reason there is none.
import type { Attachment, Offer, Rendered } from '../blocks/block-kit.ts';
import type { Messenger } from '../messenger.ts';
import type { Requester } from '../shared-types.ts';
import type { ApprovalsPort } from './port.ts';
import type { ApprovalRequest, Target } from './request.ts';

/** The newest executing request of these kinds on the target (by namespace, and by name when asked). */
export async function executingRequest(
  approvals: ApprovalsPort,
  target: Target,
  kinds: readonly string[],
  sameName = true,
): Promise<ApprovalRequest | undefined> {
  return (await approvals.recent({ namespace: target.namespace, limit: 200 }))
    .filter((r) => r.state === 'executing' && kinds.includes(r.kind) && (!sameName || r.target.name === target.name))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
}

/** Posts in the request's thread, the offers as buttons on behalf of its requester. */
export async function postInThread(
  approvals: ApprovalsPort,
  messenger: Messenger,
  rec: ApprovalRequest,
  rendered: Rendered,
  offers: Offer[],
): Promise<void> {
  if (!rec.message) return;
  const requester: Requester = {
    userId: rec.requester.userId,
    userName: rec.requester.userName,
    channelId: rec.requester.channelId,
    source: 'slack',
  };
  const withButtons = offers.length ? await approvals.attachOffers(rendered, offers, requester, rec.cluster) : rendered;
  await messenger.post(rec.message.channel, withButtons, { threadTs: rec.message.threadTs ?? rec.message.ts });
}

/** A file name part from a namespace or a name. */
export function fileSafe(v: string): string {
  return v.replace(/[^a-zA-Z0-9_.-]+/g, '_');
}

/** The chart as a PNG attachment, or why it could not be drawn (said in the message, never silently left out). */
export async function chartAttachment(
  draw: () => Promise<{ png: Uint8Array }>,
  filename: string,
  title: string,
): Promise<{ file: Attachment } | { reason: string }> {
  try {
    const chart = await draw();
    return {
      file: { filename, title, content: `[chart: ${filename}, ${chart.png.length} bytes]`, bytes: chart.png },
    };
  } catch (err) {
    return { reason: err instanceof Error ? err.message.slice(0, 300) : String(err).slice(0, 300) };
  }
}
