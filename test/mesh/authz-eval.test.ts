// evaluateAuthorization against Istio's documented semantics (reference/config/security/authorization-policy,
// "Authorization Policy Conditions", ISTIO-SECURITY-2021-004) and istiod's translation
// (pilot/pkg/security/authz/model, matcher/): a table of policies × requests → ALLOWED / DENIED / DEPENDS,
// with the deciding policy and rule.
import { describe, expect, it } from '@jest/globals';
import { type AuthzQuery, evaluateAuthorization } from '../../src/mesh/authz-eval.ts';
import { matchPath, matchString } from '../../src/mesh/authz-match.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { istio } from './mesh-fixtures.ts';

const PRODUCTPAGE = 'cluster.local/ns/bookinfo/sa/bookinfo-productpage';
const reviewsLabels = { app: 'reviews', version: 'v1' };

type Req = Partial<AuthzQuery['facts']> & { sidecar?: boolean; strict?: boolean; destSidecar?: boolean };

function query(r: Req = {}): AuthzQuery {
  const { sidecar = true, strict = false, destSidecar = true, ...facts } = r;
  return {
    destination: { namespace: 'bookinfo', labels: reviewsLabels, hasSidecar: destSidecar },
    peer: {
      mode: strict ? 'STRICT' : 'PERMISSIVE',
      decidedBy: strict ? 'PeerAuthentication bookinfo/strict' : 'default',
    },
    source: { hasSidecar: sidecar, label: 'productpage.bookinfo' },
    facts: {
      principal: sidecar ? PRODUCTPAGE : undefined,
      ...(sidecar ? {} : { plaintextWhy: 'the source has no sidecar' }),
      sourceIps: ['10.0.1.5'],
      destinationIps: ['10.0.2.7'],
      port: 9080,
      method: 'GET',
      path: '/reviews/0',
      protocol: 'http',
      ...facts,
    },
  };
}

type Spec = Record<string, unknown>;
const ap = (name: string, spec: Spec, ns = 'bookinfo', annotations?: Record<string, string>) =>
  istio('AuthorizationPolicy', ns, name, spec, annotations ? { annotations } : {});
const allow = (name: string, rules: unknown[], extra: Spec = {}) => ap(name, { action: 'ALLOW', rules, ...extra });
const deny = (name: string, rules: unknown[], extra: Spec = {}) => ap(name, { action: 'DENY', rules, ...extra });
const to = (operation: Spec) => ({ to: [{ operation }] });
const from = (source: Spec) => ({ from: [{ source }] });

interface Case {
  name: string;
  policies: ReturnType<typeof ap>[];
  req?: Req;
  decision: 'ALLOWED' | 'DENIED' | 'DEPENDS';
  /** A piece of the reason, the deciding rule, or what it depends on. */
  says?: string;
  meshConfig?: Record<string, unknown>;
}

const cases: Case[] = [
  { name: 'no policy at all', policies: [], decision: 'ALLOWED', says: 'no AuthorizationPolicy applies' },
  { name: 'ALLOW-nothing (spec: {})', policies: [ap('allow-nothing', {})], decision: 'DENIED', says: 'none matches' },
  { name: 'ALLOW rules: [{}] allows everything', policies: [allow('all', [{}])], decision: 'ALLOWED', says: 'rule 1' },
  {
    name: 'DENY rules: [{}] denies everything',
    policies: [deny('all', [{}])],
    decision: 'DENIED',
    says: 'DENY policy',
  },
  { name: 'DENY without rules matches nothing', policies: [ap('d', { action: 'DENY' })], decision: 'ALLOWED' },
  {
    name: 'DENY wins over a matching ALLOW',
    policies: [allow('all', [{}]), deny('deny-get', [to({ methods: ['GET'] })])],
    decision: 'DENIED',
    says: 'DENY policy bookinfo/deny-get, rule 1: to methods [GET]',
  },
  {
    name: 'DENY that does not match, ALLOW that does',
    policies: [allow('all', [{}]), deny('deny-delete', [to({ methods: ['DELETE'] })])],
    decision: 'ALLOWED',
    says: 'ALLOW policy bookinfo/all',
  },
  {
    name: 'the second rule of a DENY policy decides',
    policies: [deny('d', [to({ methods: ['DELETE'] }), to({ paths: ['/reviews/*'] })])],
    decision: 'DENIED',
    says: 'rule 2: to paths [/reviews/*]',
  },
  {
    name: 'CUSTOM that matches: the provider decides',
    policies: [ap('ext', { action: 'CUSTOM', provider: { name: 'opa' }, rules: [to({ paths: ['/reviews*'] })] })],
    decision: 'DEPENDS',
    says: 'decided by ext-authz provider opa',
  },
  {
    name: 'CUSTOM that matches and a DENY that matches: denied either way',
    policies: [
      ap('ext', { action: 'CUSTOM', provider: { name: 'opa' }, rules: [{}] }),
      deny('deny-get', [to({ methods: ['GET'] })]),
    ],
    decision: 'DENIED',
    says: 'deny-get',
  },
  {
    name: 'CUSTOM that does not match is not consulted',
    policies: [ap('ext', { action: 'CUSTOM', provider: { name: 'opa' }, rules: [to({ paths: ['/admin*'] })] })],
    decision: 'ALLOWED',
  },
  {
    name: 'AUDIT decides nothing',
    policies: [ap('audit', { action: 'AUDIT', rules: [{}] })],
    decision: 'ALLOWED',
  },
  // Principals and namespaces, with and without mTLS.
  {
    name: 'principals exact, mTLS',
    policies: [allow('a', [from({ principals: [PRODUCTPAGE] })])],
    decision: 'ALLOWED',
  },
  {
    name: 'principals, plaintext source: no principal, never matches',
    policies: [allow('a', [from({ principals: [PRODUCTPAGE] })])],
    req: { sidecar: false },
    decision: 'DENIED',
    says: 'no peer identity',
  },
  {
    name: 'principals ["*"] needs an identity',
    policies: [allow('a', [from({ principals: ['*'] })])],
    req: { sidecar: false },
    decision: 'DENIED',
  },
  {
    name: 'notPrincipals over plaintext always matches (ISTIO-SECURITY-2021-004)',
    policies: [deny('d', [from({ notPrincipals: [PRODUCTPAGE] })])],
    req: { sidecar: false },
    decision: 'DENIED',
  },
  {
    name: 'notPrincipals with the right identity does not match',
    policies: [deny('d', [from({ notPrincipals: [PRODUCTPAGE] })])],
    decision: 'ALLOWED',
  },
  {
    name: 'principals suffix form',
    policies: [allow('a', [from({ principals: ['*/sa/bookinfo-productpage'] })])],
    decision: 'ALLOWED',
  },
  {
    name: 'principals prefix form that misses',
    policies: [allow('a', [from({ principals: ['cluster.local/ns/shop/*'] })])],
    decision: 'DENIED',
  },
  { name: 'namespaces match', policies: [allow('a', [from({ namespaces: ['bookinfo'] })])], decision: 'ALLOWED' },
  { name: 'namespaces prefix', policies: [allow('a', [from({ namespaces: ['book*'] })])], decision: 'ALLOWED' },
  {
    name: 'notNamespaces from the same namespace',
    policies: [allow('a', [from({ notNamespaces: ['bookinfo'] })])],
    decision: 'DENIED',
  },
  {
    name: 'notNamespaces over plaintext is allowed (the bulletin case)',
    policies: [allow('a', [from({ notNamespaces: ['bookinfo'] })])],
    req: { sidecar: false },
    decision: 'ALLOWED',
  },
  {
    name: 'serviceAccounts default to the policy namespace',
    policies: [allow('a', [from({ serviceAccounts: ['bookinfo-productpage'] })])],
    decision: 'ALLOWED',
  },
  {
    name: 'serviceAccounts in another namespace',
    policies: [allow('a', [from({ serviceAccounts: ['shop/bookinfo-productpage'] })])],
    decision: 'DENIED',
  },
  { name: 'ipBlocks CIDR', policies: [allow('a', [from({ ipBlocks: ['10.0.1.0/24'] })])], decision: 'ALLOWED' },
  { name: 'notIpBlocks single IP', policies: [allow('a', [from({ notIpBlocks: ['10.0.1.5'] })])], decision: 'DENIED' },
  {
    name: 'ipBlocks that only some source pods are in',
    policies: [allow('a', [from({ ipBlocks: ['10.0.1.5'] })])],
    req: { sourceIps: ['10.0.1.5', '10.0.9.9'] },
    decision: 'DEPENDS',
  },
  {
    name: 'requestPrincipals (JWT) cannot be evaluated',
    policies: [allow('a', [from({ requestPrincipals: ['*'] })])],
    decision: 'DEPENDS',
    says: 'JWT',
  },
  // Operations.
  { name: 'ports', policies: [allow('a', [to({ ports: ['9080'] })])], decision: 'ALLOWED' },
  { name: 'notPorts', policies: [allow('a', [to({ notPorts: ['9080'] })])], decision: 'DENIED' },
  {
    name: 'ports, no port given',
    policies: [allow('a', [to({ ports: ['9080'] })])],
    req: { port: undefined },
    decision: 'DEPENDS',
    says: 'no port given',
  },
  {
    name: 'methods miss',
    policies: [allow('a', [to({ methods: ['POST'] })])],
    decision: 'DENIED',
    says: 'to methods [POST]',
  },
  { name: 'notMethods', policies: [deny('d', [to({ notMethods: ['GET', 'HEAD'] })])], decision: 'ALLOWED' },
  {
    name: 'methods, no method given',
    policies: [allow('a', [to({ methods: ['GET'] })])],
    req: { method: undefined },
    decision: 'DEPENDS',
  },
  { name: 'paths exact', policies: [allow('a', [to({ paths: ['/reviews/0'] })])], decision: 'ALLOWED' },
  { name: 'paths exact miss', policies: [allow('a', [to({ paths: ['/reviews'] })])], decision: 'DENIED' },
  { name: 'paths prefix', policies: [allow('a', [to({ paths: ['/reviews/*'] })])], decision: 'ALLOWED' },
  { name: 'paths suffix', policies: [allow('a', [to({ paths: ['*/0'] })])], decision: 'ALLOWED' },
  { name: 'paths presence', policies: [allow('a', [to({ paths: ['*'] })])], decision: 'ALLOWED' },
  { name: 'notPaths prefix', policies: [deny('d', [to({ notPaths: ['/reviews*'] })])], decision: 'ALLOWED' },
  {
    name: 'path query string ignored',
    policies: [allow('a', [to({ paths: ['/reviews/0'] })])],
    req: { path: '/reviews/0?x=1' },
    decision: 'ALLOWED',
  },
  { name: 'template {*} one segment', policies: [allow('a', [to({ paths: ['/reviews/{*}'] })])], decision: 'ALLOWED' },
  {
    name: 'template {*} is not two segments',
    policies: [allow('a', [to({ paths: ['/{*}'] })])],
    decision: 'DENIED',
  },
  {
    name: 'template {**} any depth',
    policies: [allow('a', [to({ paths: ['/{**}'] })])],
    req: { path: '/a/b/c' },
    decision: 'ALLOWED',
  },
  {
    name: 'hosts ignore case',
    policies: [allow('a', [to({ hosts: ['Reviews:9080'] })])],
    req: { host: 'reviews:9080' },
    decision: 'ALLOWED',
  },
  {
    name: 'hosts, no host given',
    policies: [allow('a', [to({ hosts: ['reviews*'] })])],
    decision: 'DEPENDS',
    says: 'no Host header',
  },
  // Within a rule: from AND to AND when; within a list: OR.
  {
    name: 'from matches but to does not: the rule does not match',
    policies: [allow('a', [{ ...from({ principals: [PRODUCTPAGE] }), ...to({ methods: ['POST'] }) }])],
    decision: 'DENIED',
    says: 'the nearest',
  },
  {
    name: 'two operations: either one',
    policies: [allow('a', [{ to: [{ operation: { methods: ['POST'] } }, { operation: { paths: ['/reviews/*'] } }] }])],
    decision: 'ALLOWED',
  },
  {
    name: 'fields of one operation are ANDed',
    policies: [allow('a', [to({ methods: ['GET'], paths: ['/ratings*'] })])],
    decision: 'DENIED',
  },
  // when.
  {
    name: 'when source.namespace',
    policies: [allow('a', [{ when: [{ key: 'source.namespace', values: ['bookinfo'] }] }])],
    decision: 'ALLOWED',
  },
  {
    name: 'when source.principal over plaintext',
    policies: [allow('a', [{ when: [{ key: 'source.principal', values: ['*'] }] }])],
    req: { sidecar: false },
    decision: 'DENIED',
  },
  {
    name: 'when destination.port',
    policies: [deny('d', [{ when: [{ key: 'destination.port', values: ['9080'] }] }])],
    decision: 'DENIED',
  },
  {
    name: 'when source.ip notValues',
    policies: [deny('d', [{ when: [{ key: 'source.ip', notValues: ['10.0.0.0/8'] }] }])],
    decision: 'ALLOWED',
  },
  {
    name: 'when a header nobody gave',
    policies: [allow('a', [{ when: [{ key: 'request.headers[x-user]', values: ['admin'] }] }])],
    decision: 'DEPENDS',
    says: 'no headers given',
  },
  {
    name: 'when a header that was given',
    policies: [allow('a', [{ when: [{ key: 'request.headers[X-User]', values: ['adm*'] }] }])],
    req: { headers: { 'x-user': 'admin' } },
    decision: 'ALLOWED',
  },
  {
    name: 'when a JWT claim',
    policies: [allow('a', [{ when: [{ key: 'request.auth.claims[groups]', values: ['ops'] }] }])],
    decision: 'DEPENDS',
    says: 'JWT',
  },
  {
    name: 'a known miss decides even next to an unknown condition',
    policies: [
      allow('a', [{ ...to({ methods: ['POST'] }), when: [{ key: 'request.auth.claims[iss]', values: ['x'] }] }]),
    ],
    decision: 'DENIED',
  },
  {
    name: 'a DENY that may match makes an allowed request DEPENDS',
    policies: [allow('all', [{}]), deny('d', [{ when: [{ key: 'request.auth.claims[iss]', values: ['x'] }] }])],
    decision: 'DEPENDS',
    says: 'DENY policy bookinfo/d, rule 1',
  },
  // Dry-run, scoping, root namespace.
  {
    name: 'a dry-run DENY is reported, not enforced',
    policies: [ap('d', { action: 'DENY', rules: [{}] }, 'bookinfo', { 'istio.io/dry-run': 'true' })],
    decision: 'ALLOWED',
  },
  {
    name: 'a root-namespace DENY applies mesh-wide',
    policies: [ap('mesh-deny', { action: 'DENY', rules: [to({ methods: ['GET'] })] }, 'istio-system')],
    decision: 'DENIED',
    says: 'istio-system/mesh-deny',
  },
  {
    name: 'a custom root namespace (meshConfig.rootNamespace)',
    policies: [ap('mesh-deny', { action: 'DENY', rules: [{}] }, 'istio-config')],
    meshConfig: { rootNamespace: 'istio-config' },
    decision: 'DENIED',
  },
  {
    name: 'a policy in another namespace does not apply',
    policies: [ap('other', { action: 'DENY', rules: [{}] }, 'shop')],
    decision: 'ALLOWED',
  },
  {
    name: 'a selector for other workloads does not apply',
    policies: [deny('d', [{}], { selector: { matchLabels: { app: 'ratings' } } })],
    decision: 'ALLOWED',
  },
  {
    name: 'a selector for this workload applies',
    policies: [deny('d', [{}], { selector: { matchLabels: { app: 'reviews' } } })],
    decision: 'DENIED',
  },
  {
    name: 'targetRef policies are not enforced by sidecars',
    policies: [deny('d', [{}], { targetRefs: [{ kind: 'Service', group: '', name: 'reviews' }] })],
    decision: 'ALLOWED',
  },
  // TCP ports: HTTP-only fields.
  {
    name: 'TCP: an ALLOW rule with methods is dropped',
    policies: [allow('a', [to({ methods: ['GET'] })])],
    req: { protocol: 'tcp', method: undefined, path: undefined },
    decision: 'DENIED',
  },
  {
    name: 'TCP: a DENY rule ignores its methods, so it is wider',
    policies: [deny('d', [to({ methods: ['DELETE'], ports: ['9080'] })])],
    req: { protocol: 'tcp', method: undefined, path: undefined },
    decision: 'DENIED',
  },
  // Before authorization.
  {
    name: 'STRICT and a source without sidecar: refused before authorization',
    policies: [allow('all', [{}])],
    req: { sidecar: false, strict: true },
    decision: 'DENIED',
    says: 'refused before any AuthorizationPolicy',
  },
  {
    name: 'a destination without sidecar enforces nothing',
    policies: [deny('all', [{}])],
    req: { destSidecar: false },
    decision: 'ALLOWED',
    says: 'no sidecar',
  },
];

describe('evaluateAuthorization: a table against Istio semantics', () => {
  it.each(cases)('$name → $decision', (c) => {
    const snapshot = new MeshSnapshot(c.policies, c.meshConfig ? { meshConfig: c.meshConfig } : {});
    const v = evaluateAuthorization(snapshot, query(c.req));
    expect(v.decision).toBe(c.decision);
    if (c.says) {
      const words = [
        v.reason,
        ...v.unknowns,
        v.nearest ? `the nearest ${v.nearest.rule?.wants} ${v.nearest.misses.map((m) => m.why).join(' ')}` : '',
      ].join('\n');
      expect(words).toContain(c.says);
    }
  });
});

describe('evaluateAuthorization: the answer names what decided it', () => {
  it('denied by default names the nearest ALLOW rule and what it wants', () => {
    const snapshot = new MeshSnapshot([
      allow('from-frontend', [
        { ...from({ principals: ['cluster.local/ns/shop/sa/frontend'] }), ...to({ methods: ['GET'] }) },
      ]),
      allow('writers', [{ ...from({ principals: ['cluster.local/ns/shop/sa/admin'] }), ...to({ methods: ['POST'] }) }]),
    ]);
    const v = evaluateAuthorization(snapshot, query());
    expect(v.decision).toBe('DENIED');
    expect(v.stage).toBe('default-deny');
    expect(v.nearest?.policy.policy.name).toBe('from-frontend');
    expect(v.nearest?.misses.map((m) => m.why)).toEqual([
      `principals [cluster.local/ns/shop/sa/frontend]: the source is ${PRODUCTPAGE} — does not match`,
    ]);
  });

  it('a dry-run policy that would have denied is listed as such', () => {
    const snapshot = new MeshSnapshot([
      ap('d', { action: 'DENY', rules: [{}] }, 'bookinfo', { 'istio.io/dry-run': 'true' }),
    ]);
    const v = evaluateAuthorization(snapshot, query());
    expect(v.dryRun.map((p) => [p.policy.name, p.result])).toEqual([['d', 'yes']]);
  });

  it('a policy whose spec does not fit is reported, not silently skipped', () => {
    const snapshot = new MeshSnapshot([ap('bad', { action: 'MAYBE', rules: [{}] })]);
    const v = evaluateAuthorization(snapshot, query());
    expect(v.problems.map((p) => p.object)).toEqual(['AuthorizationPolicy bookinfo/bad']);
  });
});

describe('string and path forms', () => {
  it.each([
    ['abc', 'abc', true],
    ['abc', 'abcd', false],
    ['abc*', 'abcd', true],
    ['abc*', 'abc', true],
    ['*abc', 'xabc', true],
    ['*abc', 'abcx', false],
    ['*', 'x', true],
    ['*', '', false],
  ])('%s against %s → %s', (pattern, value, want) => {
    expect(matchString(pattern, value)).toBe(want);
  });

  it.each([
    ['/a/{*}/c', '/a/b/c', true],
    ['/a/{*}/c', '/a/b/x/c', false],
    ['/a/{*}/c', '/a//c', false],
    ['/a/{**}', '/a/b/c/d', true],
    ['/a/{**}', '/a/', true],
  ])('template %s against %s → %s', (pattern, path, want) => {
    expect(matchPath(pattern, path)).toBe(want);
  });
});
