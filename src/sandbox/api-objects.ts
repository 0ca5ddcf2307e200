// Objects between storage and the client: what a resource handler shares (HandlerContext), the
// served form of a stored object (its served apiVersion, events.k8s.io Events converted, fields in
// wire order) and back, and the checks every create and update runs before the store sees the object.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { KubeObject } from '../kube/objects.ts';
import { type ApiError, badRequest, invalid, namespaceNotFound, notFound } from './api-errors.ts';
import type { ResourcePath } from './api-routing.ts';
import { validateCustomResource } from './cr-schema.ts';
import { checkNamespaceAcceptsCreate } from './deletion.ts';
import { coreToEventsV1, eventsV1ToCore } from './event-versions.ts';
import type { FieldValidation } from './patch-options.ts';
import type { PodEndpoints } from './pod-endpoints.ts';
import type { PodLogBook } from './pod-logs.ts';
import type { ResourceType } from './resource-types.ts';
import type { SandboxStore } from './store.ts';
import { validateObject } from './validation.ts';
import { inWireOrder } from './wire-order.ts';

export interface HandlerContext {
  store: SandboxStore;
  logs: PodLogBook;
  podEndpoints: PodEndpoints;
  log: Logger;
  /** Open watch responses, so close() can end them. */
  watches: Set<ServerResponse>;
  /** How often a watch with allowWatchBookmarks gets a BOOKMARK (ms); default 60000. */
  watchBookmarkMs?: number;
}

export function servedVersion(rt: ResourceType, version: string): string {
  return rt.group ? `${rt.group}/${version}` : version;
}

/** The object as the client sees it: in the served version, fields in the Go types' order. */
export function served(obj: KubeObject, apiVersion: string): KubeObject {
  if (apiVersion === 'events.k8s.io/v1' && obj.kind === 'Event' && obj.apiVersion === 'v1')
    return inWireOrder(coreToEventsV1(obj));
  return inWireOrder(obj.apiVersion === apiVersion ? obj : { ...obj, apiVersion });
}

/** The object in the shape its storage keeps (events.k8s.io Events are stored as core Events). */
export function toStorage(rt: ResourceType, obj: KubeObject): KubeObject {
  return rt.group === 'events.k8s.io' && rt.plural === 'events' ? eventsV1ToCore(obj) : obj;
}

/** Where a resource's objects live: events.k8s.io Events share core Events' storage. */
export function storageOf(store: SandboxStore, rt: ResourceType): ResourceType {
  if (rt.group === 'events.k8s.io' && rt.plural === 'events') return store.registry.byGroupResource('', 'events') ?? rt;
  return rt;
}

/** The stored object a path names, or the 404 the API server gives. */
export function existing(store: SandboxStore, rt: ResourceType, p: ResourcePath): KubeObject {
  const o = store.peek(storageOf(store, rt), p.namespace, p.name as string);
  if (!o) throw notFound(rt, p.name as string);
  return o;
}

const GENERATE_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(n = 5): string {
  const bytes = randomBytes(n);
  let out = '';
  for (const b of bytes) out += GENERATE_CHARS[b % GENERATE_CHARS.length];
  return out;
}

/** Check path vs body namespace/kind, fill name from generateName, validate, require the namespace. */
export function prepare(
  store: SandboxStore,
  rt: ResourceType,
  p: ResourcePath,
  obj: KubeObject,
  forCreate: boolean,
  warnings: string[] = [],
  validation: FieldValidation = 'Warn',
): KubeObject {
  const expected = servedVersion(rt, p.version);
  const versionMismatch = () =>
    badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${expected})`);
  if (obj.kind && obj.kind !== rt.kind) throw versionMismatch();
  if (obj.apiVersion && obj.apiVersion !== expected) {
    const [g] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : [''];
    if (g !== rt.group) throw versionMismatch();
  }
  obj.apiVersion = expected;
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
  if (
    rt.namespaced &&
    p.namespace !== undefined &&
    !store.peek(store.resourceType('namespaces'), undefined, p.namespace)
  ) {
    throw namespaceNotFound(p.namespace);
  }
  if (forCreate) checkNamespaceAcceptsCreate(store, rt, p.namespace, obj.metadata.name);
  if (forCreate && !obj.metadata.name && obj.metadata.generateName)
    obj.metadata.name = `${obj.metadata.generateName}${randomSuffix()}`;
  const errors = validateObject(rt, obj);
  if (errors.length) throw invalid(rt.group, rt.kind, obj.metadata.name, errors);
  // Custom resources: pruned and validated against their CRD's schema.
  warnings.push(...validateCustomResource(store, rt, p.version, obj, validation));
  return obj;
}

/** The 400 for a write whose body names another object than its URL does. */
export function nameMismatch(bodyName: string, p: ResourcePath): ApiError {
  return badRequest(`the name of the object (${bodyName}) does not match the name on the URL (${p.name})`);
}
