// Envoy's /config_dump for one proxy (envoy.admin.v3.ConfigDump), with the query parameters as
// Envoy's config_dump_handler.cc reads them:
//   - the configs in Envoy's order: bootstrap, clusters, endpoints (only with `include_eds`, and only
//     when there are active clusters), listeners, scoped routes, routes, secrets;
//   - `mask=a,b.c`: a FieldMask applied to each top-level config; a config the mask does not fit (a
//     path naming no field of it) is left out, and when none is left: 400 "FieldMask … could not be
//     successfully applied to any configs.";
//   - `resource=<repeated field>`: each element of that field becomes its own config, @type the
//     element's message (…ClustersConfigDump.DynamicCluster); `mask` then applies to each element, a
//     path through its one Any field (`cluster.name`) masks inside it; a field that is not repeated is
//     400 "<f> is not a repeated field. Use ?mask=<f> to get only this field", an unknown one 404
//     "<f> not found in config dump";
//   - `name_regex`: resources whose name (cluster, listener, route configuration, secret, endpoint
//     cluster_name) fully matches; a bad regex is 400.
// Private keys never enter the dump: secrets carry "[redacted]" (base64) as Envoy's redaction leaves them.
// Known gap: paths below the first field of a resource inside an Any are not checked against the proto.
import type { Json } from './envoy-xds-base.ts';
import type { BuiltCluster } from './envoy-xds.ts';
import { loadAssignment } from './envoy-xds.ts';
import type { BuiltRoutes } from './envoy-xds-routes.ts';

const ADMIN = 'type.googleapis.com/envoy.admin.v3.';

export interface ProxySnapshot {
  bootstrap: Json;
  startedAt: string;
  /** istiod's push version (`<time>/<n>`) and when it arrived. */
  version: string;
  updatedAt: string;
  clusters: BuiltCluster[];
  routes: BuiltRoutes;
  secrets: { active: Json[]; warming: Json[] };
}

/** Fields of each top-level dump; `true` marks a repeated one, with its element's message name and Any field. */
const FIELDS: Record<string, Record<string, { element: string; any?: string } | false>> = {
  BootstrapConfigDump: { bootstrap: false, last_updated: false },
  ClustersConfigDump: {
    version_info: false,
    static_clusters: { element: 'ClustersConfigDump.StaticCluster', any: 'cluster' },
    dynamic_active_clusters: { element: 'ClustersConfigDump.DynamicCluster', any: 'cluster' },
    dynamic_warming_clusters: { element: 'ClustersConfigDump.DynamicCluster', any: 'cluster' },
  },
  EndpointsConfigDump: {
    static_endpoint_configs: { element: 'EndpointsConfigDump.StaticEndpointConfig', any: 'endpoint_config' },
    dynamic_endpoint_configs: { element: 'EndpointsConfigDump.DynamicEndpointConfig', any: 'endpoint_config' },
  },
  ListenersConfigDump: {
    version_info: false,
    static_listeners: { element: 'ListenersConfigDump.StaticListener', any: 'listener' },
    dynamic_listeners: { element: 'ListenersConfigDump.DynamicListener' },
  },
  ScopedRoutesConfigDump: {
    inline_scoped_route_configs: { element: 'ScopedRoutesConfigDump.InlineScopedRouteConfigs' },
    dynamic_scoped_route_configs: { element: 'ScopedRoutesConfigDump.DynamicScopedRouteConfigs' },
  },
  RoutesConfigDump: {
    static_route_configs: { element: 'RoutesConfigDump.StaticRouteConfig', any: 'route_config' },
    dynamic_route_configs: { element: 'RoutesConfigDump.DynamicRouteConfig', any: 'route_config' },
  },
  SecretsConfigDump: {
    static_secrets: { element: 'SecretsConfigDump.StaticSecret', any: 'secret' },
    dynamic_active_secrets: { element: 'SecretsConfigDump.DynamicSecret', any: 'secret' },
    dynamic_warming_secrets: { element: 'SecretsConfigDump.DynamicSecret', any: 'secret' },
  },
};

/** Element messages' own fields (for masks on resource= elements). */
const ELEMENT_FIELDS: Record<string, string[]> = {
  'ClustersConfigDump.StaticCluster': ['cluster', 'last_updated'],
  'ClustersConfigDump.DynamicCluster': ['version_info', 'cluster', 'last_updated', 'error_state', 'client_status'],
  'EndpointsConfigDump.StaticEndpointConfig': ['endpoint_config', 'last_updated'],
  'EndpointsConfigDump.DynamicEndpointConfig': [
    'version_info',
    'endpoint_config',
    'last_updated',
    'error_state',
    'client_status',
  ],
  'ListenersConfigDump.StaticListener': ['listener', 'last_updated'],
  'ListenersConfigDump.DynamicListener': [
    'name',
    'active_state',
    'warming_state',
    'draining_state',
    'error_state',
    'client_status',
  ],
  'RoutesConfigDump.StaticRouteConfig': ['route_config', 'last_updated'],
  'RoutesConfigDump.DynamicRouteConfig': [
    'version_info',
    'route_config',
    'last_updated',
    'error_state',
    'client_status',
  ],
  'SecretsConfigDump.StaticSecret': ['name', 'last_updated', 'secret'],
  'SecretsConfigDump.DynamicSecret': ['name', 'version_info', 'last_updated', 'secret', 'error_state', 'client_status'],
  'ScopedRoutesConfigDump.InlineScopedRouteConfigs': ['name', 'scoped_route_configs', 'last_updated'],
  'ScopedRoutesConfigDump.DynamicScopedRouteConfigs': ['name', 'version_info', 'scoped_route_configs', 'last_updated'],
};

type Matcher = (name: string) => boolean;
const nameOf = (o: unknown): string => String((o as Json | undefined)?.name ?? '');

/** The dumps as Envoy's config tracker gives them, names filtered. Empty repeated fields are left out (proto3 JSON). */
function dumps(s: ProxySnapshot, match: Matcher, includeEds: boolean): Json[] {
  const nonEmpty = (o: Json): Json =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => !(Array.isArray(v) && v.length === 0)));
  const clusters = s.clusters.filter((c) => match(nameOf(c.cluster)));
  const out: Json[] = [{ '@type': `${ADMIN}BootstrapConfigDump`, bootstrap: s.bootstrap, last_updated: s.startedAt }];
  out.push(
    nonEmpty({
      '@type': `${ADMIN}ClustersConfigDump`,
      version_info: s.version,
      static_clusters: clusters.filter((c) => c.static).map((c) => ({ cluster: c.cluster, last_updated: s.startedAt })),
      dynamic_active_clusters: clusters
        .filter((c) => !c.static)
        .map((c) => ({ version_info: s.version, cluster: c.cluster, last_updated: s.updatedAt })),
    }),
  );
  if (includeEds && s.clusters.some((c) => !c.static)) {
    const cla = s.clusters.map((c) => ({ c, a: loadAssignment(c) })).filter((x) => match(String(x.a.cluster_name)));
    out.push(
      nonEmpty({
        '@type': `${ADMIN}EndpointsConfigDump`,
        static_endpoint_configs: cla.filter((x) => x.c.static).map((x) => ({ endpoint_config: x.a })),
        dynamic_endpoint_configs: cla.filter((x) => !x.c.static).map((x) => ({ endpoint_config: x.a })),
      }),
    );
  }
  const r = s.routes;
  out.push(
    nonEmpty({
      '@type': `${ADMIN}ListenersConfigDump`,
      version_info: s.version,
      static_listeners: r.staticListeners
        .filter((l) => match(nameOf(l)))
        .map((listener) => ({ listener, last_updated: s.startedAt })),
      dynamic_listeners: r.dynamicListeners
        .filter((l) => match(nameOf(l)))
        .map((listener) => ({
          name: listener.name,
          active_state: { version_info: s.version, listener, last_updated: s.updatedAt },
        })),
    }),
  );
  out.push({ '@type': `${ADMIN}ScopedRoutesConfigDump` });
  out.push(
    nonEmpty({
      '@type': `${ADMIN}RoutesConfigDump`,
      static_route_configs: r.staticRoutes
        .filter((rc) => match(nameOf(rc)))
        .map((route_config) => ({ route_config, last_updated: s.startedAt })),
      dynamic_route_configs: r.dynamicRoutes
        .filter((rc) => match(nameOf(rc)))
        .map((route_config) => ({ version_info: s.version, route_config, last_updated: s.updatedAt })),
    }),
  );
  out.push(
    nonEmpty({
      '@type': `${ADMIN}SecretsConfigDump`,
      dynamic_active_secrets: s.secrets.active.filter((x) => match(nameOf(x))),
      dynamic_warming_secrets: s.secrets.warming.filter((x) => match(nameOf(x))),
    }),
  );
  return out;
}

/** FieldMask trim: keep only the masked paths (`a`, `a.b`); undefined when a first segment is not a field of the message. */
function trim(message: Json, paths: string[][], fields: string[], anyField?: string): Json | undefined {
  const out: Json = {};
  if (typeof message['@type'] === 'string') out['@type'] = message['@type'];
  const inner: string[][] = [];
  for (const path of paths) {
    const [head, ...rest] = path;
    if (!head || !fields.includes(head)) return undefined;
    if (head === anyField && rest.length > 0) {
      inner.push(rest);
      continue;
    }
    if (!(head in message)) continue;
    out[head] = rest.length === 0 ? message[head] : pick(message[head], [rest]);
  }
  if (anyField && inner.length > 0 && message[anyField] !== undefined) {
    const any = message[anyField] as Json;
    out[anyField] = { '@type': any['@type'], ...(pick(any, inner) as Json) };
  }
  return out;
}

/** Nested trimming below the first level (fields there are taken as they are found). */
function pick(value: unknown, paths: string[][]): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const v = value as Json;
  const out: Json = {};
  for (const [head, ...rest] of paths) {
    if (!head || !(head in v)) continue;
    out[head] = rest.length === 0 ? v[head] : pick(v[head], [rest]);
  }
  return out;
}

export interface AdminAnswer {
  status: number;
  contentType: string;
  body: string;
}

const text = (status: number, body: string): AdminAnswer => ({
  status,
  contentType: 'text/plain; charset=UTF-8',
  body,
});

export function configDump(s: ProxySnapshot, query: URLSearchParams): AdminAnswer {
  const resource = query.get('resource');
  const mask = query.get('mask');
  const includeEds = query.has('include_eds');
  let match: Matcher = () => true;
  const regex = query.get('name_regex');
  if (regex) {
    try {
      const re = new RegExp(`^(?:${regex})$`);
      match = (n) => re.test(n);
    } catch (err) {
      return text(400, `INVALID_ARGUMENT: Error while parsing name_regex from ${regex}: ${(err as Error).message}`);
    }
  }
  const paths = mask
    ? mask
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)
        .map((p) => p.split('.'))
    : undefined;
  const all = dumps(s, match, includeEds);
  const configs: Json[] = [];
  if (resource !== null) {
    const owner = all.find((d) => FIELDS[String(d['@type']).slice(ADMIN.length)]?.[resource] !== undefined);
    if (!owner) return text(404, `${resource} not found in config dump`);
    const spec = FIELDS[String(owner['@type']).slice(ADMIN.length)]![resource]!;
    if (spec === false)
      return text(400, `${resource} is not a repeated field. Use ?mask=${resource} to get only this field`);
    for (const element of (owner[resource] as Json[] | undefined) ?? []) {
      const typed = { '@type': `${ADMIN}${spec.element}`, ...element };
      if (!paths) {
        configs.push(typed);
        continue;
      }
      const trimmed = trim(typed, paths, ELEMENT_FIELDS[spec.element] ?? [], spec.any);
      if (!trimmed)
        return text(
          400,
          `FieldMask paths: "${paths.map((p) => p.join('.')).join('" paths: "')}" could not be successfully used.`,
        );
      configs.push(trimmed);
    }
  } else {
    for (const d of all) {
      if (!paths) {
        configs.push(d);
        continue;
      }
      const trimmed = trim(d, paths, Object.keys(FIELDS[String(d['@type']).slice(ADMIN.length)] ?? {}));
      if (trimmed) configs.push(trimmed);
    }
    if (configs.length === 0 && mask)
      return text(400, `FieldMask ${mask} could not be successfully applied to any configs.`);
  }
  return { status: 200, contentType: 'application/json', body: `${JSON.stringify({ configs }, null, 1)}\n` };
}
