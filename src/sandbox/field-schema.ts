// Which fields each built-in kind has, and of what Go type: what the API server's typed JSON decoder
// knows. Taken from @kubernetes/client-node's generated models (the OpenAPI of the Kubernetes API),
// with the Go-only facts the models flatten away (Quantity, IntOrString, Time, MicroTime, []byte).
// decodeTyped() walks a request body against it as sigs.k8s.io/json does: the first type mismatch
// is an error ("json: cannot unmarshal number into Go struct field ConfigMap.data of type string"),
// unknown and duplicate fields are strict-decoding errors, and unknown fields are dropped.
import * as models from '@kubernetes/client-node';
import type { JsonNode } from './json-syntax.ts';
import { goKindOf, valueOf } from './json-syntax.ts';
import type { ResourceType } from './resource-types.ts';

interface Attribute {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

export type Shape =
  | { t: 'struct'; model: string; go: string; pkg: string }
  | { t: 'map'; value: Shape }
  | { t: 'array'; item: Shape }
  | {
      t:
        | 'string'
        | 'bool'
        | 'int32'
        | 'int64'
        | 'float64'
        | 'any'
        | 'time'
        | 'microtime'
        | 'intorstring'
        | 'quantity'
        | 'bytes';
    };

/** Fields whose Go type is resource.Quantity (a string or a number on the wire); the models say string. */
const QUANTITY_FIELDS = new Set([
  'V1ResourceRequirements.limits',
  'V1ResourceRequirements.requests',
  'V1VolumeResourceRequirements.limits',
  'V1VolumeResourceRequirements.requests',
  'V1EmptyDirVolumeSource.sizeLimit',
  'V1NodeStatus.allocatable',
  'V1NodeStatus.capacity',
  'V1ResourceQuotaSpec.hard',
  'V1ResourceQuotaStatus.hard',
  'V1ResourceQuotaStatus.used',
  'V1LimitRangeItem.default',
  'V1LimitRangeItem.defaultRequest',
  'V1LimitRangeItem.max',
  'V1LimitRangeItem.min',
  'V1LimitRangeItem.maxLimitRequestRatio',
  'V1PersistentVolumeSpec.capacity',
  'V1PersistentVolumeClaimStatus.capacity',
  'V1PersistentVolumeClaimStatus.allocatedResources',
  'V1ContainerStatus.allocatedResources',
  'V1PodSpec.overhead',
  'V1Overhead.podFixed',
]);

const modelTable = models as unknown as Record<string, { attributeTypeMap?: Attribute[] } | undefined>;

function attributes(model: string): Attribute[] | undefined {
  const m = modelTable[model];
  return m && Array.isArray(m.attributeTypeMap) ? m.attributeTypeMap : undefined;
}

/** V1PodSpec → PodSpec in package v1; CoreV1Event → Event in v1. */
function goName(model: string): { go: string; pkg: string } {
  const m = model.match(/^(?:[A-Z][a-z]+)?(V\d+(?:alpha\d+|beta\d+)?)([A-Z].*)$/);
  return m ? { go: m[2] as string, pkg: (m[1] as string).toLowerCase() } : { go: model, pkg: 'v1' };
}

function shapeOf(type: string, format: string, owner: string, field: string): Shape {
  if (QUANTITY_FIELDS.has(`${owner}.${field}`)) {
    return type.startsWith('{') ? { t: 'map', value: { t: 'quantity' } } : { t: 'quantity' };
  }
  const map = type.match(/^\{ \[key: string\]: (.*); \}$/);
  if (map) return { t: 'map', value: shapeOf(map[1] as string, format, '', '') };
  const arr = type.match(/^Array<(.*)>$/);
  if (arr) return { t: 'array', item: shapeOf(arr[1] as string, format, '', '') };
  switch (type) {
    case 'string':
      return format === 'byte' ? { t: 'bytes' } : { t: 'string' };
    case 'boolean':
      return { t: 'bool' };
    case 'number':
      return format === 'int32' ? { t: 'int32' } : format === 'int64' ? { t: 'int64' } : { t: 'float64' };
    case 'Date':
      return { t: 'time' };
    case 'V1MicroTime':
      return { t: 'microtime' };
    case 'IntOrString':
      return { t: 'intorstring' };
    case 'any':
      return { t: 'any' };
    default:
      return attributes(type) ? { t: 'struct', model: type, ...goName(type) } : { t: 'any' };
  }
}

const fieldCache = new Map<string, Map<string, Shape>>();

/** A struct's JSON fields (baseName → shape). */
export function fieldsOf(model: string): Map<string, Shape> {
  let f = fieldCache.get(model);
  if (!f) {
    f = new Map();
    for (const a of attributes(model) ?? []) f.set(a.baseName, shapeOf(a.type, a.format, model, a.baseName));
    fieldCache.set(model, f);
  }
  return f;
}

function groupPrefix(group: string): string {
  const first = group === '' ? 'core' : (group.split('.')[0] as string);
  return first.charAt(0).toUpperCase() + first.slice(1);
}

/** The model of a built-in kind in a version (CoreV1Event before V1Event); undefined for custom resources. */
export function modelFor(rt: Pick<ResourceType, 'group' | 'kind' | 'custom'>, version: string): string | undefined {
  if (rt.custom) return undefined;
  const v = version.charAt(0).toUpperCase() + version.slice(1);
  for (const name of [`${groupPrefix(rt.group)}${v}${rt.kind}`, `${v}${rt.kind}`]) if (attributes(name)) return name;
  return undefined;
}

export function goTypeName(s: Shape): string {
  switch (s.t) {
    case 'struct':
      return `${s.pkg}.${s.go}`;
    case 'map':
      return `map[string]${goTypeName(s.value)}`;
    case 'array':
      return `[]${goTypeName(s.item)}`;
    case 'bytes':
      return '[]uint8';
    case 'bool':
      return 'bool';
    case 'any':
      return 'interface {}';
    case 'time':
    case 'microtime':
    case 'intorstring':
    case 'quantity':
    case 'string':
      return 'string';
    default:
      return s.t;
  }
}

/** A decoding failure that is not a strict-mode complaint: the request cannot be decoded at all. */
export class TypeDecodeError extends Error {}

const QUANTITY = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const INT_RANGE: Record<string, [number, number]> = {
  int32: [-2147483648, 2147483647],
  int64: [Number.MIN_SAFE_INTEGER * 1024, Number.MAX_SAFE_INTEGER * 1024],
};

/**
 * Go's time.Parse error for a layout of numeric elements and literal separators, e.g.
 * `parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"`.
 */
export function goTimeParseError(value: string, micro: boolean): string | undefined {
  const layout = micro ? '2006-01-02T15:04:05.000000Z07:00' : '2006-01-02T15:04:05Z07:00';
  const elements: [string, RegExp][] = [
    ['2006', /^\d{4}/],
    ['-', /^-/],
    ['01', /^\d{2}/],
    ['-', /^-/],
    ['02', /^\d{2}/],
    ['T', /^T/],
    ['15', /^\d{2}/],
    [':', /^:/],
    ['04', /^\d{2}/],
    [':', /^:/],
    ['05', micro ? /^\d{2}/ : /^\d{2}(\.\d+)?/],
    ...(micro ? ([['.000000', /^\.\d{6}/]] as [string, RegExp][]) : []),
    ['Z07:00', /^(Z|[+-]\d{2}:\d{2})/],
  ];
  let rest = value;
  for (const [name, re] of elements) {
    const m = rest.match(re);
    if (!m)
      return `parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout)}: cannot parse ${JSON.stringify(rest)} as ${JSON.stringify(name)}`;
    rest = rest.slice(m[0].length);
  }
  if (rest) return `parsing time ${JSON.stringify(value)}: extra text: ${JSON.stringify(rest)}`;
  return undefined;
}

export interface TypedDecode {
  /** The value as the typed decoder keeps it: unknown fields dropped. */
  value: unknown;
  /** Strict-mode findings in document order: `unknown field "x"`, `duplicate field "y"`. */
  strict: string[];
}

class Walker {
  strict: string[] = [];

  /** The Go context of a value: the innermost struct and the dotted path of struct fields (Go's error context). */
  private mismatch(n: JsonNode, s: Shape, struct: string, goPath: string): never {
    const kind = n.k === 'number' ? (s.t === 'int32' || s.t === 'int64' ? `number ${n.raw}` : 'number') : goKindOf(n);
    const into = struct ? `Go struct field ${struct}.${goPath}` : 'Go value';
    throw new TypeDecodeError(`json: cannot unmarshal ${kind} into ${into} of type ${goTypeName(s)}`);
  }

  /** Decode n as s; path is the strict-error path (with [i] indexes), goPath the Go error context. */
  walk(n: JsonNode, s: Shape, path: string, struct: string, goPath: string): unknown {
    if (n.k === 'null') return null;
    switch (s.t) {
      case 'any':
        return valueOf(n);
      case 'string':
        if (n.k !== 'string') this.mismatch(n, s, struct, goPath);
        return n.v;
      case 'bytes':
        if (n.k !== 'string') this.mismatch(n, s, struct, goPath);
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(n.v) || n.v.length % 4 !== 0) {
          const bad = n.v.search(/[^A-Za-z0-9+/=]/);
          throw new TypeDecodeError(
            `illegal base64 data at input byte ${bad < 0 ? Math.max(0, n.v.length - (n.v.length % 4)) : bad}`,
          );
        }
        return n.v;
      case 'bool':
        if (n.k !== 'bool') this.mismatch(n, s, struct, goPath);
        return n.v;
      case 'int32':
      case 'int64': {
        if (n.k !== 'number') this.mismatch(n, s, struct, goPath);
        const v = Number(n.raw);
        const [lo, hi] = INT_RANGE[s.t] as [number, number];
        if (!/^-?\d+$/.test(n.raw) || v < lo || v > hi) this.mismatch(n, s, struct, goPath);
        return v;
      }
      case 'float64':
        if (n.k !== 'number') this.mismatch(n, s, struct, goPath);
        return Number(n.raw);
      case 'intorstring':
        if (n.k === 'string') return n.v;
        if (n.k === 'number' && /^-?\d+$/.test(n.raw)) return Number(n.raw);
        throw new TypeDecodeError(
          `json: cannot unmarshal ${n.k === 'number' ? `number ${n.raw}` : goKindOf(n)} into Go value of type int32`,
        );
      case 'quantity': {
        const text = n.k === 'string' ? n.v.trim() : n.k === 'number' ? n.raw : '';
        if (!QUANTITY.test(text))
          throw new TypeDecodeError(
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
          );
        return n.k === 'number' ? Number(n.raw) : text;
      }
      case 'time':
      case 'microtime': {
        if (n.k !== 'string')
          throw new TypeDecodeError(`json: cannot unmarshal ${goKindOf(n)} into Go value of type string`);
        if (n.v === '') return null;
        const why = goTimeParseError(n.v, s.t === 'microtime');
        if (why) throw new TypeDecodeError(why);
        return n.v;
      }
      case 'array': {
        if (n.k !== 'array') this.mismatch(n, s, struct, goPath);
        return n.items.map((item, i) => this.walk(item, s.item, `${path}[${i}]`, struct, goPath));
      }
      case 'map': {
        if (n.k !== 'object') this.mismatch(n, s, struct, goPath);
        const out: Record<string, unknown> = {};
        // A null map value decodes as the element's zero value ("" for strings).
        for (const [key, v] of n.members)
          define(
            out,
            key,
            this.walk(v, s.value, `${path}.${key}`, struct, goPath) ?? (s.value.t === 'string' ? '' : null),
          );
        return out;
      }
      case 'struct': {
        if (n.k !== 'object') this.mismatch(n, s, struct, goPath);
        return this.struct(n, s.model, s.go, path, goPath);
      }
    }
  }

  struct(
    n: Extract<JsonNode, { k: 'object' }>,
    model: string,
    go: string,
    path: string,
    goPath: string,
  ): Record<string, unknown> {
    const fields = fieldsOf(model);
    const out: Record<string, unknown> = {};
    const seen = new Set<string>();
    for (const [key, v] of n.members) {
      const at = path ? `${path}.${key}` : key;
      if (seen.has(key)) this.strict.push(`duplicate field ${JSON.stringify(at)}`);
      seen.add(key);
      const shape = fields.get(key);
      if (!shape) {
        this.strict.push(`unknown field ${JSON.stringify(at)}`);
        continue;
      }
      const decoded = this.walk(v, shape, at, go, goPath ? `${goPath}.${key}` : key);
      if (decoded === null) delete out[key];
      else define(out, key, decoded);
    }
    return out;
  }
}

function define(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Decode an object body as the kind's Go type. Throws TypeDecodeError for what no fieldValidation
 * setting lets through; strict findings are returned for the caller to refuse, warn about or ignore.
 * Nulls are dropped (Go's zero values, omitted when the object is written back).
 */
export function decodeTyped(n: JsonNode, model: string): TypedDecode {
  const w = new Walker();
  if (n.k !== 'object')
    throw new TypeDecodeError(
      `json: cannot unmarshal ${goKindOf(n)} into Go value of type ${goName(model).pkg}.${goName(model).go}`,
    );
  const value = w.struct(n, model, goName(model).go, '', '');
  return { value, strict: w.strict };
}
