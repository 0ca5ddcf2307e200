// Composition: settings + a cluster connection + a list of features → the policy, the approvals service,
// the router and the services behind it, and what the features add (remediation kinds, button handlers,
// forms, background work) for the front doors to wire. main.ts, the CLI and integration tests all
// assemble meshops here, so they run the same thing.
import type { BackgroundWork, Feature, FeatureContext } from './feature.ts';
import { allFeatures, commandsOf } from './features/index.ts';
import type { Settings } from './config.ts';
import type { Connection } from './kube/connect.ts';
import type { Logger } from './log.ts';
import { Router, type RouterOptions } from './router.ts';
import { SingleFlight } from './single-flight.ts';
import type { CommandServices } from './services.ts';
import { setupApprovals } from './approvals/setup.ts';
import { cacheWarmUp } from './cache-warm-up.ts';
import type { AccessPolicy } from './approvals/policy.ts';
import type { ApprovalsService, ApprovalsOptions } from './approvals/service.ts';
import type { ClickHandler, FormSpec, Messenger } from './messenger.ts';

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
  /** Button handlers by action_id prefix: the approvals engine's and the features'. */
  clickHandlers: Record<string, ClickHandler>;
  /** Forms the features declare (Slack modals), by callback id. */
  forms: readonly FormSpec[];
  /** The features' background work, for the front door to start and stop with the bot. */
  background: readonly BackgroundWork[];
}

/** Router hooks the composition root adds: metrics (onCommand). The policy's hooks are added here. */
export type RouterHooks = Pick<RouterOptions, 'onCommand' | 'authorize' | 'channelCluster'>;

export interface AssembleOptions {
  /** The features to run (default: all of src/features/index.ts). */
  features?: readonly Feature[];
  extra?: Partial<CommandServices>;
  hooks?: RouterHooks;
  /** Approvals timing (tests shorten it). */
  tuning?: Pick<ApprovalsOptions, 'pollMs' | 'followUpTimeoutMs' | 'leaseSeconds' | 'offerTtlMs' | 'replicaId' | 'now'>;
  onAudit?: ApprovalsOptions['onAudit'];
}

/** Throws PolicyError (one line naming the file and line) when the policy file is malformed. */
export async function assemble(
  settings: Settings,
  connection: Connection,
  log: Logger,
  options: AssembleOptions = {},
): Promise<Meshops> {
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
  const commandSettings = {
    istioctl: settings.istioctl,
    prometheusUrl: settings.prometheusUrl,
    kialiUrl: settings.kialiUrl,
    grafanaUrl: settings.grafanaUrl,
    jaegerUrl: settings.jaegerUrl,
  };
  let messenger: Messenger | undefined;
  const features = options.features ?? allFeatures;
  const ctx: FeatureContext = {
    log,
    settings: commandSettings,
    clusters: connection.clusters,
    approvals,
    messenger: () => messenger,
  };
  const clickHandlers: Record<string, ClickHandler> = { ...approvals?.clickHandlers };
  const forms: FormSpec[] = [];
  // Started by the Slack front door with the rest: the watch cache filled once after a (re)start.
  const background: BackgroundWork[] = [cacheWarmUp(connection.clusters, log)];
  for (const feature of features) {
    const parts = feature.setup?.(ctx) ?? {};
    // A read-only install offers no remediation: its kinds are not registered, so nothing can propose them.
    if (approvals) for (const kind of parts.remediations ?? []) approvals.registry.register(kind);
    for (const [prefix, handler] of Object.entries(parts.clickHandlers ?? {})) {
      if (clickHandlers[prefix]) throw new Error(`feature ${feature.name}: button prefix ${prefix} is already taken`);
      clickHandlers[prefix] = handler;
    }
    for (const form of parts.forms ?? []) {
      if (forms.some((f) => f.callbackId === form.callbackId))
        throw new Error(`feature ${feature.name}: form ${form.callbackId} is declared twice`);
      forms.push(form);
    }
    background.push(...(parts.background ?? []));
  }
  const services: CommandServices = {
    settings: commandSettings,
    policyWarning: warning,
    ...(approvals ? { approvals } : {}),
    ...options.extra,
  };
  const router = new Router({
    commands: commandsOf(features),
    clusters: connection.clusters,
    defaultCluster: connection.defaultCluster,
    log,
    services,
    authorize: policy.authorize,
    channelCluster: (channelId) => policy.channelCluster(channelId),
    flights: new SingleFlight({
      maxConcurrent: settings.maxConcurrentCommands ?? 8,
      shareWindowMs: settings.sharedAnswerMs ?? 0,
    }),
    ...options.hooks,
  });
  return {
    router,
    services,
    policy,
    approvals,
    clickHandlers,
    forms,
    background,
    attachMessenger: (m) => {
      messenger = m;
      approvals?.attachMessenger(m);
    },
    setGroupMembers: (fetch) => {
      groupMembers = fetch;
    },
  };
}
