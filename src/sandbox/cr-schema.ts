// Custom resources checked against the openAPIV3Schema of the CRD object that is stored now (so a
// CRD created or updated through the API changes validation at once), as apiextensions-apiserver
// does: unknown fields pruned (unless x-kubernetes-preserve-unknown-fields) and refused, warned
// about or ignored per fieldValidation; nulls dropped where not nullable; then types, enums,
// required, bounds and patterns (422 Invalid with the causes worded as Kubernetes 1.24 words them);
// then the CEL rules of x-kubernetes-validations (cel.ts), unless a type/required/size error
// already blocks them.
import type { KubeObject } from '../kube/objects.ts';
import { badRequest, type FieldError, invalid } from './api-errors.ts';
import { CelError, CelUnsupported, evalRule } from './cel.ts';
import type { ListTypeOf } from './field-manager.ts';
import { deepEqual, isObject } from './patch.ts';
import type { FieldValidation } from './patch-options.ts';
import type { ResourceType } from './resource-types.ts';
import type { SandboxStore } from './store.ts';

export interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  pattern?: string;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: { rule: string; message?: string }[];
}

interface CrdShape {
  spec?: { versions?: { name?: string; schema?: { openAPIV3Schema?: Schema } }[] };
}

/** The schema of rt at version, from the stored CRD; undefined for built-in kinds or a CRD without one. */
export function schemaOf(store: SandboxStore, rt: ResourceType, version: string): Schema | undefined {
  if (!rt.custom) return undefined;
  const crds = store.registry.byGroupResource('apiextensions.k8s.io', 'customresourcedefinitions');
  const crd = crds
    ? (store.peek(crds, undefined, `${rt.plural}.${rt.group}`) as (KubeObject & CrdShape) | undefined)
    : undefined;
  return crd?.spec?.versions?.find((v) => v.name === version)?.schema?.openAPIV3Schema;
}

/** x-kubernetes-list-type along a field path (custom resources' lists are atomic unless said otherwise). */
export function schemaListTypes(schema: Schema): ListTypeOf {
  return (names) => {
    let s: Schema | undefined = schema;
    for (const n of names) {
      s = s?.properties?.[n] ?? (typeof s?.additionalProperties === 'object' ? s.additionalProperties : undefined);
      while (s?.type === 'array' && s.items && n !== names[names.length - 1]) s = s.items;
    }
    const lt = s?.['x-kubernetes-list-type'];
    if (lt === 'map') return { type: 'map', keys: s?.['x-kubernetes-list-map-keys'] ?? [] };
    return lt === 'set' ? { type: 'set' } : { type: 'atomic' };
  };
}

const child = (path: string, name: string) => (path ? `${path}.${name}` : name);

/** Drop unknown fields and non-nullable nulls in place; returns the unknown fields' paths. */
function prune(v: unknown, s: Schema, path: string, unknown: string[], root = false): void {
  if (Array.isArray(v)) {
    if (s.items) for (let i = 0; i < v.length; i++) prune(v[i], s.items, `${path}[${i}]`, unknown);
    return;
  }
  if (!isObject(v)) return;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  for (const [k, x] of Object.entries(v)) {
    if (root && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
    const sub = s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
    if (!sub) {
      if (preserve || s.additionalProperties === true) continue;
      unknown.push(child(path, k));
      delete v[k];
      continue;
    }
    if (x === null && !sub.nullable) {
      delete v[k];
      continue;
    }
    prune(x, sub, child(path, k), unknown);
  }
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'boolean') return 'boolean';
  return typeof v === 'string' ? 'string' : 'object';
}

function typeMatches(v: unknown, s: Schema): boolean {
  if (s['x-kubernetes-int-or-string']) return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
  if (!s.type) return true;
  const t = jsonType(v);
  return t === s.type || (s.type === 'number' && t === 'integer') || (v === null && s.nullable === true);
}

/** The structural checks: every error, with its path (`spec.hosts`, `spec.http[0].route`). */
function check(v: unknown, s: Schema, path: string, out: FieldError[]): void {
  if (v === null && s.nullable) return;
  if (!typeMatches(v, s)) {
    const got = jsonType(v);
    out.push({
      type: 'FieldValueTypeInvalid',
      field: path,
      value: got,
      detail: `${path} in body must be of type ${s.type}: ${JSON.stringify(got)}`,
    });
    return;
  }
  if (s.enum && !s.enum.some((e) => deepEqual(e, v))) {
    const values = s.enum.map((e) => (typeof e === 'string' ? JSON.stringify(e) : JSON.stringify(JSON.stringify(e))));
    out.push({
      type: 'FieldValueNotSupported',
      field: path,
      value: v,
      detail: `supported values: ${values.join(', ')}`,
    });
  }
  const fail = (detail: string) =>
    out.push({ type: 'FieldValueInvalid', field: path, value: v, detail: `${path} in body ${detail}` });
  if (typeof v === 'string') {
    if (s.maxLength !== undefined && [...v].length > s.maxLength)
      out.push({ type: 'FieldValueTooLong', field: path, value: v, detail: `may not be longer than ${s.maxLength}` });
    if (s.minLength !== undefined && [...v].length < s.minLength) fail(`should be at least ${s.minLength} chars long`);
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(v)) fail(`should match '${s.pattern}'`);
  }
  if (typeof v === 'number') {
    if (s.minimum !== undefined && (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum))
      fail(`should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`);
    if (s.maximum !== undefined && (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum))
      fail(`should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`);
  }
  if (Array.isArray(v)) {
    if (s.maxItems !== undefined && v.length > s.maxItems)
      out.push({
        type: 'FieldValueTooMany',
        field: path,
        value: v.length,
        detail: `must have at most ${s.maxItems} items`,
      });
    if (s.minItems !== undefined && v.length < s.minItems) fail(`should have at least ${s.minItems} items`);
    if (s.items) v.forEach((x, i) => check(x, s.items as Schema, `${path}[${i}]`, out));
  }
  if (isObject(v)) {
    const n = Object.keys(v).length;
    if (s.maxProperties !== undefined && n > s.maxProperties)
      out.push({
        type: 'FieldValueTooMany',
        field: path,
        value: n,
        detail: `must have at most ${s.maxProperties} items`,
      });
    if (s.minProperties !== undefined && n < s.minProperties)
      fail(`should have at least ${s.minProperties} properties`);
    for (const r of s.required ?? [])
      if (!(r in v)) out.push({ type: 'FieldValueRequired', field: child(path, r), detail: '' });
    for (const [k, x] of Object.entries(v)) {
      const sub =
        s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
      if (sub) check(x, sub, child(path, k), out);
    }
  }
}

function hasRules(s: Schema | undefined): boolean {
  if (!s) return false;
  if (s['x-kubernetes-validations']?.length) return true;
  return (
    Object.values(s.properties ?? {}).some(hasRules) ||
    hasRules(s.items) ||
    (typeof s.additionalProperties === 'object' && hasRules(s.additionalProperties))
  );
}

/** The CEL rules, evaluated where the object has a value. Rules outside cel.ts's subset are skipped. */
function rules(v: unknown, s: Schema, path: string, out: FieldError[]): void {
  for (const r of s['x-kubernetes-validations'] ?? []) {
    let ok: boolean;
    try {
      ok = evalRule(r.rule, v);
    } catch (e) {
      if (e instanceof CelUnsupported) continue;
      if (!(e instanceof CelError)) throw e;
      ok = false;
    }
    if (!ok)
      out.push({
        type: 'FieldValueInvalid',
        field: path || '<nil>',
        value: s.type ?? 'object',
        detail: r.message ?? `failed rule: ${r.rule}`,
      });
  }
  if (Array.isArray(v) && s.items) v.forEach((x, i) => rules(x, s.items as Schema, `${path}[${i}]`, out));
  if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      const sub =
        s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
      if (sub && !(path === '' && k === 'metadata')) rules(x, sub, child(path, k), out);
    }
  }
}

const BLOCKING = new Set(['FieldValueRequired', 'FieldValueTooLong', 'FieldValueTooMany', 'FieldValueTypeInvalid']);

/**
 * Prune and validate a custom resource (in place) against its CRD's schema. Throws the 400 (Strict,
 * unknown fields) or the 422; returns the warnings to send (Warn, the default).
 */
export function validateCustomResource(
  store: SandboxStore,
  rt: ResourceType,
  version: string,
  obj: KubeObject,
  validation: FieldValidation,
): string[] {
  const schema = schemaOf(store, rt, version);
  if (!schema) return [];
  const unknown: string[] = [];
  prune(obj, schema, '', unknown, true);
  if (unknown.length && validation === 'Strict') {
    throw badRequest(
      `${rt.kind} in version ${JSON.stringify(version)} cannot be handled as a ${rt.kind}: strict decoding error: ${unknown.map((u) => `unknown field ${JSON.stringify(u)}`).join(', ')}`,
    );
  }
  const errors: FieldError[] = [];
  const body = { ...obj } as Record<string, unknown>;
  delete body.metadata;
  delete body.apiVersion;
  delete body.kind;
  check(
    body,
    {
      ...schema,
      properties: { ...schema.properties },
      required: (schema.required ?? []).filter((r) => !['metadata', 'apiVersion', 'kind'].includes(r)),
    },
    '',
    errors,
  );
  if (hasRules(schema)) {
    if (errors.some((e) => BLOCKING.has(e.type))) {
      errors.push({
        type: 'FieldValueInvalid',
        field: '<nil>',
        value: null,
        detail:
          'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
      });
    } else rules(body, schema, '', errors);
  }
  if (errors.length) throw invalid(rt.group, rt.kind, obj.metadata.name, errors);
  return validation === 'Warn' ? unknown.map((u) => `unknown field ${JSON.stringify(u)}`) : [];
}
