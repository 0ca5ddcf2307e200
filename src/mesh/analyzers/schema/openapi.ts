// A validator for Kubernetes structural OpenAPI v3 schemas (a CRD's openAPIV3Schema), with the API server's
// semantics where they differ from plain JSON Schema: `nullable`, `x-kubernetes-int-or-string`,
// `x-kubernetes-preserve-unknown-fields` (unknown fields are kept, so not reported, below such a node), fields a
// schema does not list are unknown (strict field validation, kubectl's default, rejects them), list-map keys must
// be unique, and `x-kubernetes-validations` CEL rules are evaluated when cel.ts knows them (the API server
// enforces the others). Error texts follow the API server's (k8s.io/apimachinery field.Error): `<path>: <reason>`.
import { celEvaluator } from './cel.ts';

export interface OpenApiSchema {
  readonly type?: string;
  readonly format?: string;
  readonly properties?: Readonly<Record<string, OpenApiSchema>>;
  readonly additionalProperties?: OpenApiSchema | boolean;
  readonly items?: OpenApiSchema;
  readonly required?: readonly string[];
  readonly enum?: readonly unknown[];
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: boolean;
  readonly exclusiveMaximum?: boolean;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minProperties?: number;
  readonly maxProperties?: number;
  readonly oneOf?: readonly OpenApiSchema[];
  readonly anyOf?: readonly OpenApiSchema[];
  readonly allOf?: readonly OpenApiSchema[];
  readonly not?: OpenApiSchema;
  readonly nullable?: boolean;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
  readonly 'x-kubernetes-int-or-string'?: boolean;
  readonly 'x-kubernetes-list-type'?: string;
  readonly 'x-kubernetes-list-map-keys'?: readonly string[];
  readonly 'x-kubernetes-validations'?: readonly { readonly rule: string; readonly message?: string }[];
}

export type SchemaPath = (string | number)[];

export interface SchemaError {
  /** `<path>: <reason>`, as the API server words it. */
  text: string;
  /** Where in the object (for the YAML line). */
  path: SchemaPath;
}

/** `spec.servers[0].port.number`, the API server's field path. */
export function fieldPath(path: SchemaPath): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? p : `.${p}`;
  }
  return out || '<root>';
}

const typeName = (v: unknown): string =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'array'
      : typeof v === 'number'
        ? Number.isInteger(v)
          ? 'integer'
          : 'number'
        : typeof v;

const quote = (v: unknown): string => JSON.stringify(v) ?? String(v);

function typeMatches(s: OpenApiSchema, v: unknown): boolean {
  if (s['x-kubernetes-int-or-string']) return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
  switch (s.type) {
    case undefined:
      return true;
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    default:
      return true;
  }
}

// Formats the API server checks (k8s.io/kube-openapi strfmt); int32/double only bound numbers, checked below.
const FORMATS: Record<string, (v: string) => boolean> = {
  'date-time': (v) => /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(v),
  byte: (v) => /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(v),
};

/** Every error the API server's schema validation would report for `value` against `schema`. */
export function validateSchema(schema: OpenApiSchema, value: unknown, path: SchemaPath = []): SchemaError[] {
  const errors: SchemaError[] = [];
  walk(schema, value, path, errors, false);
  return errors;
}

function walk(s: OpenApiSchema, v: unknown, path: SchemaPath, errors: SchemaError[], preserved: boolean): void {
  const at = fieldPath(path);
  const add = (reason: string) => errors.push({ text: `${at}: ${reason}`, path });
  if (v === null) {
    // The API server drops nulls for fields that are not nullable; they never fail validation.
    return;
  }
  if (!typeMatches(s, v)) {
    const want = s['x-kubernetes-int-or-string'] ? 'integer or string' : s.type;
    add(`Invalid value: ${quote(typeName(v))}: ${at} in body must be of type ${want}: ${quote(typeName(v))}`);
    return;
  }
  const keep = preserved || s['x-kubernetes-preserve-unknown-fields'] === true;
  if (s.enum && !s.enum.some((e) => e === v))
    add(`Unsupported value: ${quote(v)}: supported values: ${s.enum.map(quote).join(', ')}`);
  if (typeof v === 'string') strings(s, v, add);
  if (typeof v === 'number') numbers(s, v, at, add);
  if (Array.isArray(v)) {
    if (s.maxItems !== undefined && v.length > s.maxItems)
      add(`Too many: ${v.length}: must have at most ${s.maxItems} items`);
    if (s.minItems !== undefined && v.length < s.minItems)
      add(`Invalid value: ${v.length}: ${at} in body should have at least ${s.minItems} items`);
    if (s.items) v.forEach((item, i) => walk(s.items as OpenApiSchema, item, [...path, i], errors, keep));
    listKeys(s, v, path, errors);
  }
  if (typeof v === 'object' && !Array.isArray(v)) objects(s, v as Record<string, unknown>, path, errors, keep);
  combinators(s, v, path, add);
  for (const rule of s['x-kubernetes-validations'] ?? []) {
    const evaluate = celEvaluator(rule.rule);
    // Rules cel.ts cannot evaluate are left to the API server.
    if (evaluate && !evaluate(v))
      add(
        `Invalid value: ${quote(typeName(v) === 'integer' ? v : typeName(v))}: ${rule.message ?? `failed rule: ${rule.rule}`}`,
      );
  }
}

function strings(s: OpenApiSchema, v: string, add: (reason: string) => void): void {
  if (s.maxLength !== undefined && [...v].length > s.maxLength)
    add(`Too long: may not be more than ${s.maxLength} bytes`);
  if (s.minLength !== undefined && [...v].length < s.minLength)
    add(`Invalid value: ${quote(v)}: should be at least ${s.minLength} chars long`);
  if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(v))
    add(`Invalid value: ${quote(v)}: should match '${s.pattern}'`);
  const format = s.format ? FORMATS[s.format] : undefined;
  if (format && !format(v)) add(`Invalid value: ${quote(v)}: must be of type ${s.format}`);
}

function numbers(s: OpenApiSchema, v: number, at: string, add: (reason: string) => void): void {
  const max = s.maximum ?? (s.format === 'int32' ? 2147483647 : undefined);
  const min = s.minimum ?? (s.format === 'int32' ? -2147483648 : undefined);
  if (max !== undefined && (s.exclusiveMaximum ? v >= max : v > max))
    add(`Invalid value: ${v}: ${at} in body should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${max}`);
  if (min !== undefined && (s.exclusiveMinimum ? v <= min : v < min))
    add(`Invalid value: ${v}: ${at} in body should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${min}`);
}

function objects(
  s: OpenApiSchema,
  v: Record<string, unknown>,
  path: SchemaPath,
  errors: SchemaError[],
  keep: boolean,
): void {
  const at = fieldPath(path);
  for (const r of s.required ?? [])
    if (v[r] === undefined || v[r] === null) errors.push({ text: `${fieldPath([...path, r])}: Required value`, path });
  const n = Object.keys(v).length;
  if (s.maxProperties !== undefined && n > s.maxProperties)
    errors.push({ text: `${at}: Too many: ${n}: must have at most ${s.maxProperties} items`, path });
  if (s.minProperties !== undefined && n < s.minProperties)
    errors.push({
      text: `${at}: Invalid value: ${n}: ${at} in body should have at least ${s.minProperties} properties`,
      path,
    });
  const additional = s.additionalProperties;
  for (const [k, val] of Object.entries(v)) {
    const child = s.properties?.[k];
    if (child) walk(child, val, [...path, k], errors, keep);
    else if (typeof additional === 'object') walk(additional, val, [...path, k], errors, keep);
    else if (additional === true || keep || (s.properties === undefined && s.type !== 'object')) continue;
    else if (s.properties !== undefined || additional === false)
      errors.push({ text: `unknown field ${quote(fieldPath([...path, k]))}`, path: [...path, k] });
  }
}

function listKeys(s: OpenApiSchema, v: unknown[], path: SchemaPath, errors: SchemaError[]): void {
  const type = s['x-kubernetes-list-type'];
  if (type !== 'map' && type !== 'set') return;
  const keys = s['x-kubernetes-list-map-keys'] ?? [];
  const seen = new Set<string>();
  v.forEach((item, i) => {
    const key =
      type === 'map' && typeof item === 'object' && item !== null
        ? quote(keys.map((k) => (item as Record<string, unknown>)[k]))
        : quote(item);
    if (seen.has(key)) errors.push({ text: `${fieldPath([...path, i])}: Duplicate value: ${key}`, path: [...path, i] });
    seen.add(key);
  });
}

/** oneOf/anyOf/allOf/not: value checks only (Istio's CRDs use them for "at most one of these fields"). */
function combinators(s: OpenApiSchema, v: unknown, path: SchemaPath, add: (reason: string) => void): void {
  const ok = (sub: OpenApiSchema) => validateSchema(sub, v, path).length === 0;
  if (s.oneOf) {
    const passing = s.oneOf.filter(ok).length;
    if (passing !== 1)
      add(
        `Invalid value: ${quote(typeName(v))}: must validate one and only one schema (oneOf)${exclusive(s.oneOf, v)}`,
      );
  }
  if (s.anyOf && !s.anyOf.some(ok))
    add(`Invalid value: ${quote(typeName(v))}: must validate at least one schema (anyOf)`);
  for (const sub of s.allOf ?? [])
    if (!ok(sub)) add(`Invalid value: ${quote(typeName(v))}: must validate all the schemas (allOf)`);
  if (s.not && ok(s.not)) add(`Invalid value: ${quote(typeName(v))}: must not validate the schema (not)`);
}

/** For a oneOf of `required: [x]` branches, which of those fields are set: the part a person needs to fix. */
function exclusive(branches: readonly OpenApiSchema[], v: unknown): string {
  const fields = branches.flatMap((b) => (b.required?.length === 1 ? b.required : []));
  if (fields.length < 2 || typeof v !== 'object' || v === null) return '';
  const set = fields.filter((f) => (v as Record<string, unknown>)[f] !== undefined);
  return set.length > 1 ? `: only one of ${fields.join(', ')} may be set, found ${set.join(', ')}` : '';
}
