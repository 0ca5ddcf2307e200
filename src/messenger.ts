// How background work (approvals, rollout follow-ups, post-migration watches) talks back to people
// without knowing the front door. src/slack/ implements it over the Web API; the console prints.
import type { Attachment, Rendered } from './blocks/block-kit.ts';

export interface MessageRef {
  channel: string;
  ts: string;
  /** The thread the message lives in (its own ts when it starts one). */
  threadTs?: string;
}

export interface UpdateOptions {
  /**
   * The revision of the state `rendered` shows (e.g. an approval request's record revision): a number that
   * only grows for one message. Updates of one message are applied in order, one at a time; an update whose
   * version is not above the highest already applied, or below one already waiting or being sent, is dropped
   * (its promise resolves, nothing is sent), and of several waiting only the newest is sent. Without a
   * version, an update is still serialized with the others of that message, and always sent.
   */
  version?: number;
  /**
   * Asked right before the update is sent (after any wait in the queue): false drops it. For a state kept
   * elsewhere (another replica may have moved it on while this process was held up), it says whether the
   * state `rendered` shows is still the latest.
   */
  current?: () => Promise<boolean>;
}

export interface Messenger {
  post(channel: string, rendered: Rendered, options?: { threadTs?: string }): Promise<MessageRef>;
  /** Replaces the message in place. Rejects when the update was sent and failed; a dropped stale update resolves. */
  update(ref: MessageRef, rendered: Rendered, options?: UpdateOptions): Promise<void>;
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
  /** The revision `update` shows (see UpdateOptions.version): the front door sends it through the same per-message queue. */
  version?: number;
  /** Posted in the thread of that message. */
  thread?: Rendered[];
}

export type ClickHandler = (click: ButtonClick) => Promise<ClickOutcome>;

/** A form (Slack: a modal) submitted by a person. */
export interface FormSubmission {
  callbackId: string;
  viewId: string;
  userId: string;
  userName?: string;
  privateMetadata?: string;
  /** block_id → action_id → the typed or selected value. */
  values: Record<string, Record<string, string | undefined>>;
}

/** Field errors keep the form open (Slack shows them under the inputs); nothing closes it. */
export interface FormOutcome {
  errors?: Record<string, string>;
}

export type FormHandler = (submission: FormSubmission) => Promise<FormOutcome | void>;

/** Where and for whom a reply asked a form to be opened. */
export interface FormRequest {
  channel: string;
  cluster: string;
  userId: string;
  /** What the command put in `rendered.modal.params`. */
  params: Record<string, string>;
}

/** A form a feature offers: the view a reply's `rendered.modal` opens, and what its submission does. */
export interface FormSpec {
  /** The view's callback_id; submissions are routed by it. */
  callbackId: string;
  /** Slack's `views.open` view object. */
  view(request: FormRequest): Record<string, unknown>;
  submit: FormHandler;
}
