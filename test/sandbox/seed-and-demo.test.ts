// Seed loading (errors with file:line) and the demo mesh's content, compared with Istio's bookinfo
// sample where ../shared has it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../src/kube/objects.ts';
import { DEMO_DIR, demoMeshObjects } from '../../src/sandbox/demo/demo-mesh.ts';
import { orderSeed, parseSeedYaml, SeedError } from '../../src/sandbox/seed.ts';
import { conformanceDir, describeWithShared } from '../support/shared.ts';

describe('parseSeedYaml', () => {
  it('reads multi-document YAML and Lists, defaulting the namespace of namespaced kinds', () => {
    const objs = parseSeedYaml(
      [
        'apiVersion: v1',
        'kind: Namespace',
        'metadata: {name: a}',
        '---',
        '# empty',
        '---',
        'apiVersion: v1',
        'kind: List',
        'items:',
        '- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}',
        '- {apiVersion: v1, kind: ConfigMap, metadata: {name: d, namespace: a}}',
      ].join('\n'),
      { namespace: 'ns1' },
    );
    expect(objs.map((o) => `${o.kind}/${o.metadata.namespace ?? '-'}/${o.metadata.name}`)).toEqual([
      'Namespace/-/a',
      'ConfigMap/ns1/c',
      'ConfigMap/a/d',
    ]);
  });

  it('names the file and line of a bad document', () => {
    const text =
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {a: 1}\n';
    expect(() => parseSeedYaml(text, { source: 'x.yaml' })).toThrow(SeedError);
    expect(() => parseSeedYaml(text, { source: 'x.yaml' })).toThrow(/^x\.yaml:5: metadata\.name: /);
  });

  it('orders namespaces and CRDs first', () => {
    const objs = [{ kind: 'ConfigMap' }, { kind: 'CustomResourceDefinition' }, { kind: 'Namespace' }].map((o, i) => ({
      apiVersion: 'v1',
      ...o,
      metadata: { name: String(i) },
    })) as KubeObject[];
    expect(orderSeed(objs).map((o) => o.kind)).toEqual(['Namespace', 'CustomResourceDefinition', 'ConfigMap']);
  });
});

describe('demo mesh', () => {
  const objs = demoMeshObjects();
  const find = (kind: string, ns: string, name: string) =>
    objs.find((o) => o.kind === kind && o.metadata.namespace === ns && o.metadata.name === name);

  it('has bookinfo with injection on, its workloads, services with named http ports, and reviews pinned to v1', () => {
    expect(find('Namespace', undefined as unknown as string, 'bookinfo')?.metadata.labels?.['istio-injection']).toBe(
      'enabled',
    );
    const deployments = objs
      .filter((o) => o.kind === 'Deployment' && o.metadata.namespace === 'bookinfo')
      .map((o) => o.metadata.name);
    expect(deployments.sort()).toEqual([
      'details-v1',
      'productpage-v1',
      'ratings-v1',
      'reviews-v1',
      'reviews-v2',
      'reviews-v3',
    ]);
    for (const svc of objs.filter((o) => o.kind === 'Service' && o.metadata.namespace === 'bookinfo')) {
      expect((svc.spec as { ports: { name: string }[] }).ports.map((p) => p.name)).toEqual(['http']);
    }
    const dr = find('DestinationRule', 'bookinfo', 'reviews') as { spec: { subsets: { name: string }[] } } | undefined;
    expect(dr?.spec.subsets.map((s) => s.name)).toEqual(['v1', 'v2', 'v3']);
    const vs = find('VirtualService', 'bookinfo', 'reviews') as
      | { spec: { http: { route: { destination: { subset: string } }[] }[] } }
      | undefined;
    expect(vs?.spec.http[0]?.route.map((r) => r.destination.subset)).toEqual(['v1']);
    expect(objs.some((o) => o.kind === 'PeerAuthentication')).toBe(false);
  });

  it('has istiod 1.24.2 with two replicas, its four service ports, the mesh config and istiod logs with a NACK', () => {
    const istiod = find('Deployment', 'istio-system', 'istiod') as
      | {
          spec: {
            replicas: number;
            template: {
              metadata: { annotations: Record<string, string> };
              spec: { containers: { image: string; env: { name: string }[] }[] };
            };
          };
        }
      | undefined;
    expect(istiod?.spec.replicas).toBe(2);
    expect(istiod?.spec.template.spec.containers[0]?.image).toBe('docker.io/istio/pilot:1.24.2');
    expect(istiod?.spec.template.spec.containers[0]?.env.map((e) => e.name)).toEqual(
      expect.arrayContaining(['PILOT_CERT_PROVIDER', 'PILOT_TRACE_SAMPLING', 'REVISION', 'CLUSTER_ID']),
    );
    const ports = (find('Service', 'istio-system', 'istiod')?.spec as { ports: { port: number }[] }).ports.map(
      (p) => p.port,
    );
    expect(ports).toEqual([15010, 15012, 443, 15014]);
    expect(
      String(
        find('ConfigMap', 'istio-system', 'istio')?.data &&
          (find('ConfigMap', 'istio-system', 'istio')?.data as { mesh: string }).mesh,
      ),
    ).toContain('rootNamespace: istio-system');
    const logs = istiod?.spec.template.metadata.annotations['sandbox.meshops.dev/logs.discovery'] ?? '';
    expect(logs.split('\n').filter((l) => /\twarn\tads\tADS:\w+: ACK ERROR /.test(l)).length).toBeGreaterThan(0);
    expect(logs.split('\n').filter((l) => /\terror\t/.test(l)).length).toBeGreaterThan(0);
  });

  it('returns fresh copies on every call', () => {
    const a = demoMeshObjects();
    a[0]!.metadata.name = 'changed';
    expect(demoMeshObjects()[0]?.metadata.name).not.toBe('changed');
    expect(DEMO_DIR).toMatch(/src[/\\]sandbox[/\\]demo$/);
  });
});

describeWithShared('demo mesh against Istio bookinfo', () => {
  it('uses the same workload names, labels, service accounts and ports as the sample', () => {
    const sample = parseAllDocuments(
      readFileSync(join(conformanceDir, 'istio/bookinfo/platform/kube/bookinfo.yaml'), 'utf8'),
    )
      .map((d) => d.toJS() as KubeObject | null)
      .filter((o): o is KubeObject => o !== null);
    const ours = demoMeshObjects();
    for (const d of sample.filter((o) => o.kind === 'Deployment')) {
      const mine = ours.find((o) => o.kind === 'Deployment' && o.metadata.name === d.metadata.name);
      expect(mine?.metadata.labels).toEqual(d.metadata.labels);
      const t = (x: KubeObject) =>
        (
          x.spec as {
            template: {
              metadata: { labels: unknown };
              spec: { serviceAccountName: string; containers: { name: string; ports: unknown }[] };
            };
          }
        ).template;
      expect(mine && t(mine).metadata.labels).toEqual(t(d).metadata.labels);
      expect(mine && t(mine).spec.serviceAccountName).toBe(t(d).spec.serviceAccountName);
      expect(mine && t(mine).spec.containers.map((c) => [c.name, c.ports])).toEqual(
        t(d).spec.containers.map((c) => [c.name, c.ports]),
      );
    }
  });
});
