// The read verbs: get (an object, its scale, or a Table for kubectl get), list (selectors, limit and
// continue, Tables) and watch (from now, from a resourceVersion with its backlog, or with the
// initial events first; an expired resourceVersion ends the stream with an ERROR event).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../kube/objects.ts';
import { badRequest, gone } from './api-errors.ts';
import { sendJson } from './api-io.ts';
import { existing, type HandlerContext, served, servedVersion, storageOf } from './api-objects.ts';
import type { ResourcePath } from './api-routing.ts';
import { toScale } from './api-subresources.ts';
import { checkFieldLabels } from './field-selectors.ts';
import { listObjects, validateListOptions } from './list-options.ts';
import { type ListQuery, listQuerySchema, parseQuery } from './request-schemas.ts';
import type { ResourceType } from './resource-types.ts';
import { groupResource } from './resource-types.ts';
import { matchesFilter, type ObjectFilter, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import type { StoreEvent } from './store.ts';
import { toTable, wantsTable } from './table.ts';

export function getObject(
  ctx: HandlerContext,
  req: IncomingMessage,
  res: ServerResponse,
  rt: ResourceType,
  p: ResourcePath,
): void {
  const obj = existing(ctx.store, rt, p);
  const apiVersion = servedVersion(rt, p.version);
  if (p.subresource === 'scale') return sendJson(res, 200, toScale(obj));
  if (!p.subresource && wantsTable(req.headers.accept)) {
    return sendJson(res, 200, toTable(rt, [obj], ctx.store.resourceVersion, ctx.store.now(), 'Metadata', apiVersion));
  }
  sendJson(res, 200, served(obj, apiVersion));
}

/**
 * Selectors as the list handler reads them: both parsed (400 on bad syntax), then ListOptions
 * validated (422), then field labels checked against what the kind supports (400).
 */
export function filterOf(rt: ResourceType, p: ResourcePath, q: ListQuery): ObjectFilter {
  const labels = q.labelSelector ? parseLabelSelector(q.labelSelector) : [];
  const fields = q.fieldSelector ? parseFieldSelector(q.fieldSelector) : [];
  validateListOptions(q);
  checkFieldLabels(rt, fields);
  return { ...(p.namespace !== undefined ? { namespace: p.namespace } : {}), labels, fields };
}

export async function listCollection(
  ctx: HandlerContext,
  req: IncomingMessage,
  res: ServerResponse,
  rt: ResourceType,
  p: ResourcePath,
  params: URLSearchParams,
): Promise<void> {
  const q = parseQuery(listQuerySchema, params);
  const filter = filterOf(rt, p, q);
  const apiVersion = servedVersion(rt, p.version);
  const page = await listObjects(ctx.store, storageOf(ctx.store, rt), p.namespace, {
    ...q,
    filtered: filter.labels.length > 0 || filter.fields.length > 0,
    matches: (o) => matchesFilter(filter, served(o, apiVersion)),
  });
  const items = page.items.map((o) => served(o, apiVersion));
  const more = {
    ...(page.continue ? { continue: page.continue } : {}),
    ...(page.remainingItemCount !== undefined ? { remainingItemCount: page.remainingItemCount } : {}),
  };
  if (wantsTable(req.headers.accept)) {
    const table = toTable(
      rt,
      items,
      page.resourceVersion,
      ctx.store.now(),
      q.includeObject ?? 'Metadata',
      apiVersion,
    ) as {
      metadata?: Record<string, unknown>;
    };
    table.metadata = { ...table.metadata, ...more };
    return sendJson(res, 200, table);
  }
  sendJson(res, 200, {
    kind: rt.listKind,
    apiVersion,
    metadata: { resourceVersion: page.resourceVersion, ...more },
    items,
  });
}

export function watchCollection(
  ctx: HandlerContext,
  req: IncomingMessage,
  res: ServerResponse,
  rt: ResourceType,
  p: ResourcePath,
  params: URLSearchParams,
): void {
  const q = parseQuery(listQuerySchema, params);
  const filter = filterOf(rt, p, { ...q, watch: true });
  const apiVersion = servedVersion(rt, p.version);
  const asTable = wantsTable(req.headers.accept);
  const now = () => ctx.store.now();
  const gr = groupResource(storageOf(ctx.store, rt));

  let backlog: StoreEvent[] | undefined;
  const rvParam = q.resourceVersion;
  const initial = rvParam === undefined || rvParam === '' || rvParam === '0' || q.sendInitialEvents === true;
  if (!initial) {
    const from = Number(rvParam);
    if (!Number.isFinite(from)) throw badRequest(`invalid resource version: ${rvParam}`);
    backlog = ctx.store.eventsSince(from);
  }

  res.writeHead(200, {
    'content-type': 'application/json',
    'cache-control': 'no-cache, private',
    'transfer-encoding': 'chunked',
  });
  res.flushHeaders();
  const write = (type: string, obj: unknown) => {
    if (res.writableEnded || res.destroyed) return;
    res.write(`${JSON.stringify({ type, object: obj })}\n`);
  };
  const render = (o: KubeObject) =>
    asTable ? toTable(rt, [o], o.metadata.resourceVersion ?? '', now(), 'Metadata', apiVersion) : served(o, apiVersion);
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
    write('ERROR', gone(String(rvParam), ctx.store.oldestResumableVersion()).status);
    res.end();
    return;
  }
  if (initial) {
    for (const o of ctx.store.scan(storageOf(ctx.store, rt), p.namespace))
      if (matchesFilter(filter, served(o, apiVersion))) write('ADDED', render(o));
    if (q.sendInitialEvents && q.allowWatchBookmarks) {
      const metadata = {
        resourceVersion: ctx.store.resourceVersion,
        annotations: { 'k8s.io/initial-events-end': 'true' },
      };
      write('BOOKMARK', { kind: rt.kind, apiVersion, metadata });
    }
  } else {
    for (const e of backlog ?? []) deliver(e);
  }

  const unsubscribe = ctx.store.subscribe(deliver);
  ctx.watches.add(res);
  let timer: NodeJS.Timeout | undefined;
  const bookmarks: NodeJS.Timeout[] = [];
  const finish = () => {
    unsubscribe();
    ctx.watches.delete(res);
    if (timer) clearTimeout(timer);
    for (const b of bookmarks) clearTimeout(b);
    if (!res.writableEnded) res.end();
  };
  // Bookmarks as the watch cache sends them: only the current resourceVersion, in an object of the kind.
  const bookmark = () =>
    write('BOOKMARK', { kind: rt.kind, apiVersion, metadata: { resourceVersion: ctx.store.resourceVersion } });
  if (q.allowWatchBookmarks) {
    const every = ctx.watchBookmarkMs ?? 60_000;
    bookmarks.push(setInterval(bookmark, every));
    if (q.timeoutSeconds !== undefined && q.timeoutSeconds > 2)
      bookmarks.push(setTimeout(bookmark, q.timeoutSeconds * 1000 - 2000));
  }
  if (q.timeoutSeconds !== undefined && q.timeoutSeconds > 0) timer = setTimeout(finish, q.timeoutSeconds * 1000);
  req.on('close', finish);
  res.on('close', finish);
}
