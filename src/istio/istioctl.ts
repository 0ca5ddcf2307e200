// Optional cross-check with the real istioctl. It runs through execa with an argument array and a
// timeout: no shell, and no user text anywhere but in validated argument positions.
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { z } from 'zod';

/** istioctl's exit code when analyze found issues at the failure threshold (istioctl/pkg/util exit codes). */
export const ISTIOCTL_FOUND_ISSUES = 79;

const istioctlMessageSchema = z.looseObject({
  code: z.string(),
  level: z.string(),
  message: z.string(),
  origin: z.string().optional().default(''),
  documentationUrl: z.string().optional(),
});
export type IstioctlMessage = z.infer<typeof istioctlMessageSchema>;

export type IstioctlResult =
  | { status: 'absent'; reason: string }
  | { status: 'ok'; binary: string; messages: IstioctlMessage[] }
  | { status: 'failed'; binary: string; reason: string };

/** A configured path, else the first `istioctl` on PATH; undefined when there is none. */
export async function findIstioctl(configured?: string, pathEnv = process.env.PATH ?? ''): Promise<string | undefined> {
  const candidates = configured
    ? [configured]
    : pathEnv
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, 'istioctl'));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return c;
    } catch {
      // not here: keep looking
    }
  }
  return undefined;
}

export interface IstioctlAnalyzeOptions {
  binary?: string;
  namespace?: string;
  allNamespaces?: boolean;
  kubeconfig?: string;
  context?: string;
  timeoutMs?: number;
  files?: string[];
}

/** Runs `istioctl analyze -o json`; never throws: absence, time-outs and failures come back as data. */
export async function istioctlAnalyze(options: IstioctlAnalyzeOptions): Promise<IstioctlResult> {
  const binary = await findIstioctl(options.binary);
  if (!binary)
    return {
      status: 'absent',
      reason: options.binary
        ? `istioctl not found at ${options.binary}`
        : 'no istioctl on PATH (set MESHOPS_ISTIOCTL to use one)',
    };
  const args = ['analyze', '-o', 'json'];
  if (options.allNamespaces) args.push('--all-namespaces');
  else if (options.namespace) args.push('--namespace', options.namespace);
  if (options.kubeconfig) args.push('--kubeconfig', options.kubeconfig);
  if (options.context) args.push('--context', options.context);
  args.push(...(options.files ?? []));
  // Loaded here, not at the top: `meshops analyze -f` without --istioctl never pays for execa's ~110 modules.
  const { execa } = await import('execa');
  const result = await execa(binary, args, {
    timeout: options.timeoutMs ?? 30_000,
    reject: false,
    stdin: 'ignore',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (result.timedOut)
    return {
      status: 'failed',
      binary,
      reason: `istioctl analyze did not finish within ${Math.round((options.timeoutMs ?? 30_000) / 1000)}s`,
    };
  if (result.exitCode !== 0 && result.exitCode !== ISTIOCTL_FOUND_ISSUES) {
    const err = (result.stderr || result.stdout || '').toString().trim().split('\n').slice(-3).join(' ');
    return {
      status: 'failed',
      binary,
      reason: `istioctl analyze exited with ${result.exitCode ?? result.signal}: ${err.slice(0, 300)}`,
    };
  }
  const out = result.stdout.toString().trim();
  if (!out || out === 'null') return { status: 'ok', binary, messages: [] };
  try {
    return { status: 'ok', binary, messages: z.array(istioctlMessageSchema).parse(JSON.parse(out)) };
  } catch {
    return { status: 'failed', binary, reason: 'istioctl analyze printed something that is not its JSON message list' };
  }
}
