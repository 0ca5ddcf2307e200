// Composition: settings + a cluster connection → the router and the services behind it. main.ts,
// the CLI and integration tests all assemble meshops here, so they run the same thing.
import { allCommands } from '../commands/index.ts';
import type { Settings } from './config.ts';
import type { Connection } from './kube/connect.ts';
import type { Logger } from './log.ts';
import { Router } from './router.ts';
import type { CommandServices } from './services.ts';

export interface Meshops {
  router: Router;
  services: CommandServices;
}

export function assemble(settings: Settings, connection: Connection, log: Logger, extra: Partial<CommandServices> = {}): Meshops {
  const services: CommandServices = { settings, ...extra };
  const router = new Router({
    commands: allCommands,
    clusters: connection.clusters,
    defaultCluster: connection.defaultCluster,
    log,
    services,
  });
  return { router, services };
}
