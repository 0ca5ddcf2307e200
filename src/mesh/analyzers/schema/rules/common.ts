// What the per-kind rule files share: the problem they report and the checks of Istio's that several kinds use
// (pkg/config/validation/agent, pkg/config/labels). Go's %q is written as JSON.stringify, the same for ASCII.
import { isIP } from 'node:net';
import { isRec, rec, str } from '../../util/fields.ts';
import type { Rec } from '../../util/fields.ts';
import { parseProtocol } from '../../util/port-protocol.ts';
import { parseDurationMs } from '../cel.ts';

export type Path = (string | number)[];

export interface RuleProblem {
  text: string;
  path: Path;
  warning?: boolean;
}

/** A port as Istio reads it (a number, or a string of digits) in 1..65535. */
export const validPort = (p: unknown): boolean => {
  const n = typeof p === 'number' ? p : typeof p === 'string' && /^\d+$/.test(p) ? Number(p) : Number.NaN;
  return Number.isInteger(n) && n >= 1 && n <= 65535;
};

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
export const isIp = (a: string): boolean => IPV4.test(a) || (a.includes(':') && /^[0-9a-fA-F:.]+$/.test(a));

/** netutil.IsValidIPAddress: an IPv4 or IPv6 address. */
export const isIpAddress = (a: string): boolean => isIP(a) !== 0;

/** A number field as the proto reads it: absent (or of another type) is 0. */
export const int = (v: unknown): number => (typeof v === 'number' ? v : 0);

/** agent.ValidatePort. */
export const portError = (port: number): string | undefined =>
  port >= 1 && port <= 65535 ? undefined : `port number ${port} must be in the range 1..65535`;

/** agent.ValidateIPAddress. */
export const ipError = (addr: string): string | undefined =>
  isIpAddress(addr) ? undefined : `${addr} is not a valid IP`;

/** ValidateProtocol: empty is protocol sniffing. */
export const protocolError = (protocol: string): string | undefined =>
  protocol === '' || parseProtocol(protocol) !== 'Unsupported' ? undefined : `unsupported protocol: ${protocol}`;

const DNS1123_LABEL = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const WILDCARD_LABEL = /^(\*|(\*|\*-)?[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)$/;

/** labels.IsDNS1123Label. */
export const isDns1123Label = (v: string): boolean => v.length <= 63 && DNS1123_LABEL.test(v);

/** ValidatePortName. */
export const portNameError = (name: string): string | undefined =>
  isDns1123Label(name) ? undefined : `invalid port name: ${name}`;

function dns1123Preconditions(name: string): string | undefined {
  if (name.length > 255) return `domain name ${JSON.stringify(name)} too long (max 255)`;
  if (name.length === 0) return 'empty domain name not allowed';
  return undefined;
}

/** agent.ValidateDNS1123Labels: a trailing dot is allowed; the top-level domain may not be all digits. */
function dns1123Labels(domain: string): string | undefined {
  const parts = domain.split('.');
  const tld = parts[parts.length - 1] ?? '';
  if (/^[-+]?\d+$/.test(tld))
    return `domain name ${JSON.stringify(domain)} invalid (top level domain ${JSON.stringify(tld)} cannot be all-numeric)`;
  for (const [i, label] of parts.entries()) {
    if (i === parts.length - 1 && label === '') return undefined;
    if (!isDns1123Label(label))
      return `domain name ${JSON.stringify(domain)} invalid (label ${JSON.stringify(label)} invalid)`;
  }
  return undefined;
}

/** agent.ValidateFQDN. */
export const fqdnError = (fqdn: string): string | undefined => dns1123Preconditions(fqdn) ?? dns1123Labels(fqdn);

/** agent.ValidateWildcardDomain: a wildcard only in the first label. */
export function wildcardDomainError(domain: string): string | undefined {
  const pre = dns1123Preconditions(domain);
  if (pre) return pre;
  const dot = domain.indexOf('.');
  const first = dot < 0 ? domain : domain.slice(0, dot);
  if (!(first.length <= 63 && WILDCARD_LABEL.test(first)))
    return `domain name ${JSON.stringify(domain)} invalid (label ${JSON.stringify(first)} invalid)`;
  return dot < 0 ? undefined : dns1123Labels(domain.slice(dot + 1));
}

/** agent.ValidatePartialWildCard. */
export const partialWildcardError = (host: string): string | undefined =>
  host.includes('*') && host.length !== 1 && !host.startsWith('*.')
    ? `partial wildcard ${JSON.stringify(host)} not allowed`
    : undefined;

/**
 * agent.ValidateDuration. `atLeast1ms: false` where the CRD's CEL `duration(self) >= duration('1ms')` already says
 * so; a text that is no duration at all is left to the API server's parsing (its wording is not istiod's).
 */
export function durationError(text: string, atLeast1ms = true): string | undefined {
  const ms = parseDurationMs(text);
  if (ms === undefined) return undefined;
  if (ms < 1) return atLeast1ms ? 'duration must be greater than 1ms' : undefined;
  if (Math.abs(ms - Math.round(ms)) > 1e-9) return 'only durations to ms precision are supported';
  return undefined;
}

/** ValidateUnixAddress (the part after `unix://`). */
export function unixAddressError(addr: string): string | undefined {
  if (addr === '') return 'unix address must not be empty';
  if (addr.startsWith('@')) return undefined;
  if (!addr.startsWith('/') || addr.endsWith('/')) return `${addr} is not an absolute path to a file`;
  return undefined;
}

const DNS_LABEL_FMT = '[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?';
const QUALIFIED_NAME = '(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const TAG = new RegExp(`^(${DNS_LABEL_FMT}(?:\\.${DNS_LABEL_FMT})*/)?(${QUALIFIED_NAME})$`);
const LABEL_VALUE = new RegExp(`^(${QUALIFIED_NAME})?$`);

/** labels.Instance.Validate: each key a Kubernetes label name, each value a label value. */
export function labelErrors(labels: unknown): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(rec(labels))) {
    const m = TAG.exec(k);
    if (!m) out.push(`invalid tag key: ${JSON.stringify(k)}`);
    else if ((m[1] ?? '').length - 1 > 253) out.push(`invalid tag key: ${JSON.stringify(k)} (DNS prefix is too long)`);
    else if ((m[2] ?? '').length > 63) out.push(`invalid tag key: ${JSON.stringify(k)} (name is too long)`);
    if (typeof v === 'string' && !LABEL_VALUE.test(v)) out.push(`invalid tag value: ${JSON.stringify(v)}`);
  }
  return out;
}

/**
 * validateWorkloadSelector (the `matchLabels` selector of the v1beta1 kinds): an empty key or a wildcard is the
 * CRD's CEL rules' to report; a selector without labels is istiod's warning.
 */
export function selectorWarning(s: Rec): RuleProblem[] {
  const selector = s['selector'];
  if (!isRec(selector) || Object.keys(rec(selector['matchLabels'])).length > 0) return [];
  return [{ text: 'workload selector specified without labels', path: ['spec', 'selector'], warning: true }];
}

/**
 * ValidateAlphaWorkloadSelector (the `workloadSelector.labels` of Sidecar and EnvoyFilter). A wildcard in a value
 * is the CRD's CEL rule's; an empty key or a wildcard in a key only istiod's. `who` prefixes the warning as the
 * caller does ("sidecar", "Envoy filter").
 */
export function alphaSelectorProblems(s: Rec, who: string): RuleProblem[] {
  const selector = s['workloadSelector'];
  if (!isRec(selector)) return [];
  const out: RuleProblem[] = [];
  const labels = rec(selector['labels']);
  for (const [k, v] of Object.entries(labels)) {
    const pair = JSON.stringify(`${k}=${str(v)}`);
    if (k === '')
      out.push({
        text: `empty key is not supported in selector: ${pair}`,
        path: ['spec', 'workloadSelector', 'labels'],
      });
    if (k.includes('*'))
      out.push({
        text: `wildcard is not supported in selector: ${pair}`,
        path: ['spec', 'workloadSelector', 'labels', k],
      });
  }
  if (Object.keys(labels).length === 0)
    out.push({
      text: `${who}: workload selector specified without labels, will be applied to all services in namespace`,
      path: ['spec', 'workloadSelector'],
      warning: true,
    });
  return out;
}

const NON_NEGATIVE: Array<[string, string, string]> = [
  ['http', 'http1MaxPendingRequests', 'http1 max pending requests must be non-negative'],
  ['http', 'http2MaxRequests', 'http2 max requests must be non-negative'],
  ['http', 'maxRequestsPerConnection', 'max requests per connection must be non-negative'],
  ['http', 'maxRetries', 'max retries must be non-negative'],
  ['http', 'maxConcurrentStreams', 'max concurrent streams must be non-negative'],
  ['tcp', 'maxConnections', 'max connections must be non-negative'],
];

/**
 * After validateConnectionPool (pkg/config/validation), shared by DestinationRule traffic policies and Sidecar
 * ingress and inbound pools. The CRD's CEL bounds every duration but
 * tcp.idleTimeout below by 1ms; the millisecond precision is istiod's alone.
 */
export function connectionPoolProblems(pool: Rec, at: Path, out: RuleProblem[]): void {
  if (!isRec(pool['http']) && !isRec(pool['tcp'])) {
    out.push({ text: 'connection pool must have at least one field', path: at });
    return;
  }
  for (const [group, field, text] of NON_NEGATIVE) {
    const v = rec(pool[group])[field];
    if (typeof v === 'number' && v < 0) out.push({ text, path: [...at, group, field] });
  }
  const http = rec(pool['http']);
  if (http['h2UpgradePolicy'] === 'UPGRADE' && http['useClientProtocol'] === true)
    out.push({
      text: 'use client protocol must not be true when H2UpgradePolicy is UPGRADE',
      path: [...at, 'http', 'useClientProtocol'],
    });
  const tcp = rec(pool['tcp']);
  const durations: Array<[Rec, Path, boolean]> = [
    [http, ['http', 'idleTimeout'], false],
    [tcp, ['tcp', 'connectTimeout'], false],
    [tcp, ['tcp', 'maxConnectionDuration'], false],
    [tcp, ['tcp', 'idleTimeout'], true],
    [rec(tcp['tcpKeepalive']), ['tcp', 'tcpKeepalive', 'time'], false],
    [rec(tcp['tcpKeepalive']), ['tcp', 'tcpKeepalive', 'interval'], false],
  ];
  for (const [owner, path, atLeast1ms] of durations) {
    const v = owner[String(path[path.length - 1])];
    const text = typeof v === 'string' ? durationError(v, atLeast1ms) : undefined;
    if (text) out.push({ text, path: [...at, ...path] });
  }
}
