// istioctl's -o json: Go's jsonpb/protojson re-spelling of Envoy's admin JSON. Field names become JSON
// names (camelCase); map keys and google.protobuf.Struct contents stay as they are but come out
// sorted, as protojson writes map entries; values are unchanged (Envoy's JSON already omits defaults
// and quotes 64-bit integers). `jsonpbIndent` also reproduces golang/protobuf jsonpb's indentation of
// a Struct inside an indented message (one level deeper than its key), seen in `bootstrap -o json`.
import { isObject, type JsonObject, jsonName, typeUrl } from './proto.ts';

// Struct-valued fields (`parent.field`, or any parent: `*.field`), and proto maps. A key that is not a
// field name (dotted, upper-case) is taken for a map key: kept, its value converted.
const STRUCT_FIELDS = new Set([
  'node.metadata',
  'user_agent_build_version.metadata',
  '*.static_layer',
  '*.json_format',
]);
const MAP_OF_STRUCTS = new Set(['filter_metadata', 'per_filter_config']);
const MAP_OF_MESSAGES = new Set([
  'typed_filter_metadata',
  'typed_per_filter_config',
  'typed_extension_protocol_options',
  'source_codes',
]);
const MAP_OF_SCALARS = new Set(['key_values', 'labels', 'annotations']);
const TYPED_STRUCT = new Set([
  'type.googleapis.com/udpa.type.v1.TypedStruct',
  'type.googleapis.com/xds.type.v3.TypedStruct',
]);

const protoName = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const isFieldName = (k: string): boolean => /^[a-z][a-z0-9_]*$/.test(k) || /^[a-z][a-zA-Z0-9]*$/.test(k);

export interface JsonNamesOptions {
  /** Collects the Struct values of the result (for jsonpbIndent). */
  structs?: WeakSet<object>;
}

function sortedStruct(v: unknown, structs: WeakSet<object> | undefined, top: boolean): unknown {
  if (Array.isArray(v)) return v.map((x) => sortedStruct(x, structs, false));
  if (!isObject(v)) return v;
  const out = Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortedStruct(v[k], structs, false)]),
  );
  if (top) structs?.add(out);
  return out;
}

const sortedEntries = (v: JsonObject): [string, unknown][] =>
  Object.keys(v)
    .sort()
    .map((k) => [k, v[k]]);

/** A message (or list of them) spelled as jsonpb prints it. */
export function toJsonNames(value: unknown, opts: JsonNamesOptions = {}, parentField = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => toJsonNames(v, opts, parentField));
  if (!isObject(value)) return value;
  const typedStruct = TYPED_STRUCT.has(typeUrl(value));
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === '@type') {
      out[k] = v;
      continue;
    }
    if (!isFieldName(k)) {
      out[k] = toJsonNames(v, opts, parentField);
      continue;
    }
    const p = protoName(k);
    const name = jsonName(p);
    if (STRUCT_FIELDS.has(`${parentField}.${p}`) || STRUCT_FIELDS.has(`*.${p}`) || (p === 'value' && typedStruct)) {
      out[name] = sortedStruct(v, opts.structs, true);
    } else if (MAP_OF_STRUCTS.has(p) && isObject(v)) {
      out[name] = Object.fromEntries(sortedEntries(v).map(([mk, mv]) => [mk, sortedStruct(mv, opts.structs, true)]));
    } else if (MAP_OF_SCALARS.has(p) && isObject(v)) {
      out[name] = Object.fromEntries(sortedEntries(v));
    } else if (MAP_OF_MESSAGES.has(p) && isObject(v)) {
      out[name] = Object.fromEntries(sortedEntries(v).map(([mk, mv]) => [mk, toJsonNames(mv, opts, p)]));
    } else {
      out[name] = toJsonNames(v, opts, p);
    }
  }
  return out;
}

/**
 * JSON with 4-space indentation where each object in `structs` is written one level deeper than its
 * position (golang/protobuf jsonpb's Indent output for google.protobuf.Struct).
 */
export function jsonpbIndent(value: unknown, structs: WeakSet<object>): string {
  const write = (v: unknown, indent: string): string => {
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      const inner = indent + '    ';
      return `[\n${v.map((x) => inner + write(x, inner)).join(',\n')}\n${indent}]`;
    }
    if (!isObject(v)) return JSON.stringify(v) ?? 'null';
    const keys = Object.keys(v).filter((k) => v[k] !== undefined);
    if (keys.length === 0) return '{}';
    const base = structs.has(v) ? indent + '    ' : indent;
    const inner = base + '    ';
    return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${write(v[k], inner)}`).join(',\n')}\n${base}}`;
  };
  return write(value, '');
}
