// What a proxy-config answer says besides istioctl's table: the counts (clusters by direction and type,
// listeners, routes, endpoints healthy or not) and what deserves attention, with what it means in Istio
// terms: a cluster with no healthy endpoint (a subset that selects no pod, or endpoints ejected or not
// ready), endpoints failing outlier or health checks, clusters and listeners still warming or rejected,
// a route to a cluster the proxy does not have (NC) or to a subset no DestinationRule defines. Pure:
// proxy-config.ts reads Envoy and the cluster, this file reads what they said.
import { count, esc } from '../../blocks/block-kit.ts';
import type { ClusterStatus } from '../../envoy/clusters.ts';
import { type ClusterFilter, clusterMatches, clusterType } from '../../envoy/proxy-config/clusters.ts';
import { type EnvoyConfigDump, sections } from '../../envoy/proxy-config/dump.ts';
import { parseSubsetKey } from '../../envoy/proxy-config/names.ts';
import { arr, field, isObject, type JsonObject, obj, str } from '../../envoy/proxy-config/proto.ts';
import { type KubeObject, matchesLabels } from '../../kube/objects.ts';

export interface Insight {
  /** One line for people, mrkdwn, with what it means. */
  text: string;
  /** The cluster (and route configuration) it is about, so a filtered answer keeps only what it asked about. */
  about?: { cluster: string; routeConfig?: string };
}

/** What the filters asked about: insights on other clusters or routes are counted, not shown. */
export interface InsightScope {
  clusters?: ClusterFilter;
  routeConfig?: string;
  cluster?: string;
}

export function scopeInsights(
  insights: readonly Insight[],
  scope: InsightScope,
): { shown: Insight[]; elsewhere: number } {
  const inScope = (i: Insight): boolean => {
    if (!i.about) return true;
    if (scope.routeConfig && i.about.routeConfig !== undefined && i.about.routeConfig !== scope.routeConfig)
      return false;
    if (scope.cluster && i.about.cluster !== scope.cluster) return false;
    if (scope.clusters && i.about.routeConfig === undefined && !clusterMatches(i.about.cluster, scope.clusters))
      return false;
    return true;
  };
  const shown = insights.filter(inScope);
  return { shown, elsewhere: insights.length - shown.length };
}

const key = (name: string) => (name.split('|').length > 3 ? parseSubsetKey(name) : undefined);

function tally(items: readonly string[]): string {
  const m = new Map<string, number>();
  for (const i of items) m.set(i, (m.get(i) ?? 0) + 1);
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
}

const last = (dump: EnvoyConfigDump, name: Parameters<typeof sections>[1]): JsonObject | undefined =>
  sections(dump, name).at(-1);

/** The CDS clusters Envoy uses (active and static), and those it holds back (warming) or rejected. */
export interface ClusterFacts {
  active: JsonObject[];
  warming: string[];
  rejected: Array<{ name: string; details: string }>;
}

export function clusterFacts(dump: EnvoyConfigDump): ClusterFacts | undefined {
  const cds = last(dump, 'ClustersConfigDump');
  if (!cds) return undefined;
  const active: JsonObject[] = [];
  const rejected: ClusterFacts['rejected'] = [];
  for (const k of ['dynamic_active_clusters', 'static_clusters']) {
    for (const e of arr(cds, k)) {
      const c = obj(e, 'cluster');
      if (c) active.push(c);
      const err = obj(e, 'error_state');
      if (err) rejected.push({ name: str(c, 'name'), details: str(err, 'details') });
    }
  }
  const warming = arr(cds, 'dynamic_warming_clusters').map((e) => str(obj(e, 'cluster'), 'name'));
  return { active, warming, rejected };
}

export function clusterCountLine(f: ClusterFacts): string {
  const dirs = f.active.map((c) => key(str(c, 'name'))?.direction || 'other (no Istio service)');
  const types = f.active.map((c) => clusterType(c));
  return `*${count(f.active.length, 'cluster')}* — by direction: ${tally(dirs)} · by type: ${tally(types)}${f.warming.length ? ` · *${f.warming.length} warming*` : ''}`;
}

export interface ListenerFacts {
  active: number;
  static: number;
  warming: string[];
  rejected: Array<{ name: string; details: string }>;
}

export function listenerFacts(dump: EnvoyConfigDump): ListenerFacts | undefined {
  const lds = last(dump, 'ListenersConfigDump');
  if (!lds) return undefined;
  const f: ListenerFacts = { active: 0, static: arr(lds, 'static_listeners').length, warming: [], rejected: [] };
  for (const d of arr(lds, 'dynamic_listeners')) {
    if (obj(d, 'active_state')) f.active++;
    else if (obj(d, 'warming_state')) f.warming.push(str(d, 'name'));
    const err = obj(d, 'error_state');
    if (err) f.rejected.push({ name: str(d, 'name'), details: str(err, 'details') });
  }
  return f;
}

export function listenerCountLine(f: ListenerFacts): string {
  return `*${count(f.active + f.static, 'listener')}* (${f.active} from istiod, ${f.static} static)${f.warming.length ? ` · *${f.warming.length} warming*` : ''}`;
}

/** Where a route sends traffic: one cluster, or each of its weighted clusters. */
export interface RouteTarget {
  routeConfig: string;
  vhost: string;
  cluster: string;
}

export interface RouteFacts {
  configs: number;
  vhosts: number;
  routes: number;
  targets: RouteTarget[];
}

export function routeFacts(dump: EnvoyConfigDump): RouteFacts | undefined {
  const rds = last(dump, 'RoutesConfigDump');
  if (!rds) return undefined;
  const f: RouteFacts = { configs: 0, vhosts: 0, routes: 0, targets: [] };
  for (const k of ['dynamic_route_configs', 'static_route_configs']) {
    for (const e of arr(rds, k)) {
      const rc = obj(e, 'route_config');
      if (!rc) continue;
      f.configs++;
      for (const vh of arr(rc, 'virtual_hosts').filter(isObject)) {
        f.vhosts++;
        for (const r of arr(vh, 'routes')) {
          f.routes++;
          const action = obj(r, 'route');
          const one = field(action, 'cluster');
          const names =
            typeof one === 'string'
              ? [one]
              : arr(obj(action, 'weighted_clusters'), 'clusters').map((w) => str(w, 'name'));
          for (const cluster of names.filter(Boolean))
            f.targets.push({ routeConfig: str(rc, 'name'), vhost: str(vh, 'name'), cluster });
        }
      }
    }
  }
  return f;
}

export function routeCountLine(f: RouteFacts): string {
  return `*${count(f.configs, 'route configuration')}*, ${count(f.vhosts, 'virtual host')}, ${count(f.routes, 'route')}`;
}

/** Hosts of one cluster as Envoy's cluster manager holds them now. */
export function endpointCountLine(clusters: readonly ClusterStatus[]): string {
  const hosts = clusters.flatMap((c) => c.hosts);
  const healthy = hosts.filter((h) => h.healthy).length;
  return `*${count(hosts.length, 'endpoint')}* in ${count(clusters.filter((c) => c.hosts.length).length, 'cluster')}: ${healthy} healthy, ${hosts.length - healthy} not${hosts.length - healthy ? ' :warning:' : ''}`;
}

/** A DestinationRule's subsets, by the FQDN of its host. */
export type SubsetIndex = Map<string, Map<string, { dr: string; labels: Record<string, string> }>>;

/** `reviews` in bookinfo → reviews.bookinfo.svc.cluster.local (the cluster domain Istio assumes by default). */
export function fqdnOf(host: string, namespace: string): string {
  if (host.endsWith('.svc.cluster.local')) return host;
  const parts = host.split('.');
  if (parts.length === 1) return `${host}.${namespace}.svc.cluster.local`;
  if (parts.length === 2) return `${host}.svc.cluster.local`;
  if (parts.length === 3 && parts[2] === 'svc') return `${host}.cluster.local`;
  return host;
}

export function subsetIndex(drs: readonly KubeObject[]): SubsetIndex {
  const index: SubsetIndex = new Map();
  for (const dr of drs) {
    const spec = (dr.spec ?? {}) as { host?: unknown; subsets?: unknown };
    if (typeof spec.host !== 'string') continue;
    const fqdn = fqdnOf(spec.host, dr.metadata.namespace ?? 'default');
    const m = index.get(fqdn) ?? new Map();
    for (const s of Array.isArray(spec.subsets) ? spec.subsets : []) {
      if (!isObject(s) || typeof s.name !== 'string') continue;
      const labels = isObject(s.labels) ? (s.labels as Record<string, string>) : {};
      m.set(s.name, { dr: `${dr.metadata.namespace}/${dr.metadata.name}`, labels });
    }
    index.set(fqdn, m);
  }
  return index;
}

const labelText = (l: Record<string, string>) =>
  Object.entries(l)
    .map(([k, v]) => `${k}=${v}`)
    .join(',') || 'no labels';

function podReady(p: KubeObject): boolean {
  const st = p.status as { conditions?: Array<{ type?: string; status?: string }> } | undefined;
  return (st?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** What the cluster says about a subset cluster's pods: its Service, the DestinationRule's labels, the pods. */
export interface SubsetCheck {
  subsets?: SubsetIndex;
  /** Services and pods of the namespaces concerned. */
  objects?: readonly KubeObject[];
  /** Why DestinationRules, Services or pods could not be read. */
  unreadable?: string;
}

function whyNoEndpoints(cluster: string, check: SubsetCheck): string {
  const k = key(cluster);
  if (!k) return '';
  const [svc, ns] = k.host.split('.');
  if (!k.host.endsWith('.svc.cluster.local') || !svc || !ns) return ' It is not a Kubernetes Service of this cluster.';
  if (!check.objects) return check.unreadable ? ` (Its pods could not be checked: ${esc(check.unreadable)}.)` : '';
  const service = check.objects.find(
    (o) => o.kind === 'Service' && o.metadata.namespace === ns && o.metadata.name === svc,
  );
  if (!service)
    return ` There is no Service \`${esc(svc)}\` in \`${esc(ns)}\` any more: the proxy still has its cluster.`;
  const selector = ((service.spec as { selector?: Record<string, string> } | undefined)?.selector ?? {}) as Record<
    string,
    string
  >;
  if (Object.keys(selector).length === 0)
    return ` Service ${esc(`${ns}/${svc}`)} has no selector: its endpoints come from EndpointSlices written by something else (for \`kubernetes\`, the API server), and none reached this proxy.`;
  const pods = check.objects.filter(
    (o) =>
      o.kind === 'Pod' &&
      o.metadata.namespace === ns &&
      Object.keys(selector).length > 0 &&
      matchesLabels(selector, o.metadata.labels),
  );
  let chosen = pods;
  let what = `Service ${ns}/${svc} selects ${count(pods.length, 'pod')}`;
  if (k.subset) {
    const def = check.subsets?.get(k.host)?.get(k.subset);
    if (!def)
      return ` No DestinationRule defines subset \`${esc(k.subset)}\` of ${esc(k.host)} now: the proxy keeps a cluster istiod no longer sends, or its config is stale.`;
    chosen = pods.filter((p) => matchesLabels(def.labels, p.metadata.labels));
    what = `DestinationRule ${esc(def.dr)} subset \`${esc(k.subset)}\` (${esc(labelText(def.labels))}) selects ${chosen.length} of the ${count(pods.length, 'pod')} of Service ${esc(`${ns}/${svc}`)}`;
    if (chosen.length === 0) return ` ${what}: *a DestinationRule subset that selects no pod*.`;
  } else if (pods.length === 0) return ` ${what}: no pod behind the Service.`;
  const ready = chosen.filter(podReady).length;
  if (ready === 0) return ` ${what}, none of them ready: Istio sends only ready pods as healthy endpoints.`;
  return ` ${what}, ${ready} ready: so the endpoints were ejected (outlier detection) or fail health checks, or this proxy has not received them (\`/mesh stale\`).`;
}

/** Clusters with no endpoint Envoy would send to, and hosts failing outlier or health checks. */
export function healthInsights(clusters: readonly ClusterStatus[], check: SubsetCheck, cds?: ClusterFacts): Insight[] {
  const out: Insight[] = [];
  const eds = cds ? new Set(cds.active.filter((c) => clusterType(c) === 'EDS').map((c) => str(c, 'name'))) : undefined;
  for (const c of clusters) {
    const k = key(c.name);
    if (k?.direction !== 'outbound') continue;
    if (eds && !eds.has(c.name)) continue;
    const healthy = c.hosts.filter((h) => h.healthy).length;
    if (healthy > 0) continue;
    const state =
      c.hosts.length === 0
        ? 'has *no endpoints*'
        : `has *no healthy endpoint* (all ${c.hosts.length} unhealthy or ejected)`;
    out.push({
      about: { cluster: c.name },
      text: `:red_circle: \`${esc(c.name)}\` ${state}: requests to it fail with 503 UH (no healthy upstream) — a DestinationRule subset that selects no pod, or all endpoints ejected or unhealthy.${whyNoEndpoints(c.name, check)}`,
    });
  }
  for (const c of clusters) {
    for (const h of c.hosts) {
      const why: string[] = [];
      if (h.failedOutlierCheck)
        why.push("ejected by outlier detection (its recent errors crossed the DestinationRule's `outlierDetection`)");
      if (h.failedActiveHealthCheck) why.push('failing active health checks');
      if (!['HEALTHY', 'UNKNOWN'].includes(h.edsHealth))
        why.push(`EDS health ${h.edsHealth} (sent so by istiod: a pod not ready or terminating)`);
      if (why.length)
        out.push({
          text: `:warning: Endpoint \`${esc(h.address)}\` of \`${esc(c.name)}\`: ${why.join('; ')}. Envoy sends it no traffic while this lasts.`,
        });
    }
  }
  return out;
}

export function warmingInsights(cds?: ClusterFacts, lds?: ListenerFacts): Insight[] {
  const out: Insight[] = [];
  const list = (names: string[]) =>
    names
      .slice(0, 5)
      .map((n) => `\`${esc(n)}\``)
      .join(', ') + (names.length > 5 ? ` and ${names.length - 5} more` : '');
  if (cds?.warming.length)
    out.push({
      text: `:hourglass: ${count(cds.warming.length, 'cluster')} still warming (${list(cds.warming)}): Envoy received them but waits for their endpoints (EDS) or secrets (SDS) before using them. Minutes of this mean istiod never sent what they need.`,
    });
  if (lds?.warming.length)
    out.push({
      text: `:hourglass: ${count(lds.warming.length, 'listener')} still warming (${list(lds.warming)}): not serving yet, waiting for their routes (RDS) or secrets; traffic to their ports gets the old or no listener.`,
    });
  for (const r of [...(cds?.rejected ?? []), ...(lds?.rejected ?? [])])
    out.push({
      text: `:x: Envoy rejected \`${esc(r.name)}\`: ${esc(r.details || 'no details given')} — the update was NACKed; \`/mesh stale\` shows which config change did it.`,
    });
  return out;
}

const SPECIAL_CLUSTERS = new Set([
  'PassthroughCluster',
  'BlackHoleCluster',
  'InboundPassthroughCluster',
  'InboundPassthroughClusterIpv4',
  'InboundPassthroughClusterIpv6',
]);

/** Routes to a cluster the proxy does not have (NC), and to a subset no DestinationRule defines. */
export function routeInsights(
  routes: RouteFacts,
  clusterNames: ReadonlySet<string> | undefined,
  subsets: SubsetIndex | undefined,
): Insight[] {
  const out: Insight[] = [];
  const seen = new Set<string>();
  for (const t of routes.targets) {
    if (seen.has(t.cluster) || SPECIAL_CLUSTERS.has(t.cluster)) continue;
    seen.add(t.cluster);
    const k = key(t.cluster);
    const where = `route \`${esc(t.routeConfig)}\`, virtual host \`${esc(t.vhost)}\``;
    const subsetMissing = k?.subset && subsets && !subsets.get(k.host)?.has(k.subset);
    if (clusterNames && !clusterNames.has(t.cluster)) {
      out.push({
        about: { cluster: t.cluster, routeConfig: t.routeConfig },
        text: `:red_circle: ${where} sends to \`${esc(t.cluster)}\`, a cluster this proxy does not have: those requests fail with 503 NC (cluster not found).${subsetMissing ? ` No DestinationRule defines subset \`${esc(k.subset)}\` of ${esc(k.host)}: define it, or route to a subset that exists.` : ' A Sidecar resource or exportTo may hide the service from this namespace, or the proxy is stale.'}`,
      });
    } else if (subsetMissing) {
      out.push({
        about: { cluster: t.cluster, routeConfig: t.routeConfig },
        text: `:warning: ${where} sends to subset \`${esc(k.subset)}\` of ${esc(k.host)}, which no DestinationRule defines now: once the proxy is updated those requests fail with 503 NC.`,
      });
    }
  }
  return out;
}
