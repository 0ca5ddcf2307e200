// Cluster access for meshops. Every request goes through @kubernetes/client-node: its KubeConfig
// supplies authentication and TLS, its fetch library sends. We keep the JSON raw (no generated model
// classes) so that fields the models do not know, and Istio kinds, survive untouched.
import { type HttpMethod, type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { type Dispatcher, request as undiciRequest } from 'undici';
import { z } from 'zod';
import type { KubeObject } from './objects.ts';
import { type KindInfo, kindInfo } from './kinds.ts';
import { httpGetViaPortForward, type PortForwardHttpAnswer, type PortForwardHttpOptions } from './port-forward.ts';
import { KubeApiError, toApiError, unreachable } from './api-errors.ts';
import {
  type Identity,
  type KubeClientOptions,
  type ListOptions,
  type LogOptions,
  PATCH_CONTENT_TYPE,
  type PatchType,
  type WriteOptions,
  writeQuery,
} from './request-options.ts';

export { KubeApiError, KubeUnreachableError, unreachable } from './api-errors.ts';
export type {
  Identity,
  KubeClientOptions,
  ListOptions,
  LogOptions,
  PatchType,
  RequestRecord,
  WriteOptions,
} from './request-options.ts';

/**
 * Headers as a flat [name, value, …] list, so that each impersonated group travels as its own
 * Impersonate-Group header: the API server reads every header value as one group (a comma-joined
 * `sre,oncall` would be a single group of that name), as kubectl sends them.
 */
function rawHeaders(headers: Record<string, string>, groups: readonly string[]): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(headers)) out.push(k, v);
  for (const g of groups) out.push('Impersonate-Group', g);
  return out;
}

const objectSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({ name: z.string() }),
});
const listSchema = z.looseObject({
  metadata: z.looseObject({ resourceVersion: z.string().optional(), continue: z.string().optional() }).optional(),
  items: z.array(z.looseObject({ metadata: z.looseObject({ name: z.string() }) })).nullable(),
});
const apiGroupListSchema = z.object({
  groups: z.array(
    z.object({ name: z.string(), versions: z.array(z.object({ groupVersion: z.string(), version: z.string() })) }),
  ),
});

export class KubeClient {
  readonly kubeConfig: KubeConfig;
  private readonly options: KubeClientOptions;
  private servedVersions: Promise<Map<string, Set<string>>> | undefined;

  constructor(kubeConfig: KubeConfig, options: KubeClientOptions = {}) {
    this.kubeConfig = kubeConfig;
    this.options = options;
  }

  get server(): string {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    return cluster.server.replace(/\/+$/, '');
  }

  /** The same client acting as someone else (Kubernetes impersonation): cluster RBAC decides. */
  as(identity: Identity): KubeClient {
    const twin = new KubeClient(this.kubeConfig, { ...this.options, impersonate: identity });
    twin.servedVersions = this.servedVersions;
    return twin;
  }

  async request(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    init: { query?: Record<string, string | undefined>; body?: unknown; contentType?: string; accept?: string } = {},
  ): Promise<{ status: number; text: string }> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const ctx = new RequestContext(url.toString(), method as HttpMethod);
    ctx.setHeaderParam('Accept', init.accept ?? 'application/json');
    ctx.setHeaderParam('User-Agent', this.options.userAgent ?? 'meshops');
    if (this.options.impersonate) ctx.setHeaderParam('Impersonate-User', this.options.impersonate.user);
    if (init.body !== undefined) {
      ctx.setHeaderParam('Content-Type', init.contentType ?? 'application/json');
      ctx.setBody(typeof init.body === 'string' ? init.body : JSON.stringify(init.body));
    }
    const timeoutMs = this.options.timeoutMs ?? 15_000;
    ctx.setSignal(AbortSignal.timeout(timeoutMs));
    // The KubeConfig adds credentials (token, exec plugin, client certificate) and the TLS dispatcher.
    await this.kubeConfig.applySecurityAuthentication(ctx);
    let status = 0;
    try {
      const res = await undiciRequest(url, {
        method,
        headers: rawHeaders(ctx.getHeaders(), this.options.impersonate?.groups ?? []),
        body: ctx.getBody() as string | undefined,
        signal: ctx.getSignal(),
        ...(ctx.getDispatcher() ? { dispatcher: ctx.getDispatcher() as Dispatcher } : {}),
      }).catch((err: unknown) => {
        throw unreachable(this.server, err, timeoutMs);
      });
      status = res.statusCode;
      // The answer can also break off after its headers (a reset, a timeout mid-body): the same
      // "unreachable" as no answer at all, since what the server did is not known from here.
      const text = await res.body.text().catch((err: unknown) => {
        throw unreachable(this.server, err, timeoutMs);
      });
      if (status >= 400) throw toApiError(status, text, method, path);
      return { status, text };
    } finally {
      this.options.onRequest?.({ method, path: url.pathname, status });
    }
  }

  private async json(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    init: Parameters<KubeClient['request']>[2] = {},
  ): Promise<unknown> {
    const { text } = await this.request(method, path, init);
    return text ? JSON.parse(text) : undefined;
  }

  /** Which versions the cluster serves per API group: one GET /apis, cached for the client's life. */
  private versions(): Promise<Map<string, Set<string>>> {
    this.servedVersions ??= this.json('GET', '/apis').then((body) => {
      const parsed = apiGroupListSchema.parse(body);
      const map = new Map<string, Set<string>>([['', new Set(['v1'])]]);
      for (const g of parsed.groups) map.set(g.name, new Set(g.versions.map((v) => v.version)));
      return map;
    });
    return this.servedVersions;
  }

  /** The apiVersion the cluster serves for a kind, or undefined when it serves none (e.g. Istio not installed). */
  async servedApiVersion(kind: string): Promise<string | undefined> {
    const info = kindInfo(kind);
    if (info.group === '') return 'v1';
    const served = (await this.versions()).get(info.group);
    const version = info.versions.find((v) => served?.has(v));
    return version ? `${info.group}/${version}` : undefined;
  }

  private async collectionPath(info: KindInfo, namespace: string | undefined): Promise<string | undefined> {
    const apiVersion = await this.servedApiVersion(info.kind);
    if (!apiVersion) return undefined;
    const base = info.group === '' ? '/api/v1' : `/apis/${apiVersion}`;
    const ns = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    return `${base}${ns}/${info.plural}`;
  }

  private async objectPath(kind: string, namespace: string | undefined, name: string): Promise<string> {
    const info = kindInfo(kind);
    const path = await this.collectionPath(info, namespace);
    if (!path) throw new KubeApiError(404, 'NotFound', `the cluster does not serve ${info.plural}.${info.group}`);
    return `${path}/${encodeURIComponent(name)}`;
  }

  /** List a kind; a kind the cluster does not serve lists as empty. */
  async list(kind: string, options: ListOptions = {}): Promise<KubeObject[]> {
    return (await this.listWithVersion(kind, options)).items;
  }

  /** A list and the resourceVersion it was read at (where a watch resumes); undefined version: not served. */
  async listWithVersion(
    kind: string,
    options: ListOptions = {},
  ): Promise<{ items: KubeObject[]; resourceVersion?: string }> {
    const info = kindInfo(kind);
    const path = await this.collectionPath(info, options.namespace);
    if (!path) return { items: [] };
    const apiVersion = (await this.servedApiVersion(kind)) as string;
    const query = { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector };
    const pageSize = this.options.listPageSize ?? 500;
    const items: KubeObject[] = [];
    let resourceVersion: string | undefined;
    let token: string | undefined;
    do {
      let body: z.infer<typeof listSchema>;
      try {
        body = listSchema.parse(
          await this.json('GET', path, { query: { ...query, limit: String(pageSize), continue: token } }),
        );
      } catch (err) {
        // The continue token expired between pages (410 Expired: the server compacted past its version). Like
        // client-go's pager with FullListIfExpired, read the whole list again in one request: a consistent
        // list, never pages from two different moments.
        if (token === undefined || !(err instanceof KubeApiError && err.status === 410)) throw err;
        items.length = 0;
        body = listSchema.parse(await this.json('GET', path, { query }));
        token = undefined;
      }
      for (const item of body.items ?? []) items.push({ apiVersion, kind, ...item } as KubeObject);
      // Every page of one list carries the same resourceVersion: the version the whole list was read at.
      resourceVersion = body.metadata?.resourceVersion ?? resourceVersion;
      token = body.metadata?.continue || undefined;
    } while (token !== undefined);
    return resourceVersion ? { items, resourceVersion } : { items };
  }

  /**
   * Opens a watch (GET …?watch=1) on a kind's collection and hands each line of the stream to `onLine`; resolves
   * when the server ends the stream (timeoutSeconds) or `signal` aborts it. An HTTP error before the stream is a
   * KubeApiError (410 Gone included); one request record per watch.
   */
  async watchLines(
    kind: string,
    options: ListOptions & { resourceVersion: string; timeoutSeconds: number },
    onLine: (line: string) => void,
    signal: AbortSignal,
    onOpen?: () => void,
  ): Promise<void> {
    const info = kindInfo(kind);
    const path = await this.collectionPath(info, options.namespace);
    if (!path) throw new KubeApiError(404, 'NotFound', `the cluster does not serve ${info.plural}.${info.group}`);
    const url = new URL(this.server + path);
    const query: Record<string, string | undefined> = {
      watch: '1',
      resourceVersion: options.resourceVersion,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(options.timeoutSeconds),
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
    };
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    const ctx = new RequestContext(url.toString(), 'GET' as HttpMethod);
    ctx.setHeaderParam('Accept', 'application/json');
    ctx.setHeaderParam('User-Agent', this.options.userAgent ?? 'meshops');
    if (this.options.impersonate) ctx.setHeaderParam('Impersonate-User', this.options.impersonate.user);
    await this.kubeConfig.applySecurityAuthentication(ctx);
    let status = 0;
    try {
      const res = await undiciRequest(url, {
        method: 'GET',
        headers: rawHeaders(ctx.getHeaders(), this.options.impersonate?.groups ?? []),
        signal,
        ...(ctx.getDispatcher() ? { dispatcher: ctx.getDispatcher() as Dispatcher } : {}),
      }).catch((err: unknown) => {
        throw unreachable(this.server, err, 0);
      });
      status = res.statusCode;
      if (status >= 400) throw toApiError(status, await res.body.text(), 'GET', path);
      onOpen?.();
      let rest = '';
      res.body.setEncoding('utf8');
      for await (const chunk of res.body as AsyncIterable<string>) {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) onLine(line);
      }
      if (rest.trim()) onLine(rest);
    } finally {
      this.options.onRequest?.({ method: 'GET', path: url.pathname, status });
    }
  }

  async get(kind: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    try {
      return objectSchema.parse(await this.json('GET', await this.objectPath(kind, namespace, name))) as KubeObject;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  async create(obj: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    const info = kindInfo(obj.kind);
    const path = await this.collectionPath(info, obj.metadata.namespace);
    if (!path) throw new KubeApiError(404, 'NotFound', `the cluster does not serve ${info.plural}.${info.group}`);
    const apiVersion = (await this.servedApiVersion(obj.kind)) as string;
    return objectSchema.parse(
      await this.json('POST', path, { body: { ...obj, apiVersion }, query: writeQuery(options) }),
    ) as KubeObject;
  }

  /** PUT: fails with 409 when metadata.resourceVersion is stale, which is how state moves safely. */
  async replace(obj: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    const path = await this.objectPath(obj.kind, obj.metadata.namespace, obj.metadata.name);
    return objectSchema.parse(await this.json('PUT', path, { body: obj, query: writeQuery(options) })) as KubeObject;
  }

  async patch(
    kind: string,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    type: PatchType,
    options: WriteOptions = {},
  ): Promise<KubeObject> {
    const path = await this.objectPath(kind, namespace, name);
    const query = writeQuery(options);
    if (type === 'apply') query.force = options.force ? 'true' : undefined;
    return objectSchema.parse(
      await this.json('PATCH', path, { body: patch, contentType: PATCH_CONTENT_TYPE[type], query }),
    ) as KubeObject;
  }

  async delete(kind: string, namespace: string | undefined, name: string, options: WriteOptions = {}): Promise<void> {
    await this.request('DELETE', await this.objectPath(kind, namespace, name), { query: writeQuery(options) });
  }

  async podLogs(namespace: string, pod: string, options: LogOptions = {}): Promise<string> {
    const path = `${await this.objectPath('Pod', namespace, pod)}/log`;
    const query: Record<string, string | undefined> = {
      container: options.container,
      tailLines: options.tailLines?.toString(),
      sinceSeconds: options.sinceSeconds?.toString(),
      limitBytes: options.limitBytes?.toString(),
      timestamps: options.timestamps ? 'true' : undefined,
    };
    // As kubectl asks: the API server negotiates only its serializers' types (a plain `text/plain` gets 406),
    // and `*/*` lets the log stream through as text/plain.
    return (await this.request('GET', path, { query, accept: 'application/json, */*' })).text;
  }

  /** GET through the API server's pod proxy (pods/proxy), for endpoints that accept remote callers. */
  async podProxyGet(namespace: string, pod: string, port: number, path: string): Promise<string> {
    const podPath = await this.objectPath('Pod', namespace, pod);
    return (
      await this.request('GET', `${podPath}:${port}/proxy${path.startsWith('/') ? path : `/${path}`}`, {
        accept: '*/*',
      })
    ).text;
  }

  /**
   * One HTTP GET to a pod's port through pods/portforward, so that the pod sees a localhost caller
   * (istiod's debug endpoints, Envoy's admin port). As every request of this client: its KubeConfig,
   * its identity (Impersonate-User / Impersonate-Group on the upgrade, so RBAC's create on
   * pods/portforward is asked of the impersonated user), its timeout for the whole exchange unless
   * `options.timeoutMs` says otherwise, and one `onRequest` record (status 101 when the tunnel
   * opened, the refusal's status, or 0). Failures are PortForwardError; an HTTP error from the pod
   * is an answer, not an error.
   */
  async portForwardGet(
    namespace: string,
    pod: string,
    port: number,
    path: string,
    options: PortForwardHttpOptions = {},
  ): Promise<PortForwardHttpAnswer> {
    const upgradeHeaders: Record<string, string | string[]> = { 'User-Agent': this.options.userAgent ?? 'meshops' };
    if (this.options.impersonate) {
      upgradeHeaders['Impersonate-User'] = this.options.impersonate.user;
      if (this.options.impersonate.groups?.length)
        upgradeHeaders['Impersonate-Group'] = [...this.options.impersonate.groups];
    }
    const opts: PortForwardHttpOptions = {
      ...options,
      timeoutMs: options.timeoutMs ?? this.options.timeoutMs ?? 15_000,
    };
    let status = 0;
    try {
      return await httpGetViaPortForward(this.kubeConfig, namespace, pod, port, path, opts, {
        upgradeHeaders,
        onUpgrade: (s) => (status = s),
      });
    } finally {
      this.options.onRequest?.({
        method: 'GET',
        path: `/api/v1/namespaces/${namespace}/pods/${pod}/portforward`,
        status,
      });
    }
  }

  /** Is the API server answering at all? (readiness) */
  async ping(): Promise<boolean> {
    try {
      await this.request('GET', '/version');
      return true;
    } catch {
      return false;
    }
  }
}
