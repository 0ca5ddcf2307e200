// Puts the mTLS migration into a running approvals service: the three remediation kinds go into its
// registry (which accepts new kinds at any time), and the watch's thread notices get the front door's
// messenger once it exists. The composition root calls this right after building the service.
import type { ApprovalsService } from '../../approvals/service.ts';
import type { Logger } from '../../log.ts';
import type { Messenger } from '../../messenger.ts';
import { migrationNotices } from './migration-notices.ts';
import { type MtlsKindOptions, mtlsRemediationKinds } from './strict-migration.ts';

export interface MtlsMigrationWiring {
  /** Call with the same messenger given to approvals.attachMessenger (Slack or the console). */
  attachMessenger(messenger: Messenger): void;
}

export function registerMtlsMigration(
  approvals: ApprovalsService,
  options: { log: Logger; prometheusUrl?: string } & Pick<
    MtlsKindOptions,
    'watchMs' | 'windowMs' | 'alarmThreshold' | 'now'
  >,
): MtlsMigrationWiring {
  let messenger: Messenger | undefined;
  const hooks = migrationNotices({
    approvals: () => approvals,
    messenger: () => messenger,
    log: options.log,
    scan: { prometheusUrl: options.prometheusUrl, windowMs: options.windowMs },
  });
  for (const kind of mtlsRemediationKinds({ ...options, hooks })) approvals.registry.register(kind);
  return {
    attachMessenger(m) {
      messenger = m;
    },
  };
}
