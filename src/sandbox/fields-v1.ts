// Field paths as structured-merge-diff keeps them for managedFields: a path is a list of FieldsV1
// elements (`f:<field>`, `k:<list-map key>`, `v:<set value>`, `i:<index>`), a set of paths is what one
// manager owns. The paths an object sets, their FieldsV1 form both ways, how Kubernetes prints them,
// what changed between two versions, and removing a path from a document.
import type { KubeObject } from '../kube/objects.ts';
import type { ListTypeOf } from './apply-merge.ts';
import { deepEqual, isObject, type Json } from './patch.ts';

type JsonObject = { [k: string]: Json };

// A field path is a list of FieldsV1 elements; sets hold paths joined by SEP.
const SEP = '\u0000';
export type Paths = Set<string>;

function join(path: readonly string[]): string {
  return path.join(SEP);
}

export function split(key: string): string[] {
  return key === '' ? [] : key.split(SEP);
}

export function isUnder(key: string, prefix: string): boolean {
  return key.startsWith(prefix + SEP);
}

function keyElement(item: Json, keys: string[]): string | undefined {
  if (!isObject(item)) return undefined;
  const k: JsonObject = {};
  for (const f of keys) {
    if (item[f] === undefined) return undefined;
    k[f] = item[f] as Json;
  }
  return `k:${JSON.stringify(k)}`;
}

/** Every field path a value sets, below `at` (the root itself is not included). */
function fieldPaths(
  v: Json,
  listTypeOf: ListTypeOf,
  at: string[] = [],
  names: string[] = [],
  out: Paths = new Set(),
): Paths {
  if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      const p = [...at, `f:${k}`];
      if (x === null || !isObject(x) || Object.keys(x).length === 0) {
        if (Array.isArray(x)) listPaths(x, listTypeOf, p, [...names, k], out);
        else out.add(join(p));
      } else {
        fieldPaths(x, listTypeOf, p, [...names, k], out);
      }
    }
  }
  return out;
}

function listPaths(list: Json[], listTypeOf: ListTypeOf, at: string[], names: string[], out: Paths): void {
  const lt = listTypeOf(names);
  if (lt.type === 'atomic' || list.length === 0) {
    out.add(join(at));
    return;
  }
  for (const item of list) {
    if (lt.type === 'set') {
      out.add(join([...at, `v:${JSON.stringify(item)}`]));
      continue;
    }
    const el = keyElement(item, lt.keys);
    if (el === undefined) {
      out.add(join(at));
      continue;
    }
    out.add(join([...at, el]));
    fieldPaths(item, listTypeOf, [...at, el], names, out);
  }
}

/** Paths of an object that managedFields track (not apiVersion/kind/identity metadata; status per subresource). */
export function trackedPaths(
  obj: KubeObject,
  listTypeOf: ListTypeOf,
  opts: { subresource?: string; hasStatus: boolean },
): Paths {
  const all = fieldPaths(obj as unknown as Json, listTypeOf);
  const ignoredMeta = [
    'name',
    'namespace',
    'creationTimestamp',
    'selfLink',
    'uid',
    'generation',
    'managedFields',
    'resourceVersion',
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
  ];
  const out: Paths = new Set();
  for (const p of all) {
    const [top, second] = split(p);
    if (top === 'f:apiVersion' || top === 'f:kind') continue;
    if (top === 'f:metadata' && second !== undefined && ignoredMeta.includes(second.slice(2))) continue;
    if (opts.subresource === 'status' ? top !== 'f:status' : opts.hasStatus && top === 'f:status') continue;
    out.add(p);
  }
  return out;
}

/** A set's FieldsV1 form. */
export function toFieldsV1(paths: Paths): JsonObject {
  const root: JsonObject = {};
  for (const p of [...paths].sort()) {
    let node = root;
    for (const el of split(p)) {
      if (!isObject(node[el])) node[el] = {};
      node = node[el] as JsonObject;
    }
  }
  // A member with children says so with '.'.
  const mark = (node: JsonObject, at: string) => {
    for (const [k, child] of Object.entries(node)) {
      if (k === '.' || !isObject(child)) continue;
      const here = at === '' ? k : `${at}${SEP}${k}`;
      if (Object.keys(child).length > 0 && paths.has(here)) child['.'] = {};
      mark(child, here);
    }
  };
  mark(root, '');
  return root;
}

export function fromFieldsV1(v: unknown, at: string[] = [], out: Paths = new Set()): Paths {
  if (!isObject(v)) return out;
  for (const [k, child] of Object.entries(v)) {
    if (k === '.') {
      out.add(join(at));
      continue;
    }
    if (isObject(child) && Object.keys(child).length > 0) fromFieldsV1(child, [...at, k], out);
    else out.add(join([...at, k]));
  }
  return out;
}

/** A path as Kubernetes prints it in conflicts: `.spec.containers[name="c"].image`. */
export function pathString(key: string): string {
  return split(key)
    .map((el) => {
      const body = el.slice(2);
      if (el.startsWith('f:')) return `.${body}`;
      if (el.startsWith('k:')) {
        const k = JSON.parse(body) as JsonObject;
        return `[${Object.entries(k)
          .map(([f, x]) => `${f}=${JSON.stringify(x)}`)
          .join(',')}]`;
      }
      if (el.startsWith('v:')) return `[=${body}]`;
      return `[${body}]`;
    })
    .join('');
}

/** Added-or-changed and removed paths between two versions of an object. */
export function diff(oldPaths: Paths, newPaths: Paths, oldObj: Json, newObj: Json): { changed: Paths; removed: Paths } {
  const changed: Paths = new Set();
  const removed: Paths = new Set();
  // A node with children (a list-map item) changes through its children; only leaves compare by value.
  const parents = new Set<string>();
  for (const p of newPaths) {
    const els = split(p);
    for (let i = 1; i < els.length; i++) parents.add(join(els.slice(0, i)));
  }
  for (const p of newPaths)
    if (!oldPaths.has(p) || (!parents.has(p) && !deepEqual(valueAt(oldObj, p), valueAt(newObj, p)))) changed.add(p);
  for (const p of oldPaths) if (!newPaths.has(p)) removed.add(p);
  return { changed, removed };
}

function valueAt(doc: Json, key: string): Json | undefined {
  let cur: Json | undefined = doc;
  for (const el of split(key)) {
    if (cur === undefined) return undefined;
    const body = el.slice(2);
    if (el.startsWith('f:')) cur = isObject(cur) ? cur[body] : undefined;
    else if (el.startsWith('k:')) {
      const k = JSON.parse(body) as JsonObject;
      cur = Array.isArray(cur)
        ? cur.find((x) => isObject(x) && Object.entries(k).every(([f, v]) => deepEqual(x[f], v)))
        : undefined;
    } else if (el.startsWith('v:')) {
      const v = JSON.parse(body) as Json;
      cur = Array.isArray(cur) && cur.some((x) => deepEqual(x, v)) ? v : undefined;
    } else cur = Array.isArray(cur) ? cur[Number(body)] : undefined;
  }
  return cur;
}

export function removeAt(doc: Json, key: string): void {
  const path = split(key);
  const last = path.pop();
  if (last === undefined) return;
  const parent = valueAt(doc, join(path));
  const body = last.slice(2);
  if (last.startsWith('f:') && isObject(parent)) delete parent[body];
  else if (Array.isArray(parent)) {
    let idx = -1;
    if (last.startsWith('i:')) idx = Number(body);
    else if (last.startsWith('k:')) {
      const k = JSON.parse(body) as JsonObject;
      idx = parent.findIndex((x) => isObject(x) && Object.entries(k).every(([f, v]) => deepEqual(x[f], v)));
    } else if (last.startsWith('v:')) {
      const v = JSON.parse(body) as Json;
      idx = parent.findIndex((x) => deepEqual(x, v));
    }
    if (idx >= 0 && idx < parent.length) parent.splice(idx, 1);
  }
}

export function without(paths: Paths, drop: Paths): Paths {
  const out: Paths = new Set();
  for (const p of paths) if (!drop.has(p) && ![...drop].some((d) => isUnder(p, d))) out.add(p);
  return out;
}

export function setsEqual(a: Paths, b: Paths): boolean {
  return a.size === b.size && [...a].every((p) => b.has(p));
}
