// One place turns errors into words for people. Every failure gets a code; `explain` says it the way
// people should read it (what went wrong and what to type instead; Kubernetes' own reason; Slack's
// error; or a short apology with a reference id) and logs it whole, causes included, with that ref.
import { randomBytes } from 'node:crypto';
import { KubeApiError, KubeUnreachableError } from './kube/client.ts';
import type { Logger } from './log.ts';

export type ErrorCode =
  | 'user_input'
  | 'kube_forbidden'
  | 'kube_not_found'
  | 'kube_conflict'
  | 'kube_invalid'
  | 'kube_error'
  | 'kube_unreachable'
  | 'slack_error'
  | 'internal';

export class UserError extends Error {
  readonly code: ErrorCode = 'user_input';
  /** What to type instead, shown under the message. */
  readonly hint?: string;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = 'UserError';
    this.hint = hint;
  }
}

export function referenceId(): string {
  return randomBytes(4).toString('hex');
}

export interface Explained {
  code: ErrorCode;
  /** The person did something to fix (user_error) or we / the cluster failed (error). */
  outcome: 'user_error' | 'error';
  /** Slack mrkdwn, with its emoji; the caller places it. */
  text: string;
  /** Set when the log holds the details under this id. */
  ref?: string;
}

const mrkdwn = (s: string) => s.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));

/** A Slack Web API platform error's code (`not_in_channel`, …), read without importing a front door. */
function slackCode(err: unknown): string | undefined {
  if (!err || typeof err !== 'object' || (err as { code?: unknown }).code !== 'slack_webapi_platform_error')
    return undefined;
  const e = (err as { data?: { error?: unknown } }).data?.error;
  return typeof e === 'string' ? e : 'unknown_error';
}

function kubeCode(err: KubeApiError): ErrorCode {
  if (err.status === 403) return 'kube_forbidden';
  if (err.status === 404) return 'kube_not_found';
  if (err.status === 409) return 'kube_conflict';
  if (err.status === 422) return 'kube_invalid';
  return 'kube_error';
}

/**
 * Any failure into words, logged once with its reference. `what` names what was being done
 * ("answering /mesh stale bookinfo", "handling a click") for the log line.
 */
export function explain(err: unknown, log: Logger, what: string): Explained {
  if (err instanceof UserError) {
    return {
      code: err.code,
      outcome: 'user_error',
      text: `:warning: ${err.message}${err.hint ? `\n${err.hint}` : ''}`,
    };
  }
  const ref = referenceId();
  if (err instanceof KubeApiError) {
    const code = kubeCode(err);
    log.warn({ err, ref, code, status: err.status, reason: err.reason }, `${what}: the cluster API refused a request`);
    const words =
      code === 'kube_forbidden'
        ? 'The cluster refused meshops'
        : code === 'kube_not_found'
          ? 'The cluster could not find it'
          : 'The cluster API answered with an error';
    return { code, outcome: 'error', ref, text: `:x: ${words}: ${mrkdwn(err.message)}\n_ref ${ref}_` };
  }
  if (err instanceof KubeUnreachableError) {
    log.warn({ err, ref, code: 'kube_unreachable', server: err.server }, `${what}: the cluster API is unreachable`);
    return { code: 'kube_unreachable', outcome: 'error', ref, text: `:x: ${mrkdwn(err.message)}.\n_ref ${ref}_` };
  }
  const slack = slackCode(err);
  if (slack) {
    log.warn({ err, ref, code: 'slack_error', slack }, `${what}: Slack refused a call`);
    return {
      code: 'slack_error',
      outcome: 'error',
      ref,
      text: `:x: Slack refused meshops' answer (\`${mrkdwn(slack)}\`). The details are in the bot's log under ref \`${ref}\`.`,
    };
  }
  log.error({ err, ref, code: 'internal' }, `${what} failed`);
  return {
    code: 'internal',
    outcome: 'error',
    ref,
    text: `:x: Sorry, something went wrong on our side. The details are in the bot's log under ref \`${ref}\`.`,
  };
}
