// Branches of the analyzers ported from Istio's source (issue 18, item 1) that Istio's visible cases do not reach:
// each case is an operator's cluster written here, and what Istio's analyzer says about it.
import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { analyze } from '../../src/mesh/analyzers/index.ts';
import { messageResource } from '../../src/mesh/analyzers/types.ts';
import { meshConfigFrom } from '../../src/mesh/mesh-config.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { portProtocol } from '../../src/mesh/analyzers/util/port-protocol.ts';

const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});
const pod = (namespace: string, name: string, extra: Partial<KubeObject['metadata']>, proxyImage?: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, ...extra },
  spec: {
    containers: [
      { name: 'app', image: 'shop/app:1' },
      ...(proxyImage ? [{ name: 'istio-proxy', image: proxyImage }] : []),
    ],
  },
});
const injectorCm = (name: string, values: unknown): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'istio-system' },
  data: { values: JSON.stringify(values) },
});

function run(objects: KubeObject[], analyzer: string): string[] {
  const ms = analyze(new MeshSnapshot(objects, { meshConfig: meshConfigFrom(undefined) }), { analyzers: [analyzer] });
  return ms.map((m) => `${m.code} ${messageResource(m)}`).sort();
}

describe('injection.Analyzer as Istio', () => {
  it('checks pods only in istio-injection=enabled namespaces, still judging one with two labels', () => {
    const out = run(
      [
        ns('payments', { 'istio.io/rev': 'canary' }),
        ns('orders', { 'istio-injection': 'enabled', 'istio.io/rev': 'canary' }),
        pod('payments', 'no-proxy-rev', {}),
        pod('orders', 'no-proxy-legacy', {}),
      ],
      'injection.Analyzer',
    );
    expect(out).toEqual(['IST0103 Pod orders/no-proxy-legacy', 'IST0123 Namespace orders']);
  });

  it('skips istio-system and Kubernetes own namespaces (util.IsSystemNamespace), as Istio does', () => {
    const out = run(
      ['istio-system', 'kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage', 'shop'].map((n) => ns(n)),
      'injection.Analyzer',
    );
    expect(out).toEqual(['IST0102 Namespace shop']);
  });

  it('counts an istio-proxy init container (native sidecar) as the proxy', () => {
    const native: KubeObject = {
      ...pod('orders', 'native', {}),
      spec: { containers: [{ name: 'app', image: 'a' }], initContainers: [{ name: 'istio-proxy', image: 'p:1' }] },
    };
    expect(run([ns('orders', { 'istio-injection': 'enabled' }), native], 'injection.Analyzer')).toEqual([]);
  });
});

describe('injection.ImageAnalyzer image variants as Istio resolves them', () => {
  const cm = injectorCm('istio-sidecar-injector', {
    global: { hub: 'reg.example', tag: '1.30.0', proxy: { image: 'proxyv2' } },
  });
  const base = 'reg.example/proxyv2:1.30.0';
  it('takes the variant from proxy.istio.io/config, not from another annotation', () => {
    const good = pod(
      'shop',
      'by-proxy-config',
      { annotations: { 'proxy.istio.io/config': 'image:\n  imageType: distroless\n' } },
      `${base}-distroless`,
    );
    const bad = pod(
      'shop2',
      'by-other',
      { annotations: { 'sidecar.istio.io/proxyImageType': 'distroless' } },
      `${base}-distroless`,
    );
    const out = run(
      [cm, ns('shop', { 'istio-injection': 'enabled' }), ns('shop2', { 'istio-injection': 'enabled' }), good, bad],
      'injection.ImageAnalyzer',
    );
    expect(out).toEqual(['IST0158 Namespace shop2']);
  });

  it('applies a workload ProxyConfig only when the pod has all of its selector labels', () => {
    const pc: KubeObject = {
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'ProxyConfig',
      metadata: { name: 'slim', namespace: 'shop' },
      spec: { selector: { matchLabels: { app: 'cart', tier: 'web' } }, image: { imageType: 'distroless' } },
    };
    const matched = pod('shop', 'cart', { labels: { app: 'cart', tier: 'web' } }, `${base}-distroless`);
    const partly = pod('shop', 'cart-2', { labels: { app: 'cart' } }, `${base}-distroless`);
    const out = run([cm, ns('shop', { 'istio-injection': 'enabled' }), pc, matched, partly], 'injection.ImageAnalyzer');
    expect(out).toEqual(['IST0158 Namespace shop']);
  });
});

describe('envoyfilter.EnvoyPatchAnalyzer', () => {
  it('does not call MERGE relative, but INSERT_BEFORE without priority is', () => {
    const ef = (name: string, operation: string): KubeObject => ({
      apiVersion: 'networking.istio.io/v1alpha3',
      kind: 'EnvoyFilter',
      metadata: { name, namespace: 'shop' },
      spec: { configPatches: [{ applyTo: 'HTTP_FILTER', patch: { operation, value: { name: 'envoy.lua' } } }] },
    });
    expect(run([ef('merge', 'MERGE'), ef('insert', 'INSERT_BEFORE')], 'envoyfilter.EnvoyPatchAnalyzer')).toEqual([
      'IST0151 EnvoyFilter shop/insert',
    ]);
  });
});

describe('telemetry.DefaultSelectorAnalyzer', () => {
  it('counts a Telemetry with only a targetRef as one without selector', () => {
    const t = (name: string, extra: Record<string, unknown>): KubeObject => ({
      apiVersion: 'telemetry.istio.io/v1',
      kind: 'Telemetry',
      metadata: { name, namespace: 'shop' },
      spec: { ...extra },
    });
    const out = run(
      [t('plain', {}), t('by-ref', { targetRef: { kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'gw' } })],
      'telemetry.DefaultSelectorAnalyzer',
    );
    expect(out).toEqual(['IST0160 Telemetry shop/by-ref', 'IST0160 Telemetry shop/plain']);
  });
});

describe('deployment.MultiServiceAnalyzer', () => {
  it('leaves out Services without selector (they select no pods)', () => {
    const d: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'cart', namespace: 'shop' },
      spec: {
        template: {
          metadata: { labels: { app: 'cart' } },
          spec: { containers: [{ name: 'istio-proxy', image: 'p' }] },
        },
      },
    };
    const svc = (name: string, selector: Record<string, string> | undefined, protocol: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'shop' },
      spec: { ...(selector ? { selector } : {}), ports: [{ port: 53, protocol }] },
    });
    expect(
      run(
        [d, svc('dns', { app: 'cart' }, 'TCP'), svc('headless', undefined, 'UDP')],
        'deployment.MultiServiceAnalyzer',
      ),
    ).toEqual([]);
    expect(
      run(
        [d, svc('dns', { app: 'cart' }, 'TCP'), svc('dns-udp', { app: 'cart' }, 'UDP')],
        'deployment.MultiServiceAnalyzer',
      ),
    ).toEqual(['IST0116 Deployment shop/cart']);
  });
});

describe("ConvertProtocol (service.PortNameAnalyzer's protocol)", () => {
  it('uses the appProtocol instead of the port name when one is set', () => {
    expect(portProtocol(8080, 'http-web', 'TCP', 'custom')).toBe('Unsupported');
    expect(portProtocol(8080, 'web', 'TCP', 'http')).toBe('HTTP');
    expect(portProtocol(8080, 'web', 'TCP', 'kubernetes.io/h2c')).toBe('HTTP2');
    expect(portProtocol(8080, 'udp-stats', 'TCP')).toBe('UDP');
    expect(portProtocol(3306, 'db', 'TCP')).toBe('TCP');
  });
});

describe('annotations.AlphaAnalyzer', () => {
  it('skips the injector defaults on a pod without istio-init (CNI) but not on one with it', () => {
    const anno = { annotations: { 'sidecar.istio.io/interceptionMode': 'REDIRECT' } };
    const cni = pod('shop', 'cni', anno);
    const init: KubeObject = {
      ...pod('shop', 'init', anno),
      spec: { containers: [], initContainers: [{ name: 'istio-init' }] },
    };
    expect(run([cni, init], 'annotations.AlphaAnalyzer')).toEqual(['IST0136 Pod shop/init']);
  });
});
