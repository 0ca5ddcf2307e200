// Access reviews as the API server answers them: validation (422 with the authorization package's
// wording), the RBAC authorizer's reason for an allow, and SelfSubjectRulesReview's rule lists.
import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { reviewAnswer } from '../../src/sandbox/access-reviews.ts';
import { bootstrapObjects } from '../../src/sandbox/cluster-bootstrap.ts';

const SA = 'system:serviceaccount:probe:probe-sa';
const saWho = { user: SA, groups: ['system:serviceaccounts', 'system:serviceaccounts:probe', 'system:authenticated'] };
const rbac: KubeObject[] = [
  ...bootstrapObjects().filter((o) => o.apiVersion === 'rbac.authorization.k8s.io/v1'),
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'pods-read', namespace: 'probe' },
    rules: [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'pods-read', namespace: 'probe' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pods-read' },
    subjects: [{ kind: 'ServiceAccount', name: 'probe-sa', namespace: 'probe' }],
  },
];

function sar(resourceAttributes: object, spec: object = { user: SA, groups: saWho.groups }): object {
  return { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { ...spec, resourceAttributes } };
}

describe('access reviews', () => {
  it('an allow names the binding, role and subject as RBAC words it', () => {
    const out = reviewAnswer(
      'subjectaccessreviews',
      'authorization.k8s.io/v1',
      sar({ namespace: 'probe', verb: 'list', resource: 'pods' }),
      saWho,
      rbac,
    ) as { status: object };
    expect(out.status).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "pods-read/probe" of Role "pods-read" to ServiceAccount "probe-sa/probe"',
    });
    const cluster = reviewAnswer(
      'selfsubjectaccessreviews',
      'authorization.k8s.io/v1',
      {
        spec: {
          resourceAttributes: { verb: 'create', group: 'authorization.k8s.io', resource: 'selfsubjectrulesreviews' },
        },
      },
      saWho,
      rbac,
    ) as { status: object };
    expect(cluster.status).toEqual({
      allowed: true,
      reason:
        'RBAC: allowed by ClusterRoleBinding "system:basic-user" of ClusterRole "system:basic-user" to Group "system:authenticated"',
    });
  });

  it('a deny has no reason; the subresource counts', () => {
    const out = reviewAnswer(
      'subjectaccessreviews',
      'authorization.k8s.io/v1',
      sar({ namespace: 'probe', verb: 'get', resource: 'secrets' }),
      saWho,
      rbac,
    ) as { status: object };
    expect(out.status).toEqual({ allowed: false });
    const exec = reviewAnswer(
      'selfsubjectaccessreviews',
      'authorization.k8s.io/v1',
      { spec: { resourceAttributes: { namespace: 'probe', verb: 'get', resource: 'pods', subresource: 'exec' } } },
      saWho,
      rbac,
    ) as { status: { allowed: boolean } };
    expect(exec.status.allowed).toBe(false);
  });

  it('non-resource URLs are decided by the discovery roles', () => {
    const out = reviewAnswer(
      'selfsubjectaccessreviews',
      'authorization.k8s.io/v1',
      { spec: { nonResourceAttributes: { path: '/apis/apps', verb: 'get' } } },
      saWho,
      rbac,
    ) as { status: { allowed: boolean; reason: string } };
    expect(out.status.allowed).toBe(true);
    expect(out.status.reason).toMatch(/ClusterRoleBinding "system:discovery"/);
  });

  it('an empty spec is refused with both causes, kind-less as the API server words it', () => {
    let err: { code: number; status: { message: string; details: object } } | undefined;
    try {
      reviewAnswer('subjectaccessreviews', 'authorization.k8s.io/v1', { spec: {} }, saWho, rbac);
    } catch (e) {
      err = e as typeof err;
    }
    expect(err?.code).toBe(422);
    expect(err?.status.message).toBe(
      '.authorization.k8s.io "" is invalid: [spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified, spec.user: Invalid value: "": at least one of user or group must be specified]',
    );
    expect(err?.status.details).toEqual({
      group: 'authorization.k8s.io',
      causes: [
        {
          reason: 'FieldValueInvalid',
          field: 'spec.resourceAttributes',
          message:
            'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
        },
        {
          reason: 'FieldValueInvalid',
          field: 'spec.user',
          message: 'Invalid value: "": at least one of user or group must be specified',
        },
      ],
    });
    expect(() =>
      reviewAnswer(
        'localsubjectaccessreviews',
        'authorization.k8s.io/v1',
        sar({ namespace: 'other', verb: 'get', resource: 'pods' }),
        saWho,
        rbac,
        'probe',
      ),
    ).toThrow(/spec.resourceAttributes.namespace: Invalid value: "other": must match metadata.namespace/);
  });

  it('SelfSubjectRulesReview lists the rules that apply in the namespace', () => {
    const out = reviewAnswer(
      'selfsubjectrulesreviews',
      'authorization.k8s.io/v1',
      { spec: { namespace: 'probe' } },
      saWho,
      rbac,
    ) as {
      status: {
        resourceRules: { verbs: string[]; apiGroups?: string[]; resources: string[] }[];
        nonResourceRules: { nonResourceURLs: string[] }[];
        incomplete: boolean;
      };
    };
    expect(out.status.incomplete).toBe(false);
    expect(out.status.resourceRules).toEqual([
      {
        verbs: ['create'],
        apiGroups: ['authorization.k8s.io'],
        resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
      },
      { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'pods/log'] },
    ]);
    expect(out.status.nonResourceRules).toHaveLength(3);
    const elsewhere = reviewAnswer(
      'selfsubjectrulesreviews',
      'authorization.k8s.io/v1',
      { spec: { namespace: 'default' } },
      saWho,
      rbac,
    ) as { status: { resourceRules: unknown[] } };
    expect(elsewhere.status.resourceRules).toHaveLength(1);
  });
});
