// The delete verbs: delete (one object, with DeleteOptions from the body or the query: dryRun,
// propagationPolicy or orphanDependents, gracePeriodSeconds, preconditions) and deletecollection
// (every object the list selectors match, each deleted as a single delete would be).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../kube/objects.ts';
import { bodyObject, isDryRun, sendJson } from './api-io.ts';
import { type HandlerContext, served, servedVersion, storageOf } from './api-objects.ts';
import { filterOf } from './api-reads.ts';
import type { ResourcePath } from './api-routing.ts';
import { type DeleteRequest, deleteObject } from './deletion.ts';
import { listQuerySchema, parseDeleteOptions, parseQuery } from './request-schemas.ts';
import type { ResourceType } from './resource-types.ts';
import { matchesFilter } from './selectors.ts';

export async function deleteOne(
  ctx: HandlerContext,
  req: IncomingMessage,
  res: ServerResponse,
  rt: ResourceType,
  p: ResourcePath,
  params: URLSearchParams,
): Promise<void> {
  const opts = parseDeleteOptions(await bodyObject(req));
  const out = deleteObject(
    ctx.store,
    storageOf(ctx.store, rt),
    p.namespace,
    p.name as string,
    deleteRequest(params, opts),
  );
  const body =
    (out.body as KubeObject).kind === 'Status'
      ? out.body
      : served(out.body as KubeObject, servedVersion(rt, p.version));
  sendJson(res, out.code, body);
}

function deleteRequest(params: URLSearchParams, opts: ReturnType<typeof parseDeleteOptions>): DeleteRequest {
  const policy = (params.get('propagationPolicy') ?? opts.propagationPolicy) as
    | DeleteRequest['propagationPolicy']
    | undefined;
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

export async function deleteCollection(
  ctx: HandlerContext,
  req: IncomingMessage,
  res: ServerResponse,
  rt: ResourceType,
  p: ResourcePath,
  params: URLSearchParams,
): Promise<void> {
  const opts = parseDeleteOptions(await bodyObject(req));
  const q = parseQuery(listQuerySchema, params);
  const filter = filterOf(rt, p, q);
  const request = deleteRequest(params, opts);
  const apiVersion = servedVersion(rt, p.version);
  const items: KubeObject[] = [];
  const srt = storageOf(ctx.store, rt);
  for (const o of ctx.store.scan(srt, p.namespace).filter((x) => matchesFilter(filter, served(x, apiVersion)))) {
    const live = ctx.store.peek(srt, o.metadata.namespace, o.metadata.name);
    if (!live) continue;
    const out = deleteObject(ctx.store, srt, o.metadata.namespace, o.metadata.name, request);
    items.push(served((out.body as KubeObject).kind === 'Status' ? live : (out.body as KubeObject), apiVersion));
  }
  sendJson(res, 200, {
    kind: rt.listKind,
    apiVersion,
    metadata: { resourceVersion: ctx.store.resourceVersion },
    items,
  });
}
