// The mTLS feature: `/mesh mtls` (who talks plaintext, what STRICT would break), and the guarded
// PERMISSIVE → STRICT migration as remediation kinds (strict, override, rollback) whose watch posts its
// verdict and a rollback button in the request's thread.
import { defineFeature } from '../../feature.ts';
import { migrationNotices } from './migration-notices.ts';
import mtls from './mtls.ts';
import { mtlsRemediationKinds } from './strict-migration.ts';

export default defineFeature({
  name: 'mtls',
  commands: [mtls],
  setup(ctx) {
    const hooks = migrationNotices({
      approvals: () => ctx.approvals,
      messenger: ctx.messenger,
      log: ctx.log,
      scan: { prometheusUrl: ctx.settings.prometheusUrl },
    });
    return { remediations: mtlsRemediationKinds({ prometheusUrl: ctx.settings.prometheusUrl, hooks }) };
  },
});
