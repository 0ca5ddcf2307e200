// Would a request from one workload to another be allowed? The AuthorizationPolicies the destination's
// sidecar enforces, evaluated for a hypothetical request the way Istio documents and istiod translates
// them (reference/config/security/authorization-policy; pilot/pkg/security/authz):
//   1. no sidecar on the destination: nothing is enforced;
//   2. STRICT mTLS on the port and no sidecar on the source: the connection is refused before authorization;
//   3. CUSTOM (its provider's answer cannot be known), then DENY (any match denies), then ALLOW (with no
//      ALLOW policy everything else is allowed; with some, only what one matches); AUDIT decides nothing;
//      `istio.io/dry-run: "true"` policies are evaluated and reported, not enforced.
// Policies that apply: the root namespace's (mesh-wide; a selector narrows them), the namespace's, and those
// whose selector matches; targetRef policies are for gateways and waypoints, not sidecars (authorization.ts).
// What cannot be known makes the answer DEPENDS with the condition named, never a guess.
import type { KubeObject } from '../kube/objects.ts';
import { matchesLabels } from '../kube/objects.ts';
import {
  type AuthzOperation,
  type AuthzSource,
  type FieldCheck,
  type RequestFacts,
  type Tri,
  authzOperationSchema,
  authzSourceSchema,
  checkCondition,
  checkOperation,
  checkSource,
  isHttpOnly,
  triAnd,
  triOr,
} from './authz-match.ts';
import {
  type AuthorizationPolicySpec,
  type SpecProblem,
  authorizationPolicySpecSchema,
  parseField,
} from './istio-specs.ts';
import { type ObjectRef, refOf } from './object-ref.ts';
import type { MtlsMode } from './peer-authentication.ts';
import type { MeshSnapshot } from './snapshot.ts';

export type { FieldCheck, RequestFacts, Tri } from './authz-match.ts';
export type AuthzAction = 'ALLOW' | 'DENY' | 'CUSTOM' | 'AUDIT';

export interface RuleEval {
  /** 1-based, as people count the rules of a policy. */
  index: number;
  result: Tri;
  /** What the rule asks for: "from principals [..]; to methods [DELETE]". */
  wants: string;
  /** The checks of its closest `from` and `to`, and every `when`. */
  checks: FieldCheck[];
  note?: string;
}

export interface PolicyEval {
  policy: ObjectRef;
  action: AuthzAction;
  scope: 'mesh' | 'namespace' | 'workload';
  provider?: string;
  dryRun: boolean;
  result: Tri;
  rules: RuleEval[];
}

export interface AuthzQuery {
  destination: { namespace: string; labels: Record<string, string> | undefined; hasSidecar: boolean };
  /** The destination port's effective mTLS mode (effectivePeerAuthentication) and what decided it. */
  peer: { mode: MtlsMode; decidedBy: string };
  source: { hasSidecar: boolean; label: string };
  facts: RequestFacts;
}

export type Stage =
  | 'no-sidecar'
  | 'peer'
  | 'custom'
  | 'deny'
  | 'allow'
  | 'no-allow-policy'
  | 'default-deny'
  | 'unknown';

export interface AuthzVerdict {
  decision: 'ALLOWED' | 'DENIED' | 'DEPENDS';
  stage: Stage;
  /** One sentence for people. */
  reason: string;
  decidedBy?: { policy: PolicyEval; rule?: RuleEval };
  /** What the answer depends on ("DENY ns/p rule 2: methods [DELETE]: no method given"). */
  unknowns: string[];
  /** Denied by default: the ALLOW rule that came closest and what it wants that the request is not. */
  nearest?: { policy: PolicyEval; rule?: RuleEval; misses: FieldCheck[] };
  /** CUSTOM policies whose rules match (or may): their provider decides. */
  custom: PolicyEval[];
  dryRun: PolicyEval[];
  audit: PolicyEval[];
  policies: PolicyEval[];
  problems: SpecProblem[];
}

type Rule = NonNullable<AuthorizationPolicySpec['rules']>[number];

const list = (v: readonly string[] | undefined) => `[${(v ?? []).join(', ')}]`;

function fieldsText(obj: Record<string, unknown>): string {
  return Object.entries(obj)
    .filter(([, v]) => Array.isArray(v) && v.length > 0)
    .map(([k, v]) => `${k} ${list(v as string[])}`)
    .join(', ');
}

/** What a rule asks for, in the policy's own field names. */
export function ruleWants(rule: Rule): string {
  const parts: string[] = [];
  const from = (rule.from ?? []).map((f) => fieldsText(f.source ?? {})).filter(Boolean);
  const to = (rule.to ?? []).map((t) => fieldsText(t.operation ?? {})).filter(Boolean);
  if (from.length) parts.push(`from ${from.join(' or ')}`);
  if (to.length) parts.push(`to ${to.join(' or ')}`);
  for (const w of rule.when ?? []) {
    const vs = w.values?.length ? `${w.key} in ${list(w.values)}` : '';
    const nvs = w.notValues?.length ? `${w.key} not in ${list(w.notValues)}` : '';
    parts.push(`when ${[vs, nvs].filter(Boolean).join(' and ')}`);
  }
  return parts.join('; ') || 'any request (an empty rule)';
}

const rank = (t: Tri) => (t === 'yes' ? 0 : t === 'unknown' ? 1 : 2);
const misses = (checks: readonly FieldCheck[]) => checks.filter((c) => c.result === 'no').length;

/** Of a rule's alternatives (its `from`s or `to`s), the one closest to matching. */
function closest(alts: FieldCheck[][]): { result: Tri; checks: FieldCheck[] } {
  if (alts.length === 0) return { result: 'yes', checks: [] };
  const scored = alts.map((checks) => ({ checks, result: triAnd(checks.map((c) => c.result)) }));
  scored.sort((a, b) => rank(a.result) - rank(b.result) || misses(a.checks) - misses(b.checks));
  return { result: triOr(scored.map((s) => s.result)), checks: scored[0]!.checks };
}

const unreadable = (what: string): FieldCheck => ({
  field: what,
  result: 'unknown',
  why: `${what} does not fit Istio's schema, so meshops cannot read it`,
});

function evalRule(rule: Rule, index: number, action: AuthzAction, facts: RequestFacts, ns: string): RuleEval {
  const sources = (rule.from ?? []).map((f): FieldCheck[] => {
    const src = authzSourceSchema.safeParse(f.source ?? {});
    return src.success ? checkSource(src.data as AuthzSource, facts, ns) : [unreadable('a source')];
  });
  const operations = (rule.to ?? []).map((t): FieldCheck[] => {
    const op = authzOperationSchema.safeParse(t.operation ?? {});
    return op.success ? checkOperation(op.data as AuthzOperation, facts) : [unreadable('an operation')];
  });
  let when = (rule.when ?? []).map((w) => checkCondition(w, facts, ns));
  let note: string | undefined;
  let forced: Tri | undefined;
  if (facts.protocol === 'tcp') {
    const all = [...sources.flat(), ...operations.flat(), ...when];
    const httpOnly = all.filter(isHttpOnly);
    if (httpOnly.length) {
      const fields = httpOnly.map((c) => c.field).join(', ');
      if (action === 'ALLOW') {
        forced = 'no';
        note = `on a TCP port Istio drops an ALLOW rule with HTTP-only fields (${fields}): it matches nothing`;
      } else if (action === 'CUSTOM') {
        forced = 'unknown';
        note = `HTTP-only fields (${fields}) on a TCP port: meshops does not know what the provider gets`;
      } else {
        note = `on a TCP port Istio ignores this rule's HTTP-only fields (${fields}), so the rule is wider`;
        const keep = (cs: FieldCheck[]) => cs.filter((c) => !isHttpOnly(c));
        sources.splice(0, sources.length, ...sources.map(keep));
        operations.splice(0, operations.length, ...operations.map(keep));
        when = keep(when);
      }
    }
  }
  const from = closest(sources);
  const to = closest(operations);
  const result = forced ?? triAnd([from.result, to.result, ...when.map((c) => c.result)]);
  return {
    index,
    result,
    wants: ruleWants(rule),
    checks: [...from.checks, ...to.checks, ...when],
    ...(note ? { note } : {}),
  };
}

interface Applied {
  obj: KubeObject;
  spec: AuthorizationPolicySpec;
  scope: PolicyEval['scope'];
}

/** The policies a sidecar in `namespace` with `labels` enforces (selection as in authorization.ts). */
function applicable(
  snapshot: MeshSnapshot,
  namespace: string,
  labels: Record<string, string> | undefined,
  problems: SpecProblem[],
): Applied[] {
  const root = snapshot.meshConfig.rootNamespace ?? 'istio-system';
  const out: Applied[] = [];
  for (const ns of namespace === root ? [root] : [root, namespace]) {
    for (const obj of snapshot.list('AuthorizationPolicy', ns)) {
      const spec = parseField(obj, authorizationPolicySpecSchema, problems);
      if (!spec || spec.targetRef || spec.targetRefs?.length) continue;
      const selector = spec.selector?.matchLabels;
      const hasSelector = Object.keys(selector ?? {}).length > 0;
      if (hasSelector && !matchesLabels(selector, labels)) continue;
      out.push({ obj, spec, scope: hasSelector ? 'workload' : ns === root ? 'mesh' : 'namespace' });
    }
  }
  return out.sort((a, b) =>
    `${a.obj.metadata.namespace}/${a.obj.metadata.name}`.localeCompare(
      `${b.obj.metadata.namespace}/${b.obj.metadata.name}`,
    ),
  );
}

function evalPolicy(a: Applied, facts: RequestFacts): PolicyEval {
  const ns = a.obj.metadata.namespace ?? '';
  const rules = (a.spec.rules ?? []).map((r, i) => evalRule(r, i + 1, a.spec.action, facts, ns));
  return {
    policy: refOf(a.obj),
    action: a.spec.action,
    scope: a.scope,
    ...(a.spec.provider?.name ? { provider: a.spec.provider.name } : {}),
    dryRun: a.obj.metadata.annotations?.['istio.io/dry-run'] === 'true',
    result: triOr(rules.map((r) => r.result)),
    rules,
  };
}

export const policyName = (p: PolicyEval) => `${p.policy.namespace}/${p.policy.name}`;

/** "DENY policy bookinfo/deny-delete, rule 1: to methods [DELETE]". */
export function ruleRef(p: PolicyEval, r?: RuleEval): string {
  return `${p.action} policy ${policyName(p)}${r ? `, rule ${r.index}: ${r.wants}` : ''}`;
}

function unknownsOf(policies: readonly PolicyEval[]): string[] {
  return policies.flatMap((p) =>
    p.rules
      .filter((r) => r.result === 'unknown')
      .flatMap((r) => {
        const open = r.checks.filter((c) => c.result === 'unknown').map((c) => c.why);
        return [`${ruleRef(p, r)} — ${open.join('; ') || r.note || 'cannot tell'}`];
      }),
  );
}

function nearestAllow(allow: readonly PolicyEval[]): AuthzVerdict['nearest'] {
  let best: AuthzVerdict['nearest'];
  for (const p of allow) {
    if (p.rules.length === 0) {
      best ??= { policy: p, misses: [] };
      continue;
    }
    for (const r of p.rules) {
      const m = r.checks.filter((c) => c.result === 'no');
      if (!best?.rule || m.length < best.misses.length) best = { policy: p, rule: r, misses: m };
    }
  }
  return best;
}

/** Evaluate the request against everything the destination's sidecar enforces. */
export function evaluateAuthorization(snapshot: MeshSnapshot, q: AuthzQuery): AuthzVerdict {
  const problems: SpecProblem[] = [];
  const policies = applicable(snapshot, q.destination.namespace, q.destination.labels, problems).map((a) =>
    evalPolicy(a, q.facts),
  );
  const enforced = (action: AuthzAction) => policies.filter((p) => p.action === action && !p.dryRun);
  const base = {
    unknowns: [] as string[],
    custom: [] as PolicyEval[],
    dryRun: policies.filter((p) => p.dryRun),
    audit: policies.filter((p) => p.action === 'AUDIT'),
    policies,
    problems,
  };
  if (!q.destination.hasSidecar)
    return {
      ...base,
      decision: 'ALLOWED',
      stage: 'no-sidecar',
      reason: 'the destination has no sidecar, so no AuthorizationPolicy is enforced on it',
    };
  if (q.peer.mode === 'STRICT' && !q.source.hasSidecar)
    return {
      ...base,
      decision: 'DENIED',
      stage: 'peer',
      reason: `the port takes mTLS only (STRICT, from ${q.peer.decidedBy}) and ${q.source.label} has no sidecar: the connection is refused before any AuthorizationPolicy is evaluated`,
    };
  const custom = enforced('CUSTOM').filter((p) => p.result !== 'no');
  const deny = enforced('DENY');
  const denied = deny.find((p) => p.result === 'yes');
  if (denied) {
    const rule = denied.rules.find((r) => r.result === 'yes');
    return {
      ...base,
      custom,
      decision: 'DENIED',
      stage: 'deny',
      reason: `${ruleRef(denied, rule)} matches`,
      decidedBy: { policy: denied, ...(rule ? { rule } : {}) },
    };
  }
  const allow = enforced('ALLOW');
  const allowedBy = allow.find((p) => p.result === 'yes');
  const unknowns = [...unknownsOf(deny)];
  if (allow.length > 0 && allow.every((p) => p.result === 'no'))
    return {
      ...base,
      custom,
      unknowns,
      decision: 'DENIED',
      stage: 'default-deny',
      reason: `ALLOW policies apply and none matches (${allow.map(policyName).join(', ')}), so the request is denied`,
      nearest: nearestAllow(allow),
    };
  if (!allowedBy) unknowns.push(...unknownsOf(allow));
  const customWords = custom.map(
    (p) =>
      `${p.result === 'yes' ? 'decided by' : 'if its rules match (meshops cannot tell), decided by'} ext-authz provider ${p.provider ?? '(none named)'} (${ruleRef(p)})`,
  );
  if (unknowns.length > 0 || custom.length > 0) {
    const why =
      unknowns.length > 0
        ? 'some rules depend on what meshops cannot know'
        : `the request goes to an external authorizer`;
    return {
      ...base,
      custom,
      unknowns: [...unknowns, ...customWords],
      decision: 'DEPENDS',
      stage: unknowns.length > 0 ? 'unknown' : 'custom',
      reason: why,
      ...(allowedBy
        ? { decidedBy: { policy: allowedBy, rule: allowedBy.rules.find((r) => r.result === 'yes')! } }
        : {}),
    };
  }
  if (allowedBy) {
    const rule = allowedBy.rules.find((r) => r.result === 'yes')!;
    return {
      ...base,
      decision: 'ALLOWED',
      stage: 'allow',
      reason: `${ruleRef(allowedBy, rule)} matches`,
      decidedBy: { policy: allowedBy, rule },
    };
  }
  return {
    ...base,
    decision: 'ALLOWED',
    stage: 'no-allow-policy',
    reason:
      policies.length === 0
        ? 'no AuthorizationPolicy applies to the destination'
        : 'no DENY policy matches and no ALLOW policy applies, so the request is allowed',
  };
}
