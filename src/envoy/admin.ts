// Envoy's admin API in an Istio proxy. It listens on localhost:15000 inside the pod, so every request
// goes through pods/portforward (KubeClient.portForwardGet): the client's identity, RBAC (create on
// pods/portforward), timeout and request metrics apply. Each endpoint is one small typed function;
// the parsing lives beside it (config-dump.ts, clusters.ts, stats.ts, certs.ts).
import type { KubeClient } from '../kube/client.ts';
import type { PortForwardHttpOptions } from '../kube/port-forward.ts';
import { type ClusterStatus, parseClusters } from './clusters.ts';
import { type ConfigDump, parseConfigDump } from './config-dump.ts';
import { type LoadedCertificate, parseCerts } from './certs.ts';
import { type EnvoyStat, parseStats } from './stats.ts';

/** ProxyConfig.proxyAdminPort's default; Istio does not change it. */
export const ENVOY_ADMIN_PORT = 15000;

export interface EnvoyProxyRef {
  namespace: string;
  pod: string;
}

export interface AdminRequestOptions extends Pick<PortForwardHttpOptions, 'timeoutMs' | 'maxBodyBytes'> {
  /** The admin port, when a ProxyConfig moved it (default 15000). */
  port?: number;
}

/** Envoy answered, but not with what was asked: a non-200 status, or a body that does not parse. */
export class EnvoyAdminError extends Error {
  readonly kind: 'http' | 'bad-answer';
  readonly path: string;
  /** Envoy's HTTP status (for `http`). */
  readonly status?: number;
  constructor(kind: EnvoyAdminError['kind'], proxy: EnvoyProxyRef, path: string, detail: string, status?: number) {
    super(`Envoy admin of ${proxy.namespace}/${proxy.pod}, ${path}: ${detail}`);
    this.name = 'EnvoyAdminError';
    this.kind = kind;
    this.path = path;
    if (status !== undefined) this.status = status;
  }
}

/** GET an admin path; the body of a 200, else EnvoyAdminError. A tunnel failure stays a PortForwardError. */
export async function adminGet(
  kube: KubeClient,
  proxy: EnvoyProxyRef,
  path: string,
  options: AdminRequestOptions = {},
): Promise<string> {
  const { port = ENVOY_ADMIN_PORT, ...rest } = options;
  const answer = await kube.portForwardGet(proxy.namespace, proxy.pod, port, path, rest);
  if (answer.status !== 200)
    throw new EnvoyAdminError(
      'http',
      proxy,
      path,
      `answered ${answer.status}: ${answer.body.slice(0, 200).trim()}`,
      answer.status,
    );
  return answer.body;
}

async function adminJson<T>(
  kube: KubeClient,
  proxy: EnvoyProxyRef,
  path: string,
  options: AdminRequestOptions,
  parse: (json: unknown) => T,
): Promise<T> {
  const body = await adminGet(kube, proxy, path, options);
  try {
    return parse(JSON.parse(body));
  } catch (err) {
    throw new EnvoyAdminError(
      'bad-answer',
      proxy,
      path,
      `not the answer Envoy gives (${err instanceof Error ? err.message.slice(0, 200) : String(err)})`,
    );
  }
}

/** /config_dump: the routes, clusters and listener names that tell which Istio objects shaped the proxy. */
export function getConfigDump(
  kube: KubeClient,
  proxy: EnvoyProxyRef,
  options: AdminRequestOptions = {},
): Promise<ConfigDump> {
  return adminJson(kube, proxy, '/config_dump', options, parseConfigDump);
}

/** /clusters?format=json: upstream clusters, their endpoints and health. */
export function getClusters(
  kube: KubeClient,
  proxy: EnvoyProxyRef,
  options: AdminRequestOptions = {},
): Promise<ClusterStatus[]> {
  return adminJson(kube, proxy, '/clusters?format=json', options, parseClusters);
}

export interface StatsOptions extends AdminRequestOptions {
  /** Envoy's `filter`: a regular expression the stat names must match. */
  filter?: string;
  /** Envoy's `usedonly`: only stats that were ever written. */
  usedOnly?: boolean;
}

/** /stats?format=json: counters and gauges (histograms left out). */
export function getStats(kube: KubeClient, proxy: EnvoyProxyRef, options: StatsOptions = {}): Promise<EnvoyStat[]> {
  const { filter, usedOnly, ...rest } = options;
  const query = new URLSearchParams({ format: 'json' });
  if (usedOnly) query.set('usedonly', '');
  if (filter !== undefined) query.set('filter', filter);
  return adminJson(kube, proxy, `/stats?${query.toString()}`, rest, parseStats);
}

/** /certs: the workload certificate chain and the roots the proxy has loaded. */
export function getCerts(
  kube: KubeClient,
  proxy: EnvoyProxyRef,
  options: AdminRequestOptions = {},
): Promise<LoadedCertificate[]> {
  return adminJson(kube, proxy, '/certs', options, parseCerts);
}
