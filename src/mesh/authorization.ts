// AuthorizationPolicies that a sidecar enforces for a workload, and what they mean together.
// Istio's documented evaluation: CUSTOM first (the provider may deny), then DENY (any match denies),
// then ALLOW (when at least one ALLOW policy applies, only matching requests pass); AUDIT never
// allows or denies. A policy without rules matches nothing (an ALLOW one therefore allows nothing);
// `rules: [{}]` matches everything. Selection: root-namespace policies apply mesh-wide (a selector
// narrows them to matching workloads in every namespace); namespace policies apply to the namespace,
// or to the selected workloads. Policies with targetRef(s) attach to gateways/waypoints/services and
// are not enforced by a sidecar through selection.
import type { KubeObject } from '../kube/objects.ts';
import { matchesLabels } from '../kube/objects.ts';
import { count } from '../blocks/count.ts';
import type { MeshSnapshot } from './snapshot.ts';
import { authorizationPolicySpecSchema, parseField } from './istio-specs.ts';
import type { AuthorizationPolicySpec, PolicyTargetRef, SpecProblem } from './istio-specs.ts';
import { refOf, refText } from './traffic-routing.ts';
import type { ObjectRef } from './traffic-routing.ts';

export type AuthzAction = 'ALLOW' | 'DENY' | 'CUSTOM' | 'AUDIT';

export interface AuthzPolicySummary {
  policy: ObjectRef;
  action: AuthzAction;
  scope: 'mesh' | 'namespace' | 'workload';
  /** CUSTOM: the extension provider's name. */
  provider?: string;
  ruleCount: number;
  matchesNothing: boolean;
  matchesEverything: boolean;
  /** `istio.io/dry-run: "true"`: evaluated and logged, not enforced. */
  dryRun: boolean;
  meaning: string;
}

export interface TargetRefPolicy {
  policy: ObjectRef;
  action: AuthzAction;
  targets: string[];
  note: string;
}

export interface AuthorizationView {
  byAction: Record<AuthzAction, AuthzPolicySummary[]>;
  /** Policies attached by targetRef(s) to something this workload is part of (its Services, its namespace's gateways). */
  targetRefPolicies: TargetRefPolicy[];
  /** What the policies mean together, in evaluation order. */
  summary: string[];
  /** What happens to a request that no enforced policy matches. */
  unmatchedRequest: 'allowed' | 'denied';
}

function ruleFacts(spec: AuthorizationPolicySpec): { count: number; nothing: boolean; everything: boolean } {
  const rules = spec.rules ?? [];
  const isEmptyRule = (r: (typeof rules)[number]) => !r.from?.length && !r.to?.length && !r.when?.length;
  return { count: rules.length, nothing: rules.length === 0, everything: rules.some(isEmptyRule) };
}

function meaningOf(action: AuthzAction, facts: ReturnType<typeof ruleFacts>, provider?: string): string {
  switch (action) {
    case 'ALLOW':
      if (facts.nothing)
        return 'allows nothing (no rules): every request is denied unless another ALLOW policy matches it';
      if (facts.everything) return 'allows every request (has an empty rule)';
      return `allows requests matching its ${count(facts.count, 'rule')}`;
    case 'DENY':
      if (facts.nothing) return 'has no rules, so it matches and denies nothing';
      if (facts.everything) return 'denies every request (has an empty rule)';
      return `denies requests matching its ${count(facts.count, 'rule')}`;
    case 'CUSTOM':
      if (facts.nothing) return `has no rules, so nothing is sent to provider ${provider ?? '(none)'}`;
      return `sends requests matching its ${count(facts.count, 'rule')} to provider ${provider ?? '(none)'}, which may deny them`;
    case 'AUDIT':
      return facts.nothing
        ? 'has no rules, so it audits nothing'
        : `marks requests matching its ${count(facts.count, 'rule')} for audit logging; allows or denies nothing`;
  }
}

function targetsOf(spec: AuthorizationPolicySpec): PolicyTargetRef[] {
  return [...(spec.targetRef ? [spec.targetRef] : []), ...(spec.targetRefs ?? [])];
}

/**
 * Policies enforced on a sidecar workload in `namespace` with `labels`. `serviceNames` are the
 * Services it backs (to report targetRef policies attached to them, which only a waypoint enforces).
 */
export function authorizationFor(
  snapshot: MeshSnapshot,
  namespace: string,
  labels: Record<string, string> | undefined,
  serviceNames: readonly string[] = [],
  problems: SpecProblem[] = [],
): AuthorizationView {
  const rootNamespace = snapshot.meshConfig.rootNamespace ?? 'istio-system';
  const byAction: AuthorizationView['byAction'] = { CUSTOM: [], DENY: [], ALLOW: [], AUDIT: [] };
  const targetRefPolicies: TargetRefPolicy[] = [];
  const namespaces = namespace === rootNamespace ? [rootNamespace] : [rootNamespace, namespace];
  for (const ns of namespaces) {
    for (const obj of snapshot.list('AuthorizationPolicy', ns)) {
      const spec = parseField(obj, authorizationPolicySpecSchema, problems);
      if (!spec) continue;
      const targets = targetsOf(spec);
      if (targets.length > 0) {
        const relevant = targets.filter(
          (t) => (t.namespace ?? ns) === namespace && t.kind === 'Service' && serviceNames.includes(t.name),
        );
        if (relevant.length > 0) {
          targetRefPolicies.push({
            policy: refOf(obj),
            action: spec.action,
            targets: relevant.map((t) => `${t.kind} ${t.namespace ?? ns}/${t.name}`),
            note: 'attached by targetRef: enforced by a waypoint proxy, not by this sidecar',
          });
        }
        continue;
      }
      const selector = spec.selector?.matchLabels;
      const hasSelector = Object.keys(selector ?? {}).length > 0;
      if (hasSelector && !matchesLabels(selector, labels)) continue;
      byAction[spec.action].push(
        summarize(obj, spec, hasSelector ? 'workload' : ns === rootNamespace ? 'mesh' : 'namespace'),
      );
    }
  }
  for (const list of Object.values(byAction)) list.sort((a, b) => refText(a.policy).localeCompare(refText(b.policy)));
  const { summary, unmatchedRequest } = combine(byAction);
  return { byAction, targetRefPolicies, summary, unmatchedRequest };
}

function summarize(
  obj: KubeObject,
  spec: AuthorizationPolicySpec,
  scope: AuthzPolicySummary['scope'],
): AuthzPolicySummary {
  const facts = ruleFacts(spec);
  const dryRun = obj.metadata.annotations?.['istio.io/dry-run'] === 'true';
  const provider = spec.provider?.name;
  const meaning =
    meaningOf(spec.action, facts, provider) + (dryRun ? ' — but it is in dry-run, so it is only logged' : '');
  return {
    policy: refOf(obj),
    action: spec.action,
    scope,
    provider,
    ruleCount: facts.count,
    matchesNothing: facts.nothing,
    matchesEverything: facts.everything,
    dryRun,
    meaning,
  };
}

function names(list: readonly AuthzPolicySummary[]): string {
  return list.map((p) => `${p.policy.namespace}/${p.policy.name}`).join(', ');
}

function combine(byAction: AuthorizationView['byAction']): Pick<AuthorizationView, 'summary' | 'unmatchedRequest'> {
  const enforced = (a: AuthzAction) => byAction[a].filter((p) => !p.dryRun);
  const summary: string[] = [];
  const all = [...byAction.CUSTOM, ...byAction.DENY, ...byAction.ALLOW, ...byAction.AUDIT];
  if (all.length === 0) {
    return {
      summary: ['No AuthorizationPolicy applies: every request is allowed (authentication aside).'],
      unmatchedRequest: 'allowed',
    };
  }
  summary.push('Istio evaluates CUSTOM first, then DENY, then ALLOW; AUDIT only logs.');
  const custom = enforced('CUSTOM');
  if (custom.length)
    summary.push(
      `CUSTOM ${names(custom)}: matching requests go to the external authorizer first; if it says no, they are denied.`,
    );
  const deny = enforced('DENY');
  const denyAll = deny.filter((p) => p.matchesEverything);
  if (denyAll.length)
    summary.push(`DENY ${names(denyAll)} matches every request: everything is denied, whatever ALLOW says.`);
  const denySome = deny.filter((p) => !p.matchesEverything && !p.matchesNothing);
  if (denySome.length)
    summary.push(
      `DENY ${names(denySome)}: requests matching their rules are denied, even if an ALLOW policy matches them.`,
    );
  const allow = enforced('ALLOW');
  let unmatchedRequest: AuthorizationView['unmatchedRequest'] = 'allowed';
  if (allow.length) {
    unmatchedRequest = 'denied';
    if (allow.some((p) => p.matchesEverything)) {
      summary.push(
        `ALLOW ${names(allow.filter((p) => p.matchesEverything))} has an empty rule: every request not denied above is allowed.`,
      );
      unmatchedRequest = 'allowed';
    } else if (allow.every((p) => p.matchesNothing)) {
      summary.push(
        `ALLOW ${names(allow)} has no rules: it allows nothing, so every request is denied (allow-nothing).`,
      );
    } else {
      summary.push(`An ALLOW policy exists (${names(allow)}), so anything it does not match is denied.`);
    }
  } else {
    summary.push('No ALLOW policy applies: requests not denied above are allowed.');
  }
  const audit = byAction.AUDIT;
  if (audit.length) summary.push(`AUDIT ${names(audit)}: matching requests are marked for audit logging only.`);
  const dry = all.filter((p) => p.dryRun);
  if (dry.length) summary.push(`In dry-run (logged, not enforced): ${names(dry)}.`);
  if (denyAll.length) unmatchedRequest = 'denied';
  return { summary, unmatchedRequest };
}
