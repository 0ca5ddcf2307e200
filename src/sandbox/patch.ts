// Three of the PATCH bodies the API server accepts: RFC 6902 JSON patch, RFC 7386 merge patch, and
// Kubernetes strategic merge patch (list merge keys of the built-in types kubectl patches most).
// Server-side apply is field-manager.ts. Pure functions on plain JSON values; inputs are not mutated.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

export class PatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatchError';
  }
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function clone<T>(v: T): T {
  return v === undefined ? v : (structuredClone(v) as T);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

// ---------------------------------------------------------------- RFC 6902

export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: Json;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer "${pointer}"`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(token: string, length: number, forInsert: boolean): number {
  if (forInsert && token === '-') return length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(`invalid array index "${token}"`);
  const i = Number(token);
  if (i > length || (!forInsert && i === length)) throw new PatchError(`array index ${i} out of bounds`);
  return i;
}

function parentOf(doc: Json, tokens: string[], pointer: string): Json {
  let cur: Json = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(t, cur.length, false)] as Json;
    else if (isObject(cur) && Object.hasOwn(cur, t)) cur = cur[t] as Json;
    else throw new PatchError(`doc is missing path: "${pointer}"`);
  }
  return cur;
}

function getAt(doc: Json, pointer: string): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return doc;
  const parent = parentOf(doc, tokens, pointer);
  const last = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) return parent[arrayIndex(last, parent.length, false)] as Json;
  if (isObject(parent) && Object.hasOwn(parent, last)) return parent[last] as Json;
  throw new PatchError(`doc is missing path: "${pointer}"`);
}

function removeAt(doc: Json, pointer: string): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw new PatchError('cannot remove the whole document');
  const parent = parentOf(doc, tokens, pointer);
  const last = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) {
    const i = arrayIndex(last, parent.length, false);
    return parent.splice(i, 1)[0] as Json;
  }
  if (isObject(parent)) {
    // evanphx/json-patch v4 (what the API server uses) removes a missing member without complaint.
    const v = parent[last] as Json;
    delete parent[last];
    return v;
  }
  throw new PatchError(`doc is missing path: "${pointer}"`);
}

function addAt(doc: Json, pointer: string, value: Json, replace: boolean): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const parent = parentOf(doc, tokens, pointer);
  const last = tokens[tokens.length - 1] as string;
  if (Array.isArray(parent)) {
    const i = arrayIndex(last, parent.length, !replace);
    if (replace) parent[i] = value;
    else parent.splice(i, 0, value);
  } else if (isObject(parent)) {
    // A replace of a missing member adds it (evanphx/json-patch v4, as the API server behaves).
    parent[last] = value;
  } else {
    throw new PatchError(`doc is missing path: "${pointer}"`);
  }
  return doc;
}

/** Apply RFC 6902 operations. Throws PatchError when an operation does not apply (incl. a failed `test`). */
export function applyJsonPatch(target: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw new PatchError('json patch must be an array of operations');
  let doc = clone(target);
  for (const raw of ops) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string')
      throw new PatchError('invalid operation');
    const op = raw as unknown as JsonPatchOp;
    switch (op.op) {
      case 'add':
        if (!Object.hasOwn(raw, 'value')) throw new PatchError('add operation missing value');
        doc = addAt(doc, op.path, clone(op.value as Json), false);
        break;
      case 'replace':
        if (!Object.hasOwn(raw, 'value')) throw new PatchError('replace operation missing value');
        doc = addAt(doc, op.path, clone(op.value as Json), true);
        break;
      case 'remove':
        removeAt(doc, op.path);
        break;
      case 'move': {
        if (typeof op.from !== 'string') throw new PatchError('move operation missing from');
        getAt(doc, op.from); // the source must exist
        const v = removeAt(doc, op.from);
        doc = addAt(doc, op.path, v, false);
        break;
      }
      case 'copy': {
        if (typeof op.from !== 'string') throw new PatchError('copy operation missing from');
        doc = addAt(doc, op.path, clone(getAt(doc, op.from)), false);
        break;
      }
      case 'test': {
        let actual: Json | undefined;
        try {
          actual = getAt(doc, op.path);
        } catch {
          actual = undefined;
        }
        // A test for null passes on a missing member, as in evanphx/json-patch which Kubernetes uses.
        const expected = op.value ?? null;
        if (!(actual === undefined ? expected === null : deepEqual(actual, expected))) {
          throw new PatchError(`testing value ${op.path} failed: test failed`);
        }
        break;
      }
      default:
        throw new PatchError(`Unexpected kind: ${String((raw as { op: unknown }).op)}`);
    }
  }
  return doc;
}

// ---------------------------------------------------------------- RFC 7386

export function applyMergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const result: JsonObject = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else result[k] = applyMergePatch(result[k], v);
  }
  return result;
}

// ---------------------------------------------------------------- strategic merge patch

export const PRIMITIVE_MERGE = Symbol('primitive-merge');
type MergeKey = string | typeof PRIMITIVE_MERGE | undefined;

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);

/**
 * The patchMergeKey Kubernetes' Go types declare for a list field, by field name and where it sits.
 * Lists without one are replaced whole, as in Kubernetes.
 */
export function mergeKeyFor(field: string, path: readonly string[]): MergeKey {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'volumes':
    case 'env':
    case 'imagePullSecrets':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'volumeDevices':
      return 'devicePath';
    case 'ports':
      // Container ports merge on containerPort; Service ports on port.
      return path.some((p) => CONTAINER_LISTS.has(p)) ? 'containerPort' : 'port';
    case 'ownerReferences':
      return 'uid';
    case 'conditions':
      return 'type';
    case 'hostAliases':
      return 'ip';
    case 'topologySpreadConstraints':
      return 'topologyKey';
    case 'finalizers':
      return PRIMITIVE_MERGE;
    default:
      return undefined;
  }
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v))
    return v
      .filter((x) => !(isObject(x) && x.$patch !== undefined && Object.keys(x).length === 1))
      .map(stripDirectives);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$')) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}

function sameKey(a: Json | undefined, b: Json | undefined): boolean {
  return a !== undefined && b !== undefined && String(a) === String(b);
}

function mergeList(orig: Json | undefined, patch: Json[], key: MergeKey, path: string[]): Json[] {
  if (patch.some((x) => isObject(x) && x.$patch === 'replace')) return stripDirectives(patch) as Json[];
  const base: Json[] = Array.isArray(orig) ? clone(orig) : [];
  if (key === PRIMITIVE_MERGE) {
    for (const x of patch) if (!base.some((y) => deepEqual(x, y))) base.push(x);
    return base;
  }
  for (const item of patch) {
    if (!isObject(item) || key === undefined || !Object.hasOwn(item, key)) {
      base.push(stripDirectives(item));
      continue;
    }
    const idx = base.findIndex((x) => isObject(x) && sameKey(x[key], item[key]));
    if (item.$patch === 'delete') {
      if (idx >= 0) base.splice(idx, 1);
      continue;
    }
    if (idx >= 0) base[idx] = strategicMerge(base[idx], item, path) ?? (base[idx] as Json);
    else base.push(stripDirectives(item));
  }
  if (key === undefined) return base;
  return orderBy(
    base,
    patch.filter((x) => !(isObject(x) && x.$patch === 'delete')),
    key,
    Array.isArray(orig) ? orig : [],
  );
}

function indexIn(list: Json[], x: Json, key: MergeKey): number {
  return list.findIndex((o) =>
    key === undefined || key === PRIMITIVE_MERGE
      ? deepEqual(o, x)
      : isObject(o) && isObject(x) && sameKey(o[key], x[key]),
  );
}

/**
 * The order Kubernetes gives a merged list (apimachinery's normalizeElementOrder): items named in
 * `order` (the patch, or its $setElementOrder) in that order; the others in the live order; the
 * live-only items slotted in before the first patch item that the live list has after them.
 */
function orderBy(list: Json[], order: Json[], key: MergeKey, live: Json[] = list): Json[] {
  const inOrder = list
    .filter((x) => indexIn(order, x, key) >= 0)
    .sort((a, b) => indexIn(order, a, key) - indexIn(order, b, key));
  const liveOnly = list
    .filter((x) => indexIn(order, x, key) < 0)
    .sort((a, b) => indexIn(live, a, key) - indexIn(live, b, key));
  const out: Json[] = [];
  let i = 0;
  let j = 0;
  while (i < liveOnly.length || j < inOrder.length) {
    if (j >= inOrder.length) out.push(liveOnly[i++] as Json);
    else if (i >= liveOnly.length) out.push(inOrder[j++] as Json);
    else {
      const li = indexIn(live, liveOnly[i] as Json, key);
      const ri = indexIn(live, inOrder[j] as Json, key);
      if (li >= 0 && ri >= 0 && li < ri) out.push(liveOnly[i++] as Json);
      else out.push(inOrder[j++] as Json);
    }
  }
  return out;
}

/**
 * Apply a strategic merge patch: maps merge, `null` deletes, lists with a merge key merge element by
 * element, and the `$patch` (replace/delete/merge), `$retainKeys`, `$setElementOrder/<list>` and
 * `$deleteFromPrimitiveList/<list>` directives that kubectl sends are honoured. Returns undefined when
 * the patch deletes the map itself (`$patch: delete`).
 */
export function strategicMerge(orig: Json | undefined, patch: Json, path: string[] = []): Json | undefined {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === 'delete') return undefined;
  if (patch.$patch === 'replace') return stripDirectives(patch);
  const result: JsonObject = isObject(orig) ? clone(orig) : {};
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set(patch.$retainKeys.map(String));
    for (const k of Object.keys(result)) if (!keep.has(k)) delete result[k];
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) {
      delete result[k];
    } else if (Array.isArray(v)) {
      const key = mergeKeyFor(k, path);
      result[k] = key === undefined ? (stripDirectives(v) as Json[]) : mergeList(result[k], v, key, [...path, k]);
    } else if (isObject(v)) {
      const merged = strategicMerge(result[k], v, [...path, k]);
      if (merged === undefined) delete result[k];
      else result[k] = merged;
    } else {
      result[k] = v;
    }
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$deleteFromPrimitiveList/') && Array.isArray(v)) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = result[field];
      if (Array.isArray(cur)) result[field] = cur.filter((x) => !v.some((d) => deepEqual(d, x)));
    }
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$setElementOrder/') && Array.isArray(v)) {
      const field = k.slice('$setElementOrder/'.length);
      const cur = result[field];
      const liveList = isObject(orig) && Array.isArray(orig[field]) ? (orig[field] as Json[]) : cur;
      if (Array.isArray(cur))
        result[field] = orderBy(cur, v, mergeKeyFor(field, path), Array.isArray(liveList) ? liveList : cur);
    }
  }
  return result;
}
