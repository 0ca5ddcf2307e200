// Envoy admin answers for the proxy-config and dump verb tests, from istioctl's real dumps in
// ../shared/conformance/istio/proxyconfig (read in place): all/config_dump.json (a waypoint's whole
// /config_dump?include_eds=true) and configdump/endpoint/configdump.json (a sidecar's EDS). /clusters
// has no real capture there, so its answer is built from that real EDS: the same clusters, addresses
// and health. The "broken" proxy is the real dump with three edits, each named where it is made.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { KubeObject } from '../../src/kube/objects.ts';
import { conformanceDir } from '../support/shared.ts';

type Json = Record<string, any>;
const dir = join(conformanceDir, 'istio', 'proxyconfig');
export const readJson = (rel: string): Json => JSON.parse(readFileSync(join(dir, rel), 'utf8'));
export const readText = (rel: string): string => readFileSync(join(dir, rel), 'utf8');

/** /clusters?format=json from a dump's ClusterLoadAssignments (dynamic and static). */
export function clustersFromEds(dump: Json): Json {
  const eds = dump.configs.filter((c: Json) => String(c['@type']).endsWith('EndpointsConfigDump')).at(-1) ?? {};
  const all = [...(eds.dynamic_endpoint_configs ?? []), ...(eds.static_endpoint_configs ?? [])];
  return {
    cluster_statuses: all.map((e: Json) => {
      const cla = e.endpoint_config ?? e.endpointConfig;
      const name = cla.cluster_name ?? cla.clusterName;
      return {
        name,
        host_statuses: (cla.endpoints ?? []).flatMap((l: Json) =>
          (l.lb_endpoints ?? l.lbEndpoints ?? []).map((ep: Json) => ({
            address: ep.endpoint.address,
            health_status: { eds_health_status: ep.health_status ?? ep.healthStatus ?? 'HEALTHY' },
          })),
        ),
      };
    }),
  };
}

export interface AdminAnswers {
  configDump: Json;
  clusters: Json;
  /** Paths asked, in order. */
  seen: string[];
  /** Answer every request with this status (e.g. 503), or a non-JSON body. */
  fail?: { status: number; body: string };
}

export function adminHandler(a: AdminAnswers) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    a.seen.push(req.url ?? '');
    if (a.fail) {
      res.writeHead(a.fail.status, { 'content-type': 'text/plain' }).end(a.fail.body);
      return;
    }
    const path = (req.url ?? '').split('?')[0];
    const body = path === '/config_dump' ? a.configDump : path === '/clusters' ? a.clusters : undefined;
    if (!body) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('invalid path. admin commands are:\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body, null, 2));
  };
}

/** The real waypoint dump; /clusters from the real sidecar EDS dump. */
export function realAnswers(): AdminAnswers {
  return {
    configDump: readJson('all/config_dump.json'),
    clusters: clustersFromEds(readJson('configdump/endpoint/configdump.json')),
    seen: [],
  };
}

const REVIEWS = 'reviews.bookinfo.svc.cluster.local';

/**
 * The real dump with edits: (1) a CDS cluster for subset v3 of reviews (EDS) that /clusters holds with no
 * host; (2) a route configuration 9080 sending to reviews v1 (exists) and v4 (no cluster, no subset);
 * (3) one real ratings endpoint ejected by outlier detection; (4) a private key sent in clear.
 */
export function brokenAnswers(): AdminAnswers {
  const a = realAnswers();
  const cds = a.configDump.configs.find((c: Json) => String(c['@type']).endsWith('ClustersConfigDump'));
  for (const subset of ['v1', 'v3'])
    cds.dynamic_active_clusters.push({
      cluster: {
        '@type': 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
        name: `outbound|9080|${subset}|${REVIEWS}`,
        type: 'EDS',
      },
    });
  cds.dynamic_warming_clusters = [{ cluster: { name: `outbound|9080|v2|${REVIEWS}`, type: 'EDS' } }];
  const rds = a.configDump.configs.find(
    (c: Json) => c['@type'] === 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
  );
  rds.dynamic_route_configs = [
    {
      route_config: {
        '@type': 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
        name: '9080',
        virtual_hosts: [
          {
            name: `${REVIEWS}:9080`,
            domains: [REVIEWS, 'reviews'],
            routes: [
              {
                match: { prefix: '/' },
                route: {
                  weighted_clusters: {
                    clusters: [
                      { name: `outbound|9080|v1|${REVIEWS}`, weight: 50 },
                      { name: `outbound|9080|v4|${REVIEWS}`, weight: 50 },
                    ],
                  },
                },
              },
            ],
          },
        ],
      },
    },
  ];
  // (5) a listener still warming and an update Envoy rejected (the shapes of ListenersConfigDump.DynamicListener).
  const lds = a.configDump.configs.find((c: Json) => String(c['@type']).endsWith('ListenersConfigDump'));
  lds.dynamic_listeners.push(
    { name: '0.0.0.0_9080', warming_state: { listener: { name: '0.0.0.0_9080' } } },
    {
      name: '0.0.0.0_8080',
      active_state: {
        listener: { name: '0.0.0.0_8080', address: { socket_address: { address: '0.0.0.0', port_value: 8080 } } },
      },
      error_state: { details: 'Error adding/updating listener(s) 0.0.0.0_8080: duplicate matcher' },
    },
  );
  const sds = a.configDump.configs.find((c: Json) => String(c['@type']).endsWith('SecretsConfigDump'));
  sds.dynamic_active_secrets[0].secret.tls_certificate.private_key = {
    inline_string: '-----BEGIN PRIVATE KEY-----\nMIIEsecret\n',
  };
  a.clusters.cluster_statuses.push({ name: `outbound|9080|v3|${REVIEWS}`, host_statuses: [] });
  const ratings = a.clusters.cluster_statuses.find((c: Json) => c.name.includes('ratings.default'));
  ratings.host_statuses[0].health_status.failed_outlier_check = true;
  return a;
}

export const NS = 'bookinfo';

export function pod(name: string, labels: Record<string, string>, sidecar = true, ready = true): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels, creationTimestamp: '2026-12-01T10:00:00Z' },
    spec: {
      containers: [
        { name: labels.app ?? 'app', image: 'app' },
        ...(sidecar ? [{ name: 'istio-proxy', image: 'proxyv2' }] : []),
      ],
    },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

export function seed(): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    pod('productpage-v1-abc', { app: 'productpage', version: 'v1' }),
    pod('reviews-v1-aaa', { app: 'reviews', version: 'v1' }),
    pod('reviews-v1-bbb', { app: 'reviews', version: 'v1' }),
    pod('legacy-job-xyz', { app: 'legacy' }, false),
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'reviews-v1', namespace: NS },
      spec: {
        selector: { matchLabels: { app: 'reviews', version: 'v1' } },
        template: { metadata: { labels: { app: 'reviews', version: 'v1' } } },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'reviews', namespace: NS },
      spec: { selector: { app: 'reviews' }, ports: [{ port: 9080, name: 'http' }] },
    },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'reviews', namespace: NS },
      spec: {
        host: 'reviews',
        subsets: [
          { name: 'v1', labels: { version: 'v1' } },
          { name: 'v2', labels: { version: 'v2' } },
          { name: 'v3', labels: { version: 'v3' } },
        ],
      },
    },
  ];
}
