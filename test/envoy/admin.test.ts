// Envoy's admin API read through the sandbox's pods/portforward, as the bot reads a sidecar: a fake
// admin listener on :15000 that checks each caller is inside the pod, as Envoy's (bound to 127.0.0.1)
// needs. Each endpoint's typed function, its parser on Envoy's JSON (proto field names, uint64 as
// strings, zero values left out), and what a refusal or a garbled answer becomes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import {
  ENVOY_ADMIN_PORT,
  EnvoyAdminError,
  adminGet,
  getCerts,
  getClusters,
  getConfigDump,
  getStats,
} from '../../src/envoy/admin.ts';
import { parseCerts, spiffeIdentity } from '../../src/envoy/certs.ts';
import { parseClusters, parseIstioClusterName } from '../../src/envoy/clusters.ts';
import { virtualServicePathForService } from '../../src/envoy/config-dump.ts';
import { parseStats, statValue } from '../../src/envoy/stats.ts';
import { KubeClient, type RequestRecord } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { PortForwardError } from '../../src/kube/port-forward.ts';
import { isLocalhostCaller } from '../../src/sandbox/pod-endpoints.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';

const NS = 'bookinfo';
const POD = 'productpage-v1-abc';
const proxy = { namespace: NS, pod: POD };

const VS_PATH = '/apis/networking.istio.io/v1/namespaces/bookinfo/virtual-service/reviews';
const CONFIG_DUMP = {
  configs: [
    {
      '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump',
      bootstrap: { node: { id: `sidecar~10.1.0.7~${POD}.${NS}~${NS}.svc.cluster.local` } },
    },
    {
      '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
      dynamic_active_clusters: [
        {
          cluster: {
            name: 'outbound|9080|v1|reviews.bookinfo.svc.cluster.local',
            metadata: {
              filter_metadata: {
                istio: { config: '/apis/networking.istio.io/v1/namespaces/bookinfo/destination-rule/reviews' },
              },
            },
          },
        },
      ],
    },
    {
      '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
      dynamic_listeners: [{ name: 'virtualInbound' }, { name: '0.0.0.0_9080' }],
    },
    {
      '@type': 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
      dynamic_route_configs: [
        {
          route_config: {
            name: '9080',
            virtual_hosts: [
              {
                name: 'reviews.bookinfo.svc.cluster.local:9080',
                domains: ['reviews.bookinfo.svc.cluster.local', 'reviews'],
                routes: [
                  {
                    match: { prefix: '/' },
                    route: { cluster: 'outbound|9080|v1|reviews.bookinfo.svc.cluster.local' },
                    metadata: { filter_metadata: { istio: { config: VS_PATH } } },
                  },
                ],
              },
            ],
          },
        },
      ],
    },
  ],
};

const CLUSTERS = {
  cluster_statuses: [
    {
      name: 'outbound|9080|v1|reviews.bookinfo.svc.cluster.local',
      added_via_api: true,
      host_statuses: [
        {
          address: { socket_address: { address: '10.1.0.12', port_value: 9080 } },
          stats: [
            { name: 'cx_active', type: 'GAUGE', value: '2' },
            { name: 'rq_total', value: '41' },
            { name: 'rq_error' },
          ],
          health_status: { eds_health_status: 'HEALTHY' },
          weight: 1,
          locality: { zone: 'eu-west-1a' },
        },
        {
          address: { socket_address: { address: '10.1.0.13', port_value: 9080 } },
          stats: [
            { name: 'rq_total', value: '3' },
            { name: 'rq_error', value: '3' },
          ],
          health_status: { eds_health_status: 'HEALTHY', failed_outlier_check: true },
          weight: 1,
          priority: 1,
        },
      ],
    },
    { name: 'BlackHoleCluster', host_statuses: [] },
    {
      name: 'agent',
      host_statuses: [
        {
          address: { socket_address: { address: '127.0.0.1', port_value: 15020 } },
          health_status: { eds_health_status: 'HEALTHY' },
        },
      ],
    },
  ],
};

const STATS = {
  stats: [
    { name: 'cluster.outbound|9080|v1|reviews.bookinfo.svc.cluster.local.upstream_cx_total', value: 12 },
    { name: 'server.state', value: 0 },
    { name: 'server.version', value: '1.24.2' },
    { histograms: { supported_quantiles: [0, 25, 50], computed_quantiles: [] } },
  ],
};

const SPIFFE = 'spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage';
const CERTS = {
  certificates: [
    {
      ca_cert: [
        {
          path: '<inline>',
          serial_number: '1a2b',
          subject_alt_names: [],
          days_until_expiration: '3650',
          valid_from: '2026-01-01T00:00:00Z',
          expiration_time: '2036-01-01T00:00:00Z',
        },
      ],
      cert_chain: [
        {
          path: '<inline>',
          serial_number: '3c4d',
          subject_alt_names: [{ uri: SPIFFE }],
          days_until_expiration: '0',
          valid_from: '2026-12-01T10:00:00Z',
          expiration_time: '2026-12-02T10:00:00Z',
        },
      ],
    },
  ],
};

let sandbox: Sandbox;
let kube: KubeClient;
const records: RequestRecord[] = [];
const seenPaths: string[] = [];
const seenFromLocalhost: boolean[] = [];
let garbled = false;

function envoyAdmin(req: IncomingMessage, res: ServerResponse): void {
  // Envoy's admin listener is bound to 127.0.0.1: only a caller inside the pod reaches it.
  seenFromLocalhost.push(isLocalhostCaller(req));
  seenPaths.push(req.url ?? '');
  const path = (req.url ?? '').split('?')[0];
  const body = (
    { '/config_dump': CONFIG_DUMP, '/clusters': CLUSTERS, '/stats': STATS, '/certs': CERTS } as Record<string, unknown>
  )[path ?? ''];
  if (body === undefined) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('invalid path. admin commands are:\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(garbled ? '{"configs": 7' : JSON.stringify(body));
}

beforeAll(async () => {
  const seed: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: POD, namespace: NS },
      spec: {
        containers: [
          { name: 'productpage', image: 'productpage' },
          { name: 'istio-proxy', image: 'proxyv2' },
        ],
      },
    },
  ];
  sandbox = await startSandbox({ controllers: false, seed });
  sandbox.podEndpoints.register(NS, POD, ENVOY_ADMIN_PORT, envoyAdmin);
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  kube = new KubeClient(kc, { onRequest: (r) => records.push(r), timeoutMs: 5000 });
});

afterAll(async () => {
  await sandbox?.close();
});

describe('the admin endpoints through pods/portforward', () => {
  it('/config_dump: the VirtualService that shaped the route, as istioctl finds it', async () => {
    const dump = await getConfigDump(kube, proxy);
    expect(dump.listenerNames).toEqual(['virtualInbound', '0.0.0.0_9080']);
    expect(dump.clusters.map((c) => c.name)).toEqual(['outbound|9080|v1|reviews.bookinfo.svc.cluster.local']);
    expect(virtualServicePathForService(dump, { name: 'reviews', namespace: NS }, 9080)).toBe(VS_PATH);
    // One port-forward per request, counted as the client counts every request.
    expect(records.at(-1)).toEqual({
      method: 'GET',
      path: `/api/v1/namespaces/${NS}/pods/${POD}/portforward`,
      status: 101,
    });
    expect(sandbox.requests.at(-1)).toMatchObject({
      path: `/api/v1/namespaces/${NS}/pods/${POD}/portforward`,
      query: `ports=${ENVOY_ADMIN_PORT}`,
    });
  });

  it('/clusters?format=json: endpoints with their health and per-host counters', async () => {
    const clusters = await getClusters(kube, proxy);
    expect(seenPaths.at(-1)).toBe('/clusters?format=json');
    expect(clusters.map((c) => c.name)).toEqual([
      'outbound|9080|v1|reviews.bookinfo.svc.cluster.local',
      'BlackHoleCluster',
      'agent',
    ]);
    const [healthy, ejected] = clusters[0]!.hosts;
    expect(healthy).toEqual({
      address: '10.1.0.12:9080',
      edsHealth: 'HEALTHY',
      failedOutlierCheck: false,
      failedActiveHealthCheck: false,
      healthy: true,
      weight: 1,
      priority: 0,
      zone: 'eu-west-1a',
      stats: { cx_active: 2, rq_total: 41, rq_error: 0 },
    });
    expect(ejected).toMatchObject({
      address: '10.1.0.13:9080',
      healthy: false,
      failedOutlierCheck: true,
      priority: 1,
      stats: { rq_error: 3 },
    });
    expect(clusters[0]!.addedViaApi).toBe(true);
    expect(clusters[1]!.addedViaApi).toBe(false);
  });

  it('/stats?format=json: counters and gauges, text readouts apart, histograms left out; filter and usedonly go as Envoy reads them', async () => {
    const stats = await getStats(kube, proxy, { filter: '^cluster\\.outbound', usedOnly: true });
    expect(seenPaths.at(-1)).toBe('/stats?format=json&usedonly=&filter=%5Ecluster%5C.outbound');
    expect(stats).toEqual([
      { name: 'cluster.outbound|9080|v1|reviews.bookinfo.svc.cluster.local.upstream_cx_total', value: 12 },
      { name: 'server.state', value: 0 },
      { name: 'server.version', text: '1.24.2' },
    ]);
    expect(statValue(stats, 'server.state')).toBe(0);
    expect(statValue(stats, 'server.version')).toBeUndefined();
  });

  it('/certs: the workload certificate, its SPIFFE identity and expiry', async () => {
    const certs = await getCerts(kube, proxy);
    expect(spiffeIdentity(certs)).toBe(SPIFFE);
    expect(certs[0]!.certChain[0]).toEqual({
      path: '<inline>',
      serialNumber: '3c4d',
      subjectAltNames: [SPIFFE],
      daysUntilExpiration: 0,
      validFrom: new Date('2026-12-01T10:00:00Z'),
      expirationTime: new Date('2026-12-02T10:00:00Z'),
    });
    expect(certs[0]!.caCert[0]!.daysUntilExpiration).toBe(3650);
  });

  it("an admin answer other than 200 is an EnvoyAdminError with Envoy's status and words", async () => {
    const err = await adminGet(kube, proxy, '/no_such').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvoyAdminError);
    expect(err).toMatchObject({ kind: 'http', status: 404, path: '/no_such' });
    expect((err as Error).message).toBe(
      `Envoy admin of ${NS}/${POD}, /no_such: answered 404: invalid path. admin commands are:`,
    );
  });

  it("a body that is not Envoy's JSON is a bad answer, not a crash", async () => {
    garbled = true;
    const err = await getClusters(kube, proxy).catch((e: unknown) => e);
    garbled = false;
    expect(err).toBeInstanceOf(EnvoyAdminError);
    expect((err as EnvoyAdminError).kind).toBe('bad-answer');
  });

  it('a pod without an admin listener: the tunnel says connection refused (PortForwardError)', async () => {
    const err = await adminGet(kube, proxy, '/config_dump', { port: 15999 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortForwardError);
    expect((err as PortForwardError).kind).toBe('refused');
  });

  it('every admin request reached the pod as a localhost caller, as Envoy (bound to 127.0.0.1) requires', () => {
    expect(seenFromLocalhost.length).toBeGreaterThan(5);
    expect(seenFromLocalhost.every(Boolean)).toBe(true);
  });
});

describe('the parsers on their own', () => {
  it('clusters: pipes and internal addresses, an empty answer', () => {
    const hosts = [
      { address: { pipe: { path: '/etc/istio/proxy/XDS' } } },
      { address: { envoy_internal_address: { server_listener_name: 'connect_originate' } } },
    ];
    const c = parseClusters({ cluster_statuses: [{ name: 'x', host_statuses: hosts }] });
    expect(c[0]!.hosts.map((h) => [h.address, h.edsHealth, h.healthy])).toEqual([
      ['/etc/istio/proxy/XDS', 'UNKNOWN', true],
      ['envoy://connect_originate', 'UNKNOWN', true],
    ]);
    expect(parseClusters('{}')).toEqual([]);
  });

  it("Istio's cluster names", () => {
    expect(parseIstioClusterName('outbound|9080|v1|reviews.bookinfo.svc.cluster.local')).toEqual({
      direction: 'outbound',
      port: 9080,
      subset: 'v1',
      host: 'reviews.bookinfo.svc.cluster.local',
    });
    expect(parseIstioClusterName('inbound|9080||')).toEqual({ direction: 'inbound', port: 9080, subset: '', host: '' });
    expect(parseIstioClusterName('BlackHoleCluster')).toBeUndefined();
    expect(parseIstioClusterName('outbound|http|v1|x')).toBeUndefined();
  });

  it('stats and certs: empty answers and missing fields', () => {
    expect(parseStats('{"stats": []}')).toEqual([]);
    const certs = parseCerts('{"certificates": [{"ca_cert": [{"serial_number": "1"}]}]}');
    expect(certs).toEqual([{ caCert: [{ serialNumber: '1', subjectAltNames: [] }], certChain: [] }]);
    expect(spiffeIdentity(parseCerts('{}'))).toBeUndefined();
  });
});
