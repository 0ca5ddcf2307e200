// The merge step of server-side apply (structured-merge-diff's merge): the applied configuration
// over the live object. Maps merge key by key; lists merge as their list type says: by key fields
// (list-map), as a set of scalars, or replaced whole (atomic). Merged list order is the live order
// with the configuration's order for shared items, and new items after the live item they follow.
import { clone, deepEqual, isObject, type Json } from './patch.ts';

/** How a list is merged and owned: by key fields, as a set of scalars, or whole. */
export type ListType = { type: 'map'; keys: string[] } | { type: 'set' } | { type: 'atomic' };

/** The list type at a field path (field names from the root, list items skipped). */
export type ListTypeOf = (fieldPath: readonly string[]) => ListType;

function identityOf(item: Json, lt: ListType): string | undefined {
  if (lt.type === 'set') return JSON.stringify(item);
  if (lt.type !== 'map' || !isObject(item)) return undefined;
  const parts: Json[] = [];
  for (const k of lt.keys) {
    if (item[k] === undefined) return undefined;
    parts.push(item[k] as Json);
  }
  return JSON.stringify(parts);
}

function mergeList(live: Json[], config: Json[], lt: ListType, names: string[], listTypeOf: ListTypeOf): Json[] {
  const lIds = live.map((x) => identityOf(x, lt));
  const rIds = config.map((x) => identityOf(x, lt));
  if (lIds.some((x) => x === undefined) || rIds.some((x) => x === undefined)) return clone(config);
  const inConfig = new Set(rIds as string[]);
  const inLive = new Map<string, Json>();
  live.forEach((x, i) => inLive.set(lIds[i] as string, x));
  const out: Json[] = [];
  const done = new Set<string>();
  let i = 0;
  let j = 0;
  while (i < live.length || j < config.length) {
    const lid = lIds[i];
    if (i < live.length && lid !== undefined && (!inConfig.has(lid) || done.has(lid))) {
      if (!done.has(lid)) out.push(clone(live[i] as Json));
      i++;
      continue;
    }
    if (j < config.length) {
      const rid = rIds[j] as string;
      const l = inLive.get(rid);
      out.push(
        l === undefined || lt.type === 'set'
          ? clone(config[j] as Json)
          : mergeApplied(l, config[j] as Json, listTypeOf, names),
      );
      done.add(rid);
      j++;
      continue;
    }
    i++;
  }
  return out;
}

/** The applied configuration merged over the live value (neither is mutated). */
export function mergeApplied(live: Json | undefined, config: Json, listTypeOf: ListTypeOf, names: string[] = []): Json {
  if (isObject(config)) {
    const out: { [k: string]: Json } = isObject(live) ? clone(live) : {};
    for (const [k, v] of Object.entries(config)) {
      if (v === null) {
        delete out[k];
        continue;
      }
      out[k] = mergeApplied(out[k], v, listTypeOf, [...names, k]);
    }
    return out;
  }
  if (Array.isArray(config)) {
    const lt = listTypeOf(names);
    if (lt.type === 'atomic' || !Array.isArray(live)) return clone(config);
    return mergeList(live, config, lt, names, listTypeOf);
  }
  return deepEqual(live, config) ? (live as Json) : config;
}
