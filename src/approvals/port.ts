// What commands and the router may ask of the approvals engine: propose a change, list recent ones,
// name one, and turn offered fixes into buttons. They see this port, never the service class.
import type { Offer, Rendered } from '../blocks/block-kit.ts';
import type { MessageRef } from '../messenger.ts';
import type { Requester } from '../shared-types.ts';
import type { ApprovalRequest, Target } from './request.ts';

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

export type ProposeResult =
  | { ok: true; record: ApprovalRequest; rendered: Rendered }
  | { ok: false; reason: string; rendered: Rendered };

/** The part of the approvals engine the router needs: turning offered fixes into buttons. */
export interface OfferSink {
  attachOffers(rendered: Rendered, offers: Offer[], requester: Requester, cluster: string): Promise<Rendered>;
}

export interface ApprovalsPort extends OfferSink {
  propose(input: ProposeInput): Promise<ProposeResult>;
  /** Recent proposals, newest first. */
  recent(options?: { namespace?: string; limit?: number }): Promise<ApprovalRequest[]>;
  /** "Restart deployment bookinfo/reviews". */
  title(rec: ApprovalRequest): string;
}
