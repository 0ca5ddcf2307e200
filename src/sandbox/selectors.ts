// labelSelector and fieldSelector query parameters, parsed the way the API server reads them.
import type { KubeObject } from '../kube/objects.ts';
import { badRequest } from './api-errors.ts';

export type LabelRequirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' };

/** Parse `a=b,c!=d,e in (f,g),h notin (i),j,!k`. Throws a 400 ApiError on bad syntax. */
export function parseLabelSelector(text: string): LabelRequirement[] {
  const reqs: LabelRequirement[] = [];
  const s = text.trim();
  let i = 0;
  const skipWs = () => {
    while (i < s.length && s[i] === ' ') i++;
  };
  const readKey = (): string => {
    skipWs();
    const start = i;
    while (i < s.length && /[A-Za-z0-9._\-/]/.test(s[i] as string)) i++;
    return s.slice(start, i);
  };
  const fail = (why: string): never => {
    throw badRequest(`unable to parse requirement: ${why}`);
  };
  while (i < s.length) {
    skipWs();
    if (s[i] === '!') {
      i++;
      const key = readKey();
      if (!key) fail(`found '${s.slice(i)}', expected: identifier`);
      reqs.push({ key, op: 'notexists' });
    } else {
      const key = readKey();
      if (!key) fail(`found '${s.slice(i)}', expected: identifier`);
      skipWs();
      const rest = s.slice(i);
      if (rest.startsWith('==') || rest.startsWith('!=') || rest.startsWith('=')) {
        const op = rest.startsWith('!=') ? 'neq' : 'eq';
        i += rest.startsWith('=') && !rest.startsWith('==') ? 1 : 2;
        skipWs();
        const start = i;
        while (i < s.length && s[i] !== ',') i++;
        const value = s.slice(start, i).trim();
        reqs.push({ key, op, value });
      } else if (/^(in|notin)\s*\(/.test(rest)) {
        const op = rest.startsWith('notin') ? 'notin' : 'in';
        i = s.indexOf('(', i) + 1;
        const close = s.indexOf(')', i);
        if (close < 0) fail(`found '${s.slice(i)}', expected: ')'`);
        const values = s
          .slice(i, close)
          .split(',')
          .map((v) => v.trim())
          .filter((v) => v !== '');
        i = close + 1;
        reqs.push({ key, op, values });
      } else if (rest === '' || rest.startsWith(',')) {
        reqs.push({ key, op: 'exists' });
      } else {
        fail(`found '${rest}', expected: in, notin, =, ==, !=, gt, lt`);
      }
    }
    skipWs();
    if (i < s.length) {
      if (s[i] !== ',') fail(`found '${s.slice(i)}', expected: ','`);
      i++;
    }
  }
  return reqs;
}

export function matchesLabelRequirements(reqs: readonly LabelRequirement[], labels: Record<string, string> | undefined): boolean {
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
    }
  }
  return true;
}

export interface FieldRequirement {
  field: string;
  op: 'eq' | 'neq';
  value: string;
}

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

export function selectorObjectMatches(sel: LabelSelectorObject | undefined, labels: Record<string, string> | undefined): boolean {
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
