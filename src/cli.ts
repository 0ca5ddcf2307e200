// `meshops <subcommand>`: run one command and print it, serve the demo sandbox, analyze files.
// Only what every subcommand needs is imported here: the cluster client, the features and the logger load with
// the subcommand that uses them, so `meshops analyze -f` (offline) never loads the Kubernetes or Slack clients.
import { SettingsError, loadSettings } from './config.ts';
import { loadDemoModule } from './kube/demo-loader.ts';

const USAGE = `Usage:
  meshops run "<command>"      run one /mesh command and print the answer (e.g. meshops run "config bookinfo")
  meshops console              the interactive console (what npm start does without Slack tokens)
  meshops sandbox [--port N] [--kubeconfig FILE]
                               serve the demo mesh's API server and write a kubeconfig for kubectl
  meshops analyze -f FILE ...  analyze Istio YAML offline (see meshops analyze --help)`;

export async function runCli(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'run': {
      const text = rest.join(' ').trim();
      if (!text) {
        process.stderr.write(`meshops run needs a command, e.g. meshops run "config bookinfo"\n`);
        return 2;
      }
      const settings = loadSettings();
      const [{ connect }, { createLogger }, { assemble }, { renderedToText }] = await Promise.all([
        import('./kube/connect.ts'),
        import('./log.ts'),
        import('./meshops.ts'),
        import('./blocks/block-kit.ts'),
      ]);
      const log = createLogger({
        level: process.env.LOG_LEVEL ? settings.logLevel : 'error',
        destination: process.stderr,
      });
      const connection = await connect(settings);
      try {
        const { router } = await assemble(settings, connection, log);
        const reply = await router.handle(text, { userId: process.env.USER ?? 'cli', source: 'cli' });
        process.stdout.write(renderedToText(reply.rendered) + '\n');
        return reply.outcome === 'ok' ? 0 : 1;
      } finally {
        await connection.close();
      }
    }
    case 'console': {
      // Returns only when the console has ended (the launcher exits the process after this).
      const { main } = await import('./main.ts');
      await main();
      return 0;
    }
    case 'sandbox': {
      const { runSandboxCli } = await loadDemoModule(
        'meshops sandbox (the demo mesh)',
        () => import('./sandbox/cli.ts'),
      );
      await runSandboxCli(rest);
      return 0;
    }
    case 'analyze': {
      const { runAnalyzeCli } = await import('./analyze-cli.ts');
      return runAnalyzeCli(rest);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE + '\n');
      return sub === undefined ? 2 : 0;
    default:
      process.stderr.write(`meshops: unknown subcommand "${sub}".\n${USAGE}\n`);
      return 2;
  }
}

if (import.meta.main) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(
        `meshops: ${err instanceof SettingsError || err instanceof Error ? err.message : String(err)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
