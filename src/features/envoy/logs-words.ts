// The words of `/mesh logs <workload>`: the summary of the matched access-log lines (pure), the cause
// first (failures and their response flags, explained in Istio terms), then codes, upstream clusters and
// versions, slowest paths, and what the read bounds cut; the raw lines go to the thread as a file.
import {
  type Attachment,
  type Block,
  type Rendered,
  context,
  count,
  countRequests,
  esc,
  section,
  tableBlock,
  truncate,
} from '../../blocks/block-kit.ts';
import { isFilterChainNotFound, type ResponseFlag, responseFlag } from '../../envoy/response-flags.ts';
import type { AccessLogEntry } from '../../envoy/access-log.ts';

/** Bounds of one read: per pod, and how many pods of a workload are read. */
export const LOG_BOUNDS = { tailLines: 2000, limitBytes: 512 * 1024, maxPods: 10, fileLines: 5000 } as const;
const BOUNDS = { ...LOG_BOUNDS, limitKiB: LOG_BOUNDS.limitBytes / 1024 };

export interface LogFilters {
  code?: string;
  grep?: string;
  flag?: string;
}

export interface PodLogRead {
  namespace: string;
  pod: string;
  /** No istio-proxy container: nothing to read. */
  noSidecar?: boolean;
  error?: string;
  lines: number;
  accessLines: number;
  /** Lines that are not access-log lines (Envoy's and pilot-agent's own logs). */
  otherLines: number;
  cutByLines: boolean;
  cutByBytes: boolean;
}

export interface MatchedLine {
  pod: string;
  line: string;
  entry: AccessLogEntry;
}

export interface ProxyLogsReport {
  kind: 'proxy';
  via: string;
  namespace: string;
  sinceSeconds: number;
  filters: LogFilters;
  reads: PodLogRead[];
  /** Pods of the workload that were not read (over LOG_BOUNDS.maxPods). */
  notRead: string[];
  accessTotal: number;
  formats: { text: number; json: number };
  matched: MatchedLine[];
  /** Pod IP → version label of the namespace's pods, to tell upstream hosts apart. */
  versions: Record<string, string>;
  /** Pod IP → name of the namespace's pods without an istio-proxy container. */
  withoutSidecar: Record<string, string>;
  /** Set when no pod had an access-log line: whether Istio has access logging on, and why we think so. */
  logging?: { on: boolean | undefined; why: string };
}

export function windowWords(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** `outbound|9080|v2|reviews.bookinfo.svc.cluster.local` → its parts; other names (PassthroughCluster) as they are. */
export function parseClusterName(name: string): { direction?: string; port?: string; subset?: string; host?: string } {
  const parts = name.split('|');
  if (parts.length !== 4) return {};
  const [direction, port, subset, host] = parts as [string, string, string, string];
  return { direction, port, ...(subset ? { subset } : {}), ...(host ? { host } : {}) };
}

/** A failed request: a 5xx, or no response at all (code 0) with a flag saying why. */
export function isFailure(e: AccessLogEntry): boolean {
  return e.responseCode >= 500 || (e.responseCode === 0 && e.responseFlags.length > 0);
}

export interface FlagCount {
  flag: string;
  known?: ResponseFlag;
  count: number;
  details: string[];
  /** NR at an inbound listener with filter_chain_not_found. */
  filterChainNotFound: boolean;
  /** UF toward these pods, which have no sidecar (ISTIO_MUTUAL meets plaintext). */
  plaintextPods: string[];
}

export interface UpstreamRow {
  cluster: string;
  subset?: string;
  versions: string[];
  requests: number;
  failed: number;
}

export interface PathRow {
  path: string;
  requests: number;
  maxMs: number;
  avgMs: number;
}

export interface LogSummary {
  byCode: Record<string, number>;
  failed: number;
  flags: FlagCount[];
  upstreams: UpstreamRow[];
  slowest: PathRow[];
}

export function summarize(
  matched: readonly MatchedLine[],
  versions: Record<string, string>,
  withoutSidecar: Record<string, string> = {},
): LogSummary {
  const byCode: Record<string, number> = {};
  const flags = new Map<string, FlagCount>();
  const ups = new Map<string, UpstreamRow & { v: Set<string> }>();
  const paths = new Map<string, { n: number; max: number; sum: number }>();
  let failed = 0;
  for (const { entry: e } of matched) {
    const code = String(e.responseCode);
    byCode[code] = (byCode[code] ?? 0) + 1;
    const bad = isFailure(e);
    if (bad) failed++;
    for (const f of e.responseFlags) {
      const c = flags.get(f) ?? {
        flag: f,
        ...(responseFlag(f) ? { known: responseFlag(f) } : {}),
        count: 0,
        details: [],
        filterChainNotFound: false,
        plaintextPods: [],
      };
      c.count++;
      if (e.responseCodeDetails && !c.details.includes(e.responseCodeDetails) && c.details.length < 3)
        c.details.push(e.responseCodeDetails);
      if (f === 'NR' && isFilterChainNotFound(e.responseCodeDetails)) c.filterChainNotFound = true;
      const bare = withoutSidecar[e.upstreamHost?.replace(/:\d+$/, '') ?? ''];
      if (f === 'UF' && bare && !c.plaintextPods.includes(bare)) c.plaintextPods.push(bare);
      flags.set(f, c);
    }
    if (e.upstreamCluster) {
      const parts = parseClusterName(e.upstreamCluster);
      const row = ups.get(e.upstreamCluster) ?? {
        cluster: parts.host
          ? `${parts.direction} ${parts.host}:${parts.port}`
          : parts.direction === 'inbound'
            ? `inbound :${parts.port}`
            : e.upstreamCluster,
        ...(parts.subset ? { subset: parts.subset } : {}),
        versions: [],
        requests: 0,
        failed: 0,
        v: new Set<string>(),
      };
      row.requests++;
      if (bad) row.failed++;
      const ip = e.upstreamHost?.replace(/:\d+$/, '');
      const version = ip ? versions[ip] : undefined;
      if (version) row.v.add(version);
      ups.set(e.upstreamCluster, row);
    }
    if (e.method && e.path && e.duration !== undefined) {
      const key = `${e.method} ${e.path.split('?')[0]}`;
      const p = paths.get(key) ?? { n: 0, max: 0, sum: 0 };
      p.n++;
      p.max = Math.max(p.max, e.duration);
      p.sum += e.duration;
      paths.set(key, p);
    }
  }
  return {
    byCode,
    failed,
    flags: [...flags.values()].sort((a, b) => b.count - a.count || a.flag.localeCompare(b.flag)),
    upstreams: [...ups.values()]
      .map(({ v, ...row }) => ({ ...row, versions: [...v].sort() }))
      .sort((a, b) => b.failed - a.failed || b.requests - a.requests || a.cluster.localeCompare(b.cluster)),
    slowest: [...paths.entries()]
      .map(([path, p]) => ({ path, requests: p.n, maxMs: p.max, avgMs: Math.round(p.sum / p.n) }))
      .sort((a, b) => b.maxMs - a.maxMs || a.path.localeCompare(b.path))
      .slice(0, 5),
  };
}

function filterWords(r: ProxyLogsReport): string {
  const f = r.filters;
  const parts = [f.code && `code ${f.code}`, f.flag && `flag ${f.flag}`, f.grep && `containing "${f.grep}"`];
  return parts.filter(Boolean).join(', ');
}

function flagLine(f: FlagCount): string {
  if (!f.known)
    return `• *${esc(f.flag)}* ×${f.count}: not a flag this version of meshops knows (a custom or newer Envoy flag).`;
  const details = f.details.length ? ` (details: ${f.details.map((d) => `\`${esc(d)}\``).join(', ')})` : '';
  const istio =
    f.flag === 'NR' && f.filterChainNotFound
      ? 'at this inbound listener no filter chain took the connection (`filter_chain_not_found`): a plaintext caller (no sidecar) into a STRICT PeerAuthentication. Give the caller a sidecar, or keep the port PERMISSIVE until it has one.'
      : f.known.istio;
  const here = f.plaintextPods.length
    ? ` *Here:* the upstream ${f.plaintextPods.length === 1 ? 'pod' : 'pods'} ${f.plaintextPods.map((p) => `\`${esc(p)}\``).join(', ')} ${f.plaintextPods.length === 1 ? 'has' : 'have'} no sidecar, so an ISTIO_MUTUAL connection meets plaintext: give ${f.plaintextPods.length === 1 ? 'it' : 'them'} a sidecar, or set the DestinationRule's tls mode to DISABLE for ${f.plaintextPods.length === 1 ? 'it' : 'them'}.`
    : '';
  return `• *${f.known.short}* (${f.known.long}) ×${f.count}${details}: Envoy: ${esc(f.known.envoy)}. In Istio: ${istio}${here}`;
}

function lead(r: ProxyLogsReport, s: LogSummary, window: string): { text: string; icon: string } {
  const sidecars = r.reads.filter((x) => !x.noSidecar);
  const where = `${r.via}, last ${window}`;
  if (sidecars.length === 0)
    return {
      icon: ':x:',
      text: `${r.reads.length === 1 ? 'This pod has' : `None of the ${count(r.reads.length, 'pod')} of ${r.via} has`} no istio-proxy container, so there are no access logs to read: it is not in the mesh.`,
    };
  const readable = sidecars.filter((x) => !x.error);
  if (readable.length === 0) return { icon: ':x:', text: `Could not read the istio-proxy log of any pod of ${r.via}.` };
  if (r.accessTotal === 0) {
    if (r.logging?.on === false)
      return {
        icon: ':no_entry:',
        text: 'Access logs are off: set meshConfig.accessLogFile=/dev/stdout or a Telemetry resource.',
      };
    return {
      icon: ':warning:',
      text: `No access-log lines from ${where}: no request reached ${readable.length === 1 ? 'this proxy' : 'these proxies'} in that window, or its log was rotated. This is not a sign of health.`,
    };
  }
  const filtered = filterWords(r);
  if (r.matched.length === 0)
    return {
      icon: ':information_source:',
      text: `None of the ${count(r.accessTotal, 'access-log line')} from ${where} matches ${filtered}.`,
    };
  const total = count(r.matched.length, filtered ? 'matching request' : 'request');
  if (s.failed === 0)
    return {
      icon: ':white_check_mark:',
      text: `No failures in ${countRequests(r.matched.length, s.byCode, filtered ? 'matching request' : 'request')} from ${where}.`,
    };
  // One count per request: flags Envoy wrote together (URX,UF: the connection failed and the retries ran out) are
  // one cause, so the counts add up to the failures.
  const combos = new Map<string, number>();
  for (const { entry: e } of r.matched)
    if (isFailure(e) && e.responseFlags.length > 0)
      combos.set(e.responseFlags.join(','), (combos.get(e.responseFlags.join(',')) ?? 0) + 1);
  const causes = [...combos]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 3)
    .map(([flags, n]) => {
      const words = flags
        .split(',')
        .map((f) => responseFlag(f)?.envoy.replace(/ \(\d+\)$/, ''))
        .filter((w): w is string => w !== undefined);
      return `${n} × ${flags}${words.length ? ` (${words.join('; ')})` : ''}`;
    });
  return {
    icon: ':rotating_light:',
    text: `${s.failed} of ${total} from ${where} failed${causes.length ? `: ${causes.join(', ')}` : ''}.`,
  };
}

export function renderProxyLogs(r: ProxyLogsReport): Rendered {
  const window = windowWords(r.sinceSeconds);
  const s = summarize(r.matched, r.versions, r.withoutSidecar);
  const blocks: Block[] = [];
  const files: Attachment[] = [];
  const head = lead(r, s, window);
  blocks.push(section(`${head.icon} *${esc(head.text)}*`));
  if (r.accessTotal === 0 && r.logging)
    blocks.push(
      context(
        r.logging.on === false
          ? `Checked: ${esc(r.logging.why)}. Istio writes sidecar access logs only when one of them is set; after setting it, the proxies log new requests.`
          : `${r.logging.on ? 'Access logging is on' : 'Whether access logging is on is not known'}: ${esc(r.logging.why)}.`,
      ),
    );
  if (r.matched.length > 0) {
    blocks.push(section(`*Responses:* ${esc(countRequests(r.matched.length, s.byCode))}`));
    if (s.flags.length) {
      for (const f of s.flags.slice(0, 10)) blocks.push(section(truncate(flagLine(f), 2900)));
      if (s.flags.length > 10)
        blocks.push(context(`…and ${count(s.flags.length - 10, 'more flag')}: see the lines in the thread.`));
    }
    if (s.upstreams.length) {
      const t = tableBlock(
        ['UPSTREAM CLUSTER', 'SUBSET', 'VERSIONS', 'REQUESTS', 'FAILED'],
        s.upstreams.map((u) => [
          u.cluster,
          u.subset ?? '-',
          u.versions.join(',') || '-',
          String(u.requests),
          String(u.failed),
        ]),
        'access-log-upstreams.txt',
      );
      blocks.push(section('*By upstream cluster and version:*'), t.block);
      if (t.overflow) files.push(t.overflow);
    }
    if (s.slowest.length) {
      const t = tableBlock(
        ['SLOWEST PATHS', 'REQUESTS', 'MAX', 'AVG'],
        s.slowest.map((p) => [p.path, String(p.requests), `${p.maxMs}ms`, `${p.avgMs}ms`]),
        'access-log-slowest.txt',
      );
      blocks.push(t.block);
      if (t.overflow) files.push(t.overflow);
    }
    const shown = r.matched.slice(-BOUNDS.fileLines);
    const cut = r.matched.length - shown.length;
    files.push({
      filename: 'access-log-lines.txt',
      title: `Access-log lines${filterWords(r) ? ` (${filterWords(r)})` : ''}`,
      content: `${cut > 0 ? `(the newest ${shown.length} of ${r.matched.length} lines)\n` : ''}${shown.map((m) => `${m.pod} ${m.line}`).join('\n')}\n`,
    });
  }
  for (const x of r.reads) {
    if (x.error)
      blocks.push(
        section(
          `:warning: Could not read the istio-proxy log of \`${esc(x.pod)}\`: ${esc(truncate(x.error, 300))}. Its requests are not counted.`,
        ),
      );
  }
  const noSidecar = r.reads.filter((x) => x.noSidecar).map((x) => x.pod);
  if (noSidecar.length && noSidecar.length < r.reads.length)
    blocks.push(
      section(
        `:warning: ${count(noSidecar.length, 'pod')} without an istio-proxy container (not in the mesh, no access logs): ${noSidecar.map((p) => `\`${esc(p)}\``).join(', ')}.`,
      ),
    );
  if (noSidecar.length === r.reads.length && r.reads[0])
    blocks.push(
      context(
        `\`/mesh describe pod ${esc(r.reads[0].pod)}.${esc(r.reads[0].namespace)}\` says why (injection off for the namespace, or the pod opted out).`,
      ),
    );
  blocks.push(context(esc(boundsLine(r, window))));
  const text = head.text;
  return { text, blocks, files };
}

function boundsLine(r: ProxyLogsReport, window: string): string {
  const read = r.reads.filter((x) => !x.noSidecar && !x.error);
  const other = read.reduce((n, x) => n + x.otherLines, 0);
  const formats = [r.formats.text && `${r.formats.text} TEXT`, r.formats.json && `${r.formats.json} JSON`]
    .filter(Boolean)
    .join(', ');
  const parts = [
    `Read the last ${window} of ${count(read.length, 'istio-proxy log')} (at most ${BOUNDS.tailLines} lines and ${BOUNDS.limitKiB} KiB each)`,
    `${count(r.accessTotal, 'access-log line')}${formats ? ` (${formats})` : ''}`,
    `${count(other, 'other line')} (Envoy's and pilot-agent's own log)`,
  ];
  const byLines = read.filter((x) => x.cutByLines).map((x) => x.pod);
  const byBytes = read.filter((x) => x.cutByBytes).map((x) => x.pod);
  if (byLines.length)
    parts.push(`the ${BOUNDS.tailLines}-line bound cut ${byLines.join(', ')}: older lines in the window were not read`);
  if (byBytes.length)
    parts.push(`the ${BOUNDS.limitKiB} KiB bound cut ${byBytes.join(', ')}: newer lines were not read`);
  if (r.notRead.length)
    parts.push(
      `${count(r.notRead.length, 'more pod')} not read (the first ${BOUNDS.maxPods} were): ${r.notRead.slice(0, 5).join(', ')}${r.notRead.length > 5 ? ' …' : ''}`,
    );
  return parts.join(' · ');
}
