// Tolerant readers for kind-specific fields. Analyzers read objects as the API server or a YAML file
// gave them; a field of the wrong type reads as absent instead of throwing mid-analysis.
import type { KubeObject } from '../../../kube/objects.ts';

export type Rec = Record<string, unknown>;

export function isRec(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function rec(v: unknown): Rec {
  return isRec(v) ? v : {};
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function recs(v: unknown): Rec[] {
  return arr(v).filter(isRec);
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

export function strs(v: unknown): string[] {
  return arr(v).map(str);
}

export function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

export function strMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(rec(v))) out[k] = str(val);
  return out;
}

export function spec(obj: KubeObject): Rec {
  return rec(obj.spec);
}

export function labels(obj: KubeObject): Record<string, string> {
  return obj.metadata.labels ?? {};
}

export function annotations(obj: KubeObject): Record<string, string> {
  return obj.metadata.annotations ?? {};
}

/** The namespace as Istio keys it: objects without one have the empty namespace. */
export function nsOf(obj: KubeObject): string {
  return obj.metadata.namespace ?? '';
}

/** `namespace/name` (or `name`), Istio's resource.FullName string. */
export function fullName(obj: KubeObject): string {
  const ns = obj.metadata.namespace;
  return ns ? `${ns}/${obj.metadata.name}` : obj.metadata.name;
}

/** Pod template of a Deployment-like workload. */
export function podTemplate(obj: KubeObject): { metadata: Rec; spec: Rec } {
  const template = rec(spec(obj)['template']);
  return { metadata: rec(template['metadata']), spec: rec(template['spec']) };
}

/** Results of an expensive derivation, computed once per snapshot and per analyzer run. */
const memos = new WeakMap<object, Map<string, unknown>>();
export function memo<T>(owner: object, key: string, compute: () => T): T {
  let m = memos.get(owner);
  if (!m) memos.set(owner, (m = new Map()));
  if (m.has(key)) return m.get(key) as T;
  const value = compute();
  m.set(key, value);
  return value;
}
