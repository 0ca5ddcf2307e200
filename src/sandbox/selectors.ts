// labelSelector and fieldSelector query parameters, parsed the way the API server reads them.
import type { KubeObject } from '../kube/objects.ts';
import { badRequest } from './api-errors.ts';
import { type FieldRequirement, fieldLabelValue } from './field-selectors.ts';
import { type LabelRequirement, parseLabelSelectorText } from './label-selector.ts';

export type { LabelRequirement } from './label-selector.ts';

/** Parse `a=b,c!=d,e in (f,g),h notin (i),j,!k` as apimachinery does. Throws a 400 ApiError on bad syntax. */
export function parseLabelSelector(text: string): LabelRequirement[] {
  return parseLabelSelectorText(text);
}

export function matchesLabelRequirements(
  reqs: readonly LabelRequirement[],
  labels: Record<string, string> | undefined,
): boolean {
  const have = labels ?? {};
  for (const r of reqs) {
    const present = Object.hasOwn(have, r.key);
    const v = have[r.key];
    switch (r.op) {
      case 'eq':
        if (!present || v !== r.value) return false;
        break;
      case 'neq':
        if (present && v === r.value) return false;
        break;
      case 'in':
        if (!present || !r.values.includes(v as string)) return false;
        break;
      case 'notin':
        if (present && r.values.includes(v as string)) return false;
        break;
      case 'exists':
        if (!present) return false;
        break;
      case 'notexists':
        if (present) return false;
        break;
      case 'gt':
      case 'lt': {
        if (!present || !/^[-+]?\d+$/.test(v as string)) return false;
        const n = Number(v);
        if (r.op === 'gt' ? !(n > Number(r.value)) : !(n < Number(r.value))) return false;
        break;
      }
    }
  }
  return true;
}

export type { FieldRequirement } from './field-selectors.ts';

export function parseFieldSelector(text: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  for (const part of text.split(',')) {
    const p = part.trim();
    if (!p) continue;
    const m = p.match(/^([^=!]+)(==|!=|=)(.*)$/);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${p}'`);
    out.push({ field: (m[1] as string).trim(), op: m[2] === '!=' ? 'neq' : 'eq', value: (m[3] as string).trim() });
  }
  return out;
}

/** The value a field selector compares: any dotted path into the object (Kubernetes supports a per-kind subset). */
export function fieldValue(obj: KubeObject, field: string): string {
  const special = fieldLabelValue(obj, field);
  if (special !== undefined) return special;
  let cur: unknown = obj;
  for (const part of field.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'string' ? cur : String(cur);
}

export function matchesFieldRequirements(reqs: readonly FieldRequirement[], obj: KubeObject): boolean {
  for (const r of reqs) {
    const v = fieldValue(obj, r.field);
    if (r.op === 'eq' ? v !== r.value : v === r.value) return false;
  }
  return true;
}

export interface ObjectFilter {
  namespace?: string;
  labels: LabelRequirement[];
  fields: FieldRequirement[];
}

export function matchesFilter(f: ObjectFilter, obj: KubeObject): boolean {
  if (f.namespace !== undefined && obj.metadata.namespace !== f.namespace) return false;
  return matchesLabelRequirements(f.labels, obj.metadata.labels) && matchesFieldRequirements(f.fields, obj);
}

/** A LabelSelector object (matchLabels + matchExpressions), as Deployments and RBAC aggregation use it. */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export function selectorObjectMatches(
  sel: LabelSelectorObject | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!sel) return false;
  const reqs: LabelRequirement[] = [];
  for (const [key, value] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key, op: 'eq', value });
  for (const e of sel.matchExpressions ?? []) {
    if (e.operator === 'In') reqs.push({ key: e.key, op: 'in', values: e.values ?? [] });
    else if (e.operator === 'NotIn') reqs.push({ key: e.key, op: 'notin', values: e.values ?? [] });
    else if (e.operator === 'Exists') reqs.push({ key: e.key, op: 'exists' });
    else reqs.push({ key: e.key, op: 'notexists' });
  }
  return matchesLabelRequirements(reqs, labels);
}
