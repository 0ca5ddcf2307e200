// REST semantics for resource paths (/api/v1/..., /apis/<group>/<version>/...): get, list, watch,
// create, update, patch, delete, deletecollection, and the subresources status, scale, log, proxy,
// plus access reviews. Authentication happened before; authorization happens here, per verb.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import type { Logger } from 'pino';
import type { KubeObject } from '../kube/objects.ts';
import {
  ApiError,
  badRequest,
  forbidden,
  gone,
  invalid,
  methodNotAllowed,
  namespaceNotFound,
  notFound,
  pathNotFound,
  patchNotApplied,
  PlainNotFound,
  plainNotFound,
  patchTypeNotAccepted,
  routeUnsupportedMediaType,
  unsupportedMediaType,
} from './api-errors.ts';
import type { Identity } from './auth.ts';
import { applyJsonPatch, applyMergePatch, clone, type Json, PatchError, strategicMerge } from './patch.ts';
import type { PodEndpoints } from './pod-endpoints.ts';
import { LOGS_ANNOTATION_PREFIX, type PodLogBook, renderLogs } from './pod-logs.ts';
import { coreToEventsV1, eventsV1ToCore } from './event-versions.ts';
import { decodeKubeProtobuf } from './protobuf-bodies.ts';
import { negotiateOutput, outputOf, recordOutput } from './negotiation.ts';
import { isBuiltinGroup } from './discovery.ts';
import { reviewAnswer } from './access-reviews.ts';
import { applyKindMismatch, serverSideApply } from './field-manager.ts';
import { validateCustomResource } from './cr-schema.ts';
import { can } from './rbac.ts';
import { checkPatchOptions, type FieldValidation, fieldValidationOf, goJsonKind, PATCH_TYPES } from './patch-options.ts';
import { decodeObjectBody, type DecodedBody } from './object-decoding.ts';
import { inWireOrder } from './wire-order.ts';
import { dryRunOf, type OptionsKind, writeOptionsOf } from './request-options.ts';
import { type ListQuery, listQuerySchema, logQuerySchema, parseDeleteOptions, parseObjectBody, parseQuery } from './request-schemas.ts';
import type { ResourceType } from './resource-types.ts';
import { groupResource } from './resource-types.ts';
import { checkNamespaceAcceptsCreate, type DeleteRequest, deleteObject } from './deletion.ts';
import { checkFieldLabels } from './field-selectors.ts';
import { listObjects, validateListOptions } from './list-options.ts';
import { matchesFilter, type ObjectFilter, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import type { SandboxStore, StoreEvent } from './store.ts';
import { toTable, wantsTable } from './table.ts';
import { validateObject } from './validation.ts';

export interface ResourcePath {
  group: string;
  version: string;
  namespace?: string;
  plural: string;
  name?: string;
  subresource?: string;
  /** What follows the subresource (pods/x/proxy/<rest>). */
  rest?: string;
}

/** Split a resource URL path; undefined when it is not one (discovery paths are handled elsewhere). */
export function parseResourcePath(pathname: string): ResourcePath | undefined {
  const segs = pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 3) {
    group = '';
    version = segs[1] as string;
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 4) {
    group = segs[1] as string;
    version = segs[2] as string;
    rest = segs.slice(3);
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource, ...tail] = rest;
  if (!plural) return undefined;
  return {
    group,
    version,
    ...(namespace !== undefined ? { namespace } : {}),
    plural,
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
    ...(tail.length ? { rest: tail.join('/') } : {}),
  };
}

export interface HandlerContext {
  store: SandboxStore;
  logs: PodLogBook;
  podEndpoints: PodEndpoints;
  log: Logger;
  /** Open watch responses, so close() can end them. */
  watches: Set<ServerResponse>;
}

const MAX_BODY = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY) throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728', {});
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

function decode(buf: Buffer, contentType: string): unknown {
  const text = buf.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    if (/yaml/.test(contentType)) return parseYaml(text);
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`error decoding request body: ${(e as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, code: number, body: unknown, warnings: readonly string[] = []): void {
  // The negotiated output (negotiation.ts): YAML when asked for, JSON otherwise.
  const yaml = outputOf(res)?.mediaType === 'application/yaml';
  const text = yaml ? toYaml(body) : JSON.stringify(body);
  const headers: Record<string, string | number | string[]> = { 'content-type': yaml ? 'application/yaml' : 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-cache, private' };
  // Kubernetes' warning headers: `299 - "<text>"`, one per warning.
  if (warnings.length) headers.warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(text);
}

export function sendError(res: ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  if (err instanceof PlainNotFound) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
    res.end('404 page not found\n');
    return;
  }
  sendJson(res, err.code, err.status);
}

function servedVersion(rt: ResourceType, version: string): string {
  return rt.group ? `${rt.group}/${version}` : version;
}

/** The object as the client sees it: in the served version, fields in the Go types' order. */
function served(obj: KubeObject, apiVersion: string): KubeObject {
  if (apiVersion === 'events.k8s.io/v1' && obj.kind === 'Event' && obj.apiVersion === 'v1') return inWireOrder(coreToEventsV1(obj));
  return inWireOrder(obj.apiVersion === apiVersion ? obj : { ...obj, apiVersion });
}

/** The object in the shape its storage keeps (events.k8s.io Events are stored as core Events). */
function toStorage(rt: ResourceType, obj: KubeObject): KubeObject {
  return rt.group === 'events.k8s.io' && rt.plural === 'events' ? eventsV1ToCore(obj) : obj;
}

function isDryRun(params: URLSearchParams, kind: OptionsKind, bodyDryRun?: string[]): boolean {
  return dryRunOf(params, kind, bodyDryRun);
}

function managerOf(params: URLSearchParams, req: IncomingMessage): string {
  const fm = params.get('fieldManager');
  if (fm) return fm;
  // Kubernetes derives the default manager from the user agent's program name.
  const ua = req.headers['user-agent'] ?? 'unknown';
  return ua.split('/')[0] || 'unknown';
}

const GENERATE_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(n = 5): string {
  const bytes = randomBytes(n);
  let out = '';
  for (const b of bytes) out += GENERATE_CHARS[b % GENERATE_CHARS.length];
  return out;
}

function verbFor(method: string, p: ResourcePath, params: URLSearchParams): string {
  const watch = params.get('watch');
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (p.name === undefined) return watch === 'true' || watch === '1' ? 'watch' : 'list';
      return 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return p.name === undefined ? 'deletecollection' : 'delete';
    default:
      return method.toLowerCase();
  }
}

export function rbacObjects(store: SandboxStore): KubeObject[] {
  const out: KubeObject[] = [];
  for (const plural of ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings']) {
    const rt = store.registry.byGroupResource('rbac.authorization.k8s.io', plural);
    if (rt) out.push(...store.scan(rt));
  }
  return out;
}

export function authorized(store: SandboxStore, who: Identity, verb: string, group: string, resource: string, namespace?: string, name?: string): boolean {
  // system:masters skips RBAC (as in Kubernetes), and skips collecting the RBAC objects too.
  if (who.groups.includes('system:masters')) return true;
  return can(rbacObjects(store), who.user, who.groups, verb, group, resource, namespace, name);
}

/** Subresources served by a connect handler (proxied or upgraded), without output negotiation. */
const CONNECT_SUBRESOURCES = new Set(['proxy', 'portforward', 'attach', 'exec']);

export class ApiHandler {
  private readonly ctx: HandlerContext;

  constructor(ctx: HandlerContext) {
    this.ctx = ctx;
    // A pod's logs and port endpoints go when the pod leaves storage (at once, or when the kubelet finishes a graceful delete).
    ctx.store.subscribe((e) => {
      if (e.type !== 'DELETED' || e.rt.group !== '' || e.rt.plural !== 'pods') return;
      ctx.logs.forgetPod(e.object.metadata.namespace as string, e.object.metadata.name);
      ctx.podEndpoints.unregister(e.object.metadata.namespace as string, e.object.metadata.name);
    });
  }

  private get store(): SandboxStore {
    return this.ctx.store;
  }

  /** Resolve the resource for a path, or throw the 404 the API server gives. */
  resolve(p: ResourcePath): ResourceType {
    // Built-in groups answer unknown paths with a Status; other groups (CRDs, unknown) fall through
    // to the server's mux, which answers plain text.
    const missing = isBuiltinGroup(this.store.registry, p.group) ? pathNotFound : plainNotFound;
    const rt = this.store.registry.byPath(p.group, p.version, p.plural);
    if (!rt) throw missing();
    if (p.namespace !== undefined && !rt.namespaced) throw missing();
    if (p.subresource !== undefined && !rt.subresources.includes(p.subresource)) throw missing();
    return rt;
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL, p: ResourcePath, who: Identity): Promise<void> {
    const rt = this.resolve(p);
    const method = req.method ?? 'GET';
    const params = url.searchParams;
    const verb = verbFor(method, p, params);
    const resource = p.subresource ? `${rt.plural}/${p.subresource}` : rt.plural;

    // Access reviews: every authenticated user may ask about themselves (system:basic-user).
    const isSelfReview = rt.group === 'authorization.k8s.io' && rt.plural === 'selfsubjectaccessreviews';
    if (!isSelfReview && !authorized(this.store, who, verb, rt.group, resource, p.namespace, p.name)) {
      throw forbidden({ user: who.user, verb, group: rt.group, resource: rt.plural, ...(p.subresource ? { subresource: p.subresource } : {}), ...(p.namespace ? { namespace: p.namespace } : {}), ...(p.name ? { name: p.name } : {}) });
    }

    // Every REST handler negotiates its output first (406 before 404); connect subresources do not.
    if (!CONNECT_SUBRESOURCES.has(p.subresource ?? '')) recordOutput(res, negotiateOutput(req.headers.accept, { resource: true }));

    if (rt.group === 'authorization.k8s.io') {
      if (method !== 'POST') throw methodNotAllowed();
      return this.accessReview(req, res, rt, p, who);
    }
    if (p.subresource === 'log') return this.podLog(res, rt, p, params);
    if (p.subresource === 'proxy') return this.proxy(req, res, rt, p);
    if (p.subresource === 'portforward' || p.subresource === 'attach' || p.subresource === 'exec') throw badRequest('Upgrade request required');

    switch (verb) {
      case 'get':
        return this.get(req, res, rt, p);
      case 'list':
        return this.list(req, res, rt, p, params);
      case 'watch':
        return this.watch(req, res, rt, p, params);
      case 'create':
        if (p.name !== undefined) throw methodNotAllowed();
        return this.create(req, res, rt, p, params);
      case 'update':
        if (p.name === undefined) throw methodNotAllowed();
        return this.update(req, res, rt, p, params);
      case 'patch':
        if (p.name === undefined) throw methodNotAllowed();
        return this.patch(req, res, rt, p, params);
      case 'delete':
        return this.delete(req, res, rt, p, params);
      case 'deletecollection':
        return this.deleteCollection(req, res, rt, p, params);
      default:
        throw methodNotAllowed();
    }
  }

  /** Where a resource's objects live: events.k8s.io Events share core Events' storage. */
  private storage(rt: ResourceType): ResourceType {
    if (rt.group === 'events.k8s.io' && rt.plural === 'events') return this.store.registry.byGroupResource('', 'events') ?? rt;
    return rt;
  }

  private existing(rt: ResourceType, p: ResourcePath): KubeObject {
    const o = this.store.peek(this.storage(rt), p.namespace, p.name as string);
    if (!o) throw notFound(rt, p.name as string);
    return o;
  }

  private get(req: IncomingMessage, res: ServerResponse, rt: ResourceType, p: ResourcePath): void {
    const obj = this.existing(rt, p);
    const apiVersion = servedVersion(rt, p.version);
    if (p.subresource === 'scale') return sendJson(res, 200, toScale(obj));
    if (!p.subresource && wantsTable(req.headers.accept)) {
      return sendJson(res, 200, toTable(rt, [obj], this.store.resourceVersion, this.store.now(), 'Metadata', apiVersion));
    }
    sendJson(res, 200, served(obj, apiVersion));
  }

  /**
   * Selectors as the list handler reads them: both parsed (400 on bad syntax), then ListOptions
   * validated (422), then field labels checked against what the kind supports (400).
   */
  private filterOf(rt: ResourceType, p: ResourcePath, q: ListQuery): ObjectFilter {
    const labels = q.labelSelector ? parseLabelSelector(q.labelSelector) : [];
    const fields = q.fieldSelector ? parseFieldSelector(q.fieldSelector) : [];
    validateListOptions(q);
    checkFieldLabels(rt, fields);
    return { ...(p.namespace !== undefined ? { namespace: p.namespace } : {}), labels, fields };
  }

  private async list(req: IncomingMessage, res: ServerResponse, rt: ResourceType, p: ResourcePath, params: URLSearchParams): Promise<void> {
    const q = parseQuery(listQuerySchema, params);
    const filter = this.filterOf(rt, p, q);
    const apiVersion = servedVersion(rt, p.version);
    const page = await listObjects(this.store, this.storage(rt), p.namespace, {
      ...q,
      filtered: filter.labels.length > 0 || filter.fields.length > 0,
      matches: (o) => matchesFilter(filter, served(o, apiVersion)),
    });
    const items = page.items.map((o) => served(o, apiVersion));
    const more = { ...(page.continue ? { continue: page.continue } : {}), ...(page.remainingItemCount !== undefined ? { remainingItemCount: page.remainingItemCount } : {}) };
    if (wantsTable(req.headers.accept)) {
      const table = toTable(rt, items, page.resourceVersion, this.store.now(), q.includeObject ?? 'Metadata', apiVersion) as { metadata?: Record<string, unknown> };
      table.metadata = { ...table.metadata, ...more };
      return sendJson(res, 200, table);
    }
    sendJson(res, 200, { kind: rt.listKind, apiVersion, metadata: { resourceVersion: page.resourceVersion, ...more }, items });
  }

  private watch(req: IncomingMessage, res: ServerResponse, rt: ResourceType, p: ResourcePath, params: URLSearchParams): void {
    const q = parseQuery(listQuerySchema, params);
    const filter = this.filterOf(rt, p, { ...q, watch: true });
    const apiVersion = servedVersion(rt, p.version);
    const asTable = wantsTable(req.headers.accept);
    const now = () => this.store.now();
    const gr = groupResource(this.storage(rt));

    let backlog: StoreEvent[] | undefined;
    const rvParam = q.resourceVersion;
    const initial = rvParam === undefined || rvParam === '' || rvParam === '0' || q.sendInitialEvents === true;
    if (!initial) {
      const from = Number(rvParam);
      if (!Number.isFinite(from)) throw badRequest(`invalid resource version: ${rvParam}`);
      backlog = this.store.eventsSince(from);
    }

    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const write = (type: string, obj: unknown) => {
      if (res.writableEnded || res.destroyed) return;
      res.write(`${JSON.stringify({ type, object: obj })}\n`);
    };
    const render = (o: KubeObject) => (asTable ? toTable(rt, [o], o.metadata.resourceVersion ?? '', now(), 'Metadata', apiVersion) : served(o, apiVersion));
    const deliver = (e: StoreEvent) => {
      if (groupResource(e.rt) !== gr) return;
      const nowMatches = matchesFilter(filter, served(e.object, apiVersion));
      const oldMatches = e.old ? matchesFilter(filter, served(e.old, apiVersion)) : false;
      if (e.type === 'MODIFIED') {
        if (nowMatches && oldMatches) write('MODIFIED', render(e.object));
        else if (nowMatches) write('ADDED', render(e.object));
        else if (oldMatches) write('DELETED', render(e.object));
      } else if (nowMatches) {
        write(e.type, render(e.object));
      }
    };

    if (!initial && backlog === undefined) {
      // Kubernetes reports an expired resourceVersion inside the stream, as an ERROR event.
      write('ERROR', gone(String(rvParam), this.store.oldestResumableVersion()).status);
      res.end();
      return;
    }
    if (initial) {
      for (const o of this.store.scan(this.storage(rt), p.namespace)) if (matchesFilter(filter, served(o, apiVersion))) write('ADDED', render(o));
      if (q.sendInitialEvents && q.allowWatchBookmarks) {
        write('BOOKMARK', { kind: rt.kind, apiVersion, metadata: { resourceVersion: this.store.resourceVersion, annotations: { 'k8s.io/initial-events-end': 'true' } } });
      }
    } else {
      for (const e of backlog ?? []) deliver(e);
    }

    const unsubscribe = this.store.subscribe(deliver);
    this.ctx.watches.add(res);
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      unsubscribe();
      this.ctx.watches.delete(res);
      if (timer) clearTimeout(timer);
      if (!res.writableEnded) res.end();
    };
    if (q.timeoutSeconds !== undefined && q.timeoutSeconds > 0) timer = setTimeout(finish, q.timeoutSeconds * 1000);
    req.on('close', finish);
    res.on('close', finish);
  }

  /** A create/update body: protobuf as kubectl's typed commands send it, else JSON/YAML decoded as the kind's Go type. */
  private async objectBody(req: IncomingMessage, rt: ResourceType, p: ResourcePath, validation: FieldValidation): Promise<DecodedBody> {
    const contentType = String(req.headers['content-type'] ?? 'application/json');
    if (/protobuf/.test(contentType)) return { body: await this.bodyObject(req), warnings: [] };
    return decodeObjectBody(await readBody(req), contentType, rt, p.version, this.store.registry, validation);
  }

  private async bodyObject(req: IncomingMessage): Promise<unknown> {
    const contentType = String(req.headers['content-type'] ?? 'application/json');
    const body = await readBody(req);
    if (/protobuf/.test(contentType)) {
      try {
        return decodeKubeProtobuf(body);
      } catch (e) {
        throw unsupportedMediaType(contentType, ['application/json', 'application/yaml', `application/vnd.kubernetes.protobuf (${(e as Error).message})`]);
      }
    }
    return decode(body, contentType);
  }

  /** Check path vs body namespace/kind, fill name from generateName, validate, require the namespace. */
  private prepare(rt: ResourceType, p: ResourcePath, obj: KubeObject, forCreate: boolean, warnings: string[] = [], validation: FieldValidation = 'Warn'): KubeObject {
    if (obj.kind && obj.kind !== rt.kind) throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${servedVersion(rt, p.version)})`);
    if (obj.apiVersion && obj.apiVersion !== servedVersion(rt, p.version)) {
      const [g] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : [''];
      if (g !== rt.group) throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${servedVersion(rt, p.version)})`);
    }
    obj.apiVersion = servedVersion(rt, p.version);
    obj.kind = rt.kind;
    if (rt.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== p.namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      obj.metadata.namespace = p.namespace;
    } else {
      delete obj.metadata.namespace;
    }
    // NamespaceLifecycle admission runs before validation: the namespace must exist, and take new objects.
    if (rt.namespaced && p.namespace !== undefined && !this.store.peek(this.store.resourceType('namespaces'), undefined, p.namespace)) {
      throw namespaceNotFound(p.namespace);
    }
    if (forCreate) checkNamespaceAcceptsCreate(this.store, rt, p.namespace, obj.metadata.name);
    if (forCreate && !obj.metadata.name && obj.metadata.generateName) obj.metadata.name = `${obj.metadata.generateName}${randomSuffix()}`;
    const errors = validateObject(rt, obj);
    if (errors.length) throw invalid(rt.group, rt.kind, obj.metadata.name, errors);
    // Custom resources: pruned and validated against their CRD's schema.
    warnings.push(...validateCustomResource(this.store, rt, p.version, obj, validation));
    return obj;
  }

  private async create(req: IncomingMessage, res: ServerResponse, rt: ResourceType, p: ResourcePath, params: URLSearchParams): Promise<void> {
    if (rt.namespaced && p.namespace === undefined) throw methodNotAllowed();
    const options = writeOptionsOf(params, 'CreateOptions');
    const { body, warnings } = await this.objectBody(req, rt, p, options.fieldValidation);
    const obj = this.prepare(rt, p, parseObjectBody(body), true, warnings, options.fieldValidation);
    const created = this.store.create(this.storage(rt), toStorage(rt, obj), { dryRun: options.dryRun, manager: managerOf(params, req) });
    sendJson(res, 201, served(created, servedVersion(rt, p.version)), warnings);
  }

  private async update(req: IncomingMessage, res: ServerResponse, rt: ResourceType, p: ResourcePath, params: URLSearchParams): Promise<void> {
    if (p.subresource === 'scale') return this.writeScale(res, rt, p, await this.bodyObject(req), params, req);
    const options = writeOptionsOf(params, 'UpdateOptions');
    const { body, warnings } = await this.objectBody(req, rt, p, options.fieldValidation);
    const obj = parseObjectBody(body);
    if (obj.metadata.name && obj.metadata.name !== p.name) throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${p.name})`);
    obj.metadata.name = p.name as string;
    this.prepare(rt, p, obj, false, warnings, options.fieldValidation);
    const updated = this.store.update(this.storage(rt), toStorage(rt, obj), { dryRun: options.dryRun, manager: managerOf(params, req), ...(p.subresource ? { subresource: p.subresource } : {}) });
    sendJson(res, 200, served(updated, servedVersion(rt, p.version)), warnings);
  }

  private async patch(req: IncomingMessage, res: ServerResponse, rt: ResourceType, p: ResourcePath, params: URLSearchParams): Promise<void> {
    const contentType = String(req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    // The router consumes the four patch types; the handler then refuses what the resource lacks.
    if (!PATCH_TYPES.includes(contentType)) throw routeUnsupportedMediaType();
    const accepted = PATCH_TYPES.filter((t) => !(rt.custom && t === 'application/strategic-merge-patch+json'));
    if (!accepted.includes(contentType)) throw patchTypeNotAccepted(accepted);
    const text = (await readBody(req)).toString('utf8');
    checkPatchOptions(params, contentType);
    let patchBody: unknown;
    try {
      patchBody = contentType === 'application/apply-patch+yaml' ? parseYaml(text) : JSON.parse(text);
    } catch (e) {
      throw badRequest(`error decoding patch: ${(e as Error).message}`);
    }
    const dryRun = isDryRun(params, 'PatchOptions');
    const manager = managerOf(params, req);
    const apiVersion = servedVersion(rt, p.version);
    const current = this.store.peek(this.storage(rt), p.namespace, p.name as string);

    const warnings: string[] = [];
    if (contentType === 'application/apply-patch+yaml') {
      const applied = parseObjectBody(patchBody);
      if (applied.kind && applied.kind !== rt.kind) throw applyKindMismatch(rt.kind, applied.kind);
      if (applied.metadata.name && applied.metadata.name !== p.name) throw badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${p.name})`);
      applied.metadata.name = p.name as string;
      const who = { manager, operation: 'Apply' as const, apiVersion, time: this.store.now().toISOString().replace(/\.\d+Z$/, 'Z'), ...(p.subresource ? { subresource: p.subresource } : {}) };
      const track = { listTypeOf: this.store.listTypesOf(rt), hasStatus: rt.subresources.includes('status') };
      const live = current ? served(current, apiVersion) : undefined;
      const { object: merged, managedFields } = serverSideApply(live, applied, who, params.get('force') === 'true', track);
      if (!current) {
        const obj = this.prepare(rt, p, merged, true, warnings, fieldValidationOf(params));
        const created = this.store.create(this.storage(rt), toStorage(rt, obj), { dryRun, managedFields });
        return sendJson(res, 201, served(created, apiVersion), warnings);
      }
      this.prepare(rt, p, merged, false, warnings, fieldValidationOf(params));
      const out = this.store.update(this.storage(rt), toStorage(rt, merged), { dryRun, managedFields, ...(p.subresource ? { subresource: p.subresource } : {}) });
      return sendJson(res, 200, served(out, apiVersion), warnings);
    }

    if (!current) throw notFound(rt, p.name as string);
    if (p.subresource === 'scale') {
      const scale = toScale(current) as unknown as Json;
      const patchedScale = this.applyPatchBody(contentType, scale, patchBody, fieldValidationOf(params));
      return this.writeScale(res, rt, p, patchedScale, params, req);
    }
    const base = served(current, apiVersion) as unknown as Json;
    const patched = this.applyPatchBody(contentType, base, patchBody, fieldValidationOf(params));
    const obj = parseObjectBody(patched);
    if (obj.metadata.name !== p.name) throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${p.name})`);
    this.prepare(rt, p, obj, false, warnings, fieldValidationOf(params));
    const out = this.store.update(this.storage(rt), toStorage(rt, obj), { dryRun, manager, ...(p.subresource ? { subresource: p.subresource } : {}) });
    sendJson(res, 200, served(out, apiVersion), warnings);
  }

  private applyPatchBody(contentType: string, base: Json, patchBody: unknown, validation: FieldValidation): Json {
    switch (contentType) {
      case 'application/json-patch+json':
        if (!Array.isArray(patchBody)) {
          // Strict and Warn (the default) decode the operations first, into the handler's own type.
          const into = validation === 'Ignore' ? 'jsonpatch.Patch' : '[]handlers.jsonPatchOp';
          const prefix = validation === 'Ignore' ? '' : 'error decoding patch: ';
          throw badRequest(`${prefix}json: cannot unmarshal ${goJsonKind(patchBody)} into Go value of type ${into}`);
        }
        try {
          return applyJsonPatch(base, patchBody);
        } catch (e) {
          if (e instanceof PatchError) throw patchNotApplied();
          throw e;
        }
      case 'application/merge-patch+json':
        return applyMergePatch(base, patchBody as Json);
      case 'application/strategic-merge-patch+json': {
        if (typeof patchBody !== 'object' || patchBody === null || Array.isArray(patchBody)) throw badRequest('strategic merge patch must be a JSON object');
        return strategicMerge(base, patchBody as Json) ?? {};
      }
      default:
        throw unsupportedMediaType(contentType, []);
    }
  }

  private async writeScale(res: ServerResponse, rt: ResourceType, p: ResourcePath, raw: unknown, params: URLSearchParams, req: IncomingMessage): Promise<void> {
    const replicas = (raw as { spec?: { replicas?: unknown } } | undefined)?.spec?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw invalid('autoscaling', 'Scale', p.name as string, [{ type: 'FieldValueInvalid', field: 'spec.replicas', value: replicas, detail: 'must be greater than or equal to 0' }]);
    }
    const current = this.existing(rt, p);
    const next = clone(current);
    (next.spec as { replicas?: number }).replicas = replicas;
    const out = this.store.update(rt, next, { dryRun: isDryRun(params, req.method === 'PATCH' ? 'PatchOptions' : 'UpdateOptions'), manager: managerOf(params, req) });
    sendJson(res, 200, toScale(out));
  }

  private async delete(req: IncomingMessage, res: ServerResponse, rt: ResourceType, p: ResourcePath, params: URLSearchParams): Promise<void> {
    const opts = parseDeleteOptions(await this.bodyObject(req));
    const out = deleteObject(this.store, this.storage(rt), p.namespace, p.name as string, this.deleteRequest(params, opts));
    const body = (out.body as KubeObject).kind === 'Status' ? out.body : served(out.body as KubeObject, servedVersion(rt, p.version));
    sendJson(res, out.code, body);
  }

  private deleteRequest(params: URLSearchParams, opts: ReturnType<typeof parseDeleteOptions>): DeleteRequest {
    const policy = (params.get('propagationPolicy') ?? opts.propagationPolicy) as DeleteRequest['propagationPolicy'] | undefined;
    const graceParam = params.get('gracePeriodSeconds');
    const grace = graceParam !== null && /^-?\d+$/.test(graceParam) ? Number(graceParam) : opts.gracePeriodSeconds;
    const orphanParam = params.get('orphanDependents');
    const orphan = orphanParam !== null ? orphanParam === 'true' : opts.orphanDependents;
    return {
      dryRun: isDryRun(params, 'DeleteOptions', opts.dryRun),
      ...(policy ? { propagationPolicy: policy } : orphan === true ? { propagationPolicy: 'Orphan' as const } : {}),
      ...(orphan !== undefined ? { orphanDependents: orphan } : {}),
      ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}),
      ...(opts.preconditions ? { preconditions: opts.preconditions } : {}),
    };
  }

  private async deleteCollection(req: IncomingMessage, res: ServerResponse, rt: ResourceType, p: ResourcePath, params: URLSearchParams): Promise<void> {
    const opts = parseDeleteOptions(await this.bodyObject(req));
    const q = parseQuery(listQuerySchema, params);
    const filter = this.filterOf(rt, p, q);
    const request = this.deleteRequest(params, opts);
    const apiVersion = servedVersion(rt, p.version);
    const items: KubeObject[] = [];
    const srt = this.storage(rt);
    for (const o of this.store.scan(srt, p.namespace).filter((x) => matchesFilter(filter, served(x, apiVersion)))) {
      const live = this.store.peek(srt, o.metadata.namespace, o.metadata.name);
      if (!live) continue;
      const out = deleteObject(this.store, srt, o.metadata.namespace, o.metadata.name, request);
      items.push(served((out.body as KubeObject).kind === 'Status' ? live : (out.body as KubeObject), apiVersion));
    }
    sendJson(res, 200, { kind: rt.listKind, apiVersion, metadata: { resourceVersion: this.store.resourceVersion }, items });
  }

  private podLog(res: ServerResponse, rt: ResourceType, p: ResourcePath, params: URLSearchParams): void {
    const pod = this.existing(rt, p);
    const q = parseQuery(logQuerySchema, params);
    const spec = pod.spec as { containers?: { name: string }[]; initContainers?: { name: string }[] } | undefined;
    const names = (spec?.containers ?? []).map((c) => c.name);
    const all = [...names, ...(spec?.initContainers ?? []).map((c) => c.name)];
    let container = q.container;
    if (!container) {
      if (names.length !== 1) throw badRequest(`a container name must be specified for pod ${pod.metadata.name}, choose one of: [${names.join(' ')}]`);
      container = names[0] as string;
    }
    if (!all.includes(container)) throw badRequest(`container ${container} is not valid for pod ${pod.metadata.name}`);
    // A pod no node runs yet has no kubelet to ask: the API server answers 204 No Content.
    if (!(pod.spec as { nodeName?: string } | undefined)?.nodeName) {
      res.writeHead(204, { 'cache-control': 'no-cache, private' });
      res.end();
      return;
    }
    const statuses = ((pod.status as { containerStatuses?: { name: string; state?: { waiting?: { reason?: string; message?: string } }; restartCount?: number }[] } | undefined)?.containerStatuses ?? []);
    const st = statuses.find((s) => s.name === container);
    const waiting = st?.state?.waiting;
    if (waiting && !(st?.restartCount && st.restartCount > 0)) {
      const why = waiting.reason === 'ImagePullBackOff' || waiting.reason === 'ErrImagePull' ? 'trying and failing to pull image' : (waiting.reason ?? 'ContainerCreating');
      throw badRequest(`container "${container}" in pod "${pod.metadata.name}" is waiting to start: ${why}`);
    }
    if (!st && statuses.length === 0 && (pod.status as { phase?: string } | undefined)?.phase === 'Pending') {
      throw badRequest(`container "${container}" in pod "${pod.metadata.name}" is waiting to start: ContainerCreating`);
    }
    const ns = p.namespace as string;
    let lines = this.ctx.logs.get(ns, pod.metadata.name, container);
    if (!lines) {
      const fromAnnotation = pod.metadata.annotations?.[`${LOGS_ANNOTATION_PREFIX}${container}`];
      const started = (pod.status as { startTime?: string } | undefined)?.startTime ?? pod.metadata.creationTimestamp;
      const end = started ? new Date(started) : this.store.now();
      this.ctx.logs.set(ns, pod.metadata.name, container, fromAnnotation ? fromAnnotation.replace(/\n$/, '').split('\n') : [], end);
      lines = this.ctx.logs.get(ns, pod.metadata.name, container) ?? [];
    }
    const { container: _c, follow: _f, previous: _p, ...query } = q;
    const text = renderLogs(lines, query, this.store.now());
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-cache, private' });
    res.end(text);
  }

  private proxy(req: IncomingMessage, res: ServerResponse, rt: ResourceType, p: ResourcePath): void {
    if (rt.plural !== 'pods') throw new ApiError(503, 'ServiceUnavailable', `no endpoints available for service "${p.name}"`, {});
    const spec = String(p.name);
    const parts = spec.split(':');
    const podName = parts.length === 3 ? (parts[1] as string) : (parts[0] as string);
    const port = parts.length >= 2 ? Number(parts[parts.length - 1]) : 80;
    if (!this.store.peek(rt, p.namespace, podName)) throw notFound(rt, podName);
    this.ctx.podEndpoints.handleProxy(req, res, p.namespace as string, podName, port, `/${p.rest ?? ''}`);
  }

  private async accessReview(req: IncomingMessage, res: ServerResponse, rt: ResourceType, p: ResourcePath, who: Identity): Promise<void> {
    const body = await this.bodyObject(req);
    sendJson(res, 201, reviewAnswer(rt.plural, servedVersion(rt, p.version), body, who, rbacObjects(this.store), p.namespace));
  }
}

export function toScale(obj: KubeObject): object {
  const spec = (obj.spec ?? {}) as { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  const status = (obj.status ?? {}) as { replicas?: number };
  const selector = Object.entries(spec.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion, creationTimestamp: obj.metadata.creationTimestamp },
    spec: { replicas: spec.replicas ?? 0 },
    status: { replicas: status.replicas ?? 0, selector },
  };
}
