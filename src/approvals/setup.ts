// Start-up wiring for approvals: load the policy (a malformed file stops start-up with a message that
// names the line), build the service, and say what the composition root must hand to the front doors.
import type { ClusterTarget } from '../shared-types.ts';
import type { KubeClient } from '../kube/client.ts';
import type { Logger } from '../log.ts';
import type { Messenger } from '../messenger.ts';
import { AccessPolicy, loadPolicyFile } from './policy.ts';
import { ApprovalsService, type ApprovalsOptions } from './service.ts';
import { type RemediationKind, RemediationRegistry } from './remediation-kinds.ts';

export interface ApprovalsSetup {
  policy: AccessPolicy;
  service: ApprovalsService;
  /** Set when no policy file is configured: log it at start-up and put it in services.policyWarning. */
  warning?: string;
}

export interface ApprovalsSetupInput {
  policyFile: string | undefined;
  clusters: readonly ClusterTarget[];
  /** The cluster the bot runs in, where requests and leases are kept. */
  stateKube: KubeClient;
  namespace: string;
  log: Logger;
  /** Slack user group → members (usergroups.users.list); the Slack side supplies it. */
  members?: (groupId: string) => Promise<string[]>;
  messenger?: Messenger;
  tuning?: Pick<
    ApprovalsOptions,
    | 'pollMs'
    | 'followUpTimeoutMs'
    | 'leaseSeconds'
    | 'offerTtlMs'
    | 'replicaId'
    | 'now'
    | 'settleMs'
    | 'verifyBackoffMs'
    | 'storeBackoffMs'
  >;
  /** Each audited decision (metrics: approvals by outcome). */
  onAudit?: ApprovalsOptions['onAudit'];
  /** Remediation kinds to register now (features add theirs through the composition root). */
  kinds?: readonly RemediationKind[];
}

/** Throws PolicyError (message like `policy.yaml:12: roles.sre.namespaces[0]: expected ...`). */
export async function setupApprovals(input: ApprovalsSetupInput): Promise<ApprovalsSetup> {
  const { doc, warning } = await loadPolicyFile(input.policyFile);
  if (warning) input.log.warn({ policy: 'default' }, warning);
  const policy = new AccessPolicy(doc, { members: input.members, log: input.log, warning });
  const service = new ApprovalsService({
    policy,
    clusters: input.clusters,
    stateKube: input.stateKube,
    namespace: input.namespace,
    log: input.log,
    messenger: input.messenger,
    onAudit: input.onAudit,
    registry: new RemediationRegistry(input.kinds ?? []),
    ...input.tuning,
  });
  return { policy, service, warning };
}
