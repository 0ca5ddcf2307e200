// Composition: settings + a cluster connection → the policy, the approvals service, the router and the
// services behind it. main.ts, the CLI and integration tests all assemble meshops here, so they run the
// same thing.
import { allCommands } from '../commands/index.ts';
import type { Settings } from './config.ts';
import type { Connection } from './kube/connect.ts';
import type { Logger } from './log.ts';
import { Router, type RouterOptions } from './router.ts';
import type { CommandServices } from './services.ts';
import { setupApprovals } from './approvals/setup.ts';
import type { AccessPolicy } from './approvals/policy.ts';
import type { ApprovalsService, ApprovalsOptions } from './approvals/service.ts';
import type { Messenger } from './messenger.ts';
import { registerMtlsMigration } from './mtls/wiring.ts';

export interface Meshops {
  router: Router;
  services: CommandServices;
  policy: AccessPolicy;
  /** Absent in a read-only install. */
  approvals?: ApprovalsService;
  /** The front door's messenger, for background work: approvals follow-ups and migration notices. */
  attachMessenger(messenger: Messenger): void;
  /** Where Slack user-group membership comes from (usergroups.users.list), once a Slack client exists. */
  setGroupMembers(fetch: (groupId: string) => Promise<string[]>): void;
}

/** Router hooks the composition root adds: metrics (onCommand). The policy's hooks are added here. */
export type RouterHooks = Pick<RouterOptions, 'onCommand' | 'authorize' | 'channelCluster'>;

export interface AssembleOptions {
  extra?: Partial<CommandServices>;
  hooks?: RouterHooks;
  /** Approvals timing (tests shorten it). */
  tuning?: Pick<ApprovalsOptions, 'pollMs' | 'followUpTimeoutMs' | 'leaseSeconds' | 'offerTtlMs' | 'replicaId' | 'now'>;
  onAudit?: ApprovalsOptions['onAudit'];
}

/** Throws PolicyError (one line naming the file and line) when the policy file is malformed. */
export async function assemble(settings: Settings, connection: Connection, log: Logger, options: AssembleOptions = {}): Promise<Meshops> {
  let groupMembers: ((groupId: string) => Promise<string[]>) | undefined;
  const stateCluster = connection.clusters.find((c) => c.name === connection.defaultCluster) ?? connection.clusters[0];
  if (!stateCluster) throw new Error('no cluster to keep approval state in');
  const { policy, service, warning } = await setupApprovals({
    policyFile: settings.policyFile,
    clusters: connection.clusters,
    stateKube: stateCluster.kube,
    namespace: settings.namespace,
    log,
    members: (groupId) => (groupMembers ? groupMembers(groupId) : Promise.resolve([])),
    tuning: options.tuning,
    onAudit: options.onAudit,
  });
  const approvals = settings.readOnly ? undefined : service;
  // The guarded STRICT migration adds its remediation kinds (strict, override, rollback) to the registry.
  const mtls = approvals ? registerMtlsMigration(approvals, { log, prometheusUrl: settings.prometheusUrl }) : undefined;
  const services: CommandServices = { settings: { istioctl: settings.istioctl, prometheusUrl: settings.prometheusUrl }, policyWarning: warning, ...(approvals ? { approvals } : {}), ...options.extra };
  const router = new Router({
    commands: allCommands,
    clusters: connection.clusters,
    defaultCluster: connection.defaultCluster,
    log,
    services,
    authorize: policy.authorize,
    channelCluster: (channelId) => policy.channelCluster(channelId),
    ...options.hooks,
  });
  return {
    router,
    services,
    policy,
    approvals,
    attachMessenger: (messenger) => {
      approvals?.attachMessenger(messenger);
      mtls?.attachMessenger(messenger);
    },
    setGroupMembers: (fetch) => {
      groupMembers = fetch;
    },
  };
}
