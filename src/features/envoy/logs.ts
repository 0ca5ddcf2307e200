// `/mesh logs <workload|pod> [-n ns] [--since 10m] [--code 5xx] [--grep text] [--flag UH]`: the istio-proxy
// access logs of every pod of a workload, read within bounds (time, lines, bytes, pods), parsed in Istio's
// default TEXT and JSON formats and summarized: by response code, by response flag (what each means in
// Istio terms), by upstream cluster and version, slowest paths. `/mesh logs istiod` is istiod's own log.
import { z } from 'zod';
import { defineCommand, namespaceArg } from '../../command.ts';
import { UserError } from '../../errors.ts';
import { type AccessLogEntry, parseAccessLogLine } from '../../envoy/access-log.ts';
import { allResponseFlags, responseFlag } from '../../envoy/response-flags.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/objects.ts';
import { readMeshConfig } from '../../mesh/live-snapshot.ts';
import { findProxyContainer } from '../../mesh/sidecar-proxy.ts';
import { MeshSnapshot } from '../../mesh/snapshot.ts';
import { parseWorkloadRef, resolveWorkload, type WorkloadRef } from '../../mesh/workload-ref.ts';
import { type IstiodLogsReport, readIstiodLogReport, renderIstiodLogs } from './istiod-logs.ts';
import {
  LOG_BOUNDS,
  type LogFilters,
  type MatchedLine,
  type PodLogRead,
  type ProxyLogsReport,
  renderProxyLogs,
} from './logs-words.ts';

export { LOG_BOUNDS, type LogFilters, type MatchedLine, type PodLogRead, type ProxyLogsReport } from './logs-words.ts';

export const USAGE =
  '/mesh logs <workload|pod|app=label> [-n namespace] [--since 10m] [--code 5xx|503|4xx] [--grep text] [--flag UH] | /mesh logs istiod [--grep text] [--since 1h]';

const MAX_SINCE_SECONDS = 24 * 3600;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600 };

/** `30s`, `10m`, `2h` → seconds (at most a day). */
export const sinceSchema = z
  .string()
  .regex(/^\d{1,5}[smh]$/i, 'write a duration like `30s`, `10m` or `2h`')
  .transform((s) => Number(s.slice(0, -1)) * (UNIT_SECONDS[s.slice(-1).toLowerCase()] ?? 60))
  .refine((n) => n > 0 && n <= MAX_SINCE_SECONDS, 'write a duration above 0 and at most `24h`');

const codeSchema = z
  .string()
  .regex(/^([1-5]xx|[1-5]\d\d|0)$/i, 'write a class like `5xx` or `4xx`, or a code like `503` (`0`: no response)')
  .transform((s) => s.toLowerCase());

const flagSchema = z
  .string()
  .max(40)
  .transform((s, ctx) => {
    const f = responseFlag(s);
    if (!f) {
      ctx.addIssue({
        code: 'custom',
        message: `an Envoy response flag: one of ${allResponseFlags()
          .map((x) => x.short)
          .join(', ')}`,
      });
      return z.NEVER;
    }
    return f.short;
  });

export type LogsTarget = { kind: 'istiod' } | { kind: 'workload'; ref: WorkloadRef };

const argsSchema = z
  .object({
    words: z.array(z.string().max(253)).max(4).default([]),
    namespace: namespaceArg.optional(),
    since: sinceSchema.optional(),
    code: codeSchema.optional(),
    grep: z.string().min(1).max(200, 'at most 200 characters of text to look for').optional(),
    flag: flagSchema.optional(),
  })
  .transform((a) => {
    if (a.words.length === 0)
      throw new UserError('Whose logs? Name a workload, a pod or `istiod`.', `Usage: \`${USAGE}\``);
    let target: LogsTarget;
    if (a.words.length === 1 && a.words[0] === 'istiod') {
      if (a.code || a.flag)
        throw new UserError(
          '`--code` and `--flag` are for access logs; istiod writes none.',
          'Use `/mesh logs istiod --grep <text>`, or ask for a workload: `/mesh logs reviews-v1 -n bookinfo --code 5xx`.',
        );
      target = { kind: 'istiod' };
    } else {
      const text = [...a.words, ...(a.namespace ? ['-n', a.namespace] : [])].join(' ');
      target = { kind: 'workload', ref: parseWorkloadRef(text) };
    }
    const namespace = target.kind === 'workload' ? target.ref.namespace : undefined;
    const filters: LogFilters = { code: a.code, grep: a.grep, flag: a.flag };
    return { target, namespace, since: a.since, filters };
  });

export type LogsResult = ProxyLogsReport | IstiodLogsReport;

function codeMatches(code: number, filter: string): boolean {
  if (filter.endsWith('xx')) return Math.floor(code / 100) === Number(filter[0]);
  return code === Number(filter);
}

export function matchesFilters(line: string, e: AccessLogEntry, f: LogFilters): boolean {
  if (f.code && !codeMatches(e.responseCode, f.code)) return false;
  if (f.flag && !e.responseFlags.includes(f.flag)) return false;
  if (f.grep && !line.toLowerCase().includes(f.grep.toLowerCase())) return false;
  return true;
}

const telemetrySchema = z.looseObject({
  metadata: z.looseObject({ namespace: z.string().optional(), name: z.string() }),
  spec: z
    .looseObject({
      accessLogging: z
        .array(
          z.looseObject({
            disabled: z.union([z.boolean(), z.looseObject({ value: z.boolean().optional() })]).optional(),
          }),
        )
        .optional(),
    })
    .optional(),
});

/**
 * Istio writes access logs when meshConfig.accessLogFile is set, or a Telemetry resource (mesh-wide in the
 * root namespace, or in the workload's namespace) has an accessLogging entry that is not disabled.
 */
export async function accessLoggingState(
  kube: KubeClient,
  namespace: string,
): Promise<{ on: boolean | undefined; why: string }> {
  const why: string[] = [];
  let file: string | undefined;
  let rootNamespace = 'istio-system';
  try {
    const mesh = await readMeshConfig(kube);
    file = typeof mesh.meshConfig.accessLogFile === 'string' ? mesh.meshConfig.accessLogFile : undefined;
    if (typeof mesh.meshConfig.rootNamespace === 'string') rootNamespace = mesh.meshConfig.rootNamespace;
    if (file) return { on: true, why: `meshConfig.accessLogFile is \`${file}\` (${mesh.source})` };
    why.push(`meshConfig.accessLogFile is empty (${mesh.source})`);
  } catch (err) {
    return { on: undefined, why: `the mesh config could not be read: ${(err as Error).message}` };
  }
  try {
    const telemetries = (await kube.list('Telemetry')).flatMap((t) => {
      const p = telemetrySchema.safeParse(t);
      return p.success ? [p.data] : [];
    });
    const enabling = telemetries.filter(
      (t) =>
        (t.metadata.namespace === rootNamespace || t.metadata.namespace === namespace) &&
        (t.spec?.accessLogging ?? []).some(
          (l) => l.disabled !== true && !(typeof l.disabled === 'object' && l.disabled.value === true),
        ),
    );
    const first = enabling[0];
    if (first)
      return { on: true, why: `Telemetry ${first.metadata.namespace}/${first.metadata.name} turns access logging on` };
    why.push(`no Telemetry resource in \`${rootNamespace}\` or \`${namespace}\` turns access logging on`);
    return { on: false, why: why.join('; ') };
  } catch (err) {
    return {
      on: undefined,
      why: `${why.join('; ')}; Telemetry resources could not be listed: ${(err as Error).message}`,
    };
  }
}

async function readPod(kube: KubeClient, pod: KubeObject, sinceSeconds: number, out: MatchedLine[], f: LogFilters) {
  const namespace = pod.metadata.namespace ?? 'default';
  const name = pod.metadata.name;
  const read: PodLogRead = {
    namespace,
    pod: name,
    lines: 0,
    accessLines: 0,
    otherLines: 0,
    cutByLines: false,
    cutByBytes: false,
  };
  const formats = { text: 0, json: 0 };
  if (!findProxyContainer(pod)) return { read: { ...read, noSidecar: true }, formats };
  let text: string;
  try {
    text = await kube.podLogs(namespace, name, {
      container: 'istio-proxy',
      sinceSeconds,
      tailLines: LOG_BOUNDS.tailLines,
      limitBytes: LOG_BOUNDS.limitBytes,
    });
  } catch (err) {
    return { read: { ...read, error: (err as Error).message }, formats };
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  read.lines = lines.length;
  read.cutByLines = lines.length >= LOG_BOUNDS.tailLines;
  read.cutByBytes = Buffer.byteLength(text, 'utf8') >= LOG_BOUNDS.limitBytes;
  for (const line of lines) {
    const entry = parseAccessLogLine(line);
    if (!entry) {
      read.otherLines++;
      continue;
    }
    read.accessLines++;
    formats[entry.format]++;
    if (matchesFilters(line, entry, f)) out.push({ pod: name, line, entry });
  }
  return { read, formats };
}

function versionOf(pod: KubeObject): string | undefined {
  const l = pod.metadata.labels ?? {};
  return l.version ?? l['service.istio.io/canonical-revision'];
}

export async function readProxyLogs(
  kube: KubeClient,
  ref: WorkloadRef,
  sinceSeconds: number,
  filters: LogFilters,
): Promise<ProxyLogsReport> {
  const scope = ref.namespace ? { namespace: ref.namespace } : {};
  const [pods, deployments] = await Promise.all([
    kube.list('Pod', scope),
    ref.kind === 'label' ? Promise.resolve([]) : kube.list('Deployment', scope),
  ]);
  const resolved = resolveWorkload(new MeshSnapshot([...pods, ...deployments]), ref);
  const chosen = resolved.pods.slice(0, LOG_BOUNDS.maxPods);
  const matched: MatchedLine[] = [];
  const results = await Promise.all(chosen.map((p) => readPod(kube, p, sinceSeconds, matched, filters)));
  matched.sort((a, b) => (a.entry.startTime?.getTime() ?? 0) - (b.entry.startTime?.getTime() ?? 0));
  const reads = results.map((r) => r.read);
  const accessTotal = reads.reduce((n, r) => n + r.accessLines, 0);
  const versions: Record<string, string> = {};
  const withoutSidecar: Record<string, string> = {};
  for (const p of pods) {
    const ip = (p.status as { podIP?: string } | undefined)?.podIP;
    const v = versionOf(p);
    if (ip && v) versions[ip] = v;
    if (ip && !findProxyContainer(p)) withoutSidecar[ip] = p.metadata.name;
  }
  const report: ProxyLogsReport = {
    kind: 'proxy',
    via: resolved.via,
    namespace: resolved.namespace,
    sinceSeconds,
    filters,
    reads,
    notRead: resolved.pods.slice(LOG_BOUNDS.maxPods).map((p) => p.metadata.name),
    accessTotal,
    formats: {
      text: results.reduce((n, r) => n + r.formats.text, 0),
      json: results.reduce((n, r) => n + r.formats.json, 0),
    },
    matched,
    versions,
    withoutSidecar,
  };
  const readable = reads.filter((r) => !r.noSidecar && !r.error);
  if (accessTotal === 0 && readable.length > 0) report.logging = await accessLoggingState(kube, resolved.namespace);
  return report;
}

export default defineCommand({
  name: 'logs',
  summary:
    "A workload's sidecar access logs summarized (codes, response flags explained, versions, slow paths), or istiod's errors",
  usage: USAGE,
  examples: [
    '/mesh logs reviews-v1 -n bookinfo --since 10m',
    '/mesh logs app=reviews -n bookinfo --code 5xx',
    '/mesh logs productpage-v1.bookinfo --flag UH',
    '/mesh logs istiod --grep push',
  ],
  args: argsSchema,
  argSpec: {
    positional: ['words...'],
    options: { n: 'namespace', namespace: 'namespace', since: 'since', code: 'code', grep: 'grep', flag: 'flag' },
  },
  permission: 'read',
  touchesCluster: true,
  async run({ args, kube, now }): Promise<LogsResult> {
    if (args.target.kind === 'istiod') return readIstiodLogReport(kube, args.since ?? 3600, args.filters.grep, now());
    return readProxyLogs(kube, args.target.ref, args.since ?? 600, args.filters);
  },
  render(r, meta) {
    return r.kind === 'istiod' ? renderIstiodLogs(r, meta.now) : renderProxyLogs(r);
  },
});
