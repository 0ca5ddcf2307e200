// The canary feature: `/mesh canary <service>` (subsets, weights, traffic per version) and the guarded
// weight steps as remediation kinds (canary-step with its verification window, canary-rollback), whose
// verdicts and next buttons are posted in the step's thread.
import { defineFeature } from '../../feature.ts';
import canary from './canary.ts';
import { canaryNotices } from './notices.ts';
import { canaryRemediationKinds } from './step-kind.ts';

export default defineFeature({
  name: 'canary',
  commands: [canary],
  setup(ctx) {
    const hooks = canaryNotices({ approvals: () => ctx.approvals, messenger: ctx.messenger, log: ctx.log });
    return { remediations: canaryRemediationKinds({ prometheusUrl: ctx.settings.prometheusUrl, hooks }) };
  },
});
