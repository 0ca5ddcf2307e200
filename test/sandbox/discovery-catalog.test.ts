// Discovery lists what a Kubernetes 1.24 API server serves: every built-in kind, with verbs, short
// names, categories, subresources and storageVersionHash as the real lists have them; every kind
// meshops uses (src/kube/kinds.ts) is there; built-in groups keep their scheme's version order.
import { describe, expect, it } from '@jest/globals';
import { KINDS } from '../../src/kube/kinds.ts';
import { builtinResourceTypes, ResourceRegistry } from '../../src/sandbox/resource-types.ts';
import { withBuiltinCatalog } from '../../src/sandbox/builtin-catalog.ts';
import { apiGroupList, apiResourceList, openApiV3Paths } from '../../src/sandbox/discovery.ts';
import { ISTIO_CRDS } from '../../src/sandbox/istio-crds.ts';
import { resourceTypeFromCrdRow } from '../../src/sandbox/resource-types.ts';

function registry(): ResourceRegistry {
  const r = new ResourceRegistry(withBuiltinCatalog(builtinResourceTypes()));
  for (const row of ISTIO_CRDS) r.add(resourceTypeFromCrdRow(row));
  return r;
}

interface Entry {
  name: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  storageVersionHash?: string;
  group?: string;
  version?: string;
}

function resources(r: ResourceRegistry, group: string, version: string): Map<string, Entry> {
  const doc = apiResourceList(r, group, version) as { resources: Entry[] } | undefined;
  return new Map((doc?.resources ?? []).map((e) => [e.name, e]));
}

describe('built-in discovery', () => {
  const r = registry();

  it('every kind meshops reads or writes is in discovery, in each version it asks for', () => {
    // metrics.k8s.io is an aggregated API served only where metrics-server runs (startSandbox({ metricsServer:
    // true }), which the demo sets; test/sandbox/gotchas-demo.test.ts reads it): the bot says so where it is absent.
    const aggregated = new Set(['metrics.k8s.io']);
    for (const k of KINDS.filter((x) => !aggregated.has(x.group))) {
      const served = k.versions.filter((v) => resources(r, k.group, v).get(k.plural)?.kind === k.kind);
      expect([k.kind, served.length > 0]).toEqual([k.kind, true]);
      expect(resources(r, k.group, served[0] as string).get(k.plural)?.namespaced).toBe(k.namespaced);
    }
  });

  it('core/v1 lists the 1.24 resources with their subresources, short names and storage hashes', () => {
    const core = resources(r, '', 'v1');
    for (const name of [
      'bindings',
      'componentstatuses',
      'limitranges',
      'persistentvolumeclaims',
      'persistentvolumes',
      'podtemplates',
      'replicationcontrollers',
      'resourcequotas',
      'pods/exec',
      'pods/attach',
      'pods/eviction',
      'pods/binding',
      'pods/ephemeralcontainers',
      'serviceaccounts/token',
      'namespaces/finalize',
      'nodes/proxy',
      'replicationcontrollers/scale',
    ]) {
      expect([name, core.has(name)]).toEqual([name, true]);
    }
    expect(core.get('pods/eviction')).toMatchObject({
      kind: 'Eviction',
      group: 'policy',
      version: 'v1',
      verbs: ['create'],
    });
    expect(core.get('serviceaccounts/token')).toMatchObject({
      kind: 'TokenRequest',
      group: 'authentication.k8s.io',
      version: 'v1',
    });
    expect(core.get('namespaces/finalize')?.verbs).toEqual(['update']);
    expect(core.get('componentstatuses')).toMatchObject({
      namespaced: false,
      verbs: ['get', 'list'],
      shortNames: ['cs'],
    });
    expect(core.get('componentstatuses')?.storageVersionHash).toBeUndefined();
    expect(core.get('bindings')?.storageVersionHash).toBeUndefined();
    expect(core.get('pods')?.storageVersionHash).toMatch(/^[A-Za-z0-9+/]{11}=$/);
    expect(core.get('pods/status')?.storageVersionHash).toBeUndefined();
    expect(core.get('resourcequotas')?.shortNames).toEqual(['quota']);
    expect(core.get('replicationcontrollers')?.categories).toEqual(['all']);
  });

  it('apps/v1 has StatefulSets, DaemonSets and ControllerRevisions', () => {
    const apps = resources(r, 'apps', 'v1');
    expect(apps.get('statefulsets')).toMatchObject({ kind: 'StatefulSet', shortNames: ['sts'], categories: ['all'] });
    expect(apps.get('daemonsets')).toMatchObject({ kind: 'DaemonSet', shortNames: ['ds'] });
    expect(apps.get('controllerrevisions')?.kind).toBe('ControllerRevision');
    expect(apps.get('statefulsets/scale')).toMatchObject({ kind: 'Scale', group: 'autoscaling', version: 'v1' });
  });

  it('the group list has every 1.24 group in its scheme order of versions', () => {
    const groups = new Map(
      (
        apiGroupList(r) as {
          groups: { name: string; versions: { version: string }[]; preferredVersion: { version: string } }[];
        }
      ).groups.map((g) => [g.name, g]),
    );
    expect(groups.get('autoscaling')?.versions.map((v) => v.version)).toEqual(['v2', 'v1', 'v2beta1', 'v2beta2']);
    expect(groups.get('flowcontrol.apiserver.k8s.io')?.preferredVersion.version).toBe('v1beta2');
    expect(groups.get('networking.istio.io')?.versions.map((v) => v.version)).toEqual(['v1', 'v1beta1', 'v1alpha3']);
    for (const g of [
      'admissionregistration.k8s.io',
      'apiregistration.k8s.io',
      'authentication.k8s.io',
      'batch',
      'certificates.k8s.io',
      'discovery.k8s.io',
      'node.k8s.io',
      'scheduling.k8s.io',
      'storage.k8s.io',
    ]) {
      expect([g, groups.has(g)]).toEqual([g, true]);
    }
    expect(resources(r, 'policy', 'v1beta1').get('podsecuritypolicies')?.shortNames).toEqual(['psp']);
    expect(resources(r, 'policy', 'v1').has('podsecuritypolicies')).toBe(false);
    expect(resources(r, 'authorization.k8s.io', 'v1').get('selfsubjectrulesreviews')?.verbs).toEqual(['create']);
  });

  it('custom resources have storage hashes too', () => {
    expect(resources(r, 'networking.istio.io', 'v1').get('virtualservices')?.storageVersionHash).toBeDefined();
  });

  it('the OpenAPI v3 index names built-in groups and their versions, CRD groups by version only, not the aggregator', () => {
    const paths = openApiV3Paths(r);
    expect(paths).toEqual(
      expect.arrayContaining([
        'api',
        'api/v1',
        'apis',
        'version',
        'apis/apps',
        'apis/apps/v1',
        'apis/autoscaling/v2beta1',
        'apis/networking.istio.io/v1',
      ]),
    );
    expect(paths).not.toContain('apis/networking.istio.io');
    expect(paths.some((p) => p.startsWith('apis/apiregistration.k8s.io'))).toBe(false);
  });
});
