// precheck.GatewayAPIVersionAnalyzer (istioctl x precheck's checkGatewayAPIs): Gateway API CRDs that do not
// serve v1beta1 (IST0156) or v1 (IST0172) for the kinds Istio reads, reported on the CRD; a version that is
// defined but not served does not count; other groups and kinds are left alone.
import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { analyze } from '../../src/mesh/analyzers/index.ts';
import { messageResource } from '../../src/mesh/analyzers/types.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';

function crd(plural: string, kind: string, versions: Array<[string, boolean]>, group = 'gateway.networking.k8s.io') {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      names: { kind, plural },
      versions: versions.map(([name, served]) => ({ name, served, storage: served })),
    },
  } as KubeObject;
}

function run(objects: KubeObject[]) {
  return analyze(new MeshSnapshot(objects), { analyzers: ['precheck.GatewayAPIVersionAnalyzer'] });
}

describe('precheck.GatewayAPIVersionAnalyzer', () => {
  it('passes the CRDs of a current Gateway API release (the look-alike)', () => {
    const current = [
      crd('gateways', 'Gateway', [
        ['v1', true],
        ['v1beta1', true],
      ]),
      crd('gatewayclasses', 'GatewayClass', [
        ['v1', true],
        ['v1beta1', true],
      ]),
      crd('httproutes', 'HTTPRoute', [
        ['v1', true],
        ['v1beta1', true],
      ]),
      crd('grpcroutes', 'GRPCRoute', [['v1', true]]),
      crd('referencegrants', 'ReferenceGrant', [['v1beta1', true]]),
      crd('tlsroutes', 'TLSRoute', [['v1alpha2', true]]),
    ];
    expect(run(current)).toEqual([]);
  });

  it('reports an old v1alpha2-only release: IST0156 and IST0172 on the HTTPRoute CRD, with what it serves', () => {
    const ms = run([crd('httproutes', 'HTTPRoute', [['v1alpha2', true]])]);
    expect(ms.map((m) => `${m.code} ${messageResource(m)}`).sort()).toEqual([
      'IST0156 CustomResourceDefinition httproutes.gateway.networking.k8s.io',
      'IST0172 CustomResourceDefinition httproutes.gateway.networking.k8s.io',
    ]);
    expect(ms.find((m) => m.code === 'IST0156')?.text).toBe(
      'The Gateway API CRD version v1alpha2 is lower than the minimum version: v1beta1',
    );
  });

  it('counts only served versions, lists them sorted, and says none when nothing is served', () => {
    const ms = run([
      crd('gateways', 'Gateway', [
        ['v1beta1', true],
        ['v1', false],
        ['v1alpha2', true],
      ]),
      crd('gatewayclasses', 'GatewayClass', [['v1', false]]),
    ]);
    const texts = ms.map((m) => `${m.code} ${m.resource.name}: ${m.text}`).sort();
    expect(texts).toEqual([
      'IST0156 gatewayclasses.gateway.networking.k8s.io: The Gateway API CRD version none is lower than the minimum version: v1beta1',
      'IST0172 gatewayclasses.gateway.networking.k8s.io: The Gateway API CRD version none is lower than the minimum version: v1',
      'IST0172 gateways.gateway.networking.k8s.io: The Gateway API CRD version v1alpha2,v1beta1 is lower than the minimum version: v1',
    ]);
  });

  it('asks v1beta1 only of ReferenceGrant and v1 only of GRPCRoute; ignores other groups', () => {
    const ms = run([
      crd('referencegrants', 'ReferenceGrant', [['v1alpha2', true]]),
      crd('grpcroutes', 'GRPCRoute', [['v1alpha2', true]]),
      crd('httproutes', 'HTTPRoute', [['v1alpha1', true]], 'example.com'),
    ]);
    expect(ms.map((m) => `${m.code} ${m.resource.name}`).sort()).toEqual([
      'IST0156 referencegrants.gateway.networking.k8s.io',
      'IST0172 grpcroutes.gateway.networking.k8s.io',
    ]);
  });
});
