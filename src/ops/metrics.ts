// Prometheus metrics (prom-client), one registry per process: what an operator graphs and alerts on.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestRecord } from '../kube/client.ts';
import type { Outcome } from '../router.ts';
import type { DedupStore } from '../dedup-store.ts';

export class Metrics {
  readonly registry = new Registry();
  readonly commands: Counter<'verb' | 'outcome'>;
  readonly commandSeconds: Histogram<'verb'>;
  readonly approvals: Counter<'kind' | 'outcome'>;
  readonly kubeRequests: Counter<'method' | 'code'>;
  readonly kubeErrors: Counter<'method' | 'code'>;
  readonly slackRetries: Counter<'kind'>;
  readonly slackRateLimits: Counter<'method'>;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'meshops_' });
    this.commands = new Counter({
      name: 'meshops_commands_total',
      help: 'Commands answered, by verb and outcome (ok, user_error, refused, error)',
      labelNames: ['verb', 'outcome'],
      registers,
    });
    this.commandSeconds = new Histogram({
      name: 'meshops_command_duration_seconds',
      help: 'Time from accepted command to rendered answer',
      labelNames: ['verb'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers,
    });
    this.approvals = new Counter({
      name: 'meshops_approvals_total',
      help: 'Approval decisions and executions, by remediation kind and outcome',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.kubeRequests = new Counter({
      name: 'meshops_kube_requests_total',
      help: 'Kubernetes API requests, by method and HTTP code',
      labelNames: ['method', 'code'],
      registers,
    });
    this.kubeErrors = new Counter({
      name: 'meshops_kube_request_errors_total',
      help: 'Kubernetes API requests that failed (HTTP >= 400 or no answer)',
      labelNames: ['method', 'code'],
      registers,
    });
    this.slackRetries = new Counter({
      name: 'meshops_slack_retries_total',
      help: 'Slack redeliveries recognised and dropped (retried commands, events, clicks)',
      labelNames: ['kind'],
      registers,
    });
    this.slackRateLimits = new Counter({
      name: 'meshops_slack_rate_limited_total',
      help: 'Slack Web API calls answered with a rate limit',
      labelNames: ['method'],
      registers,
    });
  }

  onCommand = (verb: string, outcome: Outcome, seconds: number): void => {
    this.commands.inc({ verb, outcome });
    this.commandSeconds.observe({ verb }, seconds);
  };

  onKubeRequest = (r: RequestRecord): void => {
    const code = r.status === 0 ? 'none' : String(r.status);
    this.kubeRequests.inc({ method: r.method, code });
    if (r.status === 0 || r.status >= 400) this.kubeErrors.inc({ method: r.method, code });
  };

  /** Approvals audit steps (proposed, approved, executed, succeeded, failed, ...): ApprovalsOptions.onAudit. */
  onAudit = (kind: string, action: string): void => {
    this.approvals.inc({ kind, outcome: action });
  };

  /** Slack answered 429: SlackAppOptions.onRateLimited. */
  onRateLimited = (method: string): void => {
    this.slackRateLimits.inc({ method });
  };

  /** The same store, counting refused claims (Slack redeliveries) by kind: command, event or click. */
  countRedeliveries(store: DedupStore): DedupStore {
    return {
      claim: async (key, ttlMs) => {
        const first = await store.claim(key, ttlMs);
        if (!first) this.slackRetries.inc({ kind: key.match(/^[a-z]+(?=:)/)?.[0] ?? 'other' });
        return first;
      },
    };
  }
}
