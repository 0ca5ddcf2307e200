// The storage lifecycle rules of the sandbox store that are not about holding objects: the key of an
// object, when a write bumps metadata.generation, delete preconditions, the cascades a delete sets off
// (a namespace takes its contents, a CRD its custom resources and its kind, owners their dependents
// unless Orphan), and CRDs being valid and registering their kinds.
import type { KubeObject } from '../kube/objects.ts';
import { conflict, invalid } from './api-errors.ts';
import { clone, deepEqual } from './patch.ts';
import { type ResourceRegistry, type ResourceType, resourceTypeFromCrd } from './resource-types.ts';
import type { DeleteOptions, WriteOptions } from './store-types.ts';

export function objKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

/**
 * Fields outside metadata and status changed: the rule for bumping metadata.generation. Deployments
 * also count annotation changes (they are copied to ReplicaSets), as their strategy does; the
 * controller's own writes (the status strategy in Kubernetes) do not.
 */
export function specChanged(rt: ResourceType, a: KubeObject, b: KubeObject, annotationsCount: boolean): boolean {
  if (
    annotationsCount &&
    rt.group === 'apps' &&
    rt.plural === 'deployments' &&
    !deepEqual(a.metadata.annotations ?? {}, b.metadata.annotations ?? {})
  )
    return true;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    if (k === 'metadata' || k === 'status' || k === 'apiVersion' || k === 'kind') continue;
    if (!deepEqual(a[k], b[k])) return true;
  }
  return false;
}

/** A delete's preconditions (uid, resourceVersion) against the stored object: Conflict when one fails. */
export function checkPreconditions(
  rt: ResourceType,
  name: string,
  old: KubeObject,
  pre: DeleteOptions['preconditions'],
): void {
  if (pre?.uid && pre.uid !== old.metadata.uid) {
    throw conflict(
      rt,
      name,
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`,
    );
  }
  if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
    throw conflict(
      rt,
      name,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
    );
  }
}

/** What a cascade needs of the store (SandboxStore is one). */
export interface CascadeStore {
  readonly registry: ResourceRegistry;
  peek(rt: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined;
  scan(rt: ResourceType, namespace?: string): KubeObject[];
  update(rt: ResourceType, input: KubeObject, opts?: WriteOptions): KubeObject;
  remove(rt: ResourceType, namespace: string | undefined, name: string, opts?: DeleteOptions): KubeObject;
}

/** After `deleted` is gone: its namespace's contents, a CRD's objects and kind, and its dependents follow. */
export function cascade(
  store: CascadeStore,
  rt: ResourceType,
  deleted: KubeObject,
  policy: 'Foreground' | 'Background' | 'Orphan',
): void {
  if (rt.group === '' && rt.plural === 'namespaces') {
    for (const t of store.registry.all()) {
      if (!t.namespaced) continue;
      for (const o of store.scan(t, deleted.metadata.name)) {
        if (store.peek(t, o.metadata.namespace, o.metadata.name))
          store.remove(t, o.metadata.namespace, o.metadata.name, { propagationPolicy: 'Orphan' });
      }
    }
  }
  if (rt.group === 'apiextensions.k8s.io' && rt.plural === 'customresourcedefinitions') {
    const defined = resourceTypeFromCrd(deleted);
    if (typeof defined !== 'string') {
      const live = store.registry.byGroupResource(defined.group, defined.plural);
      if (live) {
        for (const o of store.scan(live))
          store.remove(live, o.metadata.namespace, o.metadata.name, { propagationPolicy: 'Orphan' });
        store.registry.remove(defined.group, defined.plural);
      }
    }
  }
  const uid = deleted.metadata.uid;
  if (!uid) return;
  for (const t of store.registry.all()) {
    for (const o of store.scan(t)) {
      const refs = o.metadata.ownerReferences ?? [];
      if (!refs.some((r) => r.uid === uid)) continue;
      if (policy === 'Orphan' || refs.length > 1) {
        const kept = clone(o);
        kept.metadata.ownerReferences = refs.filter((r) => r.uid !== uid);
        if (kept.metadata.ownerReferences.length === 0) delete kept.metadata.ownerReferences;
        store.update(t, { ...kept, metadata: { ...kept.metadata, resourceVersion: undefined } });
      } else if (store.peek(t, o.metadata.namespace, o.metadata.name)) {
        store.remove(t, o.metadata.namespace, o.metadata.name, { propagationPolicy: policy });
      }
    }
  }
}

/** A CustomResourceDefinition must define a valid kind; Invalid otherwise. Other kinds pass. */
export function checkCrd(rt: ResourceType, obj: KubeObject): void {
  if (rt.group !== 'apiextensions.k8s.io' || rt.plural !== 'customresourcedefinitions') return;
  const defined = resourceTypeFromCrd(obj);
  if (typeof defined === 'string') {
    throw invalid('apiextensions.k8s.io', 'CustomResourceDefinition', obj.metadata.name, [
      { type: 'FieldValueInvalid', field: 'spec', value: obj.metadata.name, detail: defined },
    ]);
  }
}

/** A stored CRD registers the kind it defines. */
export function registerDefinedKind(registry: ResourceRegistry, rt: ResourceType, obj: KubeObject): void {
  if (rt.group === 'apiextensions.k8s.io' && rt.plural === 'customresourcedefinitions') {
    const defined = resourceTypeFromCrd(obj);
    if (typeof defined !== 'string') registry.add(defined);
  }
}
