// REST semantics of the sandbox API server as @kubernetes/client-node sees them: the same calls the
// bot makes against a real cluster.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';
import { demoMeshObjects } from '../../src/sandbox/demo/demo-mesh.ts';

let sb: Sandbox;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;
let custom: k8s.CustomObjectsApi;
let objects: k8s.KubernetesObjectApi;

/**
 * The Kubernetes Status body of a failed call; a plain-text body (the mux's `404 page not found` for
 * a path no API handler claims, such as a custom resource group's unknown version) as its message.
 */
async function failure(
  p: Promise<unknown>,
): Promise<{ code: number; reason: string; message: string; details?: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    const err = e as k8s.ApiException<unknown>;
    const plain = typeof err.body === 'string' && !err.body.trimStart().startsWith('{');
    const body = plain ? { message: err.body } : typeof err.body === 'string' ? JSON.parse(err.body) : (err.body ?? {});
    return { ...(body as { reason: string; message: string; details?: Record<string, unknown> }), code: err.code };
  }
  throw new Error('expected the call to fail');
}

const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const jsonPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);
const strategic = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);

beforeAll(async () => {
  sb = await startSandbox({ seed: demoMeshObjects(), rolloutStepMs: 20 });
  kc = new k8s.KubeConfig();
  kc.loadFromString(sb.kubeconfig());
  core = kc.makeApiClient(k8s.CoreV1Api);
  apps = kc.makeApiClient(k8s.AppsV1Api);
  custom = kc.makeApiClient(k8s.CustomObjectsApi);
  objects = k8s.KubernetesObjectApi.makeApiClient(kc);
});

afterAll(async () => {
  await sb.close();
});

describe('sandbox REST through client-node', () => {
  it('lists pods across namespaces and in one, with label and field selectors', async () => {
    const all = await core.listPodForAllNamespaces();
    const namespaces = new Set(all.items.map((p) => p.metadata?.namespace));
    expect(namespaces).toEqual(new Set(['bookinfo', 'istio-system']));
    const reviews = await core.listNamespacedPod({
      namespace: 'bookinfo',
      labelSelector: 'app=reviews,version in (v2,v3)',
    });
    expect(reviews.items.map((p) => p.metadata?.labels?.version).sort()).toEqual(['v2', 'v3']);
    const notReviews = await core.listNamespacedPod({ namespace: 'bookinfo', labelSelector: 'app!=reviews,!nope' });
    expect(notReviews.items).toHaveLength(3);
    const byName = await core.listNamespacedPod({
      namespace: 'bookinfo',
      fieldSelector: `metadata.name=${reviews.items[0]?.metadata?.name}`,
    });
    expect(byName.items).toHaveLength(1);
    const running = await core.listPodForAllNamespaces({
      fieldSelector: 'status.phase=Running,metadata.namespace=istio-system',
    });
    expect(running.items.map((p) => p.metadata?.labels?.app).sort()).toEqual([
      'istio-ingressgateway',
      'istiod',
      'istiod',
    ]);
  });

  it('creates with generateName, uid, resourceVersion and managedFields (no generation: ConfigMaps have none)', async () => {
    const cm = await core.createNamespacedConfigMap({
      namespace: 'bookinfo',
      body: { metadata: { generateName: 'probe-' }, data: { a: '1' } },
      fieldManager: 'meshops-test',
    });
    expect(cm.metadata?.name).toMatch(/^probe-[a-z0-9]{5}$/);
    expect(cm.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(cm.metadata?.resourceVersion)).toBeGreaterThan(0);
    expect(cm.metadata?.generation).toBeUndefined();
    expect(cm.metadata?.managedFields?.[0]?.manager).toBe('meshops-test');
    expect(cm.metadata?.creationTimestamp).toBeInstanceOf(Date);
  });

  it('answers 404 NotFound, 409 AlreadyExists and 404 for a missing namespace with Kubernetes wording', async () => {
    const missing = await failure(core.readNamespacedPod({ name: 'nope', namespace: 'bookinfo' }));
    expect(missing).toMatchObject({ code: 404, reason: 'NotFound', message: 'pods "nope" not found' });
    const missingDeploy = await failure(apps.readNamespacedDeployment({ name: 'nope', namespace: 'bookinfo' }));
    expect(missingDeploy.message).toBe('deployments.apps "nope" not found');
    const dup = await failure(
      core.createNamespacedServiceAccount({ namespace: 'bookinfo', body: { metadata: { name: 'bookinfo-reviews' } } }),
    );
    expect(dup).toMatchObject({
      code: 409,
      reason: 'AlreadyExists',
      message: 'serviceaccounts "bookinfo-reviews" already exists',
    });
    const noNs = await failure(
      core.createNamespacedConfigMap({ namespace: 'ghost', body: { metadata: { name: 'x' } } }),
    );
    expect(noNs).toMatchObject({ code: 404, message: 'namespaces "ghost" not found' });
    const badName = await failure(
      core.createNamespacedConfigMap({ namespace: 'bookinfo', body: { metadata: { name: 'Bad_Name' } } }),
    );
    expect(badName.code).toBe(422);
    expect(badName.message).toMatch(
      /^ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
    );
  });

  it('rejects an update with a stale resourceVersion with 409 Conflict and bumps generation on spec change', async () => {
    const d = await apps.readNamespacedDeployment({ name: 'ratings-v1', namespace: 'bookinfo' });
    const first = structuredClone(d);
    first.spec!.minReadySeconds = 1;
    const updated = await apps.replaceNamespacedDeployment({ name: 'ratings-v1', namespace: 'bookinfo', body: first });
    expect(updated.metadata?.generation).toBe((d.metadata?.generation ?? 0) + 1);
    const stale = structuredClone(d);
    stale.spec!.minReadySeconds = 2;
    const conflict = await failure(
      apps.replaceNamespacedDeployment({ name: 'ratings-v1', namespace: 'bookinfo', body: stale }),
    );
    expect(conflict).toMatchObject({
      code: 409,
      reason: 'Conflict',
      message:
        'Operation cannot be fulfilled on deployments.apps "ratings-v1": the object has been modified; please apply your changes to the latest version and try again',
    });
    // A label-only change does not bump generation.
    const labelled = await apps.patchNamespacedDeployment(
      { name: 'ratings-v1', namespace: 'bookinfo', body: { metadata: { labels: { team: 'a' } } } },
      merge,
    );
    expect(labelled.metadata?.generation).toBe(updated.metadata?.generation);
  });

  it('applies JSON patches, and a failed test op is a 422 that changes nothing', async () => {
    const before = await core.readNamespacedService({ name: 'ratings', namespace: 'bookinfo' });
    const patched = await core.patchNamespacedService(
      {
        name: 'ratings',
        namespace: 'bookinfo',
        body: [
          { op: 'test', path: '/metadata/resourceVersion', value: before.metadata?.resourceVersion },
          { op: 'add', path: '/metadata/labels/owner', value: 'team-a' },
        ],
      },
      jsonPatch,
    );
    expect(patched.metadata?.labels?.owner).toBe('team-a');
    const failed = await failure(
      core.patchNamespacedService(
        {
          name: 'ratings',
          namespace: 'bookinfo',
          body: [
            { op: 'test', path: '/metadata/resourceVersion', value: before.metadata?.resourceVersion },
            { op: 'remove', path: '/metadata/labels/owner' },
          ],
        },
        jsonPatch,
      ),
    );
    expect(failed).toMatchObject({
      code: 422,
      reason: 'Invalid',
      message: 'the server rejected our request due to an error in our request',
    });
    const after = await core.readNamespacedService({ name: 'ratings', namespace: 'bookinfo' });
    expect(after.metadata?.labels?.owner).toBe('team-a');
    expect(after.metadata?.resourceVersion).toBe(patched.metadata?.resourceVersion);
  });

  it('merge-patches (null deletes) and strategic-merges containers by name', async () => {
    await core.patchNamespacedConfigMap(
      { name: 'istio', namespace: 'istio-system', body: { data: { extra: 'x', meshNetworks: null } } },
      merge,
    );
    const cm = await core.readNamespacedConfigMap({ name: 'istio', namespace: 'istio-system' });
    expect(cm.data?.extra).toBe('x');
    expect(cm.data).not.toHaveProperty('meshNetworks');
    expect(cm.data?.mesh).toContain('rootNamespace: istio-system');

    const d = await apps.patchNamespacedDeployment(
      {
        name: 'details-v1',
        namespace: 'bookinfo',
        body: { spec: { template: { spec: { containers: [{ name: 'details', env: [{ name: 'A', value: '1' }] }] } } } },
      },
      strategic,
    );
    const c = d.spec?.template.spec?.containers ?? [];
    expect(c).toHaveLength(1);
    expect(c[0]?.image).toContain('examples-bookinfo-details-v1');
    expect(c[0]?.env).toEqual([{ name: 'A', value: '1' }]);
  });

  it('dryRun=All validates and returns the would-be object without storing it', async () => {
    const written: string[] = [];
    const stop = sb.store.subscribe((e) => {
      if (['ConfigMap', 'VirtualService', 'Service'].includes(e.object.kind))
        written.push(`${e.type} ${e.object.kind}/${e.object.metadata.name}`);
    });
    const created = await objects.create(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'dry', namespace: 'bookinfo' },
        data: { k: 'v' },
      } as k8s.KubernetesObject,
      undefined,
      'All',
    );
    expect(created.metadata?.uid).toBeDefined();
    expect(sb.store.get('ConfigMap', 'bookinfo', 'dry')).toBeUndefined();
    const vs = sb.store.get('VirtualService', 'bookinfo', 'reviews')!;
    const patched = await objects.patch(
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'reviews', namespace: 'bookinfo' },
        spec: { http: [{ route: [{ destination: { host: 'reviews', subset: 'v2' } }] }] },
      } as k8s.KubernetesObject,
      undefined,
      'All',
      undefined,
      undefined,
      k8s.PatchStrategy.MergePatch,
    );
    expect(
      (patched as unknown as { spec: { http: { route: { destination: { subset: string } }[] }[] } }).spec.http[0]
        ?.route[0]?.destination.subset,
    ).toBe('v2');
    expect(sb.store.get('VirtualService', 'bookinfo', 'reviews')).toEqual(vs);
    await objects.delete(
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'reviews', namespace: 'bookinfo' },
      } as k8s.KubernetesObject,
      undefined,
      'All',
    );
    expect(sb.store.get('Service', 'bookinfo', 'reviews')).toBeDefined();
    stop();
    expect(written).toEqual([]);
    const invalid = await failure(
      objects.create(
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'UPPER', namespace: 'bookinfo' },
        } as k8s.KubernetesObject,
        undefined,
        'All',
      ),
    );
    expect(invalid.code).toBe(422);
  });

  it('serves Istio objects in every served version and rejects strategic merge for them', async () => {
    const v1 = (await custom.getNamespacedCustomObject({
      group: 'networking.istio.io',
      version: 'v1',
      namespace: 'bookinfo',
      plural: 'destinationrules',
      name: 'reviews',
    })) as { apiVersion: string; spec: { subsets: unknown[] } };
    const alpha = (await custom.getNamespacedCustomObject({
      group: 'networking.istio.io',
      version: 'v1alpha3',
      namespace: 'bookinfo',
      plural: 'destinationrules',
      name: 'reviews',
    })) as { apiVersion: string; spec: unknown };
    expect(v1.apiVersion).toBe('networking.istio.io/v1');
    expect(alpha.apiVersion).toBe('networking.istio.io/v1alpha3');
    expect(alpha.spec).toEqual(v1.spec);
    const list = (await custom.listNamespacedCustomObject({
      group: 'networking.istio.io',
      version: 'v1beta1',
      namespace: 'bookinfo',
      plural: 'virtualservices',
    })) as { kind: string; items: { metadata: { name: string } }[] };
    expect(list.kind).toBe('VirtualServiceList');
    expect(list.items.map((i) => i.metadata.name).sort()).toEqual(['bookinfo', 'reviews']);
    const smp = await failure(
      custom.patchNamespacedCustomObject(
        {
          group: 'networking.istio.io',
          version: 'v1',
          namespace: 'bookinfo',
          plural: 'virtualservices',
          name: 'reviews',
          body: { metadata: { labels: { a: 'b' } } },
        },
        strategic,
      ),
    );
    expect(smp.code).toBe(415);
    const none = await failure(
      custom.getNamespacedCustomObject({
        group: 'networking.istio.io',
        version: 'v2',
        namespace: 'bookinfo',
        plural: 'virtualservices',
        name: 'reviews',
      }),
    );
    expect(none.code).toBe(404);
    expect(none.message).toBe('404 page not found\n');
  });

  it('registers a kind when a CustomResourceDefinition is created, and drops it on delete', async () => {
    const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name: 'widgets.example.com' },
        spec: {
          group: 'example.com',
          names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
          scope: 'Namespaced',
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } },
            },
          ],
        },
      },
    });
    await custom.createNamespacedCustomObject({
      group: 'example.com',
      version: 'v1',
      namespace: 'default',
      plural: 'widgets',
      body: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 } },
    });
    const w = (await custom.getNamespacedCustomObject({
      group: 'example.com',
      version: 'v1',
      namespace: 'default',
      plural: 'widgets',
      name: 'w1',
    })) as { spec: { size: number } };
    expect(w.spec.size).toBe(3);
    await ext.deleteCustomResourceDefinition({ name: 'widgets.example.com' });
    const gone = await failure(
      custom.getNamespacedCustomObject({
        group: 'example.com',
        version: 'v1',
        namespace: 'default',
        plural: 'widgets',
        name: 'w1',
      }),
    );
    expect(gone.code).toBe(404);
  });

  it('watches with client-node Watch: replays from a resourceVersion, streams changes, 410 when too old', async () => {
    const start = await core.listNamespacedConfigMap({ namespace: 'bookinfo' });
    const rv = start.metadata?.resourceVersion as string;
    const events: { type: string; name: string }[] = [];
    const watch = new k8s.Watch(kc);
    const gotAll = new Promise<void>((resolve) => {
      void watch
        .watch(
          '/api/v1/namespaces/bookinfo/configmaps',
          { resourceVersion: rv, labelSelector: 'watched=yes' },
          (type, obj: k8s.V1ConfigMap) => {
            events.push({ type, name: obj.metadata?.name ?? '' });
            if (type === 'DELETED') resolve();
          },
          () => undefined,
        )
        .then((ctl) => gotAll.finally(() => ctl.abort()));
    });
    // Written before the watch connects: must be replayed from the history.
    await core.createNamespacedConfigMap({
      namespace: 'bookinfo',
      body: { metadata: { name: 'w1', labels: { watched: 'yes' } } },
    });
    await core.createNamespacedConfigMap({
      namespace: 'bookinfo',
      body: { metadata: { name: 'w2', labels: { watched: 'no' } } },
    });
    await core.patchNamespacedConfigMap({ name: 'w1', namespace: 'bookinfo', body: { data: { x: '1' } } }, merge);
    await core.deleteNamespacedConfigMap({ name: 'w1', namespace: 'bookinfo' });
    await gotAll;
    expect(events).toEqual([
      { type: 'ADDED', name: 'w1' },
      { type: 'MODIFIED', name: 'w1' },
      { type: 'DELETED', name: 'w1' },
    ]);

    // A sandbox that remembers only 5 events: resuming from its first resourceVersion is too old.
    const small = await startSandbox({ controllers: false, watchHistory: 5 });
    try {
      const skc = new k8s.KubeConfig();
      skc.loadFromString(small.kubeconfig());
      const expired = await new Promise<{ type: string; code?: number; reason?: string }>((resolve) => {
        void new k8s.Watch(skc).watch(
          '/api/v1/namespaces',
          { resourceVersion: '1' },
          (type, obj: { code?: number; reason?: string }) => resolve({ type, code: obj.code, reason: obj.reason }),
          () => undefined,
        );
      });
      expect(expired).toEqual({ type: 'ERROR', code: 410, reason: 'Expired' });
    } finally {
      await small.close();
    }
  });

  it('keeps informers in sync (list + watch)', async () => {
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/bookinfo/services', () =>
      core.listNamespacedService({ namespace: 'bookinfo' }),
    );
    const added = new Set<string>();
    informer.on('add', (s: k8s.V1Service) => added.add(s.metadata?.name ?? ''));
    await informer.start();
    await core.createNamespacedService({
      namespace: 'bookinfo',
      body: { metadata: { name: 'late' }, spec: { ports: [{ port: 80 }] } },
    });
    for (let i = 0; i < 50 && !added.has('late'); i++) await new Promise((r) => setTimeout(r, 20));
    await informer.stop();
    expect([...added].sort()).toEqual(['details', 'late', 'productpage', 'ratings', 'reviews']);
  });

  it('serves pod logs with container, tailLines, timestamps and sinceSeconds', async () => {
    const pods = await core.listNamespacedPod({ namespace: 'istio-system', labelSelector: 'app=istiod' });
    const name = pods.items[0]?.metadata?.name as string;
    const all = await core.readNamespacedPodLog({ name, namespace: 'istio-system', container: 'discovery' });
    expect(all).toMatch(/\twarn\tads\tADS:LDS: ACK ERROR /);
    expect(all.split('\n')[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z\tinfo\t/);
    const tail = await core.readNamespacedPodLog({
      name,
      namespace: 'istio-system',
      container: 'discovery',
      tailLines: 2,
      timestamps: true,
    });
    const lines = tail.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z \d{4}-/);
    sb.setPodLogs('istio-system', name, 'discovery', ['2020-01-01T00:00:00Z old line', 'fresh line']);
    const recent = await core.readNamespacedPodLog({
      name,
      namespace: 'istio-system',
      container: 'discovery',
      sinceSeconds: 60,
    });
    expect(recent).toBe('fresh line\n');
    const noContainer = await failure(
      core.readNamespacedPodLog({
        name: (await core.listNamespacedPod({ namespace: 'bookinfo' })).items[0]?.metadata?.name as string,
        namespace: 'bookinfo',
      }),
    );
    expect(noContainer.code).toBe(400);
    expect(noContainer.message).toMatch(
      /a container name must be specified for pod .*, choose one of: \[\w+ istio-proxy\]/,
    );
  });

  it('serves core Events as events.k8s.io/v1 Events too (one storage, two shapes)', async () => {
    const events = kc.makeApiClient(k8s.EventsV1Api);
    const scaling = await events.listNamespacedEvent({
      namespace: 'bookinfo',
      fieldSelector: 'reason=ScalingReplicaSet,regarding.name=reviews-v2',
    });
    expect(scaling.items.length).toBeGreaterThan(0);
    expect(scaling.items[0]).toMatchObject({
      regarding: { kind: 'Deployment', name: 'reviews-v2' },
      reportingController: 'deployment-controller',
    });
    expect(scaling.items[0]?.note).toMatch(/^Scaled up replica set reviews-v2-\w+ from 0 to 1$/);
    await events.createNamespacedEvent({
      namespace: 'bookinfo',
      body: {
        metadata: { name: 'meshops.probe' },
        eventTime: new k8s.V1MicroTime(),
        reportingController: 'meshops',
        reportingInstance: 'meshops-0',
        action: 'Restart',
        reason: 'Approved',
        note: 'restart approved',
        type: 'Normal',
        regarding: { kind: 'Deployment', name: 'ratings-v1', namespace: 'bookinfo' },
      },
    });
    const core1 = await core.readNamespacedEvent({ name: 'meshops.probe', namespace: 'bookinfo' });
    expect(core1).toMatchObject({
      message: 'restart approved',
      reason: 'Approved',
      involvedObject: { kind: 'Deployment', name: 'ratings-v1' },
      reportingComponent: 'meshops',
    });
  });

  it('records every request with its user, and refuses unknown tokens with 401', async () => {
    sb.requests.length = 0;
    await core.listNamespace();
    expect(sb.requests).toEqual([{ method: 'GET', path: '/api/v1/namespaces', query: '', user: 'sandbox-admin' }]);
    const bad = new k8s.KubeConfig();
    bad.loadFromString(sb.kubeconfig().replace(/token: .*/, 'token: forged'));
    const denied = await failure(bad.makeApiClient(k8s.CoreV1Api).listNamespace());
    expect(denied.code).toBe(401);
  });
});
