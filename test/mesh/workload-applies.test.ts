// The describe model shows only what applies (issue 14, item 2) and says what the proxies have (item 3):
// gateway-only VirtualServices are exposure, not sidecar routing; pods found together are grouped by the
// configuration they get; proxy sync status is reduced to who does not have the current config.
import { describe, expect, it } from '@jest/globals';
import type { MergedSyncStatus } from '../../src/istio/merge.ts';
import { TYPE_URL } from '../../src/istio/proxy-status.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { describePod, describeService, describeWorkload } from '../../src/mesh/workload.ts';
import { behindLines, configDelivery, unknownWhy } from '../../src/mesh/workload-sync.ts';
import { istio, namespaceObj, pod, service } from './mesh-fixtures.ts';

const HTTP = [{ containerPort: 80, name: 'http' }];

function shop(extra: ReturnType<typeof pod>[] = []) {
  return new MeshSnapshot([
    namespaceObj('shop', { 'istio-injection': 'enabled' }),
    pod('shop', 'web-v1-aaaaa-11111', { labels: { app: 'web', version: 'v1' }, owner: 'web-v1-aaaaa', ports: HTTP }),
    pod('shop', 'web-v1-aaaaa-22222', { labels: { app: 'web', version: 'v1' }, owner: 'web-v1-aaaaa', ports: HTTP }),
    pod('shop', 'web-v2-bbbbb-33333', { labels: { app: 'web', version: 'v2' }, owner: 'web-v2-bbbbb', ports: HTTP }),
    pod('shop', 'api-v1-ccccc-44444', { labels: { app: 'api', version: 'v1' }, owner: 'api-v1-ccccc', ports: HTTP }),
    service('shop', 'web', { app: 'web' }, [{ name: 'http', port: 80, targetPort: 80 }]),
    service('shop', 'api', { app: 'api' }, [{ name: 'http', port: 80, targetPort: 80 }]),
    istio('Gateway', 'shop', 'edge', {
      selector: { istio: 'ingressgateway' },
      servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }],
    }),
    // Bound to the gateway only, hosts "*": it covers every service's host, and routes to web v2 only.
    istio('VirtualService', 'shop', 'edge-routes', {
      hosts: ['*'],
      gateways: ['edge'],
      http: [{ route: [{ destination: { host: 'web', subset: 'v2' } }] }],
    }),
    // Bound to the gateway and the mesh: sidecar routing too.
    istio('VirtualService', 'shop', 'api', {
      hosts: ['api'],
      gateways: ['edge', 'mesh'],
      http: [{ route: [{ destination: { host: 'api' } }] }],
    }),
    istio('DestinationRule', 'shop', 'web', {
      host: 'web',
      subsets: [
        { name: 'v1', labels: { version: 'v1' } },
        { name: 'v2', labels: { version: 'v2' } },
      ],
    }),
    istio('PeerAuthentication', 'shop', 'web-v2-strict', {
      selector: { matchLabels: { app: 'web', version: 'v2' } },
      mtls: { mode: 'STRICT' },
    }),
    ...extra,
  ]);
}

describe('gateway-only VirtualServices are exposure, not sidecar routing', () => {
  const s = shop();

  it('are listed only for the pods they route to, and never as sidecar VirtualServices', () => {
    const v2 = describePod(s, s.get('Pod', 'shop', 'web-v2-bbbbb-33333')!);
    expect(v2.virtualServices.map((v) => v.ref.name)).toEqual([]);
    expect(v2.gatewayVirtualServices.map((v) => v.ref.name)).toEqual(['edge-routes']);
    const v1 = describePod(s, s.get('Pod', 'shop', 'web-v1-aaaaa-11111')!);
    expect(v1.gatewayVirtualServices).toEqual([]);
    // No "no route reaches these pods" about a VirtualService that is not listed for them.
    expect(v1.warnings.filter((w) => w.message.includes('edge-routes'))).toEqual([]);
    const api = describePod(s, s.get('Pod', 'shop', 'api-v1-ccccc-44444')!);
    expect(api.gatewayVirtualServices).toEqual([]);
    // `mesh` among the gateways: sidecar routing (and exposure at `edge`, said on its line).
    expect(api.virtualServices.map((v) => `${v.ref.name} ${v.appliesToSidecars}`)).toEqual(['api true']);
  });

  it('the service view lists them apart from the VirtualServices sidecars get', () => {
    const web = describeService(s, 'web', 'shop');
    expect(web.virtualServices).toEqual([]);
    expect(web.gatewayVirtualServices.map((v) => v.ref.name)).toEqual(['edge-routes']);
    const api = describeService(s, 'api', 'shop');
    expect(api.gatewayVirtualServices).toEqual([]);
    expect(api.virtualServices.map((v) => v.ref.name)).toEqual(['api']);
  });

  it('pods of one service that get different mTLS are said to, with which', () => {
    const web = describeService(s, 'web', 'shop');
    expect(web.warnings.filter((w) => w.code === 'mtls-differs').map((w) => w.message)).toEqual([
      'not every pod gets the mTLS shown below (that of web-v1-aaaaa-11111): web-v2-bbbbb-33333 get 80 STRICT (PeerAuthentication shop/web-v2-strict (workload selector))',
    ]);
  });
});

describe('a DestinationRule with a workloadSelector applies at its callers only', () => {
  it('says whose sidecars it applies at', () => {
    const s = shop([
      istio('DestinationRule', 'shop', 'web-affinity', {
        host: 'web',
        workloadSelector: { matchLabels: { app: 'api' } },
        subsets: [{ name: 'v2', labels: { version: 'v2' } }],
      }) as ReturnType<typeof pod>,
    ]);
    const web = describeService(s, 'web', 'shop');
    expect(web.destinationRules.map((d) => [d.ref.name, d.onlyForCallers])).toEqual([
      ['web', undefined],
      ['web-affinity', { namespace: 'shop', labels: { app: 'api' } }],
    ]);
  });
});

describe('pods found together are told apart by what applies to them', () => {
  const s = shop();

  it('pods of one Deployment share one configuration', () => {
    const w = describeWorkload(s, { kind: 'deployment', name: 'web-v1', namespace: 'shop' });
    expect(w.pods.map((p) => p.name)).toEqual(['web-v1-aaaaa-11111', 'web-v1-aaaaa-22222']);
    expect(w.sameAsDescribed.map((p) => p.name)).toEqual(['web-v1-aaaaa-11111', 'web-v1-aaaaa-22222']);
    expect(w.variants).toEqual([]);
  });

  it('app=web over two subsets: one variant, with the subset, the gateway route and the mTLS that differ', () => {
    const w = describeWorkload(s, { kind: 'label', key: 'app', value: 'web', namespace: 'shop' });
    expect(w.described.pod.name).toBe('web-v1-aaaaa-11111');
    expect(w.sameAsDescribed.map((p) => p.name)).toEqual(['web-v1-aaaaa-11111', 'web-v1-aaaaa-22222']);
    expect(w.variants).toHaveLength(1);
    expect(w.variants[0]!.pods.map((p) => p.name)).toEqual(['web-v2-bbbbb-33333']);
    expect(w.variants[0]!.differences).toEqual([
      { facet: 'subsets of DestinationRule shop/web', value: '`v2`', described: '`v1`' },
      {
        facet: 'mTLS',
        value: 'port 80 STRICT (PeerAuthentication shop/web-v2-strict (workload selector))',
        described: "port 80 PERMISSIVE (Istio's default (no PeerAuthentication applies))",
      },
      {
        facet: 'VirtualService shop/edge-routes (at gateways)',
        value: 'reached by HTTP route #1',
        described: 'does not apply',
      },
    ]);
  });
});

describe('proxy sync status, reduced to who has the config described', () => {
  const s = shop();
  const pods = s.list('Pod', 'shop');
  const merged: MergedSyncStatus = {
    proxies: [
      {
        proxyId: 'web-v1-aaaaa-11111.shop',
        pod: 'web-v1-aaaaa-11111',
        namespace: 'shop',
        connection: 'CONNECTED',
        hasPod: true,
        row: {
          proxyId: 'web-v1-aaaaa-11111.shop',
          pod: 'web-v1-aaaaa-11111',
          namespace: 'shop',
          cluster: 'Kubernetes',
          istiod: 'istiod-1',
          istioVersion: '1.24.2',
          xds: [
            { typeUrl: TYPE_URL.CDS, status: 'SYNCED' },
            { typeUrl: TYPE_URL.LDS, status: 'STALE', lastUpdated: '2026-01-15T09:26:00Z' },
          ],
        },
      },
      {
        proxyId: 'web-v1-aaaaa-22222.shop',
        pod: 'web-v1-aaaaa-22222',
        namespace: 'shop',
        connection: 'CONNECTED',
        hasPod: true,
        row: {
          proxyId: 'web-v1-aaaaa-22222.shop',
          pod: 'web-v1-aaaaa-22222',
          namespace: 'shop',
          cluster: 'Kubernetes',
          istiod: 'istiod-2',
          istioVersion: '1.24.2',
          xds: [
            {
              typeUrl: TYPE_URL.CDS,
              status: 'ERROR',
              lastUpdated: '2026-01-15T09:29:00Z',
              lastError: 'Error adding/updating cluster(s) outbound|80|v2|web.shop.svc.cluster.local',
            },
          ],
        },
      },
      {
        proxyId: 'web-v2-bbbbb-33333.shop',
        pod: 'web-v2-bbbbb-33333',
        namespace: 'shop',
        connection: 'DISCONNECTED',
        hasPod: true,
      },
      {
        proxyId: 'api-v1-ccccc-44444.shop',
        pod: 'api-v1-ccccc-44444',
        namespace: 'shop',
        connection: 'UNKNOWN',
        hasPod: true,
        unreadIstiods: [{ istiod: 'istiod-3', kind: 'timeout', message: 'timed out' }],
      },
    ],
    istiods: [],
    failures: [{ istiod: 'istiod-3', kind: 'timeout', message: 'timed out' }],
    noIstiod: false,
  };

  it('STALE, NACK and DISCONNECTED proxies are behind; an unread istiod makes a proxy unknown, with why', () => {
    const d = configDelivery({ merged }, pods);
    expect(d.proxies.map((p) => `${p.pod} ${p.state} ${p.types.join(',')}`)).toEqual([
      'web-v1-aaaaa-11111 STALE LDS',
      'web-v1-aaaaa-22222 NACK CDS',
      'web-v2-bbbbb-33333 DISCONNECTED ',
      'api-v1-ccccc-44444 UNKNOWN ',
    ]);
    expect(behindLines(d, new Date('2026-01-15T09:30:00Z'))).toEqual([
      'web-v1-aaaaa-11111: STALE on LDS (sent 4m ago, not acknowledged)',
      'web-v1-aaaaa-22222: rejected CDS (NACK 60s ago: Error adding/updating cluster(s) outbound|80|v2|web.shop.svc.cluster.local)',
      'web-v2-bbbbb-33333: DISCONNECTED from istiod (no ADS connection: it keeps whatever config it had)',
    ]);
    expect(unknownWhy(d)).toBe('istiod istiod-3 could not be read');
    // Without a clock, no ages (the mtls verdict's reasons).
    expect(behindLines(d)[0]).toBe('web-v1-aaaaa-11111: STALE on LDS (not acknowledged)');
  });

  it('nothing read at all: every proxy unknown, with the reason', () => {
    const d = configDelivery({ unread: 'no ready istiod pod in istio-system to ask for proxy sync status' }, pods);
    expect(d.behind).toEqual([]);
    expect(d.unknown).toHaveLength(4);
    expect(unknownWhy(d)).toBe('no ready istiod pod in istio-system to ask for proxy sync status');
  });
});
