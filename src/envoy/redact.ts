// Envoy redacts the fields its protos mark `(udpa.annotations.sensitive) = true` before it writes
// /config_dump (source/common/protobuf/utility.cc, MessageUtil::redact): every string under such a
// field becomes "[redacted]" and every bytes field the bytes of "[redacted]" (base64 in JSON,
// "W3JlZGFjdGVkXQ=="). The sensitive fields that reach a config dump are TlsCertificate.private_key,
// .password and .pkcs12, GenericSecret.secret and TlsSessionTicketKeys.keys. A dump meshops passes on
// is redacted again here, whatever the proxy sent: an old or patched Envoy must not leak a key into Slack.
import { isObject, type JsonObject } from './proxy-config/proto.ts';

export const REDACTED = '[redacted]';
/** "[redacted]" as proto3 JSON writes a bytes field. */
export const REDACTED_BYTES = Buffer.from(REDACTED).toString('base64');

/** Keys (proto and JSON names) whose whole value Envoy redacts, wherever they appear. */
const SENSITIVE_ANYWHERE = new Set(['private_key', 'privateKey', 'password', 'pkcs12']);
/** Keys sensitive only inside a given parent (a generic secret's `secret`, session ticket `keys`). */
const SENSITIVE_UNDER: Readonly<Record<string, ReadonlySet<string>>> = {
  generic_secret: new Set(['secret']),
  genericSecret: new Set(['secret']),
  session_ticket_keys: new Set(['keys']),
  sessionTicketKeys: new Set(['keys']),
};
const BYTES_KEYS = new Set(['inline_bytes', 'inlineBytes']);

export interface RedactionReport {
  /** Sensitive values the proxy had already redacted. */
  alreadyRedacted: number;
  /** Sensitive values that came in clear and were redacted here. */
  redactedHere: number;
  /** Where those were (JSON paths), for the log and the summary. */
  paths: string[];
}

function redactedLeaf(key: string, value: unknown, report: RedactionReport, path: string): unknown {
  if (typeof value === 'string') {
    const wanted = BYTES_KEYS.has(key) ? REDACTED_BYTES : REDACTED;
    if (value === wanted || value === REDACTED) report.alreadyRedacted++;
    else {
      report.redactedHere++;
      report.paths.push(path);
    }
    return wanted;
  }
  if (Array.isArray(value)) return value.map((v, i) => redactedLeaf(key, v, report, `${path}[${i}]`));
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactedLeaf(k, v, report, `${path}.${k}`);
    return out;
  }
  // Numbers and booleans under a sensitive field: Envoy clears them; so do we.
  if (value !== undefined && value !== null) {
    report.redactedHere++;
    report.paths.push(path);
  }
  return undefined;
}

function walk(value: unknown, parentKey: string, report: RedactionReport, path: string): unknown {
  if (Array.isArray(value)) return value.map((v, i) => walk(v, parentKey, report, `${path}[${i}]`));
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  const under = SENSITIVE_UNDER[parentKey];
  for (const [k, v] of Object.entries(value)) {
    const p = `${path}.${k}`;
    const r = SENSITIVE_ANYWHERE.has(k) || under?.has(k) ? redactedLeaf(k, v, report, p) : walk(v, k, report, p);
    if (r !== undefined) out[k] = r;
  }
  return out;
}

/** A copy of a parsed config dump with every sensitive value redacted as Envoy does, and what was found. */
export function redactConfigDump(json: unknown): { json: unknown; report: RedactionReport } {
  const report: RedactionReport = { alreadyRedacted: 0, redactedHere: 0, paths: [] };
  return { json: walk(json, '', report, '$'), report };
}
