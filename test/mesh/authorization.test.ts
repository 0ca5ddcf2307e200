import { describe, expect, it } from '@jest/globals';
import { authorizationFor } from '../../src/mesh/authorization.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { istio } from './mesh-fixtures.ts';

const reviews = { app: 'reviews', version: 'v1' };
const fromProductpage = { from: [{ source: { principals: ['cluster.local/ns/bookinfo/sa/productpage'] } }] };

function names(view: ReturnType<typeof authorizationFor>) {
  return Object.fromEntries(
    Object.entries(view.byAction).map(([a, list]) => [
      a,
      list.map((p) => `${p.policy.namespace}/${p.policy.name}:${p.scope}`),
    ]),
  );
}

describe('authorizationFor', () => {
  it('no policy: everything allowed', () => {
    const view = authorizationFor(new MeshSnapshot([]), 'bookinfo', reviews);
    expect(view.unmatchedRequest).toBe('allowed');
    expect(view.summary).toEqual(['No AuthorizationPolicy applies: every request is allowed (authentication aside).']);
  });

  it('ALLOW + DENY: DENY first, then anything the ALLOW policy does not match is denied', () => {
    const snapshot = new MeshSnapshot([
      istio('AuthorizationPolicy', 'bookinfo', 'allow-productpage', {
        selector: { matchLabels: { app: 'reviews' } },
        action: 'ALLOW',
        rules: [fromProductpage],
      }),
      istio('AuthorizationPolicy', 'bookinfo', 'deny-delete', {
        action: 'DENY',
        rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }],
      }),
      istio('AuthorizationPolicy', 'bookinfo', 'ratings-only', {
        selector: { matchLabels: { app: 'ratings' } },
        action: 'ALLOW',
        rules: [{}],
      }),
      istio('AuthorizationPolicy', 'other', 'elsewhere', { action: 'DENY', rules: [{}] }),
    ]);
    const view = authorizationFor(snapshot, 'bookinfo', reviews);
    expect(names(view)).toEqual({
      CUSTOM: [],
      DENY: ['bookinfo/deny-delete:namespace'],
      ALLOW: ['bookinfo/allow-productpage:workload'],
      AUDIT: [],
    });
    expect(view.unmatchedRequest).toBe('denied');
    expect(view.summary).toEqual([
      'Istio evaluates CUSTOM first, then DENY, then ALLOW; AUDIT only logs.',
      'DENY bookinfo/deny-delete: requests matching their rules are denied, even if an ALLOW policy matches them.',
      'An ALLOW policy exists (bookinfo/allow-productpage), so anything it does not match is denied.',
    ]);
    expect(view.byAction.ALLOW[0]!.meaning).toBe('allows requests matching its 1 rule');
  });

  it('an ALLOW policy without rules allows nothing; `rules: [{}]` allows everything', () => {
    const nothing = new MeshSnapshot([istio('AuthorizationPolicy', 'bookinfo', 'allow-nothing', { action: 'ALLOW' })]);
    const v1 = authorizationFor(nothing, 'bookinfo', reviews);
    expect(v1.unmatchedRequest).toBe('denied');
    expect(v1.summary).toContain(
      'ALLOW bookinfo/allow-nothing has no rules: it allows nothing, so every request is denied (allow-nothing).',
    );
    // An empty spec is an ALLOW policy too (action defaults to ALLOW).
    const empty = new MeshSnapshot([istio('AuthorizationPolicy', 'bookinfo', 'empty', {})]);
    expect(authorizationFor(empty, 'bookinfo', reviews).byAction.ALLOW[0]?.matchesNothing).toBe(true);
    const all = new MeshSnapshot([
      istio('AuthorizationPolicy', 'bookinfo', 'allow-all', { action: 'ALLOW', rules: [{}] }),
    ]);
    const v2 = authorizationFor(all, 'bookinfo', reviews);
    expect(v2.unmatchedRequest).toBe('allowed');
    expect(v2.byAction.ALLOW[0]!.matchesEverything).toBe(true);
  });

  it('DENY with an empty rule denies everything; DENY without rules does nothing', () => {
    const snapshot = new MeshSnapshot([
      istio('AuthorizationPolicy', 'bookinfo', 'deny-all', { action: 'DENY', rules: [{}] }),
      istio('AuthorizationPolicy', 'bookinfo', 'deny-none', { action: 'DENY' }),
    ]);
    const view = authorizationFor(snapshot, 'bookinfo', reviews);
    expect(view.unmatchedRequest).toBe('denied');
    expect(view.byAction.DENY.find((p) => p.policy.name === 'deny-none')!.meaning).toBe(
      'has no rules, so it matches and denies nothing',
    );
    expect(view.summary).toContain(
      'DENY bookinfo/deny-all matches every request: everything is denied, whatever ALLOW says.',
    );
  });

  it('root-namespace policies: mesh-wide without selector, and selector ones reach every namespace', () => {
    const snapshot = new MeshSnapshot([
      istio('AuthorizationPolicy', 'istio-system', 'mesh-audit', { action: 'AUDIT', rules: [{}] }),
      istio('AuthorizationPolicy', 'istio-system', 'ext-authz', {
        selector: { matchLabels: { app: 'reviews' } },
        action: 'CUSTOM',
        provider: { name: 'opa' },
        rules: [{}],
      }),
    ]);
    const view = authorizationFor(snapshot, 'bookinfo', reviews);
    expect(names(view)).toEqual({
      CUSTOM: ['istio-system/ext-authz:workload'],
      DENY: [],
      ALLOW: [],
      AUDIT: ['istio-system/mesh-audit:mesh'],
    });
    expect(view.byAction.CUSTOM[0]!.meaning).toMatch(/provider opa/);
    expect(view.summary[1]).toMatch(/^CUSTOM istio-system\/ext-authz: .*external authorizer first/);
  });

  it('targetRef policies are reported apart: a waypoint enforces them, not the sidecar', () => {
    const snapshot = new MeshSnapshot([
      istio('AuthorizationPolicy', 'bookinfo', 'waypoint-deny', {
        targetRefs: [{ kind: 'Service', group: '', name: 'reviews' }],
        action: 'DENY',
        rules: [{}],
      }),
    ]);
    const view = authorizationFor(snapshot, 'bookinfo', reviews, ['reviews']);
    expect(view.byAction.DENY).toEqual([]);
    expect(view.unmatchedRequest).toBe('allowed');
    expect(view.targetRefPolicies).toEqual([
      {
        policy: expect.objectContaining({ name: 'waypoint-deny' }),
        action: 'DENY',
        targets: ['Service bookinfo/reviews'],
        note: expect.stringMatching(/waypoint/),
      },
    ]);
  });

  it('a dry-run policy is shown but not enforced', () => {
    const snapshot = new MeshSnapshot([
      istio(
        'AuthorizationPolicy',
        'bookinfo',
        'try-deny',
        { action: 'DENY', rules: [{}] },
        { annotations: { 'istio.io/dry-run': 'true' } },
      ),
    ]);
    const view = authorizationFor(snapshot, 'bookinfo', reviews);
    expect(view.byAction.DENY[0]!.dryRun).toBe(true);
    expect(view.unmatchedRequest).toBe('allowed');
    expect(view.summary).toContain('In dry-run (logged, not enforced): bookinfo/try-deny.');
  });
});
