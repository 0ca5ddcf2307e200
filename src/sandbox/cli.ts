// `meshops sandbox [--port N] [--kubeconfig FILE]`: serve the demo mesh on a local sandbox API server,
// write a kubeconfig for it, and run until SIGINT/SIGTERM.
import { resolve } from 'node:path';
import { z } from 'zod';
import type { Sandbox } from './server.ts';
import { startDemoSandbox } from '../demo/demo-mesh.ts';

export const DEFAULT_KUBECONFIG = '.meshops/sandbox.kubeconfig';

const argsSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(0),
  kubeconfig: z.string().min(1).default(DEFAULT_KUBECONFIG),
  host: z.string().min(1).default('127.0.0.1'),
});

export type SandboxCliArgs = z.infer<typeof argsSchema>;

export function parseSandboxArgs(argv: readonly string[]): SandboxCliArgs {
  const raw: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const m = a.match(/^--(port|kubeconfig|host)(?:=(.*))?$/);
    if (!m)
      throw new Error(
        `meshops sandbox: unknown argument "${a}" (usage: meshops sandbox [--port N] [--kubeconfig FILE] [--host ADDR])`,
      );
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`meshops sandbox: --${m[1]} needs a value`);
    raw[m[1] as string] = value;
  }
  const r = argsSchema.safeParse(raw);
  if (!r.success)
    throw new Error(`meshops sandbox: ${r.error.issues.map((x) => `--${x.path.join('.')}: ${x.message}`).join('; ')}`);
  return r.data;
}

export interface SandboxCliIo {
  out: (line: string) => void;
  /** Resolves when the process should stop; default: the first SIGINT or SIGTERM. */
  untilStopped?: () => Promise<void>;
  /** Called once the sandbox is up (tests use it to reach the server). */
  onStarted?: (sandbox: Sandbox, kubeconfigPath: string) => void;
}

function signals(): Promise<void> {
  return new Promise((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export async function runSandboxCli(
  argv: string[],
  io: SandboxCliIo = { out: (l) => process.stdout.write(`${l}\n`) },
): Promise<void> {
  const args = parseSandboxArgs(argv);
  // The same demo the console uses: simulated istiods follow the pods, with the demo's faults to find.
  const sandbox = await startDemoSandbox({ host: args.host, port: args.port });
  const path = resolve(args.kubeconfig);
  try {
    await sandbox.writeKubeconfig(path);
    io.out(`meshops sandbox: demo mesh (istio-system, bookinfo) served at ${sandbox.url}`);
    io.out(`kubeconfig written to ${path}`);
    io.out('');
    io.out(`  kubectl --kubeconfig ${path} get pods -A`);
    io.out(`  kubectl --kubeconfig ${path} get virtualservices -n bookinfo`);
    io.out(`  KUBECONFIG=${path} npm start`);
    io.out('');
    io.out('Press Ctrl-C to stop.');
    io.onStarted?.(sandbox, path);
    await (io.untilStopped ?? signals)();
  } finally {
    await sandbox.close();
    io.out('meshops sandbox: stopped');
  }
}
