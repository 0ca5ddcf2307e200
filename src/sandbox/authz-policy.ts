// The sandbox's own reading of AuthorizationPolicy, for requests it can describe fully: the kubelet's
// probes that reach the app through the sidecar (probe rewrite off), which come from the node's IP in
// plaintext, so with no principal and no namespace. Istio's order: CUSTOM (not modelled: skipped), then
// DENY (any matching rule denies), then ALLOW (when any ALLOW policy applies to the workload, a request
// no rule matches is denied). Policies apply from the workload's namespace (selector matching its labels,
// or none) and from the root namespace (mesh-wide). A rule matches when every `from`, `to` and `when`
// part does; a `when` the sandbox cannot evaluate for such a request does not match. Denials are named
// as Envoy's RBAC filter names them in response_code_details: rbac_access_denied_matched_policy[none]
// (no ALLOW matched) or [ns[<ns>]-policy[<name>]-rule[<i>]] (a DENY rule matched).
import type { KubeObject } from '../kube/objects.ts';
import { DEFAULT_ROOT_NAMESPACE, selects } from './mesh-policy.ts';
import type { Labels } from './traffic-pods.ts';

type Obj = Record<string, unknown>;

export interface AuthzRequest {
  /** The source address; no principal or namespace (plaintext). */
  sourceIp: string;
  host: string;
  port: number;
  method: string;
  path: string;
}

export interface AuthzDecision {
  allowed: boolean;
  /** Envoy's response_code_details for a denial. */
  details?: string;
}

const arr = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

/** Istio's string match: exact, `prefix*`, `*suffix`, or `*` (presence). */
function matchString(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  return pattern === value;
}

function ipToNumber(ip: string): number | undefined {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + p, 0);
}

function inBlock(block: string, ip: string): boolean {
  const [base, bits] = block.split('/');
  const a = ipToNumber(base ?? '');
  const b = ipToNumber(ip);
  if (a === undefined || b === undefined) return false;
  const n = bits === undefined ? 32 : Number(bits);
  const size = 2 ** (32 - n);
  return Math.floor(a / size) === Math.floor(b / size);
}

/** A field list: empty means "no constraint"; otherwise some value must match, and no `not` value. */
function field(yes: string[], no: string[], test: (p: string) => boolean): boolean {
  if (yes.length > 0 && !yes.some(test)) return false;
  return !no.some(test);
}

function sourceMatches(source: Obj, r: AuthzRequest): boolean {
  const none = () => false;
  const ip = (p: string) => inBlock(p, r.sourceIp);
  return (
    field(arr(source.principals), arr(source.notPrincipals), none) &&
    field(arr(source.requestPrincipals), arr(source.notRequestPrincipals), none) &&
    field(arr(source.namespaces), arr(source.notNamespaces), none) &&
    field(arr(source.ipBlocks), arr(source.notIpBlocks), ip) &&
    field(arr(source.remoteIpBlocks), arr(source.notRemoteIpBlocks), ip)
  );
}

function operationMatches(op: Obj, r: AuthzRequest): boolean {
  return (
    field(arr(op.hosts), arr(op.notHosts), (p) => matchString(p.toLowerCase(), r.host.toLowerCase())) &&
    field(arr(op.ports), arr(op.notPorts), (p) => Number(p) === r.port) &&
    field(arr(op.methods), arr(op.notMethods), (p) => p === r.method) &&
    field(arr(op.paths), arr(op.notPaths), (p) => matchString(p, r.path))
  );
}

function conditionMatches(c: Obj, r: AuthzRequest): boolean {
  const key = String(c.key ?? '');
  const values = arr(c.values);
  const notValues = arr(c.notValues);
  if (key === 'source.ip' || key === 'remote.ip') return field(values, notValues, (p) => inBlock(p, r.sourceIp));
  if (key === 'destination.port') return field(values, notValues, (p) => Number(p) === r.port);
  // Identities, JWT claims, headers: a plaintext probe has none the sandbox can vouch for.
  return false;
}

function ruleMatches(rule: Obj, r: AuthzRequest): boolean {
  const from = (rule.from as Obj[] | undefined) ?? [];
  const to = (rule.to as Obj[] | undefined) ?? [];
  const when = (rule.when as Obj[] | undefined) ?? [];
  if (from.length > 0 && !from.some((f) => sourceMatches((f.source as Obj | undefined) ?? {}, r))) return false;
  if (to.length > 0 && !to.some((t) => operationMatches((t.operation as Obj | undefined) ?? {}, r))) return false;
  return when.every((c) => conditionMatches(c, r));
}

/** The AuthorizationPolicies that apply to a workload in `namespace` with `labels`. */
export function policiesFor(
  policies: readonly KubeObject[],
  namespace: string,
  labels: Labels | undefined,
  rootNamespace = DEFAULT_ROOT_NAMESPACE,
): KubeObject[] {
  return policies.filter((p) => {
    const ns = p.metadata.namespace;
    if (ns !== namespace && ns !== rootNamespace) return false;
    const selector = ((p.spec as Obj | undefined)?.selector as { matchLabels?: Labels } | undefined)?.matchLabels;
    return selector === undefined || selects(selector, labels);
  });
}

/** How the workload's sidecar decides a plaintext request without identity. */
export function authorize(
  policies: readonly KubeObject[],
  namespace: string,
  labels: Labels | undefined,
  r: AuthzRequest,
): AuthzDecision {
  const applying = policiesFor(policies, namespace, labels);
  const action = (p: KubeObject) => String((p.spec as Obj | undefined)?.action ?? 'ALLOW');
  const rules = (p: KubeObject) => ((p.spec as Obj | undefined)?.rules as Obj[] | undefined) ?? [];
  for (const p of applying.filter((x) => action(x) === 'DENY')) {
    const i = rules(p).findIndex((rule) => ruleMatches(rule, r));
    if (i >= 0)
      return {
        allowed: false,
        details: `rbac_access_denied_matched_policy[ns[${p.metadata.namespace}]-policy[${p.metadata.name}]-rule[${i}]]`,
      };
  }
  const allows = applying.filter((x) => action(x) === 'ALLOW');
  if (allows.length === 0) return { allowed: true };
  if (allows.some((p) => rules(p).some((rule) => ruleMatches(rule, r)))) return { allowed: true };
  return { allowed: false, details: 'rbac_access_denied_matched_policy[none]' };
}
