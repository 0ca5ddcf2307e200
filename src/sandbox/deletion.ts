// DELETE as kube-apiserver answers it: NotFound, then admission (NamespaceLifecycle keeps default,
// kube-system and kube-public), then preconditions (rest.BeforeDelete's wording), then one of
//   - a namespace: marked Terminating (deletionTimestamp, phase) and left to the namespace controller;
//   - a scheduled pod with a grace period: marked (deletionTimestamp = now + grace) for the kubelet;
//   - an object with finalizers: marked, removed once its finalizers are gone;
//   - anything else: removed at once.
// The answer is the object for registries with ReturnDeletedObject (pods, services, service accounts,
// namespaces, ...) or while the object lingers, and a Status {Success, details{name, group, kind, uid}}
// otherwise. dryRun changes nothing and answers the same. Also the create-side half of
// NamespaceLifecycle: no new objects in a Terminating namespace.
import type { KubeObject } from '../kube/objects.ts';
import { ApiError, conflict, notFound } from './api-errors.ts';
import { clone } from './patch.ts';
import type { ResourceType } from './resource-types.ts';
import { groupResource } from './resource-types.ts';
import type { DeleteOptions, SandboxStore } from './store.ts';

export const IMMORTAL_NAMESPACES: readonly string[] = ['default', 'kube-system', 'kube-public'];

/** Registries whose DELETE answers with the deleted object rather than a Status. */
const RETURNS_DELETED_OBJECT = new Set([
  '/pods',
  '/services',
  '/serviceaccounts',
  '/namespaces',
  'storage.k8s.io/storageclasses',
  'policy/podsecuritypolicies',
]);

const isNamespaces = (rt: ResourceType) => rt.group === '' && rt.plural === 'namespaces';
const isPods = (rt: ResourceType) => rt.group === '' && rt.plural === 'pods';

/** `<resource> "<name>" is forbidden: <why>`, as admission plugins build it. */
export function admissionForbidden(rt: Pick<ResourceType, 'group' | 'plural'>, name: string, why: string): ApiError {
  const head = name ? `${groupResource(rt)} "${name}"` : groupResource(rt);
  return new ApiError(403, 'Forbidden', `${head} is forbidden: ${why}`, {
    ...(name ? { name } : {}),
    ...(rt.group ? { group: rt.group } : {}),
    kind: rt.plural,
  });
}

/**
 * NamespaceLifecycle for creates: a namespaced object may not be created in a namespace that is
 * being terminated (access reviews excepted). Call once the namespace is known to exist.
 */
export function checkNamespaceAcceptsCreate(
  store: SandboxStore,
  rt: ResourceType,
  namespace: string | undefined,
  name: string,
): void {
  if (!rt.namespaced || namespace === undefined || rt.group === 'authorization.k8s.io') return;
  const ns = store.peek(store.resourceType('namespaces'), undefined, namespace);
  if ((ns?.status as { phase?: string } | undefined)?.phase !== 'Terminating') return;
  const err = admissionForbidden(
    rt,
    name,
    `unable to create new content in namespace ${namespace} because it is being terminated`,
  );
  err.status.details = {
    ...err.status.details,
    causes: [
      {
        reason: 'NamespaceTerminating',
        message: `namespace ${namespace} is being terminated`,
        field: 'metadata.namespace',
      },
    ],
  };
  throw err;
}

export interface DeleteRequest extends DeleteOptions {
  gracePeriodSeconds?: number;
  orphanDependents?: boolean;
}

export interface DeleteOutcome {
  code: number;
  body: unknown;
  /** True when the object left storage (false while it lingers, and for dry runs). */
  removed: boolean;
}

function successStatus(rt: ResourceType, obj: KubeObject): object {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: {
      name: obj.metadata.name,
      ...(rt.group ? { group: rt.group } : {}),
      kind: rt.plural,
      uid: obj.metadata.uid,
    },
  };
}

function checkPreconditions(rt: ResourceType, obj: KubeObject, pre: DeleteOptions['preconditions']): void {
  // rest.BeforeDelete names the kind (not the resource) in these conflicts.
  const byKind = { group: rt.group, plural: rt.kind };
  if (pre?.uid && pre.uid !== obj.metadata.uid) {
    const err = conflict(
      byKind,
      obj.metadata.name,
      `the UID in the precondition (${pre.uid}) does not match the UID in record (${obj.metadata.uid}). The object might have been deleted and then recreated`,
    );
    throw err;
  }
  if (pre?.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion) {
    throw conflict(
      byKind,
      obj.metadata.name,
      `the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${obj.metadata.resourceVersion}). The object might have been modified`,
    );
  }
}

function timestamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Store a marked (still present) object, or return the would-be object for a dry run. */
function mark(store: SandboxStore, rt: ResourceType, next: KubeObject, dryRun: boolean): KubeObject {
  if (dryRun) return next;
  const { resourceVersion: _rv, ...meta } = next.metadata;
  return store.update(rt, { ...next, metadata: meta as KubeObject['metadata'] }, { wholeObject: true });
}

export function deleteObject(
  store: SandboxStore,
  rt: ResourceType,
  namespace: string | undefined,
  name: string,
  req: DeleteRequest,
): DeleteOutcome {
  const current = store.peek(rt, rt.namespaced ? namespace : undefined, name);
  if (!current) throw notFound(rt, name);
  if (isNamespaces(rt) && IMMORTAL_NAMESPACES.includes(name))
    throw admissionForbidden(rt, name, 'this namespace may not be deleted');
  const dryRun = req.dryRun === true;
  if (isNamespaces(rt)) {
    const pre = req.preconditions;
    // The namespace registry's own precondition check, with the storage layer's wording.
    if (pre?.uid && pre.uid !== current.metadata.uid)
      throw conflict(
        rt,
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`,
      );
    if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(
        rt,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
      );
    }
    if (current.metadata.deletionTimestamp) return { code: 200, body: clone(current), removed: false };
    const next = clone(current);
    next.metadata.deletionTimestamp = timestamp(store.now());
    next.status = { ...(next.status as object), phase: 'Terminating' };
    const policy =
      req.propagationPolicy ??
      (req.orphanDependents === true ? 'Orphan' : req.orphanDependents === false ? 'Background' : undefined);
    const finalizers = new Set(next.metadata.finalizers ?? []);
    if (policy === 'Orphan') finalizers.add('orphan');
    if (policy === 'Foreground') finalizers.add('foregroundDeletion');
    if (finalizers.size) next.metadata.finalizers = [...finalizers];
    return { code: 200, body: mark(store, rt, next, dryRun), removed: false };
  }
  checkPreconditions(rt, current, req.preconditions);
  if (current.metadata.deletionTimestamp) {
    // Already on its way out: the object as it is (a shorter grace period is not modelled).
    return { code: 200, body: clone(current), removed: false };
  }
  if (isPods(rt)) {
    const spec = (current.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
    const phase = (current.status as { phase?: string } | undefined)?.phase;
    let grace = req.gracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30;
    if (!spec.nodeName || phase === 'Failed' || phase === 'Succeeded') grace = 0;
    if (grace < 0) grace = 1;
    if (grace > 0) {
      const next = clone(current);
      next.metadata.deletionTimestamp = timestamp(new Date(store.now().getTime() + grace * 1000));
      (next.metadata as unknown as Record<string, unknown>).deletionGracePeriodSeconds = grace;
      return { code: 200, body: mark(store, rt, next, dryRun), removed: false };
    }
  }
  if ((current.metadata.finalizers ?? []).length > 0) {
    const next = clone(current);
    next.metadata.deletionTimestamp = timestamp(store.now());
    (next.metadata as unknown as Record<string, unknown>).deletionGracePeriodSeconds = 0;
    const accepted = req.orphanDependents === false;
    return { code: accepted ? 202 : 200, body: mark(store, rt, next, dryRun), removed: false };
  }
  const before = clone(current);
  if (!dryRun)
    store.remove(rt, namespace, name, {
      ...(req.propagationPolicy ? { propagationPolicy: req.propagationPolicy } : {}),
    });
  const body = RETURNS_DELETED_OBJECT.has(`${rt.group}/${rt.plural}`) ? before : successStatus(rt, before);
  return { code: 200, body, removed: !dryRun };
}
