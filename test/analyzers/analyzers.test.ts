// Analyzers on cluster state written here (not Istio's test files): each test states a situation an
// operator meets and what the analysis must say about it.
import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { analyze, analyzerNames, allAnalyzers, UnknownAnalyzerError } from '../../src/mesh/analyzers/index.ts';
import { messageResource } from '../../src/mesh/analyzers/types.ts';
import { documentationUrl, formatGo } from '../../src/mesh/analyzers/types.ts';
import { meshConfigFrom } from '../../src/mesh/mesh-config.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';

const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});
const pod = (namespace: string, name: string, labels: Record<string, string>, withProxy = true): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, labels },
  spec: {
    containers: [
      { name: 'app', image: 'shop/app:1' },
      ...(withProxy ? [{ name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.24.0' }] : []),
    ],
  },
});
const service = (
  namespace: string,
  name: string,
  selector: Record<string, string>,
  ports: { name: string; port: number }[],
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace },
  spec: { selector, ports: ports.map((p) => ({ ...p, protocol: 'TCP', targetPort: p.port })) },
});
const vs = (namespace: string, name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name, namespace },
  spec,
});
const dr = (namespace: string, name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name, namespace },
  spec,
});

// A small shop: checkout v1 and v2 pods behind one Service, in an injected namespace.
const shop = (): KubeObject[] => [
  ns('shop', { 'istio-injection': 'enabled' }),
  pod('shop', 'checkout-v1-abc', { app: 'checkout', version: 'v1' }),
  pod('shop', 'checkout-v2-def', { app: 'checkout', version: 'v2' }),
  service('shop', 'checkout', { app: 'checkout' }, [{ name: 'http', port: 8080 }]),
];

function run(objects: KubeObject[], analyzer: string, meshYaml?: string) {
  return analyze(new MeshSnapshot(objects, { meshConfig: meshConfigFrom(meshYaml) }), { analyzers: [analyzer] });
}
const pairs = (ms: ReturnType<typeof run>) => ms.map((m) => `${m.code} ${messageResource(m)}`);

describe('virtualservice.DestinationHostAnalyzer', () => {
  it('reports a route to a host no Service or ServiceEntry provides, with the host in the text', () => {
    const ms = run(
      [
        ...shop(),
        vs('shop', 'checkout', { hosts: ['checkout'], http: [{ route: [{ destination: { host: 'payments' } }] }] }),
      ],
      'virtualservice.DestinationHostAnalyzer',
    );
    expect(pairs(ms)).toEqual(['IST0101 VirtualService shop/checkout']);
    expect(ms[0]?.text).toBe('Referenced host not found: "payments"');
    expect(ms[0]?.level).toBe('Error');
  });

  it('accepts a short name, an FQDN and a ServiceEntry host, and checks the port exists', () => {
    const se: KubeObject = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'psp', namespace: 'shop' },
      spec: {
        hosts: ['api.psp.example'],
        ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }],
        resolution: 'DNS',
      },
    };
    const ms = run(
      [
        ...shop(),
        se,
        vs('shop', 'ok', {
          hosts: ['checkout'],
          http: [
            { route: [{ destination: { host: 'checkout' } }] },
            { route: [{ destination: { host: 'checkout.shop.svc.cluster.local', port: { number: 8080 } } }] },
            { route: [{ destination: { host: 'api.psp.example', port: { number: 443 } } }] },
          ],
        }),
        vs('shop', 'bad-port', {
          hosts: ['checkout'],
          http: [{ route: [{ destination: { host: 'checkout', port: { number: 9090 } } }] }],
        }),
      ],
      'virtualservice.DestinationHostAnalyzer',
    );
    expect(pairs(ms)).toEqual(['IST0101 VirtualService shop/bad-port']);
    expect(ms[0]?.text).toContain('checkout:9090');
  });

  it('does not see a Service exported only to its own namespace from another namespace', () => {
    const hidden = service('payments', 'ledger', { app: 'ledger' }, [{ name: 'http', port: 80 }]);
    hidden.metadata.annotations = { 'networking.istio.io/exportTo': '.' };
    const ms = run(
      [
        ...shop(),
        hidden,
        vs('shop', 'to-ledger', {
          hosts: ['checkout'],
          http: [{ route: [{ destination: { host: 'ledger.payments.svc.cluster.local' } }] }],
        }),
      ],
      'virtualservice.DestinationHostAnalyzer',
    );
    expect(pairs(ms)).toEqual(['IST0101 VirtualService shop/to-ledger']);
  });
});

describe('destinationrule.SubsetSelectPodAnalyzer', () => {
  it('reports a subset whose labels select no pod, and only that subset', () => {
    const ms = run(
      [
        ...shop(),
        dr('shop', 'checkout', {
          host: 'checkout',
          subsets: [
            { name: 'v1', labels: { version: 'v1' } },
            { name: 'v3', labels: { version: 'v3' } },
          ],
        }),
      ],
      'destinationrule.SubsetSelectPodAnalyzer',
    );
    expect(pairs(ms)).toEqual(['IST0173 DestinationRule shop/checkout']);
    expect(ms[0]?.text).toContain('v3');
  });

  it('reports a DestinationRule for a host that does not exist', () => {
    const ms = run([...shop(), dr('shop', 'ghost', { host: 'ghost' })], 'destinationrule.SubsetSelectPodAnalyzer');
    expect(pairs(ms)).toEqual(['IST0174 DestinationRule shop/ghost']);
  });
});

describe('virtualservice.DestinationRuleAnalyzer', () => {
  it('reports a route to a subset no DestinationRule defines', () => {
    const ms = run(
      [
        ...shop(),
        dr('shop', 'checkout', { host: 'checkout', subsets: [{ name: 'v1', labels: { version: 'v1' } }] }),
        vs('shop', 'canary', {
          hosts: ['checkout'],
          http: [
            {
              route: [
                { destination: { host: 'checkout', subset: 'v1' }, weight: 90 },
                { destination: { host: 'checkout', subset: 'v2' }, weight: 10 },
              ],
            },
          ],
        }),
      ],
      'virtualservice.DestinationRuleAnalyzer',
    );
    expect(pairs(ms)).toEqual(['IST0101 VirtualService shop/canary']);
    expect(ms[0]?.text).toContain('checkout+v2');
  });
});

describe('virtualservice.GatewayAnalyzer', () => {
  it('reports a missing gateway and a gateway that does not serve the host', () => {
    const gw: KubeObject = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: { name: 'public', namespace: 'shop' },
      spec: {
        selector: { istio: 'ingressgateway' },
        servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['shop.example.com'] }],
      },
    };
    const ms = run(
      [
        ...shop(),
        gw,
        vs('shop', 'web', {
          hosts: ['admin.example.com'],
          gateways: ['public', 'private'],
          http: [{ route: [{ destination: { host: 'checkout' } }] }],
        }),
      ],
      'virtualservice.GatewayAnalyzer',
    );
    expect(pairs(ms).sort()).toEqual([
      'IST0101 VirtualService shop/web',
      'IST0132 VirtualService shop/web',
      'IST0132 VirtualService shop/web',
    ]);
  });
});

describe('sidecar.SelectorAnalyzer and injection', () => {
  it('reports two Sidecars selecting the same pod', () => {
    const sc = (name: string): KubeObject => ({
      apiVersion: 'networking.istio.io/v1',
      kind: 'Sidecar',
      metadata: { name, namespace: 'shop' },
      spec: { workloadSelector: { labels: { app: 'checkout' } } },
    });
    const ms = run([...shop(), sc('a'), sc('b')], 'sidecar.SelectorAnalyzer');
    // Each Sidecar is reported once per pod both select (two pods).
    expect(pairs(ms).filter((p) => p.startsWith('IST0110'))).toHaveLength(4);
  });

  it('reports a pod without proxy in an injected namespace, not one that opted out', () => {
    const optedOut = pod('shop', 'batch', { app: 'batch', 'sidecar.istio.io/inject': 'false' }, false);
    const ms = run([...shop(), pod('shop', 'legacy', { app: 'legacy' }, false), optedOut], 'injection.Analyzer');
    expect(pairs(ms)).toEqual(['IST0103 Pod shop/legacy']);
  });
});

describe('gateway.IngressGatewayPortAnalyzer', () => {
  it('reports a Gateway listening on a port its Service does not expose', () => {
    const gwPod = pod('istio-system', 'istio-ingressgateway-1', { istio: 'ingressgateway' });
    const gwSvc = service('istio-system', 'istio-ingressgateway', { istio: 'ingressgateway' }, [
      { name: 'http2', port: 80 },
    ]);
    const gw: KubeObject = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: { name: 'public', namespace: 'shop' },
      spec: {
        selector: { istio: 'ingressgateway' },
        servers: [
          { port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] },
          { port: { number: 8443, name: 'https', protocol: 'HTTPS' }, hosts: ['*'] },
        ],
      },
    };
    const ms = run([gwPod, gwSvc, gw], 'gateway.IngressGatewayPortAnalyzer');
    expect(pairs(ms)).toEqual(['IST0162 Gateway shop/public']);
    expect(ms[0]?.text).toContain('port 8443');
  });
});

describe('analyze()', () => {
  it('sorts errors before warnings before info, then by resource', () => {
    const objects = [
      ...shop(),
      ns('plain'),
      vs('shop', 'b-broken', { hosts: ['checkout'], http: [{ route: [{ destination: { host: 'nowhere' } }] }] }),
      vs('shop', 'a-broken', { hosts: ['checkout'], http: [{ route: [{ destination: { host: 'nowhere' } }] }] }),
    ];
    const ms = analyze(new MeshSnapshot(objects, { meshConfig: meshConfigFrom() }));
    const levels = ms.map((m) => m.level);
    expect(levels).toEqual(
      [...levels].sort((a, b) => ['Error', 'Warning', 'Info'].indexOf(a) - ['Error', 'Warning', 'Info'].indexOf(b)),
    );
    const errors = ms.filter((m) => m.level === 'Error').map(messageResource);
    expect(errors).toEqual([...errors].sort());
    expect(errors).toContain('VirtualService shop/a-broken');
    expect(errors).toContain('VirtualService shop/b-broken');
    expect(ms.some((m) => m.code === 'IST0102' && messageResource(m) === 'Namespace plain')).toBe(true);
  });

  it('names every analyzer after Istio and rejects unknown names', () => {
    expect(analyzerNames()).toContain('virtualservice.GatewayAnalyzer');
    expect(new Set(analyzerNames()).size).toBe(allAnalyzers.length);
    expect(() => analyze(new MeshSnapshot([]), { analyzers: ['nope.Analyzer'] })).toThrow(UnknownAnalyzerError);
  });

  it("links each code to Istio's page for it", () => {
    expect(documentationUrl('IST0101')).toBe('https://istio.io/latest/docs/reference/config/analysis/ist0101/');
    expect(documentationUrl('IST0132', '1.24')).toBe('https://istio.io/v1.24/docs/reference/config/analysis/ist0132/');
  });

  it('renders Go format verbs the way Istio prints them', () => {
    expect(formatGo('Referenced %s not found: %q', ['host', 'a"b'])).toBe('Referenced host not found: "a\\"b"');
    expect(formatGo('ports %v on %d', [[80, 443], 8080])).toBe('ports [80 443] on 8080');
  });
});

describe('route order, annotations, policies and gateways on fresh state', () => {
  it('flags a rule after a catch-all and a match repeated from an earlier rule', () => {
    const ms = run(
      [
        ...shop(),
        vs('shop', 'routes', {
          hosts: ['checkout'],
          http: [
            { name: 'api', match: [{ uri: { prefix: '/api' } }], route: [{ destination: { host: 'checkout' } }] },
            { name: 'api-v2', match: [{ uri: { prefix: '/api/v2' } }], route: [{ destination: { host: 'checkout' } }] },
            { name: 'again', match: [{ uri: { prefix: '/api' } }], route: [{ destination: { host: 'checkout' } }] },
            { name: 'rest', route: [{ destination: { host: 'checkout' } }] },
            { name: 'late', match: [{ uri: { exact: '/late' } }], route: [{ destination: { host: 'checkout' } }] },
          ],
        }),
      ],
      'schema.ValidationAnalyzer.VirtualService',
    );
    const texts = ms.map((m) => `${m.code} ${m.text}`);
    expect(texts).toContain(
      'IST0131 VirtualService rule "api-v2" match #0 of prefix /api/v2 is not used (duplicate/overlapping match in rule #0 of prefix /api on "api").',
    );
    expect(texts).toContain('IST0130 VirtualService rule "again" not used (all matches used by prior rules).');
    expect(texts).toContain('IST0130 VirtualService rule "late" not used (route without matches defined before).');
    expect(ms.filter((m) => m.code === 'IST0131')).toHaveLength(2);
  });

  it('flags a typo in an Istio annotation, a pod annotation on a Deployment, and a bad value', () => {
    const deployment: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'checkout', namespace: 'shop', annotations: { 'sidecar.istio.io/proxyCPU': '100m' } },
      spec: {
        template: { metadata: { labels: { app: 'checkout' } }, spec: { containers: [{ name: 'app', image: 'a' }] } },
      },
    };
    const typo = pod('shop', 'typo', { app: 'x' });
    typo.metadata.annotations = {
      'sidecar.istio.io/injekt': 'true',
      'traffic.sidecar.istio.io/excludeOutboundPorts': '80,http',
      'example.com/other': 'ignored',
    };
    const ms = run([...shop(), deployment, typo], 'annotations.K8sAnalyzer');
    expect(pairs(ms).sort()).toEqual([
      'IST0107 Deployment shop/checkout',
      'IST0108 Pod shop/typo',
      'IST0125 Pod shop/typo',
    ]);
    expect(ms.find((m) => m.code === 'IST0107')?.text).toContain('sidecar.istio.io/proxyCPU');
  });

  it('does not run the opt-in alpha annotation analyzer unless named', () => {
    const p = pod('shop', 'tuned', { app: 'checkout' });
    p.metadata.annotations = { 'sidecar.istio.io/proxyCPU': '100m' };
    const snapshot = new MeshSnapshot([...shop(), p], { meshConfig: meshConfigFrom() });
    expect(analyze(snapshot).some((m) => m.code === 'IST0136')).toBe(false);
    expect(pairs(analyze(snapshot, { analyzers: ['annotations.AlphaAnalyzer'] }))).toEqual(['IST0136 Pod shop/tuned']);
  });

  it('flags an AuthorizationPolicy that selects nothing and one naming a missing namespace', () => {
    const ap = (name: string, spec: Record<string, unknown>): KubeObject => ({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name, namespace: 'shop' },
      spec,
    });
    const ms = run(
      [
        ...shop(),
        ns('frontend'),
        ap('orphan', { selector: { matchLabels: { app: 'cart' } } }),
        ap('from-frontend', {
          selector: { matchLabels: { app: 'checkout' } },
          rules: [{ from: [{ source: { namespaces: ['frontend', 'front*', 'backoffice'] } }] }],
        }),
      ],
      'auth.AuthorizationPoliciesAnalyzer',
    );
    expect(pairs(ms).sort()).toEqual([
      'IST0101 AuthorizationPolicy shop/from-frontend',
      'IST0127 AuthorizationPolicy shop/orphan',
    ]);
    expect(ms.find((m) => m.code === 'IST0101')?.text).toContain('backoffice');
  });

  it('flags two Gateways claiming the same host on the same workload and port, not different hosts', () => {
    const gw = (name: string, hosts: string[]): KubeObject => ({
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: { name, namespace: 'shop' },
      spec: {
        selector: { istio: 'ingressgateway' },
        servers: [
          {
            port: { number: 443, name: 'https', protocol: 'HTTPS' },
            hosts,
            tls: { mode: 'SIMPLE', credentialName: `${name}-cert` },
          },
        ],
      },
    });
    const ms = run(
      [
        ...shop(),
        gw('a', ['shop.example.com']),
        gw('b', ['*.example.com', 'shop.example.com']),
        gw('c', ['admin.example.org']),
      ],
      'gateway.ConflictingGatewayAnalyzer',
    );
    expect(pairs(ms).sort()).toEqual(['IST0145 Gateway shop/a', 'IST0145 Gateway shop/b']);
  });
});

describe('runAnalyzers()', () => {
  it('turns an analyzer that throws into an IST0001 message and keeps the others', async () => {
    const { runAnalyzers } = await import('../../src/mesh/analyzers/index.ts');
    const broken = {
      name: 'test.BrokenAnalyzer',
      description: 'always throws',
      inputs: [],
      analyze: () => {
        throw new Error('boom');
      },
    };
    const ms = runAnalyzers(
      new MeshSnapshot(
        [...shop(), vs('shop', 'x', { hosts: ['checkout'], http: [{ route: [{ destination: { host: 'gone' } }] }] })],
        { meshConfig: meshConfigFrom() },
      ),
      [broken, allAnalyzers.find((a) => a.name === 'virtualservice.DestinationHostAnalyzer')!],
    );
    expect(ms.map((m) => `${m.code} ${messageResource(m)}`)).toEqual([
      'IST0001 Analyzer test.BrokenAnalyzer',
      'IST0101 VirtualService shop/x',
    ]);
    expect(ms[0]?.text).toBe('Internal error: test.BrokenAnalyzer: boom');
  });
});

describe('schema.ValidationAnalyzer.VirtualService structure', () => {
  it('reports what istiod would reject, and accepts a host-less VirtualService used as a delegate', () => {
    const ms = run(
      [
        ...shop(),
        vs('shop', 'no-route', { hosts: ['checkout'], http: [{ match: [{ uri: { prefix: '/' } }] }] }),
        vs('shop', 'empty', { hosts: ['checkout'] }),
        vs('shop', 'root', { hosts: ['shop.example.com'], http: [{ delegate: { name: 'child' } }] }),
        vs('shop', 'child', { http: [{ route: [{ destination: { host: 'checkout' } }] }] }),
        vs('shop', 'orphan', { http: [{ route: [{ destination: { host: '' }, weight: -5 }] }] }),
      ],
      'schema.ValidationAnalyzer.VirtualService',
    );
    const byVs = (name: string) =>
      ms.filter((m) => m.resource.name === name && m.code === 'IST0106').map((m) => m.text);
    expect(byVs('no-route')).toEqual([
      'Schema validation error: HTTP route, redirect, direct_response or delegate is required',
    ]);
    expect(byVs('empty')).toEqual(['Schema validation error: http, tcp or tls must be provided in virtual service']);
    expect(byVs('root')).toEqual([]);
    expect(byVs('child')).toEqual([]);
    expect(byVs('orphan').sort()).toEqual([
      'Schema validation error: destination.host is required',
      'Schema validation error: virtual service must have at least one host',
      'Schema validation error: weight -5 < 0',
    ]);
  });
});
