// How one AuthorizationPolicy rule matches a hypothetical request, field by field, as istiod's
// translation to Envoy RBAC does (pilot/pkg/security/authz/model: model.go, generator.go; matcher/):
//   * a rule matches when one `from`, one `to` and every `when` match; in a list, OR; `not*` negates
//     (values: any matches; notValues: none matches); fields of one source/operation are ANDed;
//   * strings: "abc" exact, "abc*" prefix, "*abc" suffix, "*" presence (non-empty; regex ".+");
//     hosts ignore case; paths drop the query string; `{*}` (one segment) and `{**}` (any segments,
//     last) are URI templates (Envoy uri_template);
//   * principals, namespaces, serviceAccounts and source.principal/namespace/serviceAccount are read from
//     the peer certificate: over plaintext they never match, so their not* forms always do
//     (ISTIO-SECURITY-2021-004); namespaces match the principal by regex `.*/ns/<ns>/.*`;
//   * on a TCP port, HTTP-only fields cannot be generated: an ALLOW rule holding one is dropped (it
//     matches nothing), a DENY/AUDIT rule ignores the field (model.go checkError).
// Answers are three-valued: what cannot be known (a JWT, a header nobody gave) is 'unknown', never a guess.
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';

export type Tri = 'yes' | 'no' | 'unknown';

export function triAnd(values: readonly Tri[]): Tri {
  if (values.includes('no')) return 'no';
  return values.includes('unknown') ? 'unknown' : 'yes';
}

export function triOr(values: readonly Tri[]): Tri {
  if (values.includes('yes')) return 'yes';
  return values.includes('unknown') ? 'unknown' : 'no';
}

const triNot = (t: Tri): Tri => (t === 'yes' ? 'no' : t === 'no' ? 'yes' : 'unknown');

const strings = z.array(z.string()).optional();
export const authzSourceSchema = z.looseObject({
  principals: strings,
  notPrincipals: strings,
  requestPrincipals: strings,
  notRequestPrincipals: strings,
  namespaces: strings,
  notNamespaces: strings,
  serviceAccounts: strings,
  notServiceAccounts: strings,
  ipBlocks: strings,
  notIpBlocks: strings,
  remoteIpBlocks: strings,
  notRemoteIpBlocks: strings,
});
export const authzOperationSchema = z.looseObject({
  hosts: strings,
  notHosts: strings,
  ports: strings,
  notPorts: strings,
  methods: strings,
  notMethods: strings,
  paths: strings,
  notPaths: strings,
});
export type AuthzSource = z.infer<typeof authzSourceSchema>;
export type AuthzOperation = z.infer<typeof authzOperationSchema>;

/** The request as far as it is known. Undefined fields are unknown, except `principal` (see below). */
export interface RequestFacts {
  /** SPIFFE identity without `spiffe://` (`cluster.local/ns/x/sa/y`); undefined over plaintext. */
  principal: string | undefined;
  /** Why there is no principal, for people ("the source has no sidecar: plaintext"). */
  plaintextWhy?: string;
  sourceIps: readonly string[];
  destinationIps: readonly string[];
  port?: number;
  method?: string;
  path?: string;
  host?: string;
  headers?: Readonly<Record<string, string>>;
  protocol: 'http' | 'tcp';
}

/** One field (or `when` condition) checked: its verdict and the words that say why. */
export interface FieldCheck {
  field: string;
  result: Tri;
  why: string;
}

/** Istio's string forms: exact, `prefix*`, `*suffix`, `*` (present and non-empty). */
export function matchString(pattern: string, value: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  if (p === '*') return v.length > 0;
  if (p.startsWith('*')) return v.endsWith(p.slice(1));
  if (p.endsWith('*')) return v.startsWith(p.slice(0, -1));
  return v === p;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A path with `{*}` or `{**}`: Envoy's URI template (`*` one segment, `**` zero or more, query dropped). */
export function isPathTemplate(pattern: string): boolean {
  return pattern.includes('{*}') || pattern.includes('{**}');
}

export function matchPath(pattern: string, rawPath: string): boolean {
  const path = rawPath.split('?')[0]!.split('#')[0]!;
  if (!isPathTemplate(pattern)) return matchString(pattern, path);
  const re = pattern
    .split(/(\{\*\*\}|\{\*\})/)
    .map((part) => (part === '{**}' ? '.*' : part === '{*}' ? '[^/]+' : escapeRe(part)))
    .join('');
  return new RegExp(`^${re}$`).test(path);
}

function ipIn(block: string, ip: string): boolean {
  const list = new BlockList();
  const [addr, bits] = block.split('/');
  const family = isIP(addr ?? '') === 6 ? 'ipv6' : 'ipv4';
  if (!addr || isIP(addr) === 0) return false;
  if (bits === undefined) list.addAddress(addr, family);
  else list.addSubnet(addr, Number(bits), family);
  return isIP(ip) !== 0 && list.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
}

/** Every source pod in a block: yes; none: no; some: unknown (it depends on which pod calls). */
function ipsMatch(blocks: readonly string[], ips: readonly string[]): Tri {
  if (ips.length === 0) return 'unknown';
  const hits = ips.filter((ip) => blocks.some((b) => ipIn(b, ip))).length;
  return hits === ips.length ? 'yes' : hits === 0 ? 'no' : 'unknown';
}

const principalMatch = (pattern: string, principal: string) =>
  pattern === '*' ? principal.length > 0 : matchString(pattern, principal);

function namespaceMatch(pattern: string, principal: string): boolean {
  const ns = pattern.split('*').map(escapeRe).join('.*');
  return new RegExp(`^spiffe://.*/ns/${ns}/.*$`).test(`spiffe://${principal}`);
}

function serviceAccountMatch(value: string, policyNamespace: string, principal: string): boolean {
  const [ns, sa] = value.includes('/') ? value.split('/', 2) : [policyNamespace, value];
  return new RegExp(`^spiffe://.+/ns/${escapeRe(ns!)}/(.+/|)sa/${escapeRe(sa!)}(/.+)?$`).test(`spiffe://${principal}`);
}

type One = (value: string) => Tri;

function list(values: readonly string[]): string {
  return `[${values.join(', ')}]`;
}

/** values/notValues of one field → a check. `seen` names what the request has, for the words. */
function check(field: string, values: string[] | undefined, notValues: string[] | undefined, one: One, seen: string) {
  const parts: Tri[] = [];
  const words: string[] = [];
  if (values?.length) {
    parts.push(triOr(values.map(one)));
    words.push(`${field} ${list(values)}`);
  }
  if (notValues?.length) {
    parts.push(triNot(triOr(notValues.map(one))));
    words.push(`not${field[0]!.toUpperCase()}${field.slice(1)} ${list(notValues)}`);
  }
  const result = triAnd(parts);
  const verdict = result === 'yes' ? 'matches' : result === 'no' ? 'does not match' : 'cannot tell';
  return { field: words.join(' and '), result, why: `${words.join(' and ')}: ${seen} — ${verdict}` };
}

const HTTP_ONLY = new Set(['hosts', 'methods', 'paths', 'requestPrincipals']);

function peerField(req: RequestFacts, match: (v: string, principal: string) => boolean): One {
  return (v) => (req.principal === undefined ? 'no' : match(v, req.principal) ? 'yes' : 'no');
}

const principalSeen = (req: RequestFacts) =>
  req.principal === undefined
    ? `no peer identity (${req.plaintextWhy ?? 'plaintext'})`
    : `the source is ${req.principal}`;

/** A `source` of a rule's `from` against the request. */
export function checkSource(src: AuthzSource, req: RequestFacts, policyNamespace: string): FieldCheck[] {
  const out: FieldCheck[] = [];
  const add = (c: FieldCheck | undefined) => c && out.push(c);
  const pair = (a?: string[], b?: string[]) => Boolean(a?.length || b?.length);
  if (pair(src.principals, src.notPrincipals))
    add(check('principals', src.principals, src.notPrincipals, peerField(req, principalMatch), principalSeen(req)));
  if (pair(src.namespaces, src.notNamespaces))
    add(check('namespaces', src.namespaces, src.notNamespaces, peerField(req, namespaceMatch), principalSeen(req)));
  if (pair(src.serviceAccounts, src.notServiceAccounts))
    add(
      check(
        'serviceAccounts',
        src.serviceAccounts,
        src.notServiceAccounts,
        peerField(req, (v, p) => serviceAccountMatch(v, policyNamespace, p)),
        principalSeen(req),
      ),
    );
  if (pair(src.ipBlocks, src.notIpBlocks))
    add(
      check(
        'ipBlocks',
        src.ipBlocks,
        src.notIpBlocks,
        (b) => ipsMatch([b], req.sourceIps),
        `source IP ${req.sourceIps.join(', ') || 'unknown'}`,
      ),
    );
  if (pair(src.remoteIpBlocks, src.notRemoteIpBlocks))
    add(
      check(
        'remoteIpBlocks',
        src.remoteIpBlocks,
        src.notRemoteIpBlocks,
        () => 'unknown',
        'the original client IP comes from X-Forwarded-For or the PROXY protocol, which a request does not show',
      ),
    );
  if (pair(src.requestPrincipals, src.notRequestPrincipals))
    add(
      check(
        'requestPrincipals',
        src.requestPrincipals,
        src.notRequestPrincipals,
        () => 'unknown',
        'the request principal comes from a JWT, which meshops cannot see',
      ),
    );
  return out;
}

/** An `operation` of a rule's `to` against the request. */
export function checkOperation(op: AuthzOperation, req: RequestFacts): FieldCheck[] {
  const out: FieldCheck[] = [];
  const pair = (a?: string[], b?: string[]) => Boolean(a?.length || b?.length);
  const given = (v: string | undefined, m: (p: string, v: string) => boolean): One =>
    v === undefined ? () => 'unknown' : (p) => (m(p, v) ? 'yes' : 'no');
  if (pair(op.hosts, op.notHosts))
    out.push(
      check(
        'hosts',
        op.hosts,
        op.notHosts,
        given(req.host, (p, v) => matchString(p, v, true)),
        req.host ? `Host ${req.host}` : 'no Host header given',
      ),
    );
  if (pair(op.ports, op.notPorts))
    out.push(
      check(
        'ports',
        op.ports,
        op.notPorts,
        given(req.port === undefined ? undefined : String(req.port), (p, v) => p === v),
        req.port === undefined ? 'no port given' : `port ${req.port}`,
      ),
    );
  if (pair(op.methods, op.notMethods))
    out.push(
      check(
        'methods',
        op.methods,
        op.notMethods,
        given(req.method, (p, v) => matchString(p, v)),
        req.method ? `method ${req.method}` : 'no method given',
      ),
    );
  if (pair(op.paths, op.notPaths))
    out.push(
      check(
        'paths',
        op.paths,
        op.notPaths,
        given(req.path, matchPath),
        req.path ? `path ${req.path}` : 'no path given',
      ),
    );
  return out;
}

/** One `when` condition. Keys from Istio's "Authorization Policy Conditions" page. */
export function checkCondition(
  cond: { key: string; values?: string[]; notValues?: string[] },
  req: RequestFacts,
  policyNamespace: string,
): FieldCheck {
  const k = cond.key;
  const run = (one: One, seen: string) => {
    const c = check(k, cond.values, cond.notValues, one, seen);
    return { ...c, field: `when ${c.field}` };
  };
  const unknown = (why: string) => run(() => 'unknown', why);
  if (k === 'source.principal') return run(peerField(req, principalMatch), principalSeen(req));
  if (k === 'source.namespace') return run(peerField(req, namespaceMatch), principalSeen(req));
  if (k === 'source.serviceAccount')
    return run(
      peerField(req, (v, p) => serviceAccountMatch(v, policyNamespace, p)),
      principalSeen(req),
    );
  if (k === 'source.ip') return run((b) => ipsMatch([b], req.sourceIps), `source IP ${req.sourceIps.join(', ')}`);
  if (k === 'destination.ip')
    return run((b) => ipsMatch([b], req.destinationIps), `destination IP ${req.destinationIps.join(', ')}`);
  if (k === 'destination.port')
    return req.port === undefined
      ? unknown('no port given')
      : run((v) => (v === String(req.port) ? 'yes' : 'no'), `port ${req.port}`);
  const header = /^request\.headers\[(.+)\]$/.exec(k)?.[1];
  if (header !== undefined) {
    const found = Object.entries(req.headers ?? {}).find(([h]) => h.toLowerCase() === header.toLowerCase());
    if (!req.headers) return unknown(`no headers given (add \`header ${header}=<value>\`)`);
    const value = found?.[1];
    return run(
      (p) => (value === undefined ? 'no' : p === '*' || matchString(p, value) ? 'yes' : 'no'),
      value === undefined ? `no ${header} header` : `${header}: ${value}`,
    );
  }
  if (k === 'remote.ip') return unknown('the original client IP comes from X-Forwarded-For or the PROXY protocol');
  if (k.startsWith('request.auth.')) return unknown('it is read from a JWT, which meshops cannot see');
  if (k === 'connection.sni') return unknown('the TLS server name is not part of the question');
  return unknown(`meshops does not evaluate ${k}`);
}

/** Whether a check is on an HTTP-only field (methods, paths, hosts, JWT, headers). */
export function isHttpOnly(c: FieldCheck): boolean {
  const first = c.field.replace(/^when /, '').split(' ')[0]!;
  const base = first.startsWith('not') ? first[3]!.toLowerCase() + first.slice(4) : first;
  return HTTP_ONLY.has(base) || /^request\./.test(base);
}
