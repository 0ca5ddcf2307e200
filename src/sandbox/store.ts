// The sandbox's object storage: one map per resource, a global resourceVersion counter, a bounded
// history of watch events, and the lifecycle rules that belong to storage rather than to HTTP
// (metadata filling, generation bumps, status subresource semantics, namespace and owner cascades,
// CRDs registering their kinds; the rules themselves are in store-lifecycle.ts). Stored objects are never
// mutated in place, so events can share them.
import { randomUUID } from 'node:crypto';
import type { KubeObject } from '../kube/objects.ts';
import { alreadyExists, ApiError, conflict, notFound } from './api-errors.ts';
import { atomicLists, builtinListTypes, type ListTypeOf, managedFieldsAfterUpdate } from './field-manager.ts';
import { clone, deepEqual } from './patch.ts';
import type { ResourceType } from './resource-types.ts';
import { groupResource, ResourceRegistry } from './resource-types.ts';
import { cascade, checkCrd, checkPreconditions, objKey, registerDefinedKind, specChanged } from './store-lifecycle.ts';
import type { DeleteOptions, StoreEvent, StoreOptions, WatchEventType, WriteOptions } from './store-types.ts';

export type { DeleteOptions, StoreEvent, StoreOptions, WatchEventType, WriteOptions } from './store-types.ts';

export type Admission = (rt: ResourceType, obj: KubeObject, old: KubeObject | undefined, store: SandboxStore) => void;

export class SandboxStore {
  readonly registry: ResourceRegistry;
  readonly now: () => Date;
  private readonly data = new Map<string, Map<string, KubeObject>>();
  private rv = 0;
  private readonly history: StoreEvent[] = [];
  private readonly historyLimit: number;
  private readonly listeners = new Set<(e: StoreEvent) => void>();
  private readonly admissions: Admission[] = [];

  constructor(opts: StoreOptions = {}) {
    this.registry = opts.registry ?? new ResourceRegistry();
    this.now = opts.now ?? (() => new Date());
    this.historyLimit = opts.historyLimit ?? 2000;
  }

  /** The current (latest) resourceVersion, as lists report it. */
  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Mutating hooks run on every create and update before storing (defaults, sidecar injection). */
  addAdmission(a: Admission): void {
    this.admissions.push(a);
  }

  subscribe(listener: (e: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Events after `rv`, or undefined when the history no longer reaches back that far. */
  eventsSince(rv: number): StoreEvent[] | undefined {
    if (rv >= this.rv) return [];
    const first = this.history[0];
    if (!first || first.rv > rv + 1) return undefined;
    return this.history.filter((e) => e.rv > rv);
  }

  /** The oldest resourceVersion a watch can resume from. */
  oldestResumableVersion(): number {
    const first = this.history[0];
    return first ? first.rv - 1 : this.rv;
  }

  // ------------------------------------------------------------ typed, internal access (no copies)

  private bucket(rt: ResourceType): Map<string, KubeObject> {
    const k = groupResource(rt);
    let b = this.data.get(k);
    if (!b) {
      b = new Map();
      this.data.set(k, b);
    }
    return b;
  }

  /** The stored object itself: callers must not mutate it. */
  peek(rt: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.bucket(rt).get(objKey(rt.namespaced ? namespace : undefined, name));
  }

  /** Stored objects of a resource, optionally in one namespace, sorted by namespace then name. Do not mutate. */
  scan(rt: ResourceType, namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const o of this.bucket(rt).values())
      if (namespace === undefined || o.metadata.namespace === namespace) out.push(o);
    // Byte order of the keys, as etcd returns them (not locale order: 'B' sorts before 'a').
    const key = (o: KubeObject) => objKey(o.metadata.namespace, o.metadata.name);
    return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  }

  private emit(type: WatchEventType, rt: ResourceType, object: KubeObject, old?: KubeObject): void {
    const e: StoreEvent = { type, rt, object, rv: Number(object.metadata.resourceVersion), ...(old ? { old } : {}) };
    this.history.push(e);
    if (this.history.length > this.historyLimit) this.history.splice(0, this.history.length - this.historyLimit);
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        // A failing watcher must not break writes; it is the watcher's job to report.
      }
    }
  }

  /** How lists of a resource merge and are owned (list-map keys), for field ownership. */
  listTypesOf(rt: ResourceType): ListTypeOf {
    return rt.custom ? (this.customListTypes?.(rt) ?? atomicLists) : builtinListTypes;
  }

  /** Set by the custom resource schemas (their x-kubernetes-list-type); custom lists are atomic otherwise. */
  customListTypes?: (rt: ResourceType) => ListTypeOf | undefined;

  /** Record the write in metadata.managedFields: the manager takes the fields it added or changed. */
  private stampManager(rt: ResourceType, obj: KubeObject, opts: WriteOptions, old?: KubeObject): void {
    if (opts.managedFields) {
      obj.metadata.managedFields = opts.managedFields;
      return;
    }
    if (!opts.manager) return;
    const who = {
      manager: opts.manager,
      operation: 'Update' as const,
      apiVersion: obj.apiVersion,
      time: this.timestamp(),
      ...(opts.subresource ? { subresource: opts.subresource } : {}),
    };
    const fields = managedFieldsAfterUpdate(old, obj, who, {
      listTypeOf: this.listTypesOf(rt),
      hasStatus: rt.subresources.includes('status'),
    });
    if (fields.length) obj.metadata.managedFields = fields;
    else delete obj.metadata.managedFields;
  }

  private runAdmission(rt: ResourceType, obj: KubeObject, old: KubeObject | undefined): void {
    for (const a of this.admissions) a(rt, obj, old, this);
  }

  private timestamp(): string {
    return this.now()
      .toISOString()
      .replace(/\.\d+Z$/, 'Z');
  }

  /** Create; AlreadyExists if present. The input is copied; the stored (or would-be, for dryRun) object is returned. */
  create(rt: ResourceType, input: KubeObject, opts: WriteOptions = {}): KubeObject {
    const obj = clone(input);
    obj.kind = rt.kind;
    if (!rt.namespaced) delete obj.metadata.namespace;
    if (this.peek(rt, obj.metadata.namespace, obj.metadata.name)) throw alreadyExists(rt, obj.metadata.name);
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = this.timestamp();
    // Only kinds whose strategy keeps a generation get one (Deployments, CRDs, custom resources...).
    if (rt.generation) obj.metadata.generation = 1;
    delete obj.metadata.resourceVersion;
    delete obj.metadata.deletionTimestamp;
    this.runAdmission(rt, obj, undefined);
    checkCrd(rt, obj);
    this.stampManager(rt, obj, opts);
    if (opts.dryRun) return obj;
    obj.metadata.resourceVersion = String(++this.rv);
    this.bucket(rt).set(objKey(obj.metadata.namespace, obj.metadata.name), obj);
    registerDefinedKind(this.registry, rt, obj);
    this.emit('ADDED', rt, obj);
    return clone(obj);
  }

  /**
   * Update (PUT semantics): NotFound if absent, Conflict if metadata.resourceVersion is set and stale.
   * System fields (uid, creationTimestamp) are kept from the stored object.
   */
  update(rt: ResourceType, input: KubeObject, opts: WriteOptions = {}): KubeObject {
    const ns = rt.namespaced ? input.metadata.namespace : undefined;
    const old = this.peek(rt, ns, input.metadata.name);
    if (!old) throw notFound(rt, input.metadata.name);
    const want = input.metadata.resourceVersion;
    if (want !== undefined && want !== '' && want !== old.metadata.resourceVersion)
      throw conflict(rt, input.metadata.name);
    let obj = clone(input);
    obj.kind = rt.kind;
    if (opts.subresource === 'status') {
      obj = { ...clone(old), status: clone(input.status) };
    } else if (rt.subresources.includes('status') && !opts.wholeObject) {
      if (old.status === undefined) delete obj.status;
      else obj.status = clone(old.status);
    }
    if (!rt.namespaced) delete obj.metadata.namespace;
    else obj.metadata.namespace = ns;
    obj.metadata.uid = old.metadata.uid;
    obj.metadata.creationTimestamp = old.metadata.creationTimestamp;
    if (old.metadata.deletionTimestamp) obj.metadata.deletionTimestamp = old.metadata.deletionTimestamp;
    if (input.metadata.managedFields === undefined && old.metadata.managedFields)
      obj.metadata.managedFields = clone(old.metadata.managedFields);
    this.runAdmission(rt, obj, old);
    // Requests cannot set the generation; the strategy bumps it when the spec changes.
    if (rt.generation)
      obj.metadata.generation = (old.metadata.generation ?? 1) + (specChanged(rt, old, obj, !opts.wholeObject) ? 1 : 0);
    else if (old.metadata.generation !== undefined) obj.metadata.generation = old.metadata.generation;
    else delete obj.metadata.generation;
    checkCrd(rt, obj);
    this.stampManager(rt, obj, opts, old);
    if (opts.dryRun) {
      obj.metadata.resourceVersion = old.metadata.resourceVersion;
      return obj;
    }
    // An update that changes nothing is a no-op in Kubernetes: same resourceVersion, no event.
    // (A change of field ownership alone is a change; an unchanged claim keeps its time.)
    const candidate = { ...obj, metadata: { ...obj.metadata, resourceVersion: old.metadata.resourceVersion } };
    if (deepEqual(candidate, old)) return clone(old);
    obj.metadata.resourceVersion = String(++this.rv);
    this.bucket(rt).set(objKey(obj.metadata.namespace, obj.metadata.name), obj);
    registerDefinedKind(this.registry, rt, obj);
    this.emit('MODIFIED', rt, obj, old);
    return clone(obj);
  }

  /** Delete with cascades: a namespace takes its contents, owners take dependents (unless Orphan). */
  remove(rt: ResourceType, namespace: string | undefined, name: string, opts: DeleteOptions = {}): KubeObject {
    const ns = rt.namespaced ? namespace : undefined;
    const old = this.peek(rt, ns, name);
    if (!old) throw notFound(rt, name);
    checkPreconditions(rt, name, old, opts.preconditions);
    const gone = clone(old);
    gone.metadata.deletionTimestamp = this.timestamp();
    if (rt.group === '' && rt.plural === 'namespaces')
      gone.status = { ...(gone.status as object), phase: 'Terminating' };
    if (opts.dryRun) return gone;
    this.bucket(rt).delete(objKey(ns, name));
    gone.metadata.resourceVersion = String(++this.rv);
    // The object as it was before the delete rides along, so a list can be rebuilt as of an older version.
    this.emit('DELETED', rt, gone, old);
    cascade(this, rt, old, opts.propagationPolicy ?? 'Background');
    return clone(gone);
  }

  // ------------------------------------------------------------ convenience API for tests and seeds

  /** Resolve a Kind, plural or short name (optionally `.group`-qualified), or an apiVersion+kind pair. */
  resourceType(kindOrResource: string, apiVersion?: string): ResourceType {
    const rt = apiVersion
      ? this.registry.byApiVersionKind(apiVersion, kindOrResource)
      : this.registry.resolve(kindOrResource);
    if (!rt) throw new ApiError(404, 'NotFound', `the server doesn't have a resource type "${kindOrResource}"`, {});
    return rt;
  }

  /** A copy of one object, or undefined. */
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.peek(this.resourceType(kind), namespace, name);
    return o ? clone(o) : undefined;
  }

  /** Copies of all objects of a kind, optionally in one namespace. */
  list(kind: string, namespace?: string): KubeObject[] {
    return this.scan(this.resourceType(kind), namespace).map((o) => clone(o));
  }

  /** Every stored object (copies), for snapshots. */
  all(): KubeObject[] {
    const out: KubeObject[] = [];
    for (const t of this.registry.all()) for (const o of this.scan(t)) out.push(clone(o));
    return out;
  }

  /** Create or replace, without conflict checks or status rules: for seeds and tests. */
  put(obj: KubeObject): KubeObject {
    const rt = this.resourceType(obj.kind, obj.apiVersion);
    const existing = this.peek(rt, obj.metadata.namespace, obj.metadata.name);
    if (!existing) {
      const created = this.create(rt, obj);
      // Seeds may carry their own uid/creationTimestamp (fixtures that pin them).
      if (obj.metadata.uid || obj.metadata.creationTimestamp) {
        const fixed = clone(this.peek(rt, created.metadata.namespace, created.metadata.name) as KubeObject);
        if (obj.metadata.uid) fixed.metadata.uid = obj.metadata.uid;
        if (obj.metadata.creationTimestamp) fixed.metadata.creationTimestamp = obj.metadata.creationTimestamp;
        this.bucket(rt).set(objKey(fixed.metadata.namespace, fixed.metadata.name), fixed);
        return clone(fixed);
      }
      return created;
    }
    const next = clone(obj);
    delete next.metadata.resourceVersion;
    return this.update(rt, next, { wholeObject: true });
  }

  delete(kind: string, namespace: string | undefined, name: string, opts: DeleteOptions = {}): KubeObject | undefined {
    const rt = this.resourceType(kind);
    if (!this.peek(rt, namespace, name)) return undefined;
    return this.remove(rt, namespace, name, opts);
  }
}
