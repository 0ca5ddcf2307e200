// Kubernetes RBAC evaluation as a pure function over Role/ClusterRole/RoleBinding/ClusterRoleBinding
// objects. The sandbox API server authorizes every non-admin request with it, and tests use it to
// check that deploy/ grants meshops exactly what it needs.
import type { KubeObject } from '../kube/objects.ts';
import { selectorObjectMatches, type LabelSelectorObject } from './selectors.ts';

export interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
  kind?: string;
  name?: string;
  namespace?: string;
}

interface RoleRef {
  kind?: string;
  name?: string;
}

const SUPERUSER_GROUP = 'system:masters';

function rulesOf(o: KubeObject): PolicyRule[] {
  return Array.isArray(o.rules) ? (o.rules as PolicyRule[]) : [];
}

/** A ClusterRole's rules, including rules aggregated from ClusterRoles its aggregationRule selects. */
function clusterRoleRules(objects: readonly KubeObject[], role: KubeObject): PolicyRule[] {
  const agg = (role.aggregationRule as { clusterRoleSelectors?: LabelSelectorObject[] } | undefined)
    ?.clusterRoleSelectors;
  if (!agg?.length) return rulesOf(role);
  const out = [...rulesOf(role)];
  for (const o of objects) {
    if (o.kind !== 'ClusterRole' || o === role) continue;
    if (agg.some((sel) => selectorObjectMatches(sel, o.metadata.labels))) out.push(...rulesOf(o));
  }
  return out;
}

function subjectMatches(
  s: Subject,
  user: string,
  groups: readonly string[],
  bindingNamespace: string | undefined,
): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === user;
    case 'Group':
      return s.name !== undefined && groups.includes(s.name);
    case 'ServiceAccount':
      return user === `system:serviceaccount:${s.namespace ?? bindingNamespace ?? ''}:${s.name}`;
    default:
      return false;
  }
}

function verbMatches(rule: PolicyRule, verb: string): boolean {
  return (rule.verbs ?? []).some((v) => v === '*' || v === verb);
}

function groupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === '*' || g === group);
}

/** `resource` may carry a subresource (`pods/log`); `*` and `*\/<sub>` match as in Kubernetes. */
function resourceMatches(rule: PolicyRule, resource: string): boolean {
  const slash = resource.indexOf('/');
  const sub = slash < 0 ? '' : resource.slice(slash + 1);
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === resource) return true;
    if (sub && r === `*/${sub}`) return true;
  }
  return false;
}

function nameMatches(rule: PolicyRule, name: string | undefined): boolean {
  const names = rule.resourceNames ?? [];
  if (names.length === 0) return true;
  return name !== undefined && name !== '' && names.includes(name);
}

export function ruleAllows(rule: PolicyRule, verb: string, group: string, resource: string, name?: string): boolean {
  return (
    verbMatches(rule, verb) && groupMatches(rule, group) && resourceMatches(rule, resource) && nameMatches(rule, name)
  );
}

/** The rules that apply to a user in a namespace (or cluster-wide when namespace is undefined). */
export function rulesFor(
  objects: readonly KubeObject[],
  user: string,
  groups: readonly string[],
  namespace?: string,
): PolicyRule[] {
  const clusterRoles = new Map<string, KubeObject>();
  const roles = new Map<string, KubeObject>();
  for (const o of objects) {
    if (o.kind === 'ClusterRole') clusterRoles.set(o.metadata.name, o);
    else if (o.kind === 'Role') roles.set(`${o.metadata.namespace}/${o.metadata.name}`, o);
  }
  const out: PolicyRule[] = [];
  const addRef = (ref: RoleRef | undefined, bindingNs: string | undefined) => {
    if (!ref?.name) return;
    if (ref.kind === 'ClusterRole') {
      const role = clusterRoles.get(ref.name);
      if (role) out.push(...clusterRoleRules(objects, role));
    } else if (ref.kind === 'Role' && bindingNs) {
      const role = roles.get(`${bindingNs}/${ref.name}`);
      if (role) out.push(...rulesOf(role));
    }
  };
  for (const o of objects) {
    const subjects = (o.subjects as Subject[] | undefined) ?? [];
    if (o.kind === 'ClusterRoleBinding') {
      if (subjects.some((s) => subjectMatches(s, user, groups, undefined))) addRef(o.roleRef as RoleRef, undefined);
    } else if (o.kind === 'RoleBinding' && namespace !== undefined && o.metadata.namespace === namespace) {
      if (subjects.some((s) => subjectMatches(s, user, groups, namespace))) addRef(o.roleRef as RoleRef, namespace);
    }
  }
  return out;
}

/**
 * May `user` (with `groups`) perform `verb` on `resource` (optionally `resource/subresource`) in API
 * group `group`, in `namespace` (undefined: cluster-scoped or all namespaces), on object `name`?
 * Members of system:masters may do anything, as in Kubernetes.
 */
export function can(
  objects: readonly KubeObject[],
  user: string,
  groups: readonly string[],
  verb: string,
  group: string,
  resource: string,
  namespace?: string,
  name?: string,
): boolean {
  if (groups.includes(SUPERUSER_GROUP)) return true;
  return rulesFor(objects, user, groups, namespace).some((r) => ruleAllows(r, verb, group, resource, name));
}

/** Non-resource URLs (`/healthz`, `/metrics`), matched exactly or by a trailing `*`. */
export function canNonResource(
  objects: readonly KubeObject[],
  user: string,
  groups: readonly string[],
  verb: string,
  path: string,
): boolean {
  if (groups.includes(SUPERUSER_GROUP)) return true;
  return rulesFor(objects, user, groups).some(
    (r) =>
      verbMatches(r, verb) &&
      (r.nonResourceURLs ?? []).some(
        (u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1))),
      ),
  );
}

/** The groups Kubernetes gives an authenticated user name (service accounts get their namespace groups). */
export function defaultGroupsFor(user: string): string[] {
  const m = user.match(/^system:serviceaccount:([^:]+):[^:]+$/);
  if (m) return ['system:serviceaccounts', `system:serviceaccounts:${m[1]}`, 'system:authenticated'];
  return ['system:authenticated'];
}

// ---------------------------------------------------------------- decisions with reasons, rule lists

/** A rule and the binding that grants it, described as the RBAC authorizer describes it. */
export interface GrantedRule {
  rule: PolicyRule;
  /** e.g. `RoleBinding "pods-read/probe" of Role "pods-read" to ServiceAccount "probe-sa/probe"`. */
  source: string;
}

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount')
    return `ServiceAccount ${JSON.stringify(`${s.name ?? ''}/${s.namespace || bindingNamespace}`)}`;
  return `${s.kind ?? ''} ${JSON.stringify(s.name ?? '')}`;
}

/**
 * The rules that apply to a user, in the authorizer's visiting order: ClusterRoleBindings, then (for
 * a namespace) that namespace's RoleBindings; each with the first of its subjects that matches.
 */
export function grantedRules(
  objects: readonly KubeObject[],
  user: string,
  groups: readonly string[],
  namespace?: string,
): GrantedRule[] {
  const clusterRoles = new Map<string, KubeObject>();
  const roles = new Map<string, KubeObject>();
  for (const o of objects) {
    if (o.kind === 'ClusterRole') clusterRoles.set(o.metadata.name, o);
    else if (o.kind === 'Role') roles.set(`${o.metadata.namespace}/${o.metadata.name}`, o);
  }
  const out: GrantedRule[] = [];
  const visit = (binding: KubeObject, bindingNs: string | undefined) => {
    const subject = ((binding.subjects as Subject[] | undefined) ?? []).find((s) =>
      subjectMatches(s, user, groups, bindingNs),
    );
    const ref = binding.roleRef as RoleRef | undefined;
    if (!subject || !ref?.name) return;
    let rules: PolicyRule[] = [];
    if (ref.kind === 'ClusterRole') {
      const role = clusterRoles.get(ref.name);
      if (role) rules = clusterRoleRules(objects, role);
    } else if (ref.kind === 'Role' && bindingNs) {
      const role = roles.get(`${bindingNs}/${ref.name}`);
      if (role) rules = rulesOf(role);
    }
    const source = bindingNs
      ? `RoleBinding ${JSON.stringify(`${binding.metadata.name}/${bindingNs}`)} of ${ref.kind} ${JSON.stringify(ref.name)} to ${describeSubject(subject, bindingNs)}`
      : `ClusterRoleBinding ${JSON.stringify(binding.metadata.name)} of ${ref.kind} ${JSON.stringify(ref.name)} to ${describeSubject(subject, '')}`;
    for (const rule of rules) out.push({ rule, source });
  };
  for (const o of objects) if (o.kind === 'ClusterRoleBinding') visit(o, undefined);
  if (namespace)
    for (const o of objects) if (o.kind === 'RoleBinding' && o.metadata.namespace === namespace) visit(o, namespace);
  return out;
}

export interface Decision {
  allowed: boolean;
  /** `RBAC: allowed by <source>` when a rule allows; empty otherwise (and for system:masters). */
  reason: string;
}

/** The authorizer chain's decision for a resource request: system:masters first, then RBAC. */
export function decideResource(
  objects: readonly KubeObject[],
  user: string,
  groups: readonly string[],
  verb: string,
  group: string,
  resource: string,
  namespace?: string,
  name?: string,
): Decision {
  if (groups.includes(SUPERUSER_GROUP)) return { allowed: true, reason: '' };
  const hit = grantedRules(objects, user, groups, namespace).find((g) =>
    ruleAllows(g.rule, verb, group, resource, name),
  );
  return hit ? { allowed: true, reason: `RBAC: allowed by ${hit.source}` } : { allowed: false, reason: '' };
}

/** The same for a non-resource URL (`/healthz`, `/api/*`). */
export function decideNonResource(
  objects: readonly KubeObject[],
  user: string,
  groups: readonly string[],
  verb: string,
  path: string,
): Decision {
  if (groups.includes(SUPERUSER_GROUP)) return { allowed: true, reason: '' };
  const hit = grantedRules(objects, user, groups).find(
    (g) =>
      verbMatches(g.rule, verb) &&
      (g.rule.nonResourceURLs ?? []).some(
        (u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1))),
      ),
  );
  return hit ? { allowed: true, reason: `RBAC: allowed by ${hit.source}` } : { allowed: false, reason: '' };
}
