// Composition: settings + a cluster connection → the router and the services behind it. main.ts,
// the CLI and integration tests all assemble meshops here, so they run the same thing.
import { allCommands } from '../commands/index.ts';
import type { Settings } from './config.ts';
import type { Connection } from './kube/connect.ts';
import type { Logger } from './log.ts';
import { Router, type RouterOptions } from './router.ts';
import type { CommandServices } from './services.ts';

export interface Meshops {
  router: Router;
  services: CommandServices;
}

/** Router hooks the composition root adds: metrics (onCommand), the policy (authorize, channelCluster). */
export type RouterHooks = Pick<RouterOptions, 'onCommand' | 'authorize' | 'channelCluster'>;

export function assemble(settings: Settings, connection: Connection, log: Logger, extra: Partial<CommandServices> = {}, hooks: RouterHooks = {}): Meshops {
  const services: CommandServices = { settings, ...extra };
  const router = new Router({
    commands: allCommands,
    clusters: connection.clusters,
    defaultCluster: connection.defaultCluster,
    log,
    services,
    ...hooks,
  });
  return { router, services };
}
