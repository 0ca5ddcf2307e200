// What commands may use beyond the cluster client. The composition root (main.ts) fills it in;
// tests fill in what they need. Optional members are features that may be switched off.
import type { Settings } from './config.ts';
import type { Offer, Rendered } from './blocks/block-kit.ts';
import type { Requester } from './command.ts';

/** The part of the approvals service the router needs: turning offered fixes into buttons. */
export interface OfferSink {
  attachOffers(rendered: Rendered, offers: Offer[], requester: Requester, cluster: string): Promise<Rendered>;
}

export interface CommandServices {
  settings?: Settings;
  /** Set when no policy file is configured: help and start-up warn about it. */
  policyWarning?: string;
  /** Approvals (src/approvals/): the full service; the router only uses attachOffers. */
  approvals?: import('./approvals/service.ts').ApprovalsService;
}
