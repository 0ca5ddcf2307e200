// The write verbs: create, update (the object, its status, or its scale) and patch in the four
// patch types the API server's router accepts (JSON patch, merge patch, strategic merge patch
// where the kind has Go types, and server-side apply, which may create).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import {
  badRequest,
  methodNotAllowed,
  notFound,
  patchNotApplied,
  patchTypeNotAccepted,
  routeUnsupportedMediaType,
  unsupportedMediaType,
} from './api-errors.ts';
import { bodyObject, isDryRun, managerOf, objectBody, readBody, sendJson } from './api-io.ts';
import {
  type HandlerContext,
  nameMismatch,
  prepare,
  served,
  servedVersion,
  storageOf,
  toStorage,
} from './api-objects.ts';
import type { ResourcePath } from './api-routing.ts';
import { toScale, writeScale } from './api-subresources.ts';
import { applyKindMismatch, serverSideApply } from './field-manager.ts';
import { applyJsonPatch, applyMergePatch, type Json, PatchError, strategicMerge } from './patch.ts';
import {
  checkPatchOptions,
  type FieldValidation,
  fieldValidationOf,
  goJsonKind,
  PATCH_TYPES,
} from './patch-options.ts';
import { writeOptionsOf } from './request-options.ts';
import { parseObjectBody } from './request-schemas.ts';
import type { ResourceType } from './resource-types.ts';

export async function createObject(
  ctx: HandlerContext,
  req: IncomingMessage,
  res: ServerResponse,
  rt: ResourceType,
  p: ResourcePath,
  params: URLSearchParams,
): Promise<void> {
  if (rt.namespaced && p.namespace === undefined) throw methodNotAllowed();
  const options = writeOptionsOf(params, 'CreateOptions');
  const { body, warnings } = await objectBody(ctx.store, req, rt, p.version, options.fieldValidation);
  const obj = prepare(ctx.store, rt, p, parseObjectBody(body), true, warnings, options.fieldValidation);
  const writeOptions = { dryRun: options.dryRun, manager: managerOf(params, req) };
  const created = ctx.store.create(storageOf(ctx.store, rt), toStorage(rt, obj), writeOptions);
  sendJson(res, 201, served(created, servedVersion(rt, p.version)), warnings);
}

export async function updateObject(
  ctx: HandlerContext,
  req: IncomingMessage,
  res: ServerResponse,
  rt: ResourceType,
  p: ResourcePath,
  params: URLSearchParams,
): Promise<void> {
  if (p.subresource === 'scale') return writeScale(ctx, res, rt, p, await bodyObject(req), params, req);
  const options = writeOptionsOf(params, 'UpdateOptions');
  const { body, warnings } = await objectBody(ctx.store, req, rt, p.version, options.fieldValidation);
  const obj = parseObjectBody(body);
  if (obj.metadata.name && obj.metadata.name !== p.name) throw nameMismatch(obj.metadata.name, p);
  obj.metadata.name = p.name as string;
  prepare(ctx.store, rt, p, obj, false, warnings, options.fieldValidation);
  const writeOptions = {
    dryRun: options.dryRun,
    manager: managerOf(params, req),
    ...(p.subresource ? { subresource: p.subresource } : {}),
  };
  const updated = ctx.store.update(storageOf(ctx.store, rt), toStorage(rt, obj), writeOptions);
  sendJson(res, 200, served(updated, servedVersion(rt, p.version)), warnings);
}

export async function patchObject(
  ctx: HandlerContext,
  req: IncomingMessage,
  res: ServerResponse,
  rt: ResourceType,
  p: ResourcePath,
  params: URLSearchParams,
): Promise<void> {
  const contentType =
    String(req.headers['content-type'] ?? '')
      .split(';')[0]
      ?.trim() ?? '';
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
  const current = ctx.store.peek(storageOf(ctx.store, rt), p.namespace, p.name as string);

  const warnings: string[] = [];
  if (contentType === 'application/apply-patch+yaml') {
    const applied = parseObjectBody(patchBody);
    if (applied.kind && applied.kind !== rt.kind) throw applyKindMismatch(rt.kind, applied.kind);
    if (applied.metadata.name && applied.metadata.name !== p.name) throw nameMismatch(applied.metadata.name, p);
    applied.metadata.name = p.name as string;
    const time = ctx.store
      .now()
      .toISOString()
      .replace(/\.\d+Z$/, 'Z');
    const who = {
      manager,
      operation: 'Apply' as const,
      apiVersion,
      time,
      ...(p.subresource ? { subresource: p.subresource } : {}),
    };
    const track = { listTypeOf: ctx.store.listTypesOf(rt), hasStatus: rt.subresources.includes('status') };
    const live = current ? served(current, apiVersion) : undefined;
    const { object: merged, managedFields } = serverSideApply(
      live,
      applied,
      who,
      params.get('force') === 'true',
      track,
    );
    if (!current) {
      const obj = prepare(ctx.store, rt, p, merged, true, warnings, fieldValidationOf(params));
      const created = ctx.store.create(storageOf(ctx.store, rt), toStorage(rt, obj), { dryRun, managedFields });
      return sendJson(res, 201, served(created, apiVersion), warnings);
    }
    prepare(ctx.store, rt, p, merged, false, warnings, fieldValidationOf(params));
    const applyOptions = { dryRun, managedFields, ...(p.subresource ? { subresource: p.subresource } : {}) };
    const out = ctx.store.update(storageOf(ctx.store, rt), toStorage(rt, merged), applyOptions);
    return sendJson(res, 200, served(out, apiVersion), warnings);
  }

  if (!current) throw notFound(rt, p.name as string);
  if (p.subresource === 'scale') {
    const scale = toScale(current) as unknown as Json;
    const patchedScale = applyPatchBody(contentType, scale, patchBody, fieldValidationOf(params));
    return writeScale(ctx, res, rt, p, patchedScale, params, req);
  }
  const base = served(current, apiVersion) as unknown as Json;
  const patched = applyPatchBody(contentType, base, patchBody, fieldValidationOf(params));
  const obj = parseObjectBody(patched);
  if (obj.metadata.name !== p.name) throw nameMismatch(obj.metadata.name, p);
  prepare(ctx.store, rt, p, obj, false, warnings, fieldValidationOf(params));
  const out = ctx.store.update(storageOf(ctx.store, rt), toStorage(rt, obj), {
    dryRun,
    manager,
    ...(p.subresource ? { subresource: p.subresource } : {}),
  });
  sendJson(res, 200, served(out, apiVersion), warnings);
}

function applyPatchBody(contentType: string, base: Json, patchBody: unknown, validation: FieldValidation): Json {
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
      if (typeof patchBody !== 'object' || patchBody === null || Array.isArray(patchBody))
        throw badRequest('strategic merge patch must be a JSON object');
      return strategicMerge(base, patchBody as Json) ?? {};
    }
    default:
      throw unsupportedMediaType(contentType, []);
  }
}
