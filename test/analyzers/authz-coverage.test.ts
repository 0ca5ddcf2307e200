// meshops.AuthzCoverageAnalyzer (MSH0007): an operator locks a namespace down with ALLOW policies and misses a
// workload, which then allows every request. Each test is one situation and what meshops says about it.
import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { analyze } from '../../src/mesh/analyzers/index.ts';
import { messageResource } from '../../src/mesh/analyzers/types.ts';
import { meshConfigFrom } from '../../src/mesh/mesh-config.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { authz, shopNamespace } from './meshops-fixtures.ts';

const ANALYZER = 'meshops.AuthzCoverageAnalyzer';

function run(objects: KubeObject[], meshYaml?: string) {
  return analyze(new MeshSnapshot(objects, { meshConfig: meshConfigFrom(meshYaml) }), { analyzers: [ANALYZER] });
}
const pairs = (ms: ReturnType<typeof run>) => ms.map((m) => `${m.code} ${messageResource(m)}`);

interface PodOptions {
  namespace?: string;
  sidecar?: boolean;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  phase?: string;
}

/** A pod of Deployment `app` (ReplicaSet `<app>-5d4f8b7c9d`), with a sidecar unless told otherwise. */
function pod(app: string, suffix = 'x1', o: PodOptions = {}): KubeObject {
  const hash = '5d4f8b7c9d';
  const containers = [{ name: 'app', image: `shop/${app}:1` }];
  if (o.sidecar !== false) containers.push({ name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.24.0' });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${app}-${hash}-${suffix}`,
      namespace: o.namespace ?? 'shop',
      labels: { app, 'pod-template-hash': hash, ...o.labels },
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${app}-${hash}`, uid: `${app}-rs`, controller: true },
      ],
    },
    spec: { containers },
    status: { phase: o.phase ?? 'Running' },
  };
}

const allowFrontendToApi = authz('api-from-frontend', 'shop', {
  selector: { matchLabels: { app: 'api' } },
  rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/frontend'] } }] }],
});

describe('meshops.AuthzCoverageAnalyzer (MSH0007)', () => {
  it('reports, once per workload, the workload no ALLOW policy selects beside one that is selected', () => {
    const ms = run([shopNamespace, pod('api'), pod('orders', 'a1'), pod('orders', 'b2'), allowFrontendToApi]);
    expect(pairs(ms)).toEqual(['MSH0007 Pod shop/orders-5d4f8b7c9d-a1']);
    expect(ms[0]?.name).toBe('WorkloadNotCoveredByAllowPolicy');
    expect(ms[0]?.level).toBe('Warning');
    expect(ms[0]?.text).toBe(
      'Deployment shop/orders is selected by no ALLOW AuthorizationPolicy, while other workloads in namespace shop ' +
        'are (AuthorizationPolicy shop/api-from-frontend): with no ALLOW policy its proxy allows every request ' +
        'that no DENY or CUSTOM policy refuses. If the namespace is meant to be locked down, add the workload to ' +
        "an ALLOW policy's selector, or apply one without a selector to the whole namespace.",
    );
  });

  it('says nothing when an ALLOW policy without selector covers the whole namespace', () => {
    const nsWide = authz('shop-internal', 'shop', { rules: [{ from: [{ source: { namespaces: ['shop'] } }] }] });
    expect(run([shopNamespace, pod('api'), pod('orders'), allowFrontendToApi, nsWide])).toEqual([]);
  });

  it('counts root-namespace ALLOW policies: mesh-wide without selector, and by labels with one', () => {
    const meshWide = authz('mesh-allow-nothing', 'istio-system', {});
    expect(run([shopNamespace, pod('api'), pod('orders'), allowFrontendToApi, meshWide])).toEqual([]);
    const ordersAnywhere = authz('orders-from-mesh', 'istio-system', {
      selector: { matchLabels: { app: 'orders' } },
      rules: [{ from: [{ source: { namespaces: ['*'] } }] }],
    });
    expect(run([shopNamespace, pod('api'), pod('orders'), allowFrontendToApi, ordersAnywhere])).toEqual([]);
    // The root namespace is mesh config's: in a mesh rooted at istio-config, istio-system is an ordinary namespace.
    expect(
      pairs(
        run(
          [shopNamespace, pod('api'), pod('orders'), allowFrontendToApi, ordersAnywhere],
          'rootNamespace: istio-config\n',
        ),
      ),
    ).toEqual(['MSH0007 Pod shop/orders-5d4f8b7c9d-x1']);
  });

  it('does not take a root-namespace ALLOW that selects one workload as locking its namespace down', () => {
    const apiAnywhere = authz('api-anywhere', 'istio-system', {
      selector: { matchLabels: { app: 'api' } },
      rules: [{ from: [{ source: { namespaces: ['shop'] } }] }],
    });
    expect(run([shopNamespace, pod('api'), pod('orders'), apiAnywhere])).toEqual([]);
  });

  it('does not judge the root namespace, whose selector policies are mesh-wide, not a lock-down of its gateways', () => {
    const gateway = (name: string) => pod(name, 'x1', { namespace: 'istio-system', labels: { istio: name } });
    const ingressOnly = authz('ingress-from-lb', 'istio-system', {
      selector: { matchLabels: { istio: 'ingressgateway' } },
      rules: [{ from: [{ source: { ipBlocks: ['10.0.0.0/8'] } }] }],
    });
    expect(run([gateway('ingressgateway'), gateway('egressgateway'), ingressOnly])).toEqual([]);
    // The same in an ordinary namespace is reported.
    const inShop = authz('ingress-from-lb', 'shop', ingressOnly.spec as Record<string, unknown>);
    const shopGateway = (name: string) => pod(name, 'x1', { labels: { istio: name } });
    expect(pairs(run([shopGateway('ingressgateway'), shopGateway('egressgateway'), inShop]))).toEqual([
      'MSH0007 Pod shop/egressgateway-5d4f8b7c9d-x1',
    ]);
  });

  it('says nothing where only DENY policies exist', () => {
    const denyDelete = authz('deny-delete', 'shop', {
      action: 'DENY',
      selector: { matchLabels: { app: 'api' } },
      rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }],
    });
    expect(run([shopNamespace, pod('api'), pod('orders'), denyDelete])).toEqual([]);
  });

  it('counts allow-nothing (spec: {}) as covering, and as locking the namespace down', () => {
    const allowNothing = authz('allow-nothing', 'shop', {});
    expect(run([shopNamespace, pod('api'), pod('orders'), allowFrontendToApi, allowNothing])).toEqual([]);
    const apiNothing = authz('api-nothing', 'shop', { selector: { matchLabels: { app: 'api' } } });
    expect(pairs(run([shopNamespace, pod('api'), pod('orders'), apiNothing]))).toEqual([
      'MSH0007 Pod shop/orders-5d4f8b7c9d-x1',
    ]);
  });

  it('skips pods without a proxy, and judges ambient pods, which ztunnel enforces policies for', () => {
    const plain = pod('legacy', 'x1', { sidecar: false });
    const ambient = pod('batch', 'x1', { sidecar: false, annotations: { 'ambient.istio.io/redirection': 'enabled' } });
    expect(pairs(run([shopNamespace, pod('api'), plain, ambient, allowFrontendToApi]))).toEqual([
      'MSH0007 Pod shop/batch-5d4f8b7c9d-x1',
    ]);
  });

  it('ignores policies that a sidecar does not enforce by selection: dry-run and targetRef ones', () => {
    const dryRun = authz(
      'orders-dry',
      'shop',
      { selector: { matchLabels: { app: 'orders' } }, rules: [{ from: [{ source: { namespaces: ['shop'] } }] }] },
      { 'istio.io/dry-run': 'true' },
    );
    const waypoint = authz('orders-waypoint', 'shop', {
      targetRefs: [{ kind: 'Service', group: '', name: 'orders' }],
      rules: [{ from: [{ source: { namespaces: ['shop'] } }] }],
    });
    const ms = run([shopNamespace, pod('api'), pod('orders'), allowFrontendToApi, dryRun, waypoint]);
    expect(pairs(ms)).toEqual(['MSH0007 Pod shop/orders-5d4f8b7c9d-x1']);
    // Nor does a dry-run ALLOW lock a namespace down.
    const apiDry = authz(
      'api-dry',
      'shop',
      { selector: { matchLabels: { app: 'api' } } },
      { 'istio.io/dry-run': 'true' },
    );
    expect(run([shopNamespace, pod('api'), pod('orders'), apiDry])).toEqual([]);
  });

  it('leaves alone a workload a DENY-everything policy closes, and a namespace whose ALLOW allows everything', () => {
    const denyAll = authz('orders-closed', 'shop', {
      action: 'DENY',
      selector: { matchLabels: { app: 'orders' } },
      rules: [{}],
    });
    expect(run([shopNamespace, pod('api'), pod('orders'), allowFrontendToApi, denyAll])).toEqual([]);
    const apiOpen = authz('api-open', 'shop', { selector: { matchLabels: { app: 'api' } }, rules: [{}] });
    expect(run([shopNamespace, pod('api'), pod('orders'), apiOpen])).toEqual([]);
  });

  it('judges each namespace on its own policies, and names workloads without a Deployment by their owner', () => {
    const job = pod('export', 'x1', { namespace: 'billing' });
    job.metadata.ownerReferences = [
      { apiVersion: 'batch/v1', kind: 'Job', name: 'export-29001', uid: 'j', controller: true },
    ];
    const bare: KubeObject = { ...pod('debug', 'x1', { namespace: 'billing' }) };
    bare.metadata = { ...bare.metadata, name: 'debug', ownerReferences: undefined };
    const done = pod('report', 'x1', { namespace: 'billing', phase: 'Succeeded' });
    const invoices = authz('invoices-only', 'billing', {
      selector: { matchLabels: { app: 'invoices' } },
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/api'] } }] }],
    });
    const ms = run([
      shopNamespace,
      pod('api'),
      pod('orders'),
      pod('invoices', 'x1', { namespace: 'billing' }),
      job,
      bare,
      done,
      invoices,
    ]);
    expect(ms.map((m) => m.text.split(' is selected')[0]).sort()).toEqual([
      'Job billing/export-29001',
      'Pod billing/debug',
    ]);
  });
});
