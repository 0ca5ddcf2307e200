// PATCH request options as the API server checks them (k8s.io/apimachinery's ValidatePatchOptions):
// `force` only with apply patches, `fieldManager` required for apply, `fieldValidation` one of Ignore/Warn/Strict (unset means Warn, as with the
// ServerSideFieldValidation feature on).
import { type FieldError, invalid } from './api-errors.ts';

export const PATCH_TYPES: readonly string[] = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/apply-patch+yaml',
  'application/strategic-merge-patch+json',
];

export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

const DIRECTIVES = ['', 'Ignore', 'Strict', 'Warn'];

/** The fieldValidation directive of a request (unset or empty means Warn). Unchecked values read as Warn. */
export function fieldValidationOf(params: URLSearchParams): FieldValidation {
  const v = params.get('fieldValidation') ?? '';
  return v === 'Ignore' || v === 'Strict' ? v : 'Warn';
}

/** Field errors for the fieldValidation parameter (for any of Create/Update/PatchOptions). */
export function fieldValidationErrors(params: URLSearchParams): FieldError[] {
  const v = params.get('fieldValidation');
  if (v === null || DIRECTIVES.includes(v)) return [];
  return [
    {
      type: 'FieldValueNotSupported',
      field: 'fieldValidation',
      value: v,
      detail: `supported values: ${DIRECTIVES.map((d) => JSON.stringify(d)).join(', ')}`,
    },
  ];
}

/** Throws the 422 on PatchOptions Kubernetes gives for options that do not fit the patch type. */
export function checkPatchOptions(params: URLSearchParams, contentType: string): void {
  const errors: FieldError[] = [];
  const apply = contentType === 'application/apply-patch+yaml';
  const manager = params.get('fieldManager') ?? '';
  if (!apply && params.has('force'))
    errors.push({ type: 'FieldValueForbidden', field: 'force', detail: 'may not be specified for non-apply patch' });
  if (apply && manager === '')
    errors.push({ type: 'FieldValueRequired', field: 'fieldManager', detail: 'is required for apply patch' });
  errors.push(...fieldValidationErrors(params));
  if (errors.length) throw invalid('meta.k8s.io', 'PatchOptions', '', errors);
}

/** How Go's encoding/json names a JSON value's type in "cannot unmarshal X into ..." errors. */
export function goJsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  switch (typeof v) {
    case 'object':
      return 'object';
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'bool';
    default:
      return 'value';
  }
}
