// Reading Istio's standard metrics from Prometheus text exposition (the merged endpoint on :15020,
// or a Prometheus query result turned into samples), and finding plaintext callers: requests a
// destination sidecar reported with connection_security_policy="none", i.e. accepted without mTLS.
// Label names are Istio's standard metric labels (reporter, source_workload,
// source_workload_namespace, source_principal, destination_workload, response_code, ...).
import { z } from 'zod';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export const sampleSchema = z.object({ name: z.string(), labels: z.record(z.string(), z.string()), value: z.number() });

export class MetricsParseError extends Error {
  readonly line: number;
  constructor(message: string, line: number) {
    super(`line ${line}: ${message}`);
    this.name = 'MetricsParseError';
    this.line = line;
  }
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(text: string, line: number): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const n = Number(text);
  if (text === '' || Number.isNaN(n)) throw new MetricsParseError(`not a number: ${JSON.stringify(text)}`, line);
  return n;
}

/**
 * Parse Prometheus text format 0.0.4: `# HELP`/`# TYPE`/comments skipped, `name{a="b",...} value
 * [timestamp]`, label values with `\\`, `\"` and `\n` escapes. Throws MetricsParseError on malformed
 * lines, since half-read metrics would hide callers.
 */
export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const nameMatch = line.match(metricName);
    if (!nameMatch) throw new MetricsParseError('expected a metric name', lineNo);
    const name = nameMatch[0];
    let pos = name.length;
    const labels: Record<string, string> = {};
    if (line[pos] === '{') {
      pos++;
      for (;;) {
        while (line[pos] === ' ' || line[pos] === ',') pos++;
        if (line[pos] === '}') {
          pos++;
          break;
        }
        const ln = line.slice(pos).match(labelName);
        if (!ln) throw new MetricsParseError('expected a label name', lineNo);
        pos += ln[0].length;
        while (line[pos] === ' ') pos++;
        if (line[pos] !== '=' || line[pos + 1] !== '"')
          throw new MetricsParseError(`expected ="..." after ${ln[0]}`, lineNo);
        pos += 2;
        let value = '';
        for (;;) {
          const ch = line[pos];
          if (ch === undefined) throw new MetricsParseError('unterminated label value', lineNo);
          if (ch === '\\') {
            const next = line[pos + 1];
            value += next === 'n' ? '\n' : (next ?? '');
            pos += 2;
            continue;
          }
          if (ch === '"') {
            pos++;
            break;
          }
          value += ch;
          pos++;
        }
        labels[ln[0]] = value;
      }
    }
    const rest = line.slice(pos).trim().split(/\s+/);
    out.push({ name, labels, value: parseValue(rest[0] ?? '', lineNo) });
  }
  return out;
}

export interface PlaintextCaller {
  /** `<workload>.<namespace>` for a caller with a sidecar that still sent plaintext; else its principal or "unknown". */
  source: string;
  sourceWorkload?: string;
  sourceNamespace?: string;
  sourcePrincipal?: string;
  /** The destination workload that accepted the plaintext. */
  destinationWorkload: string;
  destinationNamespace: string;
  /** A caller without a sidecar reports no workload: it is an address outside the mesh. */
  hasSidecar: boolean;
  requests: number;
  byResponseCode: Record<string, number>;
  /** TCP connections opened in plaintext (istio_tcp_connections_opened_total), for non-HTTP ports. */
  tcpConnections: number;
}

function known(v: string | undefined): string | undefined {
  return v && v !== 'unknown' ? v : undefined;
}

/**
 * Plaintext callers from destination-reported samples. Accepts the metrics text or parsed samples;
 * counters from several pods (or scrapes summed) add up per caller and destination.
 */
export function plaintextCallers(input: string | readonly Sample[]): PlaintextCaller[] {
  const samples = typeof input === 'string' ? parsePrometheusText(input) : z.array(sampleSchema).parse(input);
  const byKey = new Map<string, PlaintextCaller>();
  for (const s of samples) {
    const isRequests = s.name === 'istio_requests_total';
    const isTcp = s.name === 'istio_tcp_connections_opened_total';
    if (!isRequests && !isTcp) continue;
    const l = s.labels;
    if (l.reporter !== 'destination' || l.connection_security_policy !== 'none') continue;
    if (!Number.isFinite(s.value) || s.value <= 0) continue;
    const workload = known(l.source_workload);
    const wns = known(l.source_workload_namespace);
    const principal = known(l.source_principal);
    const source = workload ? `${workload}.${wns ?? 'unknown'}` : (principal ?? 'unknown (no sidecar)');
    const dest = `${l.destination_workload ?? 'unknown'}.${l.destination_workload_namespace ?? 'unknown'}`;
    const key = `${source}\u0000${dest}`;
    let c = byKey.get(key);
    if (!c) {
      c = {
        source,
        sourceWorkload: workload,
        sourceNamespace: wns,
        sourcePrincipal: principal,
        destinationWorkload: l.destination_workload ?? 'unknown',
        destinationNamespace: l.destination_workload_namespace ?? 'unknown',
        hasSidecar: workload !== undefined,
        requests: 0,
        byResponseCode: {},
        tcpConnections: 0,
      };
      byKey.set(key, c);
    }
    if (isRequests) {
      c.requests += s.value;
      const code = l.response_code ?? 'unknown';
      c.byResponseCode[code] = (c.byResponseCode[code] ?? 0) + s.value;
    } else {
      c.tcpConnections += s.value;
    }
  }
  return [...byKey.values()].sort(
    (a, b) => b.requests + b.tcpConnections - (a.requests + a.tcpConnections) || a.source.localeCompare(b.source),
  );
}

function seriesKey(s: Sample): string {
  return `${s.name}{${Object.entries(s.labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;
}

/**
 * Counters count since the proxy started; "seen recently" is the growth between two scrapes. A
 * series that shrank was reset (proxy restart), so its whole later value is new; a series absent
 * before is new entirely.
 */
export function counterIncrease(before: readonly Sample[], after: readonly Sample[]): Sample[] {
  const earlier = new Map(before.map((s) => [seriesKey(s), s.value]));
  return after.map((s) => {
    const prev = earlier.get(seriesKey(s));
    const value = prev === undefined || s.value < prev ? s.value : s.value - prev;
    return { ...s, value };
  });
}
