// Slack mode of `npm start`: the front door over the assembled router, and an orderly shutdown on
// SIGTERM/SIGINT (stop taking deliveries, finish answers in flight, close the cluster connection).
import type { Settings, SlackSettings } from '../config.ts';
import type { Connection } from '../kube/connect.ts';
import type { Logger } from '../log.ts';
import type { ClickHandler } from '../messenger.ts';
import type { Meshops } from '../meshops.ts';
import { type SlackApp, createSlackApp } from './app.ts';
import type { DedupStore } from './dedup.ts';
import { pasteViewHandler } from './analyze-paste.ts';
import { PASTE_CALLBACK_ID } from '../../commands/analyze.ts';

export interface StartSlackOptions {
  settings: Settings;
  slack: SlackSettings;
  connection: Connection;
  meshops: Meshops;
  log: Logger;
  clickHandlers?: Record<string, ClickHandler>;
  dedup?: DedupStore;
  /** How long answers in flight may take to finish after a shutdown signal. */
  shutdownDeadlineMs?: number;
}

export async function startSlack(options: StartSlackOptions): Promise<SlackApp> {
  const { slack, connection, log } = options;
  let front: SlackApp | undefined;
  const viewHandlers = {
    [PASTE_CALLBACK_ID]: pasteViewHandler({ clusters: connection.clusters, messenger: () => front?.messenger, log, istioctlBinary: options.settings.istioctl }),
  };
  front = createSlackApp({ slack, router: options.meshops.router, log, clickHandlers: options.clickHandlers, viewHandlers, dedup: options.dedup });
  await front.start();
  log.info({ mode: slack.mode, cluster: connection.defaultCluster, clusters: connection.clusters.map((c) => c.name), source: connection.source }, `meshops is answering /mesh in Slack (${connection.description})`);
  let shuttingDown = false;
  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal, inFlight: front.inFlight }, 'shutting down: finishing answers in flight');
    void (async () => {
      try {
        await front.stop(options.shutdownDeadlineMs ?? 20_000);
        await connection.close();
      } catch (err) {
        log.error({ err }, 'shutdown was not clean');
      } finally {
        process.exit(0);
      }
    })();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  return front;
}
