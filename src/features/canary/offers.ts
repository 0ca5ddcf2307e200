// The canary's buttons: the next step, "complete" (100%) and the rollback to 0%, each a proposal of a
// canary kind with the same window, thresholds and steps as the step before it.
import type { Offer } from '../../blocks/block-kit.ts';
import { CANARY_ROLLBACK, CANARY_STEP, type StepParams } from './step-kind.ts';

export interface OfferBase {
  namespace: string;
  virtualService: string;
  service: string;
  canary: string;
  /** windowMs, thresholds and steps carried from one step to the next. */
  carry: Omit<StepParams, 'service' | 'canary' | 'weight'>;
}

const target = (b: OfferBase) => ({ kind: 'VirtualService', namespace: b.namespace, name: b.virtualService });
const label = (text: string) => (text.length > 75 ? `${text.slice(0, 74)}…` : text);

export function stepOffer(b: OfferBase, weight: number, why: string): Offer {
  return {
    label: label(`${weight === 100 ? 'Complete' : 'Next step'}: ${b.namespace}/${b.service} ${b.canary} to ${weight}%`),
    remediation: {
      kind: CANARY_STEP,
      target: target(b),
      why,
      risk: `${weight}% of ${b.service} goes to ${b.canary}.`,
      params: { ...b.carry, service: b.service, canary: b.canary, weight },
    },
  };
}

export function rollbackOffer(b: OfferBase, why: string): Offer {
  return {
    label: label(`Roll back ${b.namespace}/${b.service}: ${b.canary} to 0%`),
    remediation: {
      kind: CANARY_ROLLBACK,
      target: target(b),
      why,
      risk: `All of ${b.service} goes back to the stable version.`,
      params: { ...b.carry, service: b.service, canary: b.canary, weight: 0 },
    },
  };
}

/** The next configured step above `weight`, or undefined at the last one. */
export function nextStep(steps: readonly number[], weight: number): number | undefined {
  return [...steps].sort((a, b) => a - b).find((s) => s > weight);
}
