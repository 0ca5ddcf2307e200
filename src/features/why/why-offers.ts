// The fix buttons of `/mesh why`: the offers fix-offers.ts makes for the diagnostics' findings, asked in the order
// the findings are ranked, so the cause's fix is the first button.
import type { Offer } from '../../blocks/block-kit.ts';
import type { Finding } from '../../mesh/diagnostics/types.ts';
import { offersFor } from './fix-offers.ts';
import type { WhyReport } from './why-rank.ts';

/** The diagnostics' own findings, best ranked first: what offersFor turns into buttons. */
export function rankedDiagnosticFindings(r: WhyReport): Finding[] {
  return r.ranked.flatMap((f) => (f.diagnostic ? [f.diagnostic] : []));
}

export function whyOffers(r: WhyReport): Offer[] {
  return offersFor(rankedDiagnosticFindings(r));
}
