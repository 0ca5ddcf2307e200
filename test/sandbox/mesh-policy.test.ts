// The sandbox's own PeerAuthentication and DestinationRule model (src/sandbox/mesh-policy.ts), checked
// against cases taken from Istio's documentation (PeerAuthentication and DestinationRule reference,
// "Mutual TLS Migration", "Authentication Policy") rather than against the bot's src/mesh.
import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { clientTlsFor, hostMatches, peerModeFor, qualifyHost } from '../../src/sandbox/mesh-policy.ts';

const T0 = '2024-01-01T00:00:00Z';
const T1 = '2024-01-02T00:00:00Z';

function pa(namespace: string, name: string, spec: Record<string, unknown>, createdAt = T0): KubeObject {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: { name, namespace, creationTimestamp: createdAt },
    spec,
  };
}
function dr(namespace: string, name: string, spec: Record<string, unknown>, createdAt = T0): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name, namespace, creationTimestamp: createdAt },
    spec,
  };
}

const finance = { namespace: 'foo', labels: { app: 'finance' } };
const other = { namespace: 'foo', labels: { app: 'other' } };
const meshStrict = pa('istio-system', 'default', { mtls: { mode: 'STRICT' } });

describe('peerModeFor (PeerAuthentication precedence)', () => {
  const cases: Array<
    [string, KubeObject[], { namespace: string; labels?: Record<string, string> }, number, string, string | undefined]
  > = [
    ["no policy: PERMISSIVE, Istio's default", [], finance, 8080, 'PERMISSIVE', undefined],
    ['mesh-wide STRICT in the root namespace', [meshStrict], finance, 8080, 'STRICT', 'istio-system/default'],
    [
      'namespace-wide PERMISSIVE overrides mesh STRICT',
      [meshStrict, pa('foo', 'default', { mtls: { mode: 'PERMISSIVE' } })],
      finance,
      8080,
      'PERMISSIVE',
      'foo/default',
    ],
    [
      'namespace policy elsewhere does not apply',
      [meshStrict, pa('bar', 'default', { mtls: { mode: 'PERMISSIVE' } })],
      finance,
      8080,
      'STRICT',
      'istio-system/default',
    ],
    [
      'namespace with mtls UNSET inherits the mesh',
      [meshStrict, pa('foo', 'default', { mtls: { mode: 'UNSET' } })],
      finance,
      8080,
      'STRICT',
      'istio-system/default',
    ],
    [
      'namespace without mtls at all inherits the mesh',
      [meshStrict, pa('foo', 'default', {})],
      finance,
      8080,
      'STRICT',
      'istio-system/default',
    ],
    [
      'workload DISABLE beats namespace STRICT for selected pods',
      [
        pa('foo', 'default', { mtls: { mode: 'STRICT' } }),
        pa('foo', 'fin', { selector: { matchLabels: { app: 'finance' } }, mtls: { mode: 'DISABLE' } }),
      ],
      finance,
      8080,
      'DISABLE',
      'foo/fin',
    ],
    [
      'workload policy leaves unselected pods alone',
      [
        pa('foo', 'default', { mtls: { mode: 'STRICT' } }),
        pa('foo', 'fin', { selector: { matchLabels: { app: 'finance' } }, mtls: { mode: 'DISABLE' } }),
      ],
      other,
      8080,
      'STRICT',
      'foo/default',
    ],
    [
      'a selector must match every label',
      [pa('foo', 'fin', { selector: { matchLabels: { app: 'finance', version: 'v2' } }, mtls: { mode: 'STRICT' } })],
      finance,
      8080,
      'PERMISSIVE',
      undefined,
    ],
    [
      'empty matchLabels is namespace-wide',
      [pa('foo', 'all', { selector: { matchLabels: {} }, mtls: { mode: 'STRICT' } })],
      other,
      8080,
      'STRICT',
      'foo/all',
    ],
    // Istio docs: "strict mTLS for all finance workloads, but leaves the port 8080 to plaintext".
    [
      'port-level DISABLE on a STRICT workload: that port',
      [
        pa('foo', 'finance', {
          selector: { matchLabels: { app: 'finance' } },
          mtls: { mode: 'STRICT' },
          portLevelMtls: { 8080: { mode: 'DISABLE' } },
        }),
      ],
      finance,
      8080,
      'DISABLE',
      'foo/finance',
    ],
    [
      'port-level DISABLE on a STRICT workload: other ports',
      [
        pa('foo', 'finance', {
          selector: { matchLabels: { app: 'finance' } },
          mtls: { mode: 'STRICT' },
          portLevelMtls: { 8080: { mode: 'DISABLE' } },
        }),
      ],
      finance,
      9090,
      'STRICT',
      'foo/finance',
    ],
    // Istio docs: "inherits mTLS mode from namespace (or mesh) settings, and disables mTLS for workload port 8080".
    [
      'workload UNSET + port DISABLE: other ports inherit the namespace',
      [
        pa('foo', 'default', { mtls: { mode: 'STRICT' } }),
        pa('foo', 'finance', {
          selector: { matchLabels: { app: 'finance' } },
          mtls: { mode: 'UNSET' },
          portLevelMtls: { 8080: { mode: 'DISABLE' } },
        }),
      ],
      finance,
      9090,
      'STRICT',
      'foo/default',
    ],
    [
      'workload UNSET + port DISABLE: the port',
      [
        pa('foo', 'default', { mtls: { mode: 'STRICT' } }),
        pa('foo', 'finance', {
          selector: { matchLabels: { app: 'finance' } },
          mtls: { mode: 'UNSET' },
          portLevelMtls: { 8080: { mode: 'DISABLE' } },
        }),
      ],
      finance,
      8080,
      'DISABLE',
      'foo/finance',
    ],
    [
      'an UNSET port inherits the workload mode',
      [
        pa('foo', 'finance', {
          selector: { matchLabels: { app: 'finance' } },
          mtls: { mode: 'STRICT' },
          portLevelMtls: { 8080: { mode: 'UNSET' } },
        }),
      ],
      finance,
      8080,
      'STRICT',
      'foo/finance',
    ],
    [
      'portLevelMtls on a namespace-wide policy does nothing',
      [pa('foo', 'default', { mtls: { mode: 'PERMISSIVE' }, portLevelMtls: { 8080: { mode: 'STRICT' } } })],
      finance,
      8080,
      'PERMISSIVE',
      'foo/default',
    ],
    [
      'a selector policy in the root namespace is ignored',
      [pa('istio-system', 'fin', { selector: { matchLabels: { app: 'finance' } }, mtls: { mode: 'STRICT' } })],
      finance,
      8080,
      'PERMISSIVE',
      undefined,
    ],
    [
      'two namespace-wide policies: the oldest wins',
      [pa('foo', 'newer', { mtls: { mode: 'STRICT' } }, T1), pa('foo', 'older', { mtls: { mode: 'DISABLE' } }, T0)],
      finance,
      8080,
      'DISABLE',
      'foo/older',
    ],
    [
      'same age: the name decides',
      [pa('foo', 'b', { mtls: { mode: 'STRICT' } }), pa('foo', 'a', { mtls: { mode: 'DISABLE' } })],
      finance,
      8080,
      'DISABLE',
      'foo/a',
    ],
    [
      'two workload policies: the oldest wins, even if it only sets a port',
      [
        pa(
          'foo',
          'w-old',
          { selector: { matchLabels: { app: 'finance' } }, portLevelMtls: { 9090: { mode: 'STRICT' } } },
          T0,
        ),
        pa('foo', 'w-new', { selector: { matchLabels: { app: 'finance' } }, mtls: { mode: 'STRICT' } }, T1),
      ],
      finance,
      8080,
      'PERMISSIVE',
      undefined,
    ],
    [
      'two mesh-wide policies: the oldest wins',
      [
        pa('istio-system', 'late', { mtls: { mode: 'PERMISSIVE' } }, T1),
        pa('istio-system', 'early', { mtls: { mode: 'STRICT' } }, T0),
      ],
      finance,
      8080,
      'STRICT',
      'istio-system/early',
    ],
    [
      'a workload in the root namespace follows the mesh-wide policy',
      [meshStrict, pa('istio-system', 'gw', { selector: { matchLabels: { app: 'gw' } }, mtls: { mode: 'DISABLE' } })],
      { namespace: 'istio-system', labels: { app: 'gw' } },
      8080,
      'STRICT',
      'istio-system/default',
    ],
  ];
  it.each(cases)('%s', (_title, policies, workload, port, mode, by) => {
    const d = peerModeFor(policies, workload, port);
    expect(d.mode).toBe(mode);
    expect(d.by).toBe(by);
  });

  it('meshConfig.rootNamespace moves the mesh level', () => {
    const policies = [pa('istio-config', 'default', { mtls: { mode: 'STRICT' } }), meshStrict];
    expect(peerModeFor(policies, finance, 80, 'istio-config')).toEqual({
      mode: 'STRICT',
      by: 'istio-config/default',
      level: 'mesh',
    });
    // With the root moved, istio-system's selector-less policy is only that namespace's own.
    expect(peerModeFor([meshStrict], finance, 80, 'istio-config').mode).toBe('PERMISSIVE');
  });
});

describe('hosts', () => {
  it("short names belong to the rule's namespace; dotted names are as written", () => {
    expect(qualifyHost('reviews', 'bookinfo')).toBe('reviews.bookinfo.svc.cluster.local');
    expect(qualifyHost('reviews.bookinfo', 'other')).toBe('reviews.bookinfo');
    expect(qualifyHost('*', 'x')).toBe('*');
    expect(qualifyHost('*.bookinfo.svc.cluster.local', 'x')).toBe('*.bookinfo.svc.cluster.local');
  });
  it('wildcards match by suffix', () => {
    expect(hostMatches('*', 'a.b.svc.cluster.local')).toBe(true);
    expect(hostMatches('*.local', 'a.b.svc.cluster.local')).toBe(true);
    expect(hostMatches('*.b.svc.cluster.local', 'a.b.svc.cluster.local')).toBe(true);
    expect(hostMatches('*.c.svc.cluster.local', 'a.b.svc.cluster.local')).toBe(false);
    expect(hostMatches('a.b.svc.cluster.local', 'a.b.svc.cluster.local')).toBe(true);
    expect(hostMatches('a.b', 'a.b.svc.cluster.local')).toBe(false);
  });
});

describe('clientTlsFor (DestinationRule a client sidecar applies)', () => {
  const inventory = { host: 'inventory.legacy.svc.cluster.local', serviceNamespace: 'legacy', port: 8080 };
  const shopClient = { namespace: 'shop', labels: { app: 'frontend' } };
  const legacyClient = { namespace: 'legacy', labels: { app: 'batch' } };
  const disable = { tls: { mode: 'DISABLE' } };
  const mutual = { tls: { mode: 'ISTIO_MUTUAL' } };

  it('no rule, or a rule without tls: auto mTLS', () => {
    expect(clientTlsFor([], shopClient, inventory)).toEqual({});
    expect(
      clientTlsFor(
        [dr('legacy', 'lb', { host: 'inventory', trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } })],
        shopClient,
        inventory,
      ),
    ).toEqual({ tls: undefined, by: 'legacy/lb' });
  });
  it("a short host resolves in the rule's namespace", () => {
    expect(
      clientTlsFor([dr('legacy', 'plain', { host: 'inventory', trafficPolicy: disable })], shopClient, inventory).tls,
    ).toBe('DISABLE');
    // `inventory` written in shop means inventory.shop: not this service.
    expect(
      clientTlsFor([dr('shop', 'plain', { host: 'inventory', trafficPolicy: disable })], shopClient, inventory).tls,
    ).toBeUndefined();
  });
  it("the client's namespace first, then the service's, then the root namespace", () => {
    const rules = [
      dr('istio-system', 'mesh', { host: '*.local', trafficPolicy: mutual }),
      dr('legacy', 'svc', { host: 'inventory', trafficPolicy: disable }),
      dr('shop', 'mine', { host: inventory.host, trafficPolicy: mutual }),
    ];
    expect(clientTlsFor(rules, shopClient, inventory)).toEqual({ tls: 'ISTIO_MUTUAL', by: 'shop/mine' });
    expect(clientTlsFor(rules.slice(0, 2), shopClient, inventory)).toEqual({ tls: 'DISABLE', by: 'legacy/svc' });
    expect(clientTlsFor(rules.slice(0, 1), shopClient, inventory)).toEqual({
      tls: 'ISTIO_MUTUAL',
      by: 'istio-system/mesh',
    });
  });
  it('a rule in a third namespace does not apply', () => {
    expect(
      clientTlsFor([dr('bookinfo', 'x', { host: inventory.host, trafficPolicy: disable })], shopClient, inventory),
    ).toEqual({});
  });
  it('exportTo limits who sees a rule outside its namespace', () => {
    const local = dr('legacy', 'local', { host: 'inventory', exportTo: ['.'], trafficPolicy: disable });
    expect(clientTlsFor([local], shopClient, inventory)).toEqual({});
    expect(clientTlsFor([local], legacyClient, inventory).tls).toBe('DISABLE');
    expect(
      clientTlsFor(
        [dr('legacy', 'to-shop', { host: 'inventory', exportTo: ['shop'], trafficPolicy: disable })],
        shopClient,
        inventory,
      ).tls,
    ).toBe('DISABLE');
    expect(
      clientTlsFor(
        [dr('legacy', 'to-other', { host: 'inventory', exportTo: ['bookinfo'], trafficPolicy: disable })],
        shopClient,
        inventory,
      ),
    ).toEqual({});
  });
  it('the most specific host wins within a namespace', () => {
    const rules = [
      dr('shop', 'all', { host: '*', trafficPolicy: disable }),
      dr('shop', 'legacy-ns', { host: '*.legacy.svc.cluster.local', trafficPolicy: mutual }),
    ];
    expect(clientTlsFor(rules, shopClient, inventory).by).toBe('shop/legacy-ns');
    const exact = dr('shop', 'exact', { host: inventory.host, trafficPolicy: { tls: { mode: 'SIMPLE' } } });
    expect(clientTlsFor([...rules, exact], shopClient, inventory)).toEqual({ tls: 'SIMPLE', by: 'shop/exact' });
  });
  it('same host twice: the oldest rule with a traffic policy', () => {
    const rules = [
      dr('shop', 'subsets-only', { host: inventory.host, subsets: [{ name: 'v1', labels: { version: 'v1' } }] }, T0),
      dr('shop', 'b-new', { host: inventory.host, trafficPolicy: mutual }, T1),
      dr('shop', 'a-old', { host: inventory.host, trafficPolicy: disable }, T0),
    ];
    expect(clientTlsFor(rules, shopClient, inventory)).toEqual({ tls: 'DISABLE', by: 'shop/a-old' });
  });
  it('a port-level setting replaces the top-level tls for its port only', () => {
    const rule = dr('shop', 'ports', {
      host: inventory.host,
      trafficPolicy: {
        tls: { mode: 'DISABLE' },
        portLevelSettings: [
          { port: { number: 8080 }, tls: { mode: 'ISTIO_MUTUAL' } },
          { port: { number: 9090 }, connectionPool: { tcp: { maxConnections: 1 } } },
        ],
      },
    });
    expect(clientTlsFor([rule], shopClient, inventory).tls).toBe('ISTIO_MUTUAL');
    // A port-level entry without tls does not inherit the top level: auto mTLS.
    expect(clientTlsFor([rule], shopClient, { ...inventory, port: 9090 }).tls).toBeUndefined();
    expect(clientTlsFor([rule], shopClient, { ...inventory, port: 7070 }).tls).toBe('DISABLE');
  });
  it('a workloadSelector limits a rule to matching clients in its own namespace', () => {
    const rule = dr('shop', 'frontend-only', {
      host: inventory.host,
      workloadSelector: { matchLabels: { app: 'frontend' } },
      trafficPolicy: disable,
    });
    expect(clientTlsFor([rule], shopClient, inventory).tls).toBe('DISABLE');
    expect(clientTlsFor([rule], { namespace: 'shop', labels: { app: 'cart' } }, inventory)).toEqual({});
    const inService = dr('legacy', 'batch-only', {
      host: 'inventory',
      workloadSelector: { matchLabels: { app: 'frontend' } },
      trafficPolicy: disable,
    });
    expect(clientTlsFor([inService], shopClient, inventory)).toEqual({});
  });
});
