// Start-up: settings, logger, cluster, router; then Slack when tokens are set, else the local console.
import { SettingsError, loadSettings } from './config.ts';
import { connect } from './kube/connect.ts';
import { createLogger } from './log.ts';
import { assemble } from './meshops.ts';
import { ConsoleMessenger, runConsole } from './console/repl.ts';
import { impersonationFor } from './console/builtins.ts';
import { Metrics } from './ops/metrics.ts';

/**
 * Runs the bot until it is done: the console until `exit` (or end of input); in Slack mode it never
 * resolves (SIGTERM/SIGINT drain and exit the process).
 */
export async function main(): Promise<void> {
  let settings: ReturnType<typeof loadSettings>;
  try {
    settings = loadSettings();
  } catch (err) {
    if (err instanceof SettingsError) {
      process.stderr.write(`meshops: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // In the console, logs would drown the answers: errors only unless asked (warnings appear in the banner).
  const consoleMode = !settings.slack;
  const log = createLogger({
    level: consoleMode && !process.env.LOG_LEVEL ? 'error' : settings.logLevel,
    destination: consoleMode ? process.stderr : undefined,
  });
  // Nothing crashes the bot: a stray rejection in background work is logged whole and the bot carries on
  // (Node's default would exit and drop every answer in flight).
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection (the bot carries on)'));
  process.on('uncaughtException', (err) => log.error({ err }, 'uncaught exception (the bot carries on)'));
  // One registry for the process: cluster API calls, commands, approvals and Slack all count into it.
  const metrics = new Metrics();
  const connection = await connect(settings, { onRequest: metrics.onKubeRequest });
  let meshops: Awaited<ReturnType<typeof assemble>>;
  try {
    meshops = await assemble(settings, connection, log, {
      hooks: { onCommand: metrics.onCommand },
      onAudit: (kind, action) => metrics.approvals.inc({ kind, outcome: action }),
    });
  } catch (err) {
    // A malformed policy file stops start-up with the line named (PolicyError's message).
    await connection.close();
    throw err;
  }
  if (!settings.slack) {
    const demo = connection.source === 'demo';
    // On a real cluster, `as <user>` would make the two-person rule one typed line: off unless a setting allows it.
    const impersonation = impersonationFor(connection.source, settings.consoleImpersonation);
    const banner = [
      `meshops console — cluster "${connection.defaultCluster}": ${connection.description}${connection.choice ? ` (${connection.choice})` : ''}.`,
      ...(demo ? [] : ['This is a real cluster: answers read it, and a fix that someone approves changes it.']),
      'Type a command as you would after /mesh, e.g. `stale bookinfo`, `analyze bookinfo`, `help`. `exit` leaves.',
      impersonation.allowed
        ? 'Fixes need a second person: `as bob` switches who you are, `click N` presses button [N].'
        : '`click N` presses button [N]. `as <user>` is off on a real cluster (MESHOPS_CONSOLE_IMPERSONATION=true allows it): approvals come from a second person, in Slack.',
      'To connect Slack, set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode) — see README.md.',
      ...(meshops.services.policyWarning ? [`Note: ${meshops.services.policyWarning}`] : []),
    ].join('\n');
    const messenger = new ConsoleMessenger(process.stdout);
    meshops.attachMessenger(messenger);
    meshops.approvals?.start();
    await runConsole({
      router: meshops.router,
      banner,
      messenger,
      clickHandlers: meshops.approvals?.clickHandlers,
      impersonation,
    });
    await meshops.approvals?.stop();
    await connection.close();
    return;
  }
  const { startSlack } = await import('./slack/start.ts');
  await startSlack({ settings, slack: settings.slack, connection, meshops, log, metrics });
  await new Promise<never>(() => {});
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    process.stderr.write(`meshops: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
