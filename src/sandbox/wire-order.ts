// Objects leave the server in the Go types' field order, as the real API server's JSON encoder
// writes them: kind, apiVersion, metadata (ObjectMeta's order: name, generateName, namespace, uid,
// resourceVersion, generation, creationTimestamp, ... managedFields), the kind's own fields, status
// last. Clients that read raw bytes (watch streams cut at N characters, diffs) see the same text.
import type { KubeObject } from '../kube/objects.ts';

const META_ORDER = [
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
];

/** Top-level fields after metadata, where a kind's Go struct orders them differently from "spec, status". */
const KIND_ORDER: Record<string, string[]> = {
  ConfigMap: ['immutable', 'data', 'binaryData'],
  Secret: ['immutable', 'data', 'stringData', 'type'],
  ServiceAccount: ['secrets', 'imagePullSecrets', 'automountServiceAccountToken'],
  Endpoints: ['subsets'],
  Role: ['rules'],
  ClusterRole: ['rules', 'aggregationRule'],
  RoleBinding: ['subjects', 'roleRef'],
  ClusterRoleBinding: ['subjects', 'roleRef'],
};

function ordered(o: Record<string, unknown>, first: string[], last: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of first) if (k in o && !last.includes(k)) out[k] = o[k];
  for (const k of Object.keys(o)) if (!(k in out) && !last.includes(k)) out[k] = o[k];
  for (const k of last) if (k in o) out[k] = o[k];
  return out;
}

/** A shallow re-ordering (nested values are shared, not copied). */
export function inWireOrder(obj: KubeObject): KubeObject {
  if (typeof obj !== 'object' || obj === null || typeof obj.metadata !== 'object' || obj.metadata === null) return obj;
  const top = ordered(
    obj as unknown as Record<string, unknown>,
    ['kind', 'apiVersion', 'metadata', ...(KIND_ORDER[obj.kind] ?? ['spec'])],
    ['status'],
  );
  top.metadata = ordered(obj.metadata as unknown as Record<string, unknown>, META_ORDER);
  return top as unknown as KubeObject;
}
