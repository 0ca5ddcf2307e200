// The /mesh stats answer in words: the cause first (the failing cluster and how it fails, how sure),
// then a line per cluster ("reviews v2 (9080) · outbound — 12.0 req/s, 503: 40%"), the restart or
// removed clusters between the reads, and the whole table as a file. Pure, as render() is.
import {
  type Attachment,
  type Block,
  type Rendered,
  context,
  count,
  esc,
  formatTable,
  header,
  section,
} from '../../blocks/block-kit.ts';
import { type ClusterRates, completed, perSecond, type RatesReport } from '../../envoy/stats-rates.ts';
import { type AdminFailure, type ProxyTarget, targetLine } from './proxy-target.ts';

export type StatsResult =
  | { kind: 'unread'; target: ProxyTarget; unread: AdminFailure }
  | {
      kind: 'rates';
      target: ProxyTarget;
      filter?: string;
      report: RatesReport;
      /** Clusters before the filter (to say when it matched none). */
      unfiltered: number;
    }
  | {
      /** The first read worked, the second did not: totals since start only. */
      kind: 'totals';
      target: ProxyTarget;
      filter?: string;
      report: RatesReport;
      unfiltered: number;
      unread: AdminFailure;
    };

/** Cluster lines in the message; all of them are in the file. */
export const CLUSTERS_SHOWN = 8;

/** "12.0", "0.4", "<0.1" (something, but under a tenth), "0". */
export function rate(n: number, seconds: number): string {
  const r = perSecond(n, seconds);
  if (r === 0) return '0';
  if (r < 0.05) return '<0.1';
  return r.toFixed(1);
}

const pct = (part: number, whole: number) => (whole > 0 ? `${Math.round((100 * part) / whole)}%` : '-');

/** `reviews v2 (9080)`, `reviews.other (9080)`, `inbound 9080`, or Envoy's own name (`PassthroughCluster`). */
export function clusterLabel(c: ClusterRates, proxyNamespace: string): string {
  const i = c.istio;
  if (!i) return c.name;
  if (i.direction === 'inbound') return `inbound ${i.port}${i.subset ? ` ${i.subset}` : ''}`;
  const m = /^([^.]+)\.([^.]+)\.svc(\.|$)/.exec(i.host);
  const host = m ? (m[2] === proxyNamespace ? m[1]! : `${m[1]}.${m[2]}`) : i.host;
  return `${host}${i.subset ? ` ${i.subset}` : ''} (${i.port})`;
}

/** "outbound", "inbound (to this pod)", "Envoy's own". */
export function directionWord(c: ClusterRates): string {
  if (!c.istio) return "Envoy's own";
  return c.istio.direction === 'inbound' ? 'inbound (to this pod)' : 'outbound';
}

/** What fails in this cluster during the sample, most telling first: "503: 40%, 5xx 4.8/s, 2 hosts ejected". */
export function failureParts(c: ClusterRates, seconds: number): string[] {
  const d = c.delta;
  const done = completed(d) || d.requests;
  const parts: string[] = [];
  for (const code of c.codes.filter((x) => x.delta > 0).slice(0, 3))
    parts.push(`${code.code}: ${pct(code.delta, done)}`);
  if (d.r5xx > 0) parts.push(`5xx ${rate(d.r5xx, seconds)}/s`);
  const per = (n: number, words: string) => {
    if (n > 0) parts.push(`${words} ${rate(n, seconds)}/s`);
  };
  per(d.connectFail, 'connect failures');
  per(d.noneHealthy, 'no healthy host');
  per(d.pendingOverflow, 'pending-request circuit breaker overflow');
  per(d.cxOverflow, 'connection circuit breaker overflow');
  per(d.timeouts, 'timeouts');
  per(d.perTryTimeouts, 'per-try timeouts');
  per(d.retryOverflow, 'retries refused (retry budget/breaker)');
  if ((c.ejectionsActive ?? 0) > 0) parts.push(`${count(c.ejectionsActive!, 'host')} ejected by outlier detection`);
  if (d.ejectionsEnforced > 0) parts.push(`${count(d.ejectionsEnforced, 'ejection')} in the sample`);
  if (c.breakersOpen.length) parts.push(`circuit breaker at capacity (${c.breakersOpen.join(', ')})`);
  return parts;
}

function sinceStart(c: ClusterRates): string {
  const t = c.total;
  const bits = [count(t.requests, 'request')];
  if (t.r5xx) bits.push(`${t.r5xx} 5xx`);
  if (t.connectFail) bits.push(count(t.connectFail, 'connect failure'));
  if (t.noneHealthy) bits.push(`${t.noneHealthy} × no healthy host`);
  if (t.pendingOverflow + t.cxOverflow) bits.push(`${t.pendingOverflow + t.cxOverflow} × circuit breaker overflow`);
  if (t.timeouts) bits.push(count(t.timeouts, 'timeout'));
  if (t.retries) bits.push(count(t.retries, 'retry', 'retries'));
  return bits.join(', ');
}

/** One cluster: "• *reviews v2 (9080)* · outbound — 12.0 req/s, 503: 40% · since start: 1234 requests, 56 5xx". */
export function clusterLine(c: ClusterRates, seconds: number, proxyNamespace: string): string {
  const mark = c.failing ? ':red_circle: ' : '';
  const now = [`${rate(c.delta.requests, seconds)} req/s`, ...failureParts(c, seconds)];
  if (c.delta.retries > 0) now.push(`retries ${rate(c.delta.retries, seconds)}/s`);
  return `• ${mark}*${esc(clusterLabel(c, proxyNamespace))}* · ${directionWord(c)} — ${now.join(', ')} · _since start: ${esc(sinceStart(c))}_`;
}

/** The whole table, every cluster, for the file. */
export function statsTable(r: RatesReport, proxyNamespace: string): string {
  const s = r.seconds;
  const rows = r.clusters.map((c) => [
    c.name,
    clusterLabel(c, proxyNamespace),
    c.istio?.direction ?? 'envoy',
    rate(c.delta.requests, s),
    rate(c.delta.r5xx, s),
    c.codes
      .filter((x) => x.delta > 0)
      .map((x) => `${x.code}:${x.delta}`)
      .join(' ') || '-',
    rate(c.delta.retries, s),
    rate(c.delta.timeouts + c.delta.perTryTimeouts, s),
    rate(c.delta.connectFail, s),
    rate(c.delta.noneHealthy, s),
    rate(c.delta.pendingOverflow + c.delta.cxOverflow, s),
    c.ejectionsActive === undefined ? '-' : String(c.ejectionsActive),
    String(c.total.requests),
    String(c.total.r5xx),
    c.reset ? 'counters reset' : '',
  ]);
  return formatTable(
    [
      'CLUSTER',
      'NAME',
      'DIRECTION',
      'RQ/S',
      '5XX/S',
      'ERROR CODES (SAMPLE)',
      'RETRY/S',
      'TIMEOUT/S',
      'CX FAIL/S',
      'NO HEALTHY/S',
      'OVERFLOW/S',
      'EJECTED',
      'TOTAL RQ',
      'TOTAL 5XX',
      'NOTE',
    ],
    rows,
  );
}

/** A reason as one sentence, ending with its full stop. */
export const sentence = (s: string): string => (/[.!?)]$/.test(s.trim()) ? s.trim() : `${s.trim()}.`);

function unreadBlocks(target: ProxyTarget, reason: string, hint: string): Rendered {
  const text = `Could not read Envoy's counters from ${targetLine(target).replace(/`/g, '')}. ${sentence(reason).replace(/`/g, '')}`;
  return {
    text,
    blocks: [
      section(`:x: *Could not read Envoy's counters* from ${targetLine(target)}. ${sentence(reason)}`),
      context(hint),
    ],
  };
}

/** What the worst cluster's dominant failure means in Istio terms (Envoy's response flag), and where to look next. */
export function failureMeaning(c: ClusterRates, t: ProxyTarget): string | undefined {
  const d = c.delta;
  const endpoints = `\`/mesh pc endpoints ${t.pod}.${t.namespace} --envoy-cluster "${c.name}"\``;
  if (d.noneHealthy > 0)
    return `No healthy host (Envoy's UH): the subset selects no ready pod, or every endpoint is ejected — ${endpoints} shows them.`;
  if (d.connectFail > 0)
    return 'Connections to the upstream fail (UF): often an mTLS mismatch (a DestinationRule with ISTIO_MUTUAL toward pods without a sidecar, or STRICT toward plaintext), or nothing listening on the port.';
  if (d.pendingOverflow + d.cxOverflow > 0 || c.breakersOpen.length > 0)
    return "The DestinationRule's connectionPool circuit breaker is full (UO): raise its limits or find why the upstream is slow.";
  if (d.timeouts + d.perTryTimeouts > 0)
    return "Requests hit the route's timeout (UT): the VirtualService timeout (or per-try timeout) is shorter than the upstream takes.";
  if ((c.ejectionsActive ?? 0) > 0)
    return `Outlier detection ejected hosts: they answered errors; ${endpoints} shows which.`;
  if (d.r5xx > 0)
    return 'The upstream answers 5xx itself (no Envoy-side failure counted): look at its logs (`/mesh logs`).';
  return undefined;
}

/** The lead: what fails and how sure, or that nothing does (and how much traffic that rests on). */
function summary(r: RatesReport, ns: string, kind: 'rates' | 'totals'): { icon: string; text: string } {
  const s = r.seconds;
  const failing = r.clusters.filter((c) => c.failing);
  if (kind === 'totals') {
    const failed = r.clusters.filter((c) => c.failing);
    const worst = failed[0];
    return worst
      ? {
          icon: ':warning:',
          text: `Since the proxy started, ${count(failed.length, 'cluster')} had failures; most: *${esc(clusterLabel(worst, ns))}* (${esc(sinceStart(worst))}). No rate: the second read failed`,
        }
      : {
          icon: ':grey_question:',
          text: 'No failures since the proxy started, but no rate either: the second read failed',
        };
  }
  const sampled = r.clusters.reduce((n, c) => n + c.delta.requests, 0);
  const secs = `${s.toFixed(1)} s`;
  if (failing.length) {
    const worst = failing[0]!;
    const parts = failureParts(worst, s);
    const thin =
      completed(worst.delta) > 0 && completed(worst.delta) < 10
        ? ` (only ${count(completed(worst.delta), 'response')} in the sample: few, so the share is rough)`
        : '';
    return {
      icon: ':red_circle:',
      text: `${count(failing.length, 'cluster')} failing; worst *${esc(clusterLabel(worst, ns))}* (${directionWord(worst)}) — ${rate(worst.delta.requests, s)} req/s, ${parts.join(', ')}${thin}. Measured: two reads ${secs} apart`,
    };
  }
  if (sampled === 0)
    return {
      icon: ':grey_question:',
      text: `No requests went through this proxy during the ${secs} sample, so this says nothing about errors now; the totals since start are below`,
    };
  const busiest = r.clusters[0]!;
  return {
    icon: ':white_check_mark:',
    text: `No cluster failed during the ${secs} sample (${rate(sampled, s)} req/s in all; busiest *${esc(clusterLabel(busiest, ns))}*, ${rate(busiest.delta.requests, s)} req/s). No 5xx, connection failure, overflow, timeout or ejected host`,
  };
}

export function renderStats(result: StatsResult): Rendered {
  const t = result.target;
  if (result.kind === 'unread') return unreadBlocks(t, result.unread.reason, result.unread.hint);
  const r = result.report;
  const ns = t.namespace;
  const blocks: Block[] = [header(`Envoy stats: ${t.namespace}/${t.pod}`)];
  const files: Attachment[] = [];
  const from = `from ${targetLine(t)}`;
  if (r.clusters.length === 0) {
    const text = result.filter
      ? `No cluster of this proxy (${count(result.unfiltered, 'cluster')}) has \`${esc(result.filter)}\` in its name`
      : 'Envoy answered with no cluster counters';
    blocks.push(section(`:grey_question: ${text} (${from}).`));
    blocks.push(
      context(
        result.filter
          ? 'The filter is plain text matched against cluster names such as `outbound|9080|v2|reviews.bookinfo.svc.cluster.local`; try the service name alone, or leave the filter out.'
          : 'A proxy with no clusters has had no config from istiod: try `/mesh stale`.',
      ),
    );
    return { text: `${text.replace(/[`*]/g, '')}.`, blocks };
  }
  const lead = summary(r, ns, result.kind);
  blocks.push(section(`${lead.icon} ${lead.text} (${from}).`));
  const worst = r.clusters[0];
  const meaning = result.kind === 'rates' && worst?.failing ? failureMeaning(worst, t) : undefined;
  if (meaning) blocks.push(context(meaning));
  if (result.kind === 'totals')
    blocks.push(context(`:warning: ${sentence(result.unread.reason)} ${result.unread.hint}`));
  if (r.restarted)
    blocks.push(
      section(
        ':warning: *The proxy restarted between the two reads* (counters went down): the rates count only what happened since the restart, and the totals are since the restart.',
      ),
    );
  const lines =
    result.kind === 'totals'
      ? r.clusters.map(
          (c) =>
            `• ${c.failing ? ':red_circle: ' : ''}*${esc(clusterLabel(c, ns))}* · ${directionWord(c)} — _since start: ${esc(sinceStart(c))}_`,
        )
      : r.clusters.map((c) => clusterLine(c, r.seconds, ns));
  const shown = lines.slice(0, CLUSTERS_SHOWN);
  const filename = `stats-${t.namespace}-${t.pod}.txt`;
  const more = lines.length - shown.length;
  let body = shown.join('\n');
  if (more > 0) body += `\n_…and ${count(more, 'more cluster')}: every cluster is in the thread as \`${filename}\`._`;
  blocks.push(section(body));
  const notes: string[] = [];
  if (result.filter)
    notes.push(`Clusters whose name contains \`${esc(result.filter)}\`: ${r.clusters.length} of ${result.unfiltered}.`);
  if (r.removed.length)
    notes.push(
      `${count(r.removed.length, 'cluster')} went away between the reads (a config push): ${r.removed
        .slice(0, 3)
        .map((n) => `\`${esc(n)}\``)
        .join(', ')}${r.removed.length > 3 ? '…' : ''}.`,
    );
  if (t.others.length)
    notes.push(
      `Other pods of the workload: ${t.others
        .slice(0, 3)
        .map((p) => `\`${esc(p)}\``)
        .join(', ')}${t.others.length > 3 ? '…' : ''} — ask about one by name.`,
    );
  notes.push(
    "Rates: Envoy's `upstream_rq_*`, `upstream_cx_*`, `outlier_detection.*` and `circuit_breakers.*` counters, read twice; codes count final responses (retried ones are under `retry.`).",
  );
  blocks.push(context(notes.join(' ')));
  if (more > 0 || result.kind === 'totals')
    files.push({ filename, title: filename, content: `${statsTable(r, ns)}\n` });
  const text = `${lead.text.replace(/[*`_]/g, '')} (${from.replace(/`/g, '')}).`;
  return { text, blocks, ...(files.length ? { files } : {}) };
}
