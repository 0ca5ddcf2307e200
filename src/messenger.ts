// How background work (approvals, rollout follow-ups, post-migration watches) talks back to people
// without knowing the front door. src/slack/ implements it over the Web API; the console prints.
import type { Attachment, Rendered } from './blocks/block-kit.ts';

export interface MessageRef {
  channel: string;
  ts: string;
  /** The thread the message lives in (its own ts when it starts one). */
  threadTs?: string;
}

export interface Messenger {
  post(channel: string, rendered: Rendered, options?: { threadTs?: string }): Promise<MessageRef>;
  update(ref: MessageRef, rendered: Rendered): Promise<void>;
  ephemeral(channel: string, user: string, rendered: Rendered, options?: { threadTs?: string }): Promise<void>;
  upload(channel: string, threadTs: string | undefined, file: Attachment): Promise<void>;
}

/** A button click, as any front door reports it. */
export interface ButtonClick {
  actionId: string;
  value: string;
  userId: string;
  userName?: string;
  channelId?: string;
  /** The message that carried the button. */
  message?: MessageRef;
  triggerId?: string;
  responseUrl?: string;
}

/** What the front door should do after a click. */
export interface ClickOutcome {
  /** Shown to the clicker alone (refusals, errors). */
  ephemeral?: Rendered;
  /** Replaces the message that carried the button. */
  update?: Rendered;
  /** Posted in the thread of that message. */
  thread?: Rendered[];
}

export type ClickHandler = (click: ButtonClick) => Promise<ClickOutcome>;
