// The plain shape of any Kubernetes object as it travels through meshops: what the API server
// returns, what seeds and YAML files hold, what analyzers read. Kind-specific fields stay `unknown`
// until a zod schema at the edge that depends on them narrows them.

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  time?: string;
  apiVersion?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  managedFields?: ManagedFieldsEntry[];
  generateName?: string;
  finalizers?: string[];
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  // biome-style escape hatch: spec/status/data differ per kind and are narrowed where used.
  [field: string]: unknown;
}

/** `<Kind> <namespace>/<name>`, or `<Kind> <name>` for cluster-scoped objects: the form Istio prints. */
export function resourceRef(obj: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return formatResource(obj.kind, obj.metadata.namespace, obj.metadata.name);
}

export function formatResource(kind: string, namespace: string | undefined, name: string): string {
  return namespace ? `${kind} ${namespace}/${name}` : `${kind} ${name}`;
}

export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

export function versionOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
}

/** Does a label selector's matchLabels (a plain map) select these labels? An empty selector selects all. */
export function matchesLabels(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!selector) return true;
  const have = labels ?? {};
  for (const [k, v] of Object.entries(selector)) if (have[k] !== v) return false;
  return true;
}
