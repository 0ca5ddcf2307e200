// Envoy access-log lines in Istio's two default formats (pilot/pkg/model/telemetry_logging.go:
// EnvoyTextLogFormat for TEXT, EnvoyJSONLogFormatIstio for JSON), parsed into one shape, and what
// counts as a failure worth an alarm after a STRICT migration: 403 and 503 responses, and connection
// failures (no filter chain for a plaintext connection, upstream connect/reset failures, TLS errors).
import { z } from 'zod';

/** The keys of EnvoyJSONLogFormatIstio, in the order EnvoyTextLogFormat prints the same operators. */
export const TEXT_FORMAT_KEYS = [
  'start_time',
  'method',
  'path',
  'protocol',
  'response_code',
  'response_flags',
  'response_code_details',
  'connection_termination_details',
  'upstream_transport_failure_reason',
  'bytes_received',
  'bytes_sent',
  'duration',
  'upstream_service_time',
  'x_forwarded_for',
  'user_agent',
  'request_id',
  'authority',
  'upstream_host',
  'upstream_cluster',
  'upstream_local_address',
  'downstream_local_address',
  'downstream_remote_address',
  'requested_server_name',
  'route_name',
] as const;

export type AccessLogKey = (typeof TEXT_FORMAT_KEYS)[number];

export interface AccessLogEntry {
  startTime?: Date;
  method?: string;
  path?: string;
  protocol?: string;
  /** 0 for TCP connections and for requests that got no response. */
  responseCode: number;
  /** Envoy's short response flags: UF, URX, UC, NR, UH, ... */
  responseFlags: string[];
  responseCodeDetails?: string;
  connectionTerminationDetails?: string;
  upstreamTransportFailureReason?: string;
  authority?: string;
  upstreamHost?: string;
  upstreamCluster?: string;
  downstreamLocalAddress?: string;
  downstreamRemoteAddress?: string;
  requestedServerName?: string;
  /** %DURATION%: milliseconds from the request's start to its last byte out. */
  duration?: number;
  routeName?: string;
  format: 'text' | 'json';
}

/** Envoy prints "-" for an empty operator. */
function value(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  const s = String(v);
  return s === '-' || s === '' ? undefined : s;
}

function millis(v: string | undefined): number | undefined {
  const n = v === undefined ? Number.NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function entryFrom(
  fields: Partial<Record<AccessLogKey, unknown>>,
  format: 'text' | 'json',
): AccessLogEntry | undefined {
  const code = Number(value(fields.response_code) ?? '0');
  if (!Number.isInteger(code)) return undefined;
  const start = value(fields.start_time);
  const startTime = start ? new Date(start) : undefined;
  return {
    startTime: startTime && !Number.isNaN(startTime.getTime()) ? startTime : undefined,
    method: value(fields.method),
    path: value(fields.path),
    protocol: value(fields.protocol),
    responseCode: code,
    responseFlags: (value(fields.response_flags) ?? '').split(',').filter(Boolean),
    responseCodeDetails: value(fields.response_code_details),
    connectionTerminationDetails: value(fields.connection_termination_details),
    upstreamTransportFailureReason: value(fields.upstream_transport_failure_reason),
    authority: value(fields.authority),
    upstreamHost: value(fields.upstream_host),
    upstreamCluster: value(fields.upstream_cluster),
    downstreamLocalAddress: value(fields.downstream_local_address),
    downstreamRemoteAddress: value(fields.downstream_remote_address),
    requestedServerName: value(fields.requested_server_name),
    duration: millis(value(fields.duration)),
    routeName: value(fields.route_name),
    format,
  };
}

/** Splits a TEXT line into its bracketed start time, "quoted" strings and bare words. */
function tokens(line: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    const ch = line[i]!;
    if (ch === ' ') {
      i++;
      continue;
    }
    if (ch === '[' && out.length === 0) {
      const end = line.indexOf(']', i);
      if (end < 0) return undefined;
      out.push(line.slice(i + 1, end));
      i = end + 1;
    } else if (ch === '"') {
      const end = line.indexOf('"', i + 1);
      if (end < 0) return undefined;
      out.push(line.slice(i + 1, end));
      i = end + 1;
    } else {
      const end = line.indexOf(' ', i);
      out.push(line.slice(i, end < 0 ? undefined : end));
      i = end < 0 ? line.length : end;
    }
  }
  return out;
}

const jsonLine = z.record(z.string(), z.union([z.string(), z.number(), z.null()]));

/** One access-log line in either default format; undefined for anything else (app logs, Envoy's own logs). */
export function parseAccessLogLine(line: string): AccessLogEntry | undefined {
  const text = line.trim();
  if (text.startsWith('{')) {
    try {
      const parsed = jsonLine.safeParse(JSON.parse(text));
      if (!parsed.success || !('response_code' in parsed.data) || !('response_flags' in parsed.data)) return undefined;
      return entryFrom(parsed.data as Partial<Record<AccessLogKey, unknown>>, 'json');
    } catch {
      return undefined;
    }
  }
  if (!text.startsWith('[')) return undefined;
  const t = tokens(text);
  // start time, the request line, then the 20 operators after it.
  if (t?.length !== 22) return undefined;
  const [method, path, protocol] = (t[1] ?? '').split(' ');
  const rest = t.slice(2);
  const fields: Partial<Record<AccessLogKey, unknown>> = { start_time: t[0], method, path, protocol };
  TEXT_FORMAT_KEYS.slice(4).forEach((k, idx) => {
    fields[k] = rest[idx];
  });
  return entryFrom(fields, 'text');
}

export function parseAccessLog(text: string): AccessLogEntry[] {
  return text.split('\n').flatMap((l) => {
    const e = parseAccessLogLine(l);
    return e ? [e] : [];
  });
}

export type FailureKind = 'forbidden' | 'unavailable' | 'connection';

/** Flags that mean the connection to the upstream failed or was reset, or no listener chain took it. */
const CONNECTION_FLAGS = new Set(['UF', 'UC', 'URX', 'UH', 'NR', 'UMSDR', 'UPE']);

/** Why this entry is a failure after a STRICT change, or undefined when it is not one. */
export function failureOf(e: AccessLogEntry): { kind: FailureKind; what: string } | undefined {
  const detail = [e.responseFlags.join(','), e.responseCodeDetails, e.upstreamTransportFailureReason]
    .filter(Boolean)
    .join(' ');
  if (e.responseCode === 403) return { kind: 'forbidden', what: `403 ${detail}`.trim() };
  if (e.responseCode === 503) return { kind: 'unavailable', what: `503 ${detail}`.trim() };
  // NR with a route name is a 404 for an unknown host, not a connection problem.
  const connection = e.responseFlags.some(
    (f) => CONNECTION_FLAGS.has(f) && (f !== 'NR' || e.responseCodeDetails === 'filter_chain_not_found'),
  );
  if (connection || e.upstreamTransportFailureReason)
    return { kind: 'connection', what: `${e.responseCode || 'connection'} ${detail}`.trim() };
  return undefined;
}
