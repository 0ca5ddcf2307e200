// One zod schema for every setting meshops reads from the environment. A bad or missing value stops
// start-up with one line that names the variable and says what it expects.
import { z } from 'zod';

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const optionalText = z
  .string()
  .transform((s) => s.trim())
  .optional()
  .transform((s) => (s ? s : undefined));

const port = (min: number) =>
  z
    .string()
    .regex(/^\d+$/, `a TCP port number (${min}-65535)`)
    .transform(Number)
    .pipe(z.number().min(min, `a TCP port number (${min}-65535)`).max(65535, `a TCP port number (${min}-65535)`));

const wholeNumber = (min: number, max: number, what: string) =>
  z
    .string()
    .regex(/^\d+$/, `${what} (${min}-${max})`)
    .transform(Number)
    .pipe(z.number().min(min, `${what} (${min}-${max})`).max(max, `${what} (${min}-${max})`));

const envSchema = z.object({
  SLACK_BOT_TOKEN: optionalText.pipe(
    z
      .string()
      .regex(/^xoxb-[A-Za-z0-9-]+$/, 'a bot token that starts with xoxb-')
      .optional(),
  ),
  SLACK_APP_TOKEN: optionalText.pipe(
    z
      .string()
      .regex(/^xapp-[A-Za-z0-9-]+$/, 'an app-level token that starts with xapp- (with the connections:write scope)')
      .optional(),
  ),
  SLACK_SIGNING_SECRET: optionalText.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9]{16,}$/, "the app's signing secret (letters and digits, from Basic Information)")
      .optional(),
  ),
  SLACK_MODE: optionalText.pipe(
    z
      .enum(['socket', 'http'], {
        error: 'socket (default, needs SLACK_APP_TOKEN) or http (needs SLACK_SIGNING_SECRET)',
      })
      .optional(),
  ),
  SLACK_API_URL: optionalText.pipe(
    z.url({ protocol: /^https?$/, error: 'an http(s) URL ending in /api/, e.g. https://slack.com/api/' }).optional(),
  ),
  PORT: optionalText.pipe(port(1).optional()),
  HEALTH_PORT: optionalText.pipe(port(0).optional()),
  MESHOPS_KUBE: optionalText.pipe(
    z
      .enum(['auto', 'in-cluster', 'kubeconfig', 'demo'], { error: 'auto (default), in-cluster, kubeconfig or demo' })
      .optional(),
  ),
  MESHOPS_KUBE_CONTEXT: optionalText,
  MESHOPS_KUBE_CONTEXTS: optionalText.pipe(
    z
      .string()
      .regex(/^[^,\s]+(,[^,\s]+)*$/, 'a comma-separated list of kubeconfig context names')
      .optional(),
  ),
  KUBECONFIG: optionalText,
  MESHOPS_CLUSTER_NAME: optionalText.pipe(z.string().max(64, 'a display name of at most 64 characters').optional()),
  MESHOPS_NAMESPACE: optionalText.pipe(
    z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "a Kubernetes namespace name (lower-case letters, digits and '-')")
      .max(63)
      .optional(),
  ),
  MESHOPS_POLICY_FILE: optionalText,
  MESHOPS_ISTIOCTL: optionalText,
  MESHOPS_PROMETHEUS_URL: optionalText.pipe(
    z.url({ protocol: /^https?$/, error: 'an http(s) URL of a Prometheus server' }).optional(),
  ),
  MESHOPS_KIALI_URL: optionalText.pipe(
    z
      .url({
        protocol: /^https?$/,
        error: 'an http(s) URL of Kiali, with its web root (e.g. https://kiali.example.com/kiali)',
      })
      .optional(),
  ),
  MESHOPS_GRAFANA_URL: optionalText.pipe(
    z.url({ protocol: /^https?$/, error: 'an http(s) URL of Grafana (e.g. https://grafana.example.com)' }).optional(),
  ),
  MESHOPS_JAEGER_URL: optionalText.pipe(
    z
      .url({ protocol: /^https?$/, error: "an http(s) URL of Jaeger's UI (e.g. https://jaeger.example.com)" })
      .optional(),
  ),
  MESHOPS_READ_ONLY: optionalText.pipe(z.enum(['true', 'false'], { error: 'true or false' }).optional()),
  MESHOPS_CONSOLE_IMPERSONATION: optionalText.pipe(
    z
      .enum(['true', 'false'], { error: "true or false (allow the console's `as <user>` on a real cluster)" })
      .optional(),
  ),
  MESHOPS_MAX_CONCURRENT_COMMANDS: optionalText.pipe(
    wholeNumber(1, 256, 'how many distinct cluster commands may run at once, a whole number').optional(),
  ),
  MESHOPS_SHUTDOWN_GRACE_MS: optionalText.pipe(
    wholeNumber(1000, 600_000, 'milliseconds answers in flight may take after SIGTERM').optional(),
  ),
  MESHOPS_SHARED_ANSWER_MS: optionalText.pipe(
    wholeNumber(0, 60_000, 'milliseconds a finished read-only answer is shared with the same question').optional(),
  ),
  MESHOPS_WATCH_CACHE: optionalText.pipe(
    z
      .enum(['true', 'false', '1', '0'], {
        error: "true or false (read commands' cluster view from a shared watch cache)",
      })
      .optional(),
  ),
  LOG_LEVEL: optionalText.pipe(z.enum(logLevels, { error: `one of ${logLevels.join(', ')}` }).optional()),
});

export type SlackSettings =
  | { mode: 'socket'; botToken: string; appToken: string; signingSecret?: string; apiUrl?: string }
  | { mode: 'http'; botToken: string; signingSecret: string; port: number; apiUrl?: string };

export interface Settings {
  /** undefined: no Slack tokens, so meshops runs its local console. */
  slack?: SlackSettings;
  /** contexts: several clusters served by one bot (`--cluster <context>` picks one). */
  kube: {
    source: 'auto' | 'in-cluster' | 'kubeconfig' | 'demo';
    context?: string;
    contexts?: string[];
    kubeconfigPath?: string;
  };
  clusterName?: string;
  namespace: string;
  policyFile?: string;
  istioctl?: string;
  prometheusUrl?: string;
  /** Dashboards `/mesh dashboard` links to (base URLs). */
  kialiUrl?: string;
  grafanaUrl?: string;
  jaegerUrl?: string;
  healthPort: number;
  /** Diagnose, never act: no approvals service, no fix buttons (the read-only install sets it). */
  readOnly: boolean;
  /**
   * The console's `as <user>` on a real cluster (it is always on with the demo). Off by default: switching who
   * you are makes the two-person rule one typed line.
   */
  consoleImpersonation: boolean;
  /** Distinct cluster commands running at once; the rest are told "queued" (MESHOPS_MAX_CONCURRENT_COMMANDS). */
  maxConcurrentCommands: number;
  /**
   * A finished read-only answer is given to the same question for this long (MESHOPS_SHARED_ANSWER_MS). Default 0:
   * shared only while it runs, so "fixed it, ask again" reads the cluster again.
   */
  sharedAnswerMs: number;
  /**
   * Read commands take their snapshot from a shared, watch-fed cache per cluster (src/kube/watch-cache.ts) instead
   * of listing every kind per command (MESHOPS_WATCH_CACHE). Default on; `false` or `0` turns it off (see
   * docs/architecture.md).
   */
  watchCache: boolean;
  /**
   * After SIGTERM, answers in flight have this long to finish (MESHOPS_SHUTDOWN_GRACE_MS, default 20 s); the process
   * exits within a few seconds more, under the pod's terminationGracePeriodSeconds (45).
   */
  shutdownGraceMs: number;
  logLevel: (typeof logLevels)[number];
}

export class SettingsError extends Error {
  readonly variable: string;
  constructor(variable: string, expected: string) {
    super(`Invalid setting ${variable}: expected ${expected}`);
    this.name = 'SettingsError';
    this.variable = variable;
  }
}

/** Parse settings from an environment (process.env by default). Throws SettingsError with one line. */
export function loadSettings(env: Record<string, string | undefined> = process.env): Settings {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SettingsError(String(issue?.path[0] ?? 'environment'), issue?.message ?? 'a valid value');
  }
  const e = parsed.data;
  const anySlack = e.SLACK_BOT_TOKEN || e.SLACK_APP_TOKEN || e.SLACK_SIGNING_SECRET;
  let slack: SlackSettings | undefined;
  if (anySlack) {
    if (!e.SLACK_BOT_TOKEN)
      throw new SettingsError(
        'SLACK_BOT_TOKEN',
        'a bot token that starts with xoxb- (OAuth & Permissions) when any Slack setting is given',
      );
    const mode = e.SLACK_MODE ?? (e.SLACK_APP_TOKEN || !e.SLACK_SIGNING_SECRET ? 'socket' : 'http');
    if (mode === 'socket') {
      if (!e.SLACK_APP_TOKEN)
        throw new SettingsError(
          'SLACK_APP_TOKEN',
          'an app-level token that starts with xapp- for Socket Mode (or set SLACK_MODE=http with SLACK_SIGNING_SECRET)',
        );
      slack = {
        mode,
        botToken: e.SLACK_BOT_TOKEN,
        appToken: e.SLACK_APP_TOKEN,
        signingSecret: e.SLACK_SIGNING_SECRET,
        apiUrl: e.SLACK_API_URL,
      };
    } else {
      if (!e.SLACK_SIGNING_SECRET)
        throw new SettingsError('SLACK_SIGNING_SECRET', "the app's signing secret for HTTP mode");
      slack = {
        mode,
        botToken: e.SLACK_BOT_TOKEN,
        signingSecret: e.SLACK_SIGNING_SECRET,
        port: e.PORT ?? 3000,
        apiUrl: e.SLACK_API_URL,
      };
    }
  }
  return {
    slack,
    kube: {
      source: e.MESHOPS_KUBE ?? 'auto',
      context: e.MESHOPS_KUBE_CONTEXT,
      contexts: e.MESHOPS_KUBE_CONTEXTS?.split(','),
      kubeconfigPath: e.KUBECONFIG,
    },
    clusterName: e.MESHOPS_CLUSTER_NAME,
    namespace: e.MESHOPS_NAMESPACE ?? 'meshops',
    policyFile: e.MESHOPS_POLICY_FILE,
    istioctl: e.MESHOPS_ISTIOCTL,
    prometheusUrl: e.MESHOPS_PROMETHEUS_URL,
    kialiUrl: e.MESHOPS_KIALI_URL,
    grafanaUrl: e.MESHOPS_GRAFANA_URL,
    jaegerUrl: e.MESHOPS_JAEGER_URL,
    healthPort: e.HEALTH_PORT ?? 8080,
    readOnly: e.MESHOPS_READ_ONLY === 'true',
    consoleImpersonation: e.MESHOPS_CONSOLE_IMPERSONATION === 'true',
    maxConcurrentCommands: e.MESHOPS_MAX_CONCURRENT_COMMANDS ?? 8,
    sharedAnswerMs: e.MESHOPS_SHARED_ANSWER_MS ?? 0,
    watchCache: e.MESHOPS_WATCH_CACHE !== 'false' && e.MESHOPS_WATCH_CACHE !== '0',
    shutdownGraceMs: e.MESHOPS_SHUTDOWN_GRACE_MS ?? 20_000,
    logLevel: e.LOG_LEVEL ?? 'info',
  };
}
