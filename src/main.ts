// Start-up: settings, logger, cluster, router; then Slack when tokens are set, else the local console.
import { SettingsError, loadSettings } from './config.ts';
import { connect } from './kube/connect.ts';
import { createLogger } from './log.ts';
import { assemble } from './meshops.ts';
import { runConsole } from './console/repl.ts';
import { Metrics } from './ops/metrics.ts';

async function main(): Promise<void> {
  let settings;
  try {
    settings = loadSettings();
  } catch (err) {
    if (err instanceof SettingsError) {
      process.stderr.write(`meshops: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // In the console, logs would drown the answers: keep them to warnings unless asked.
  const consoleMode = !settings.slack;
  const log = createLogger({ level: consoleMode && !process.env.LOG_LEVEL ? 'warn' : settings.logLevel, destination: consoleMode ? process.stderr : undefined });
  // One registry for the process: cluster API calls, commands, approvals and Slack all count into it.
  const metrics = new Metrics();
  const connection = await connect(settings, { onRequest: metrics.onKubeRequest });
  const meshops = assemble(settings, connection, log, {}, { onCommand: metrics.onCommand });
  if (!settings.slack) {
    const banner = [
      `meshops console — cluster "${connection.defaultCluster}": ${connection.description}.`,
      'Type a command as you would after /mesh, e.g. `config bookinfo`, `version`, `help`. `exit` leaves.',
      'To connect Slack, set SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode) — see README.md.',
    ].join('\n');
    await runConsole({ router: meshops.router, banner });
    await connection.close();
    return;
  }
  const { startSlack } = await import('./slack/start.ts');
  await startSlack({ settings, slack: settings.slack, connection, meshops, log, metrics });
}

main().catch((err: unknown) => {
  process.stderr.write(`meshops: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
