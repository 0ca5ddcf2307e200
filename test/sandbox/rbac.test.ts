// The pure RBAC evaluator, and the API server enforcing it (403 wording, impersonation, reviews).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../../src/kube/objects.ts';
import { bootstrapObjects } from '../../src/sandbox/cluster-bootstrap.ts';
import { can, canNonResource } from '../../src/sandbox/rbac.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';

const rbac = (kind: string, name: string, rest: Record<string, unknown>, namespace?: string): KubeObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}) },
  ...rest,
});

const objects: KubeObject[] = [
  rbac(
    'Role',
    'log-reader',
    { rules: [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list'] }] },
    'bookinfo',
  ),
  rbac(
    'RoleBinding',
    'alice-logs',
    { roleRef: { kind: 'Role', name: 'log-reader' }, subjects: [{ kind: 'User', name: 'alice' }] },
    'bookinfo',
  ),
  rbac('ClusterRole', 'restarter', {
    rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['patch'], resourceNames: ['reviews-v1'] }],
  }),
  rbac(
    'RoleBinding',
    'bot-restarts',
    {
      roleRef: { kind: 'ClusterRole', name: 'restarter' },
      subjects: [{ kind: 'ServiceAccount', name: 'meshops', namespace: 'meshops' }],
    },
    'bookinfo',
  ),
  rbac('ClusterRole', 'mesh-reader', {
    rules: [
      { apiGroups: ['networking.istio.io'], resources: ['*'], verbs: ['get', 'list', 'watch'] },
      { nonResourceURLs: ['/debug/*'], verbs: ['get'] },
    ],
  }),
  rbac('ClusterRoleBinding', 'sre-mesh', {
    roleRef: { kind: 'ClusterRole', name: 'mesh-reader' },
    subjects: [{ kind: 'Group', name: 'sre' }],
  }),
  rbac('ClusterRole', 'aggregate', {
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'rbac.example.com/aggregate-to-agg': 'true' } }] },
    rules: [],
  }),
  {
    ...rbac('ClusterRole', 'agg-part', { rules: [{ apiGroups: [''], resources: ['*/status'], verbs: ['get'] }] }),
    metadata: { name: 'agg-part', labels: { 'rbac.example.com/aggregate-to-agg': 'true' } },
  },
  rbac('ClusterRoleBinding', 'carol-agg', {
    roleRef: { kind: 'ClusterRole', name: 'aggregate' },
    subjects: [{ kind: 'User', name: 'carol' }],
  }),
];

describe('rbac.can', () => {
  it('grants through a RoleBinding only in its namespace, subresources named explicitly', () => {
    expect(can(objects, 'alice', [], 'get', '', 'pods/log', 'bookinfo', 'x')).toBe(true);
    expect(can(objects, 'alice', [], 'list', '', 'pods', 'bookinfo')).toBe(true);
    expect(can(objects, 'alice', [], 'get', '', 'pods/log', 'istio-system', 'x')).toBe(false);
    expect(can(objects, 'alice', [], 'get', '', 'pods/exec', 'bookinfo', 'x')).toBe(false);
    expect(can(objects, 'alice', [], 'delete', '', 'pods', 'bookinfo', 'x')).toBe(false);
    expect(can(objects, 'bob', [], 'get', '', 'pods', 'bookinfo', 'x')).toBe(false);
  });

  it('honours resourceNames (and so never grants create or list with them)', () => {
    const sa = 'system:serviceaccount:meshops:meshops';
    expect(can(objects, sa, [], 'patch', 'apps', 'deployments', 'bookinfo', 'reviews-v1')).toBe(true);
    expect(can(objects, sa, [], 'patch', 'apps', 'deployments', 'bookinfo', 'reviews-v2')).toBe(false);
    expect(can(objects, sa, [], 'patch', 'apps', 'deployments', 'bookinfo')).toBe(false);
    expect(
      can(objects, 'system:serviceaccount:other:meshops', [], 'patch', 'apps', 'deployments', 'bookinfo', 'reviews-v1'),
    ).toBe(false);
  });

  it('matches groups, wildcard resources, cluster-wide bindings and aggregated ClusterRoles', () => {
    expect(can(objects, 'dave', ['sre'], 'watch', 'networking.istio.io', 'virtualservices', 'any-ns')).toBe(true);
    expect(can(objects, 'dave', ['sre'], 'watch', 'networking.istio.io', 'virtualservices')).toBe(true);
    expect(can(objects, 'dave', ['sre'], 'delete', 'networking.istio.io', 'virtualservices', 'bookinfo', 'x')).toBe(
      false,
    );
    expect(can(objects, 'dave', ['sre'], 'get', 'security.istio.io', 'peerauthentications', 'bookinfo')).toBe(false);
    expect(canNonResource(objects, 'dave', ['sre'], 'get', '/debug/syncz')).toBe(true);
    expect(canNonResource(objects, 'dave', ['sre'], 'get', '/metrics')).toBe(false);
    expect(can(objects, 'carol', [], 'get', '', 'pods/status', 'x', 'p')).toBe(true);
    expect(can(objects, 'carol', [], 'get', '', 'pods', 'x', 'p')).toBe(false);
    expect(can(objects, 'root', ['system:masters'], 'delete', 'anything', 'everything')).toBe(true);
  });

  it('the default ClusterRoles keep their intent: view cannot read secrets, edit cannot grant RBAC', () => {
    const objs = [
      ...bootstrapObjects(),
      rbac(
        'RoleBinding',
        'v',
        { roleRef: { kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'viewer' }] },
        'bookinfo',
      ),
      rbac(
        'RoleBinding',
        'e',
        { roleRef: { kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'User', name: 'editor' }] },
        'bookinfo',
      ),
    ];
    expect(can(objs, 'viewer', ['system:authenticated'], 'list', '', 'pods', 'bookinfo')).toBe(true);
    expect(
      can(objs, 'viewer', ['system:authenticated'], 'get', 'networking.istio.io', 'virtualservices', 'bookinfo', 'x'),
    ).toBe(true);
    expect(can(objs, 'viewer', ['system:authenticated'], 'get', '', 'secrets', 'bookinfo', 's')).toBe(false);
    expect(can(objs, 'editor', ['system:authenticated'], 'patch', 'apps', 'deployments', 'bookinfo', 'd')).toBe(true);
    expect(
      can(objs, 'editor', ['system:authenticated'], 'create', 'rbac.authorization.k8s.io', 'rolebindings', 'bookinfo'),
    ).toBe(false);
  });
});

describe('RBAC in the sandbox API server', () => {
  let sb: Sandbox;
  const client = (user: string) => {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(sb.kubeconfig({ user }));
    return kc;
  };

  beforeAll(async () => {
    sb = await startSandbox({
      controllers: false,
      seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bookinfo' } }, ...objects],
    });
  });
  afterAll(async () => {
    await sb.close();
  });

  it('answers 403 with the RBAC authorizer wording', async () => {
    const apps = client('alice').makeApiClient(k8s.AppsV1Api);
    const err = await apps
      .patchNamespacedDeployment(
        { name: 'x', namespace: 'bookinfo', body: {} },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      )
      .then(
        () => undefined,
        (e: k8s.ApiException<string>) => ({
          code: e.code,
          body: JSON.parse(e.body) as { message: string; reason: string; details: unknown },
        }),
      );
    expect(err?.code).toBe(403);
    expect(err?.body.reason).toBe('Forbidden');
    expect(err?.body.message).toBe(
      'deployments.apps "x" is forbidden: User "alice" cannot patch resource "deployments" in API group "apps" in the namespace "bookinfo"',
    );
    expect(err?.body.details).toEqual({ name: 'x', group: 'apps', kind: 'deployments' });
    // Allowed: the Role grants list on pods in bookinfo.
    const pods = await client('alice').makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: 'bookinfo' });
    expect(pods.items).toEqual([]);
  });

  it('impersonation switches the user; only those allowed may impersonate', async () => {
    const admin = client('sandbox-admin');
    admin.users[0] = { ...admin.users[0]!, impersonateUser: 'alice' } as k8s.User;
    const asAlice = admin.makeApiClient(k8s.CoreV1Api);
    await expect(asAlice.listNamespacedPod({ namespace: 'bookinfo' })).resolves.toBeDefined();
    await expect(asAlice.listNamespacedSecret({ namespace: 'bookinfo' })).rejects.toMatchObject({ code: 403 });
    expect(sb.requests.at(-1)?.user).toBe('alice');
    const alice = client('alice');
    alice.users[0] = { ...alice.users[0]!, impersonateUser: 'bob' } as k8s.User;
    const refused = await alice
      .makeApiClient(k8s.CoreV1Api)
      .listNamespacedPod({ namespace: 'bookinfo' })
      .then(
        () => undefined,
        (e: k8s.ApiException<string>) => JSON.parse(e.body) as { message: string },
      );
    expect(refused?.message).toBe(
      'users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope',
    );
  });

  it('serves SelfSubjectAccessReview for any user and SubjectAccessReview for the admin', async () => {
    const authz = client('alice').makeApiClient(k8s.AuthorizationV1Api);
    const self = await authz.createSelfSubjectAccessReview({
      body: {
        spec: { resourceAttributes: { verb: 'get', resource: 'pods', subresource: 'log', namespace: 'bookinfo' } },
      },
    });
    expect(self.status?.allowed).toBe(true);
    const other = await client('sandbox-admin')
      .makeApiClient(k8s.AuthorizationV1Api)
      .createSubjectAccessReview({
        body: {
          spec: {
            user: 'system:serviceaccount:meshops:meshops',
            resourceAttributes: {
              verb: 'patch',
              group: 'apps',
              resource: 'deployments',
              namespace: 'bookinfo',
              name: 'reviews-v2',
            },
          },
        },
      });
    expect(other.status?.allowed).toBe(false);
    await expect(
      authz.createSubjectAccessReview({
        body: { spec: { user: 'x', resourceAttributes: { verb: 'get', resource: 'pods' } } },
      }),
    ).rejects.toMatchObject({ code: 403 });
  });
});
