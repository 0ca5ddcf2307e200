// The proxy-config writers beyond what the shared goldens cover: the filters (--fqdn, --port,
// --subset, --direction, --address, --type, --name, --cluster, --status), non-verbose tables, the
// /clusters?format=json endpoint view, camelCase dumps, istioctl's errors, and the tabwriter itself.
import { describe, expect, it } from '@jest/globals';
import * as pc from '../../src/envoy/proxy-config/index.ts';
import { toJsonNames } from '../../src/envoy/proxy-config/jsonpb.ts';
import { tabwriter } from '../../src/envoy/proxy-config/tabwriter.ts';

const any = (type: string, body: object) => ({ '@type': `type.googleapis.com/${type}`, ...body });
const admin = (section: string, body: object) => any(`envoy.admin.v3.${section}`, body);
const cluster = (name: string, extra: object = {}) => ({
  cluster: any('envoy.config.cluster.v3.Cluster', { name, type: 'EDS', ...extra }),
});
const drMeta = (ns: string, name: string) => ({
  metadata: {
    filter_metadata: { istio: { config: `/apis/networking.istio.io/v1/namespaces/${ns}/destination-rule/${name}` } },
  },
});
const hcm = (body: object) => ({
  name: 'envoy.filters.network.http_connection_manager',
  typed_config: any('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', body),
});
const tcp = (clusterName: string) => ({
  name: 'envoy.filters.network.tcp_proxy',
  typed_config: any('envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', { cluster: clusterName }),
});
const listener = (name: string, address: string, port: number, chains: object[]) => ({
  name,
  active_state: {
    listener: any('envoy.config.listener.v3.Listener', {
      name,
      address: { socket_address: { address, port_value: port } },
      filter_chains: chains,
    }),
  },
});

const sidecar = {
  configs: [
    admin('ClustersConfigDump', {
      dynamic_active_clusters: [
        cluster('outbound|9080|v1|reviews.bookinfo.svc.cluster.local', drMeta('bookinfo', 'reviews')),
        cluster('outbound|9080|v2|reviews.bookinfo.svc.cluster.local', drMeta('bookinfo', 'reviews')),
        cluster('outbound|9080||reviews.bookinfo.svc.cluster.local'),
        cluster('inbound|9080||'),
        cluster('outbound|9080||ratings.bookinfo.svc.cluster.local'),
        cluster('BlackHoleCluster', { type: 'STATIC' }),
        cluster('PassthroughCluster', { type: 'ORIGINAL_DST' }),
      ],
    }),
    admin('ListenersConfigDump', {
      dynamic_listeners: [
        listener('0.0.0.0_9080', '0.0.0.0', 9080, [
          {
            filter_chain_match: {
              transport_protocol: 'raw_buffer',
              application_protocols: ['http/1.0', 'http/1.1', 'h2c'],
            },
            filters: [hcm({ rds: { route_config_name: '9080' } })],
          },
        ]),
        listener('10.96.0.10_53', '10.96.0.10', 53, [
          { filters: [tcp('outbound|53||kube-dns.kube-system.svc.cluster.local')] },
        ]),
        listener('virtualOutbound', '0.0.0.0', 15001, [
          { filter_chain_match: { destination_port: 15001 }, filters: [tcp('BlackHoleCluster')] },
          { filters: [tcp('PassthroughCluster')] },
        ]),
      ],
    }),
    admin('RoutesConfigDump', {
      dynamic_route_configs: [
        {
          route_config: any('envoy.config.route.v3.RouteConfiguration', {
            name: '9080',
            virtual_hosts: [
              {
                name: 'reviews.bookinfo.svc.cluster.local:9080',
                domains: [
                  'reviews.bookinfo.svc.cluster.local',
                  'reviews',
                  'reviews.bookinfo',
                  '10.96.1.2',
                  '10.96.1.2:9080',
                ],
                routes: [
                  {
                    match: { prefix: '/', headers: [{ name: 'end-user' }] },
                    route: { cluster: 'outbound|9080|v2|reviews.bookinfo.svc.cluster.local' },
                    metadata: {
                      filter_metadata: {
                        istio: { config: '/apis/networking.istio.io/v1/namespaces/bookinfo/virtual-service/reviews' },
                      },
                    },
                  },
                ],
              },
              {
                name: 'allow_any',
                domains: ['*'],
                routes: [{ match: { prefix: '/' }, route: { cluster: 'PassthroughCluster' } }],
              },
              { name: 'empty', domains: ['nothing.example'], routes: [] },
            ],
          }),
        },
        { route_config: any('envoy.config.route.v3.RouteConfiguration', { name: '80', virtual_hosts: [] }) },
      ],
    }),
    admin('EndpointsConfigDump', {
      dynamic_endpoint_configs: [
        {
          endpoint_config: any('envoy.config.endpoint.v3.ClusterLoadAssignment', {
            cluster_name: 'outbound|9080|v1|reviews.bookinfo.svc.cluster.local',
            endpoints: [
              {
                locality: { region: 'eu', zone: 'eu-a', sub_zone: 'rack1' },
                lb_endpoints: [
                  {
                    endpoint: { address: { socket_address: { address: '10.0.0.5', port_value: 9080 } } },
                    health_status: 'HEALTHY',
                  },
                  {
                    endpoint: { address: { socket_address: { address: '10.0.0.6', port_value: 9080 } } },
                    health_status: 'UNHEALTHY',
                  },
                ],
              },
            ],
          }),
        },
      ],
    }),
  ],
};

const dump = pc.parseEnvoyConfigDump(JSON.stringify(sidecar));

/** Every field name in camelCase, as saved dumps from Go's jsonpb hold them (map keys untouched). */
function camel(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => camel(x));
  if (typeof v !== 'object' || v === null) return v;
  if (key === 'filter_metadata') return v;
  return Object.fromEntries(
    Object.entries(v).map(([k, x]) => [k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), camel(x, k)]),
  );
}

describe('tabwriter (Go text/tabwriter, flags 0)', () => {
  it('pads every tab-terminated cell to its column, never the last cell, and keeps padded empty cells', () => {
    expect(tabwriter('A\tBB\tC\nAAAA\t\tCC\n', { padding: 2 })).toBe('A     BB  C\nAAAA      CC\n');
  });

  it('a column ends where a line has fewer cells: the next lines start a new block', () => {
    const text = 'a\tb\n' + 'long-cell\tx\n' + 'no tabs here\n' + 'c\td\n';
    expect(tabwriter(text, { padding: 1 })).toBe('a         b\nlong-cell x\nno tabs here\nc d\n');
  });

  it('counts code points, not UTF-16 units', () => {
    expect(tabwriter('é\tx\nab\ty\n', { padding: 1 })).toBe('é  x\nab y\n');
  });
});

describe('-o json spelling (jsonpb)', () => {
  it('renames fields, not map keys or Struct contents; map and Struct keys come out sorted', () => {
    const cluster = {
      name: 'c',
      typed_extension_protocol_options: {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
          explicit_http_config: { http2_protocol_options: {} },
        },
      },
      metadata: { filter_metadata: { istio: { services: [{ host: 'h' }] }, 'envoy.lb': { canary_weight: 1 } } },
      access_log: [
        {
          typed_config: {
            log_format: { json_format: { start_time: '%START_TIME%', upstream_host: '%UPSTREAM_HOST%' } },
          },
        },
      ],
    };
    expect(JSON.stringify(toJsonNames(cluster))).toBe(
      JSON.stringify({
        name: 'c',
        typedExtensionProtocolOptions: {
          'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
            '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
            explicitHttpConfig: { http2ProtocolOptions: {} },
          },
        },
        metadata: { filterMetadata: { 'envoy.lb': { canary_weight: 1 }, istio: { services: [{ host: 'h' }] } } },
        accessLog: [
          {
            typedConfig: {
              logFormat: { jsonFormat: { start_time: '%START_TIME%', upstream_host: '%UPSTREAM_HOST%' } },
            },
          },
        ],
      }),
    );
  });
});

describe('clusters', () => {
  it('sorts by host, subset, port, direction; names without three pipes stand alone', () => {
    expect(pc.clusterSummary(dump)).toBe(
      [
        'SERVICE FQDN                           PORT     SUBSET     DIRECTION     TYPE             DESTINATION RULE',
        '                                       9080     -          inbound       EDS              ',
        'BlackHoleCluster                       -        -          -             STATIC           ',
        'PassthroughCluster                     -        -          -             ORIGINAL_DST     ',
        'ratings.bookinfo.svc.cluster.local     9080     -          outbound      EDS              ',
        'reviews.bookinfo.svc.cluster.local     9080     -          outbound      EDS              ',
        'reviews.bookinfo.svc.cluster.local     9080     v1         outbound      EDS              reviews.bookinfo',
        'reviews.bookinfo.svc.cluster.local     9080     v2         outbound      EDS              reviews.bookinfo',
        '',
      ].join('\n'),
    );
  });

  it('--fqdn, --subset, --direction and --port match within the name', () => {
    const rows = (f: pc.ClusterFilter) => pc.clusterSummary(dump, f).trimEnd().split('\n').slice(1);
    expect(rows({ fqdn: 'reviews', subset: 'v2' })).toHaveLength(1);
    expect(rows({ direction: 'inbound' })).toHaveLength(1);
    expect(rows({ port: 9080 })).toHaveLength(5);
    expect(rows({ port: 80 })).toHaveLength(0);
  });

  it('-o json is the clusters with JSON field names and no @type', () => {
    const out = JSON.parse(pc.clusterDump(dump, { fqdn: 'ratings' }));
    expect(out).toEqual([{ name: 'outbound|9080||ratings.bookinfo.svc.cluster.local', type: 'EDS' }]);
  });

  it('says what istioctl says when there are none, or no section', () => {
    const noClusters = pc.parseEnvoyConfigDump({ configs: [admin('ClustersConfigDump', {})] });
    expect(() => pc.clusterSummary(noClusters)).toThrow('no clusters found');
    expect(() => pc.clusterSummary(pc.parseEnvoyConfigDump('{}'))).toThrow(
      'config dump has no configuration type type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
    );
    expect(() => pc.parseEnvoyConfigDump('not json')).toThrow(/^error unmarshalling config dump response from Envoy/);
  });
});

describe('listeners', () => {
  it('a row per filter chain with its match and destination; the black hole is not TCP', () => {
    expect(pc.listenerSummary(dump)).toBe(
      [
        'ADDRESSES  PORT  MATCH                        DESTINATION',
        '10.96.0.10 53    ALL                          Cluster: outbound|53||kube-dns.kube-system.svc.cluster.local',
        '0.0.0.0    9080  Trans: raw_buffer; App: HTTP Route: 9080',
        '0.0.0.0    15001 ALL                          PassthroughCluster',
        '0.0.0.0    15001 Addr: *:15001                Non-HTTP/Non-TCP',
        '',
      ].join('\n'),
    );
  });

  it('--type, --address and --port; non-verbose has a TYPE column', () => {
    expect(pc.listenerSummary(dump, { verbose: false, type: 'tcp' })).toBe(
      'ADDRESSES  PORT  TYPE\n10.96.0.10 53    TCP\n0.0.0.0    15001 TCP\n',
    );
    expect(pc.listenerSummary(dump, { address: '10.96.0.10', verbose: false })).toBe(
      'ADDRESSES  PORT TYPE\n10.96.0.10 53   TCP\n',
    );
    expect(pc.listenerSummary(dump, { port: 9080, verbose: false })).toBe('ADDRESSES PORT TYPE\n0.0.0.0   9080 HTTP\n');
  });
});

describe('routes', () => {
  it('abbreviates domains, skips PassthroughCluster routes, writes 404 for a host without routes', () => {
    expect(pc.routeSummary(dump, { name: '9080' })).toBe(
      [
        'NAME     VHOST NAME                                  DOMAINS                                   MATCH     VIRTUAL SERVICE',
        '9080     reviews.bookinfo.svc.cluster.local:9080     reviews, reviews.bookinfo + 1 more...     /*        reviews.bookinfo',
        '9080     empty                                       nothing.example                           /*        404',
        '',
      ].join('\n'),
    );
  });

  it('non-verbose: route names (numeric ones in order) and their virtual hosts', () => {
    expect(pc.routeSummary(dump, { verbose: false })).toBe('NAME     VIRTUAL HOSTS\n80       0\n9080     3\n');
  });
});

describe('eds (config_dump?include_eds)', () => {
  it('shows locality and health; --status and --address filter endpoints, emptied clusters go', () => {
    expect(pc.edsSummary(dump)).toBe(
      [
        'NAME              STATUS        LOCALITY          CLUSTER',
        '10.0.0.5:9080     HEALTHY       eu/eu-a/rack1     outbound|9080|v1|reviews.bookinfo.svc.cluster.local',
        '10.0.0.6:9080     UNHEALTHY     eu/eu-a/rack1     outbound|9080|v1|reviews.bookinfo.svc.cluster.local',
        '',
      ].join('\n'),
    );
    expect(pc.edsSummary(dump, { status: 'unhealthy' }).split('\n')).toHaveLength(3);
    expect(pc.edsSummary(dump, { address: '10.0.0.9:9080' })).toBe('NAME     STATUS     LOCALITY     CLUSTER\n');
  });

  it('without include_eds, says so', () => {
    expect(() => pc.edsSummary(pc.parseEnvoyConfigDump('{}'))).toThrow('was include_eds=true used?');
  });
});

describe('camelCase dumps (Go jsonpb spelling) read the same', () => {
  it('gives the same tables', () => {
    const c = pc.parseEnvoyConfigDump(camel(sidecar));
    expect(pc.clusterSummary(c)).toBe(pc.clusterSummary(dump));
    expect(pc.listenerSummary(c)).toBe(pc.listenerSummary(dump));
    expect(pc.routeSummary(c)).toBe(pc.routeSummary(dump));
    expect(pc.edsSummary(c)).toBe(pc.edsSummary(dump));
    expect(pc.edsDump(c)).toBe(pc.edsDump(dump));
  });
});

describe('endpoints (/clusters?format=json)', () => {
  const host = (address: object, eds: string, outlier = false) => ({
    address,
    health_status: { eds_health_status: eds, ...(outlier ? { failed_outlier_check: true } : {}) },
  });
  const clusters = pc.parseEnvoyClusters({
    cluster_statuses: [
      {
        name: 'outbound|9080|v1|reviews.bookinfo.svc.cluster.local',
        host_statuses: [
          host({ socket_address: { address: '10.0.0.6', port_value: 9080 } }, 'HEALTHY', true),
          host({ socket_address: { address: '10.0.0.5', port_value: 9080 } }, 'HEALTHY'),
        ],
      },
      {
        name: 'sds-grpc',
        host_statuses: [host({ pipe: { path: './var/run/secrets/workload-spiffe-uds/socket' } }, 'HEALTHY')],
      },
      { name: 'outbound|9080||ratings.bookinfo.svc.cluster.local', host_statuses: [] },
    ],
  });

  it('sorts by address, port, cluster; OUTLIER CHECK says FAILED for an ejected host', () => {
    expect(pc.endpointSummary(clusters)).toBe(
      [
        'ENDPOINT                                                STATUS      OUTLIER CHECK     CLUSTER',
        '10.0.0.5:9080                                           HEALTHY     OK                outbound|9080|v1|reviews.bookinfo.svc.cluster.local',
        '10.0.0.6:9080                                           HEALTHY     FAILED            outbound|9080|v1|reviews.bookinfo.svc.cluster.local',
        'unix://./var/run/secrets/workload-spiffe-uds/socket     HEALTHY     OK                sds-grpc',
        '',
      ].join('\n'),
    );
  });

  it('--address, --port, --cluster, --status; -o json keeps whole clusters with a matching host', () => {
    expect(pc.endpointRows(clusters, { address: '10.0.0.6' }).map((r) => r.failedOutlierCheck)).toEqual([true]);
    expect(pc.endpointRows(clusters, { port: 9080 })).toHaveLength(2);
    expect(pc.endpointRows(clusters, { cluster: 'SDS-GRPC' })).toHaveLength(1);
    expect(pc.endpointRows(clusters, { status: 'unhealthy' })).toHaveLength(0);
    const json = JSON.parse(pc.endpointDump(clusters, { address: '10.0.0.5' }));
    expect(json).toHaveLength(1);
    expect(json[0].hostStatuses).toHaveLength(2);
    expect(json[0].hostStatuses[0].healthStatus).toEqual({ edsHealthStatus: 'HEALTHY', failedOutlierCheck: true });
  });
});

describe('secrets', () => {
  it('a dump without secrets, and an active secret still uninitialized', () => {
    const none = pc.parseEnvoyConfigDump({ configs: [admin('SecretsConfigDump', {})] });
    expect(pc.secretSummary(none)).toBe('No active or warming secrets found.\n');
    const uninit = pc.parseEnvoyConfigDump({
      configs: [
        admin('SecretsConfigDump', { dynamic_active_secrets: [{ name: 'default', version_info: 'uninitialized' }] }),
      ],
    });
    expect(pc.secretSummaryItems(uninit)).toEqual([
      {
        name: 'default',
        state: 'UNINITIALIZED',
        type: '',
        valid: false,
        serialNumber: '',
        notAfter: '',
        notBefore: '',
      },
    ]);
  });
});

describe('log levels', () => {
  const loggers = 'active loggers:\n  http: warning\n  rbac: warning\n';
  it('a bare level is every logger; later pairs add loggers', () => {
    expect([...pc.parseLogLevels('debug', loggers)]).toEqual([['level', 'debug']]);
    expect([...pc.parseLogLevels('http:debug,rbac=warn', loggers)]).toEqual([
      ['http', 'debug'],
      ['rbac', 'warning'],
    ]);
  });
});
