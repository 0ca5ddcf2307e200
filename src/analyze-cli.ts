// `meshops analyze`: istioctl analyze's offline form, in-process. Files alone, or (--live) as if
// applied on top of the live cluster. Exits 79 when errors are found, like istioctl.
import { readFile } from 'node:fs/promises';
import { count } from './blocks/count.ts';
import { analysisInputs, analyzerNames, UnknownAnalyzerError } from './mesh/analyzers/index.ts';
import { YamlLoadError, analyzeFiles, readYamlFiles } from './mesh/analyzers/load.ts';
import { parseSuppression, type Suppression } from './mesh/analyzers/suppress.ts';
import { MeshConfigError, meshConfigFrom } from './mesh/mesh-config.ts';
import {
  type ReportedMessage,
  docUrl,
  mergeMessages,
  messageToPlainLine,
  notCheckedOf,
  notCheckedText,
} from './mesh/analyze-report.ts';
import { ISTIOCTL_FOUND_ISSUES, istioctlAnalyze } from './istio/istioctl.ts';

const USAGE = `Usage: meshops analyze -f FILE [-f FILE ...] [options]
  -f, --file FILE        Istio/Kubernetes YAML to analyze (repeatable)
  --live                 analyze the files as if applied on top of the live cluster (kubeconfig or in-cluster)
  -n, --namespace NS     report only messages about this namespace
  --mesh-config FILE     mesh config YAML merged over Istio's defaults
  --analyzer NAME        run only this analyzer (Istio's name, e.g. virtualservice.GatewayAnalyzer; repeatable)
  --istioctl             also run istioctl analyze on the same files (MESHOPS_ISTIOCTL or PATH) and merge
  -S, --suppress C=RES   do not report code C on resources matching RES ('<Kind> <name>.<namespace>', * as
                         wildcard), e.g. -S "IST0102=Namespace default" (repeatable); the annotation
                         galley.istio.io/analyze-suppress: "IST0108,IST0103" (or "*") on an object does the same
  -o, --output FORMAT    text (default) or json
  --list-analyzers       print the analyzer names
Exit codes: 0 no errors, ${ISTIOCTL_FOUND_ISSUES} errors found (as istioctl), 2 bad usage or unreadable input.`;

interface CliArgs {
  files: string[];
  live: boolean;
  namespace?: string;
  meshConfig?: string;
  analyzers: string[];
  istioctl: boolean;
  output: 'text' | 'json';
  list: boolean;
  suppress: Suppression[];
}

function parseArgs(argv: string[]): CliArgs {
  const a: CliArgs = {
    files: [],
    live: false,
    analyzers: [],
    istioctl: false,
    output: 'text',
    list: false,
    suppress: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i] as string;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${w} needs a value`);
      return v;
    };
    if (w === '-f' || w === '--file' || w === '--filename') a.files.push(value());
    else if (w === '--live' || w === '-k' || w === '--use-kube') a.live = true;
    else if (w === '-n' || w === '--namespace') a.namespace = value();
    else if (w === '--mesh-config' || w === '--meshConfigFile') a.meshConfig = value();
    else if (w === '--analyzer') a.analyzers.push(value());
    else if (w === '--istioctl') a.istioctl = true;
    else if (w === '-S' || w === '--suppress') {
      const text = value();
      const s = parseSuppression(text);
      if (!s)
        throw new UsageError(
          `--suppress takes CODE=RESOURCE, e.g. --suppress "IST0102=Namespace default" or "IST0101=VirtualService *.bookinfo", not ${text}`,
        );
      a.suppress.push(s);
    } else if (w === '-o' || w === '--output') {
      const o = value();
      if (o !== 'json' && o !== 'text') throw new UsageError(`-o takes text or json, not ${o}`);
      a.output = o;
    } else if (w === '--list-analyzers') a.list = true;
    else if (w === '-h' || w === '--help') throw new UsageError('');
    else if (!w.startsWith('-')) a.files.push(w);
    else throw new UsageError(`unknown option ${w}`);
  }
  return a;
}

class UsageError extends Error {}

export async function runAnalyzeCli(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      err.write((e.message ? `meshops analyze: ${e.message}\n` : '') + USAGE + '\n');
      return 2;
    }
    throw e;
  }
  if (args.list) {
    out.write(analyzerNames().join('\n') + '\n');
    return 0;
  }
  if (args.files.length === 0) {
    err.write(`meshops analyze: give at least one file with -f\n${USAGE}\n`);
    return 2;
  }
  try {
    const files = await readYamlFiles(args.files);
    const meshConfig = args.meshConfig
      ? meshConfigFrom(await readFile(args.meshConfig, 'utf8'), args.meshConfig)
      : meshConfigFrom();
    // Live, only what the chosen analyzers read is listed; what could not be is said under "not checked".
    const live = args.live ? await liveBase(args.analyzers) : undefined;
    // As istioctl: objects without a namespace land in -n (else default); offline, the default ingress
    // gateway Service/Pod are assumed present, as Istio's analyzer harness does.
    const {
      snapshot,
      messages: ours,
      coverage,
    } = analyzeFiles(files, {
      base: live?.objects ?? [],
      ...(live?.coverage ? { coverage: live.coverage } : {}),
      meshConfig,
      analyzers: args.analyzers,
      suppress: args.suppress,
      defaultNamespace: args.namespace ?? 'default',
      defaultIngress: !args.live,
    });
    for (const line of notCheckedText(notCheckedOf(coverage))) err.write(`meshops analyze: ${line}\n`);
    let messages: ReportedMessage[] = mergeMessages(ours);
    if (args.istioctl) {
      const r = await istioctlAnalyze({ binary: process.env.MESHOPS_ISTIOCTL, files: args.files });
      if (r.status === 'ok') messages = mergeMessages(ours, r.messages);
      else err.write(`meshops analyze: istioctl ${r.status}: ${r.reason}\n`);
    }
    if (args.namespace)
      messages = messages.filter((m) => m.namespace === args.namespace || m.resource === `Namespace ${args.namespace}`);
    if (args.output === 'json') {
      const json = messages.map((m) => ({
        code: m.code,
        documentationUrl: docUrl(m.code),
        level: m.level,
        message: m.text,
        origin: m.resource,
        source: m.source,
        ...(m.origin ? { file: m.origin, line: m.line } : {}),
      }));
      out.write(JSON.stringify(json, null, 2) + '\n');
    } else if (messages.length === 0) {
      out.write(
        `✔ No validation issues found when analyzing ${args.files.join(', ')} (${count(snapshot.objects.length, 'object')}).\n`,
      );
    } else {
      out.write(messages.map(messageToPlainLine).join('\n') + '\n');
    }
    return messages.some((m) => m.level === 'Error') ? ISTIOCTL_FOUND_ISSUES : 0;
  } catch (e) {
    if (e instanceof YamlLoadError || e instanceof MeshConfigError || e instanceof UnknownAnalyzerError) {
      err.write(`meshops analyze: ${e.message}\n`);
      return 2;
    }
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      err.write(`meshops analyze: ${(e as Error).message}\n`);
      return 2;
    }
    throw e;
  }
}

async function liveBase(analyzers: readonly string[]) {
  const { loadSettings } = await import('./config.ts');
  const { connect } = await import('./kube/connect.ts');
  const { loadLiveSnapshot } = await import('./mesh/live-snapshot.ts');
  // Read-only, and --live means the cluster the kubeconfig points at (as istioctl): not the console's demo default.
  const connection = await connect(loadSettings(), {}, { localDefault: 'cluster' });
  try {
    const cluster = connection.clusters[0];
    if (!cluster) return undefined;
    const snapshot = await loadLiveSnapshot(cluster.kube, { inputs: analysisInputs(analyzers) });
    return { objects: [...snapshot.objects], coverage: snapshot.coverage };
  } finally {
    await connection.close();
  }
}
