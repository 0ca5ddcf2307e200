// YAML in, objects and messages out: what `meshops analyze -f` and the paste modal rely on.
import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { analyzeFiles, overlayObjects, parseYamlObjects, YamlLoadError } from '../../src/mesh/analyzers/load.ts';
import { ISTIO_DEFAULT_MESH_CONFIG, MeshConfigError, mergeMeshConfig } from '../../src/mesh/mesh-config.ts';

const vsYaml = `# a comment
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: default
spec:
  hosts: [reviews]
  gateways:
  - missing-gateway
  http:
  - route:
    - destination:
        host: reviews
`;

describe('parseYamlObjects', () => {
  it('reads several documents, skips empty ones and unwraps a List', () => {
    const text = `apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: b}\n`;
    expect(parseYamlObjects(text, 'ns.yaml').map((o) => o.metadata.name)).toEqual(['a', 'b']);
  });

  it('names the file and line of a syntax error', () => {
    const bad = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  ports:\n  - port: 80\n   name: http\n';
    expect(() => parseYamlObjects(bad, 'bad.yaml')).toThrow(YamlLoadError);
    try {
      parseYamlObjects(bad, 'bad.yaml');
    } catch (err) {
      expect((err as YamlLoadError).message).toMatch(/^bad\.yaml:8: /);
    }
  });

  it('names the line of a document that is not a Kubernetes object', () => {
    const text = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n---\nkind: Service\nmetadata:\n  labels: {}\n';
    expect(() => parseYamlObjects(text, 'x.yaml')).toThrow(/^x\.yaml:5: not a Kubernetes object: apiVersion/);
  });
});

describe('analyzeFiles', () => {
  it('reports with the file and the line of the offending field', () => {
    const { messages } = analyzeFiles([{ name: 'vs.yaml', text: vsYaml }], {
      analyzers: ['virtualservice.GatewayAnalyzer'],
    });
    const notFound = messages.find((m) => m.code === 'IST0101');
    expect(notFound?.origin).toBe('vs.yaml');
    expect(notFound?.line).toBe(10);
  });

  it('layers files over base objects: a file replaces the same kind/namespace/name', () => {
    const live: KubeObject = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'reviews', namespace: 'default' },
      spec: { hosts: ['reviews'] },
    };
    const other: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } };
    const { snapshot } = analyzeFiles([{ name: 'vs.yaml', text: vsYaml }], {
      base: [live, other],
      analyzers: ['virtualservice.GatewayAnalyzer'],
    });
    expect(snapshot.list('VirtualService')).toHaveLength(1);
    expect((snapshot.get('VirtualService', 'default', 'reviews')?.spec as { gateways?: string[] }).gateways).toEqual([
      'missing-gateway',
    ]);
    expect(snapshot.get('Namespace', undefined, 'default')).toBe(other);
    expect(overlayObjects([live], [other])).toHaveLength(2);
  });
});

describe('analyzeFiles defaults', () => {
  it('gives namespace-less objects the default namespace (not cluster-scoped ones) so they replace live objects', () => {
    const text =
      'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{name: http, port: 80}]}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n';
    const live: KubeObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { ports: [{ name: 'tcp', port: 81 }] },
    };
    const { snapshot } = analyzeFiles([{ name: 'web.yaml', text }], {
      base: [live],
      defaultNamespace: 'shop',
      analyzers: ['service.PortNameAnalyzer'],
    });
    expect(snapshot.list('Service')).toHaveLength(1);
    expect(snapshot.get('Service', 'shop', 'web')).not.toBe(live);
    expect(snapshot.get('Namespace', undefined, 'shop')).toBeDefined();
  });

  it('adds the default ingress gateway only when asked and when ingress is not OFF', () => {
    const off = mergeMeshConfig(ISTIO_DEFAULT_MESH_CONFIG, 'ingressControllerMode: OFF');
    expect(
      analyzeFiles([], { defaultIngress: true }).snapshot.get('Service', 'istio-system', 'istio-ingressgateway'),
    ).toBeDefined();
    expect(analyzeFiles([], {}).snapshot.list('Service')).toHaveLength(0);
    expect(analyzeFiles([], { defaultIngress: true, meshConfig: off }).snapshot.list('Service')).toHaveLength(0);
  });
});

describe('mergeMeshConfig', () => {
  it('keeps Istio defaults, replaces top-level fields and merges defaultConfig', () => {
    const merged = mergeMeshConfig(
      ISTIO_DEFAULT_MESH_CONFIG,
      'ingressControllerMode: OFF\ndefaultConfig:\n  proxyMetadata: {ISTIO_META_DNS_CAPTURE: "true"}\n',
    );
    expect(merged.rootNamespace).toBe('istio-system');
    expect(merged.ingressService).toBe('istio-ingressgateway');
    expect(merged.ingressControllerMode).toBe('OFF');
    expect(merged.defaultConfig?.['discoveryAddress']).toBe('istiod.istio-system.svc:15012');
    expect(merged.defaultConfig?.['proxyMetadata']).toEqual({ ISTIO_META_DNS_CAPTURE: 'true' });
    expect(ISTIO_DEFAULT_MESH_CONFIG.ingressControllerMode).toBe('STRICT');
  });

  it('rejects an unknown ingressControllerMode with the file name', () => {
    expect(() => mergeMeshConfig(ISTIO_DEFAULT_MESH_CONFIG, 'ingressControllerMode: SOMETIMES', 'mesh.yaml')).toThrow(
      MeshConfigError,
    );
    expect(() => mergeMeshConfig(ISTIO_DEFAULT_MESH_CONFIG, 'ingressControllerMode: SOMETIMES', 'mesh.yaml')).toThrow(
      /^mesh\.yaml: ingressControllerMode/,
    );
  });
});
