// Slack mode of `npm start`: the front door over the assembled router, and an orderly shutdown on
// SIGTERM/SIGINT (stop taking deliveries, finish answers in flight, close the cluster connection).
import type { Settings, SlackSettings } from '../config.ts';
import type { Connection } from '../kube/connect.ts';
import type { Logger } from '../log.ts';
import type { ClickHandler } from '../messenger.ts';
import type { Meshops } from '../meshops.ts';
import { Metrics } from '../ops/metrics.ts';
import { type BackgroundWork, type Operations, startOperations } from '../ops/operations.ts';
import { type SlackApp, createSlackApp } from './app.ts';
import { type DedupStore, MemoryDedupStore } from './dedup.ts';
import { KubeDedupStore } from './kube-dedup.ts';
import { registerAppHome } from './app-home.ts';

export interface StartSlackOptions {
  settings: Settings;
  slack: SlackSettings;
  connection: Connection;
  meshops: Meshops;
  log: Logger;
  clickHandlers?: Record<string, ClickHandler>;
  dedup?: DedupStore;
  /** How long answers in flight may take to finish after a shutdown signal (default: settings.shutdownGraceMs). */
  shutdownDeadlineMs?: number;
  /** Prometheus metrics; the same object main.ts handed to connect() for the cluster API counters. */
  metrics?: Metrics;
  /** Stopped after the answers in flight, before the cluster connection closes (approvals: releases Leases). */
  background?: BackgroundWork[];
}

export type RunningSlack = SlackApp & { operations: Operations };

export async function startSlack(options: StartSlackOptions): Promise<RunningSlack> {
  const { slack, connection, log } = options;
  const graceMs = options.shutdownDeadlineMs ?? options.settings.shutdownGraceMs ?? 20_000;
  const metrics = options.metrics ?? new Metrics();
  const approvals = options.meshops.approvals;
  const front = createSlackApp({
    slack,
    router: options.meshops.router,
    log,
    clickHandlers: { ...options.meshops.clickHandlers, ...options.clickHandlers },
    forms: options.meshops.forms,
    dedup: metrics.countRedeliveries(options.dedup ?? defaultDedup(options.settings, connection)),
    onRateLimited: metrics.onRateLimited,
  });
  registerAppHome(front.app, {
    clusters: connection.clusters,
    defaultCluster: connection.defaultCluster,
    slackConnected: () => front.connected,
    approvals,
    readOnly: options.settings.readOnly,
    log,
  });
  options.meshops.attachMessenger(front.messenger);
  // Role bindings to Slack user groups: membership from usergroups.users.list (the policy caches it).
  options.meshops.setGroupMembers(async (usergroup) => {
    const res = await front.app.client.usergroups.users.list({ usergroup });
    return res.users ?? [];
  });
  // Health first: liveness answers while Slack connects, readiness says why it is not ready yet.
  const operations = await startOperations({
    port: options.settings.healthPort,
    metrics,
    front,
    // Readiness follows the cluster the bot lives in: a remote cluster's outage must not take every replica
    // out of service (and block drains); the App Home tab and each answer report the others.
    clusters: connection.clusters.filter((c) => c.name === connection.defaultCluster),
    log,
    background: [
      ...(approvals ? [{ name: 'approvals', stop: () => approvals.stop() }] : []),
      ...options.meshops.background,
      ...(options.background ?? []),
    ],
    close: () => connection.close(),
    deadlineMs: graceMs,
  });
  try {
    await front.start();
  } catch (err) {
    await operations.health.close();
    throw err;
  }
  approvals?.start();
  for (const work of options.meshops.background) work.start?.();
  log.info(
    {
      mode: slack.mode,
      cluster: connection.defaultCluster,
      clusters: connection.clusters.map((c) => c.name),
      source: connection.source,
    },
    `meshops is answering /mesh in Slack (${connection.description})`,
  );
  const shutdown = (signal: string) => {
    // Whatever hangs (a Lease release, a socket that will not close), the process ends a few seconds after the
    // deadline; unref'd, so an orderly shutdown that finishes sooner is not held up by it.
    setTimeout(() => {
      log.error({ signal, graceMs, hardExitMs: HARD_EXIT_AFTER_MS }, 'shutdown overran its deadline: exiting anyway');
      process.exit(1);
    }, graceMs + HARD_EXIT_AFTER_MS).unref();
    void operations.shutdown(signal).finally(() => process.exit(0));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  return Object.assign(front, { operations });
}

/** After the shutdown deadline: time for the "restarting" notices, Lease releases and closing, then a hard exit. */
const HARD_EXIT_AFTER_MS = 5000;

/**
 * In a cluster the replicas share redelivery claims through ConfigMaps in the bot's namespace; elsewhere
 * (a laptop, the demo) there is one process and the namespace may not exist, so memory is enough.
 */
function defaultDedup(settings: Settings, connection: Connection): DedupStore {
  const home = connection.clusters.find((c) => c.name === connection.defaultCluster) ?? connection.clusters[0];
  return connection.source === 'in-cluster' && home
    ? new KubeDedupStore(home.kube, settings.namespace)
    : new MemoryDedupStore();
}
