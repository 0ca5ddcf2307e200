// proxy-config all: bootstrap versions, clusters, listeners, routes, secrets and EDS endpoints of one
// /config_dump?include_eds=true, each table as its own command prints it but with names prefixed by
// their kind, separated by blank lines; --with-headers puts a `------ X INFO ------` title before
// each (istioctl writes the ENDPOINTS title after its blank line, not before: kept). -o json|yaml is
// the dump itself.
import { bootstrapSummary } from './bootstrap.ts';
import { type ClusterFilter, clusterSummary } from './clusters.ts';
import { type EnvoyConfigDump, type StructuredFormat, structured } from './dump.ts';
import { type EndpointFilter, edsSummary } from './eds.ts';
import { type ListenerFilter, listenerSummary } from './listeners.ts';
import { type RouteFilter, routeSummary } from './routes.ts';
import { secretSummary } from './secrets.ts';

export interface AllFilter {
  /** --fqdn, --direction, --subset (clusters). */
  fqdn?: string;
  direction?: string;
  subset?: string;
  /** --port: clusters, listeners and endpoints. */
  port?: number;
  /** --address: listeners and endpoints. */
  address?: string;
  /** --type: listeners. */
  type?: string;
  /** --name: routes. */
  name?: string;
  /** --cluster, --status: endpoints. */
  cluster?: string;
  status?: string;
  /** --verbose (default true): listeners and routes. */
  verbose?: boolean;
}

export interface AllOptions {
  /** --with-headers. */
  withHeaders?: boolean;
  /** The clock the secrets' VALID CERT is judged by. */
  now?: Date;
}

const header = (title: string): string => `------ ${title} INFO ------\n\n`;

/** `istioctl proxy-config all` (-o short). */
export function allSummary(dump: EnvoyConfigDump, filter: AllFilter = {}, opts: AllOptions = {}): string {
  const h = (title: string) => (opts.withHeaders ? header(title) : '');
  const typePrefix = { typePrefix: true };
  const cf: ClusterFilter = {
    fqdn: filter.fqdn,
    port: filter.port,
    subset: filter.subset,
    direction: filter.direction,
  };
  const lf: ListenerFilter = { address: filter.address, port: filter.port, type: filter.type, verbose: filter.verbose };
  const rf: RouteFilter = { name: filter.name, verbose: filter.verbose };
  const ef: EndpointFilter = {
    address: filter.address,
    port: filter.port,
    cluster: filter.cluster,
    status: filter.status,
  };
  let out = h('BOOTSTRAP') + bootstrapSummary(dump) + '\n';
  out += h('CLUSTER') + clusterSummary(dump, cf, typePrefix) + '\n';
  out += h('LISTENER') + listenerSummary(dump, lf, typePrefix) + '\n';
  out += h('ROUTE') + routeSummary(dump, rf, typePrefix) + '\n';
  out += h('SECRET') + secretSummary(dump, { ...typePrefix, now: opts.now });
  out += opts.withHeaders ? '\n------ ENDPOINTS INFO ------\n' : '';
  out += '\n' + edsSummary(dump, ef, typePrefix);
  return out;
}

/** `istioctl proxy-config all -o json|yaml`: the dump as read, then a newline. */
export function allDump(raw: string, format: StructuredFormat = 'json'): string {
  if (format === 'yaml') return structured(JSON.parse(raw), 'yaml');
  return raw + '\n';
}
