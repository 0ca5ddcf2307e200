// Running meshops as a service: the health server with its readiness checks, and the orderly shutdown a
// Kubernetes rollout expects (not ready first, stop taking work, finish in flight, hand over background
// work, then close). The pieces arrive as small interfaces so a test can drive the same sequence.
import type { ClusterTarget } from '../shared-types.ts';
import type { Logger } from '../log.ts';
import { type HealthServer, type ReadinessCheck, startHealthServer } from './health-server.ts';
import type { Metrics } from './metrics.ts';

/** The part of the Slack front door operations needs (src/slack/app.ts SlackApp has it). */
export interface FrontDoor {
  readonly connected: boolean;
  readonly inFlight: number;
  /** Stops taking deliveries, then waits for answers in flight up to `deadlineMs`. */
  stop(deadlineMs?: number): Promise<void>;
}

/** Background work stopped after the front door: e.g. approvals follow-ups, which release their Leases. */
export interface BackgroundWork {
  name: string;
  stop(): Promise<void>;
}

export interface OperationsOptions {
  port: number;
  host?: string;
  metrics: Metrics;
  front: FrontDoor;
  clusters: readonly ClusterTarget[];
  log: Logger;
  background?: BackgroundWork[];
  /** Runs last: the cluster connection. */
  close?: () => Promise<void>;
  /** How long answers in flight may take after a shutdown signal (default 20 s, under the pod's 45 s grace). */
  deadlineMs?: number;
  /** Readiness waits this long per check before calling it failed. */
  checkTimeoutMs?: number;
}

export interface ShutdownReport {
  reason: string;
  /** Answers still unfinished when the deadline passed. */
  abandoned: number;
  /** Steps that failed, in words; the shutdown carried on past them. */
  problems: string[];
  ms: number;
}

export interface Operations {
  health: HealthServer;
  /** Idempotent: a second signal gets the first shutdown's promise. */
  shutdown(reason: string): Promise<ShutdownReport>;
  readonly shuttingDown: boolean;
}

/** Ready when Slack is connected and every configured cluster's API server answers. */
export function readinessChecks(
  front: Pick<FrontDoor, 'connected'>,
  clusters: readonly ClusterTarget[],
): ReadinessCheck[] {
  return [
    { name: 'slack', check: () => front.connected },
    ...clusters.map((c) => ({ name: `cluster ${c.name}`, check: () => c.kube.ping() })),
  ];
}

export async function startOperations(options: OperationsOptions): Promise<Operations> {
  const log = options.log.child({ component: 'operations' });
  const health = await startHealthServer({
    port: options.port,
    host: options.host,
    metrics: options.metrics,
    checks: readinessChecks(options.front, options.clusters),
    timeoutMs: options.checkTimeoutMs,
  });
  log.info({ port: health.port }, 'health server listening: /healthz, /readyz, /metrics');
  let running: Promise<ShutdownReport> | undefined;

  const shutdown = async (reason: string): Promise<ShutdownReport> => {
    const started = Date.now();
    const problems: string[] = [];
    const step = async (name: string, work: () => Promise<void>): Promise<void> => {
      try {
        await work();
      } catch (err) {
        problems.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
        log.error({ err, step: name }, 'shutdown step failed; carrying on');
      }
    };
    // Not ready first, so the endpoints and the PDB see this replica leaving before it stops answering.
    health.setDraining(true);
    log.info({ reason, inFlight: options.front.inFlight }, 'shutting down: not ready, finishing answers in flight');
    await step('front door', () => options.front.stop(options.deadlineMs ?? 20_000));
    const abandoned = options.front.inFlight;
    if (abandoned) log.warn({ abandoned }, 'deadline passed with answers still in flight');
    // Background work stops after the answers: a click in flight may still start a follow-up.
    for (const work of options.background ?? []) await step(work.name, () => work.stop());
    if (options.close) await step('cluster connection', options.close);
    await step('health server', () => health.close());
    const report: ShutdownReport = { reason, abandoned, problems, ms: Date.now() - started };
    log.info(report, 'shut down');
    return report;
  };

  return {
    health,
    get shuttingDown() {
      return running !== undefined;
    },
    shutdown(reason) {
      running ??= shutdown(reason);
      return running;
    },
  };
}
