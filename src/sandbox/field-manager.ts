// Field ownership as the API server keeps it in metadata.managedFields (structured-merge-diff):
// each manager (name + operation Apply/Update, + subresource) owns a set of field paths, written as
// FieldsV1 (`f:<field>`, `k:<list-map key>`, `v:<set value>`, `.` for "this node too").
//
// - Update (create, PUT, JSON/merge/strategic patch): the writer takes the fields it added or changed;
//   other managers lose them (updates always win) and lose what was removed.
// - Apply: the applier owns exactly the fields of its configuration; a changed value owned by another
//   manager is a conflict (409) unless force=true moves it; fields the applier owned before, no longer
//   applies and nobody else owns are removed from the object.
import type { KubeObject, ManagedFieldsEntry } from '../kube/objects.ts';
import { ApiError } from './api-errors.ts';
import { type ListTypeOf, mergeApplied } from './apply-merge.ts';
import {
  diff,
  fromFieldsV1,
  isUnder,
  type Paths,
  pathString,
  removeAt,
  setsEqual,
  split,
  toFieldsV1,
  trackedPaths,
  without,
} from './fields-v1.ts';
import { clone, type Json, mergeKeyFor, PRIMITIVE_MERGE } from './patch.ts';

export type { ListType, ListTypeOf } from './apply-merge.ts';
export { fromFieldsV1, pathString, toFieldsV1, trackedPaths } from './fields-v1.ts';

/** Built-in kinds: the list-map keys of their Go types (the strategic-merge keys), sets for finalizers. */
export const builtinListTypes: ListTypeOf = (names) => {
  const field = names[names.length - 1];
  if (field === undefined) return { type: 'atomic' };
  const key = mergeKeyFor(field, names.slice(0, -1));
  if (key === PRIMITIVE_MERGE) return { type: 'set' };
  return key === undefined ? { type: 'atomic' } : { type: 'map', keys: [key] };
};

export const atomicLists: ListTypeOf = () => ({ type: 'atomic' });

export interface Manager {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource?: string;
  time: string;
}

// ------------------------------------------------------------ the managers of an object

interface Owner {
  entry: Manager;
  paths: Paths;
}

function identity(m: Pick<Manager, 'manager' | 'operation' | 'subresource' | 'apiVersion'>): string {
  // Appliers are one manager whatever version they apply in; updaters are per version.
  return JSON.stringify([m.manager, m.operation, m.operation === 'Apply' ? '' : m.apiVersion, m.subresource ?? '']);
}

function owners(obj: KubeObject | undefined): Owner[] {
  return (obj?.metadata.managedFields ?? []).map((m) => {
    const e = m as ManagedFieldsEntry & { apiVersion?: string; subresource?: string; fieldsV1?: unknown };
    return {
      entry: {
        manager: e.manager ?? '',
        operation: e.operation === 'Apply' ? 'Apply' : 'Update',
        apiVersion: e.apiVersion ?? '',
        ...(e.subresource ? { subresource: e.subresource } : {}),
        time: e.time ?? '',
      },
      paths: fromFieldsV1(e.fieldsV1),
    };
  });
}

function encode(list: Owner[]): ManagedFieldsEntry[] {
  const kept = list.filter((o) => o.paths.size > 0);
  kept.sort((p, q) => {
    const a = p.entry;
    const b = q.entry;
    if (a.operation !== b.operation) return a.operation < b.operation ? -1 : 1;
    const ta = Date.parse(a.time) || 0;
    const tb = Date.parse(b.time) || 0;
    if (Math.floor(ta / 1000) !== Math.floor(tb / 1000)) return ta - tb;
    if (a.manager !== b.manager) return a.manager < b.manager ? -1 : 1;
    if (a.apiVersion !== b.apiVersion) return a.apiVersion < b.apiVersion ? -1 : 1;
    return (a.subresource ?? '') < (b.subresource ?? '') ? -1 : 1;
  });
  return kept.map((o) => ({
    manager: o.entry.manager,
    operation: o.entry.operation,
    apiVersion: o.entry.apiVersion,
    time: o.entry.time,
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(o.paths),
    ...(o.entry.subresource ? { subresource: o.entry.subresource } : {}),
  })) as ManagedFieldsEntry[];
}

export interface TrackOptions {
  listTypeOf: ListTypeOf;
  hasStatus: boolean;
}

/** managedFields after an Update by `who` from `old` (undefined on create) to `next`. */
export function managedFieldsAfterUpdate(
  old: KubeObject | undefined,
  next: KubeObject,
  who: Manager,
  opts: TrackOptions,
): ManagedFieldsEntry[] {
  const scope = { hasStatus: opts.hasStatus, ...(who.subresource ? { subresource: who.subresource } : {}) };
  const oldPaths = old ? trackedPaths(old, opts.listTypeOf, scope) : new Set<string>();
  const newPaths = trackedPaths(next, opts.listTypeOf, scope);
  const { changed, removed } = diff(oldPaths, newPaths, (old ?? {}) as unknown as Json, next as unknown as Json);
  const list = owners(old ?? next);
  const id = identity(who);
  for (const o of list) if (identity(o.entry) !== id) o.paths = without(without(o.paths, changed), removed);
  let mine = list.find((o) => identity(o.entry) === id);
  const before = mine ? new Set(mine.paths) : new Set<string>();
  if (!mine) {
    mine = { entry: who, paths: new Set() };
    list.push(mine);
  }
  mine.paths = without(new Set([...mine.paths, ...changed]), removed);
  // An unchanged claim keeps its time (no new write is recorded for it).
  mine.entry = { ...who, time: setsEqual(before, mine.paths) && mine.entry.time ? mine.entry.time : who.time };
  return encode(list);
}

/**
 * An applied configuration of another kind than the resource: the API server fails the merge of two
 * differently typed values (a 500 without a reason; its message prints Go pointers, so ours differs).
 */
export function applyKindMismatch(expected: string, got: string): ApiError {
  const e = new ApiError(
    500,
    '',
    `failed to merge config: expected objects of the same type, but got ${expected} and ${got}`,
  );
  delete (e.status as { reason?: string }).reason;
  return e;
}

/** The 409 an apply gets when it would change fields other managers own. */
export function applyConflict(conflicts: { owner: Manager; path: string }[]): ApiError {
  const who = (m: Manager) => {
    let s = JSON.stringify(m.manager);
    if (m.subresource) s += ` with subresource ${JSON.stringify(m.subresource)}`;
    if (m.operation === 'Update') s += ` using ${m.apiVersion}`;
    return s;
  };
  const causes = conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${who(c.owner)}`,
    field: pathString(c.path),
  }));
  let message: string;
  const first = conflicts[0];
  if (conflicts.length === 1 && first)
    message = `Apply failed with 1 conflict: conflict with ${who(first.owner)}: ${pathString(first.path)}`;
  else {
    const lines: string[] = [];
    const byOwner = new Map<string, { owner: Manager; paths: string[] }>();
    for (const c of conflicts) {
      const k = identity(c.owner);
      const g = byOwner.get(k) ?? { owner: c.owner, paths: [] };
      g.paths.push(c.path);
      byOwner.set(k, g);
    }
    for (const k of [...byOwner.keys()].sort()) {
      const g = byOwner.get(k) as { owner: Manager; paths: string[] };
      lines.push(`conflicts with ${who(g.owner)}:`, ...g.paths.map((p) => `- ${pathString(p)}`));
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, { causes });
}

/**
 * Server-side apply of `config` by `who` over `live` (undefined: the object does not exist yet).
 * Returns the object to store and its managedFields; throws the apply conflict unless `force`.
 */
export function serverSideApply(
  live: KubeObject | undefined,
  config: KubeObject,
  who: Manager,
  force: boolean,
  opts: TrackOptions,
): { object: KubeObject; managedFields: ManagedFieldsEntry[] } {
  const scope = { hasStatus: opts.hasStatus, ...(who.subresource ? { subresource: who.subresource } : {}) };
  const list = owners(live);
  const id = identity(who);
  const last = list.find((o) => identity(o.entry) === id)?.paths ?? new Set<string>();
  const applied = trackedPaths(config, opts.listTypeOf, scope);
  const merged = mergeApplied(
    live ? (clone(live) as unknown as Json) : {},
    config as unknown as Json,
    opts.listTypeOf,
  ) as unknown as KubeObject;
  // Prune what this applier used to own, no longer applies, and nobody else owns.
  const owned = new Set<string>(applied);
  for (const o of list) if (identity(o.entry) !== id) for (const p of o.paths) owned.add(p);
  const ownedKeys = [...owned];
  for (const p of [...last].sort((a, b) => split(a).length - split(b).length)) {
    if (owned.has(p) || ownedKeys.some((q) => isUnder(q, p))) continue;
    removeAt(merged as unknown as Json, p);
  }
  const livePaths = live ? trackedPaths(live, opts.listTypeOf, scope) : new Set<string>();
  const mergedPaths = trackedPaths(merged, opts.listTypeOf, scope);
  const { changed, removed } = diff(livePaths, mergedPaths, (live ?? {}) as unknown as Json, merged as unknown as Json);
  const conflicts: { owner: Manager; path: string }[] = [];
  for (const o of list) {
    if (identity(o.entry) === id) continue;
    for (const p of [...o.paths].sort()) if (changed.has(p)) conflicts.push({ owner: o.entry, path: p });
  }
  if (conflicts.length && !force) throw applyConflict(conflicts);
  for (const o of list) if (identity(o.entry) !== id) o.paths = without(without(o.paths, changed), removed);
  const mine = list.find((o) => identity(o.entry) === id);
  if (mine) {
    mine.entry = { ...who, time: setsEqual(mine.paths, applied) && mine.entry.time ? mine.entry.time : who.time };
    mine.paths = applied;
  } else list.push({ entry: who, paths: applied });
  return { object: merged, managedFields: encode(list) };
}
