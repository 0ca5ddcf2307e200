// The options every write carries in its query (metav1.CreateOptions, UpdateOptions, PatchOptions,
// DeleteOptions) checked as k8s.io/apimachinery's ValidateCreateOptions & co. do, before the body is
// read: dryRun may only be "All", fieldValidation one of Ignore/Warn/Strict (unset means Warn).
// Failures are 422s on the options kind: `CreateOptions.meta.k8s.io "" is invalid: dryRun: ...`.
import { type FieldError, invalid } from './api-errors.ts';
import { type FieldValidation, fieldValidationErrors, fieldValidationOf } from './patch-options.ts';

export type OptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions' | 'DeleteOptions';

function dryRunErrors(values: string[]): FieldError[] {
  if (values.every((v) => v === 'All')) return [];
  return [{ type: 'FieldValueNotSupported', field: 'dryRun', value: values, detail: 'supported values: "All"' }];
}

/** Whether the write is a dry run; throws the 422 Kubernetes gives for any value but All. */
export function dryRunOf(params: URLSearchParams, kind: OptionsKind, bodyDryRun?: string[]): boolean {
  const values = [...params.getAll('dryRun'), ...(bodyDryRun ?? [])];
  const errors = dryRunErrors(values);
  if (errors.length) throw invalid('meta.k8s.io', kind, '', errors);
  return values.length > 0;
}

export interface WriteOptions {
  dryRun: boolean;
  fieldValidation: FieldValidation;
}

/** Create and update options, validated together (dryRun, then fieldValidation, as Kubernetes orders them). */
export function writeOptionsOf(params: URLSearchParams, kind: 'CreateOptions' | 'UpdateOptions'): WriteOptions {
  const errors = [...dryRunErrors(params.getAll('dryRun')), ...fieldValidationErrors(params)];
  if (errors.length) throw invalid('meta.k8s.io', kind, '', errors);
  return { dryRun: params.getAll('dryRun').length > 0, fieldValidation: fieldValidationOf(params) };
}
