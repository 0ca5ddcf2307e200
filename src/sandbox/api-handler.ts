// REST semantics for resource paths (/api/v1/..., /apis/<group>/<version>/...): get, list, watch,
// create, update, patch, delete, deletecollection, and the subresources status, scale, log, proxy,
// plus access reviews. Authentication happened before; authorization happens here, per verb. This
// module routes a request; the verbs live in api-reads.ts, api-writes.ts and api-deletes.ts, the
// subresources with handlers of their own in api-subresources.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest, forbidden, methodNotAllowed, pathNotFound, plainNotFound } from './api-errors.ts';
import { deleteCollection, deleteOne } from './api-deletes.ts';
import type { HandlerContext } from './api-objects.ts';
import { getObject, listCollection, watchCollection } from './api-reads.ts';
import { authorized, type ResourcePath, verbFor } from './api-routing.ts';
import { accessReview, podLog, proxy } from './api-subresources.ts';
import { createObject, patchObject, updateObject } from './api-writes.ts';
import type { Identity } from './auth.ts';
import { isBuiltinGroup } from './discovery.ts';
import { negotiateOutput, recordOutput } from './negotiation.ts';
import { METRICS_GROUP, metricsRequest } from './pod-metrics.ts';
import type { ResourceType } from './resource-types.ts';
import type { SandboxStore } from './store.ts';

// Everything this module exported before it was split, for its importers.
export { readBody, sendError, sendJson } from './api-io.ts';
export { type HandlerContext, randomSuffix } from './api-objects.ts';
export { authorized, parseResourcePath, rbacObjects, type ResourcePath } from './api-routing.ts';
export { toScale } from './api-subresources.ts';

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
      throw forbidden({
        user: who.user,
        verb,
        group: rt.group,
        resource: rt.plural,
        ...(p.subresource ? { subresource: p.subresource } : {}),
        ...(p.namespace ? { namespace: p.namespace } : {}),
        ...(p.name ? { name: p.name } : {}),
      });
    }

    // Every REST handler negotiates its output first (406 before 404); connect subresources do not.
    if (!CONNECT_SUBRESOURCES.has(p.subresource ?? ''))
      recordOutput(res, negotiateOutput(req.headers.accept, { resource: true }));

    if (rt.group === 'authorization.k8s.io') {
      if (method !== 'POST') throw methodNotAllowed();
      return accessReview(this.ctx, req, res, rt, p, who);
    }
    if (rt.group === METRICS_GROUP) return metricsRequest(this.ctx, res, rt, p, verb, params);
    if (p.subresource === 'log') return podLog(this.ctx, res, rt, p, params);
    if (p.subresource === 'proxy') return proxy(this.ctx, req, res, rt, p);
    if (p.subresource === 'portforward' || p.subresource === 'attach' || p.subresource === 'exec')
      throw badRequest('Upgrade request required');

    switch (verb) {
      case 'get':
        return getObject(this.ctx, req, res, rt, p);
      case 'list':
        return listCollection(this.ctx, req, res, rt, p, params);
      case 'watch':
        return watchCollection(this.ctx, req, res, rt, p, params);
      case 'create':
        if (p.name !== undefined) throw methodNotAllowed();
        return createObject(this.ctx, req, res, rt, p, params);
      case 'update':
        if (p.name === undefined) throw methodNotAllowed();
        return updateObject(this.ctx, req, res, rt, p, params);
      case 'patch':
        if (p.name === undefined) throw methodNotAllowed();
        return patchObject(this.ctx, req, res, rt, p, params);
      case 'delete':
        return deleteOne(this.ctx, req, res, rt, p, params);
      case 'deletecollection':
        return deleteCollection(this.ctx, req, res, rt, p, params);
      default:
        throw methodNotAllowed();
    }
  }
}
