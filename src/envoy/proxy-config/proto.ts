// Reading Envoy's admin JSON the way protojson does: a field may be spelled with its proto name
// (`dynamic_active_clusters`, what Envoy writes) or its JSON name (`dynamicActiveClusters`, what Go's
// jsonpb writes and some saved dumps hold); both are accepted, the proto name first. Map and Struct
// keys are data and are never rewritten. Wrapper types (UInt32Value, BoolValue) are plain JSON
// values; 64-bit integers may come as strings.

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `dynamic_active_clusters` → `dynamicActiveClusters` (protoc's JSON name rule). */
export function jsonName(protoName: string): string {
  return protoName.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The field `protoName` (snake_case) under either spelling, or undefined. */
export function field(o: unknown, protoName: string): unknown {
  if (!isObject(o)) return undefined;
  if (o[protoName] !== undefined) return o[protoName];
  const alt = jsonName(protoName);
  return alt === protoName ? undefined : o[alt];
}

export function obj(o: unknown, protoName: string): JsonObject | undefined {
  const v = field(o, protoName);
  return isObject(v) ? v : undefined;
}

export function arr(o: unknown, protoName: string): unknown[] {
  const v = field(o, protoName);
  return Array.isArray(v) ? v : [];
}

export function str(o: unknown, protoName: string): string {
  const v = field(o, protoName);
  return typeof v === 'string' ? v : '';
}

/** A number field; proto3 JSON may quote 64-bit values. 0 when absent. */
export function num(o: unknown, protoName: string): number {
  const v = field(o, protoName);
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return 0;
}

export function has(o: unknown, protoName: string): boolean {
  return field(o, protoName) !== undefined;
}

/** A google.protobuf.Any's type URL. */
export function typeUrl(o: unknown): string {
  return isObject(o) && typeof o['@type'] === 'string' ? o['@type'] : '';
}

/** A google.protobuf.Struct value as a string (Go's GetStringValue: '' unless it is a string). */
export function structString(o: unknown, key: string): string {
  if (!isObject(o)) return '';
  const v = o[key];
  return typeof v === 'string' ? v : '';
}

// Fields whose value is a google.protobuf.Struct (kept verbatim), and fields that are proto maps
// (keys kept, values converted). Everything else is a message whose keys are field names.
const MAP_OF_STRUCTS = new Set(['filter_metadata']);
const MAP_OF_MESSAGES = new Set(['typed_filter_metadata', 'typed_per_filter_config', 'per_filter_config']);
const MAP_OF_SCALARS = new Set(['key_values', 'labels', 'annotations']);
const TYPED_STRUCT = new Set([
  'type.googleapis.com/udpa.type.v1.TypedStruct',
  'type.googleapis.com/xds.type.v3.TypedStruct',
]);

const protoName = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * Re-spell a message the way istioctl's -o json shows it (Go jsonpb: JSON names, camelCase), leaving
 * map keys and Struct contents alone. Values are not otherwise changed (Envoy's JSON already omits
 * defaults and quotes 64-bit integers as jsonpb does).
 */
export function toJsonNames(value: unknown, parentField = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => toJsonNames(v, parentField));
  if (!isObject(value)) return value;
  const typedStruct = TYPED_STRUCT.has(typeUrl(value));
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === '@type') {
      out[k] = v;
      continue;
    }
    const p = /^[a-z][a-z0-9_]*$/.test(k) || /^[a-z][a-zA-Z0-9]*$/.test(k) ? protoName(k) : k;
    const name = /^[a-z][a-z0-9_]*$/.test(p) ? jsonName(p) : k;
    if (
      (p === 'metadata' && parentField === 'node') ||
      (p === 'value' && typedStruct) ||
      MAP_OF_STRUCTS.has(p) ||
      MAP_OF_SCALARS.has(p)
    ) {
      out[name] = v;
    } else if (MAP_OF_MESSAGES.has(p) && isObject(v)) {
      out[name] = Object.fromEntries(Object.entries(v).map(([mk, mv]) => [mk, toJsonNames(mv, p)]));
    } else {
      out[name] = toJsonNames(v, p);
    }
  }
  return out;
}
