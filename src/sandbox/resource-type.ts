// What the sandbox knows about one resource type: its group, versions, names, scope, verbs and
// subresources. A leaf, shared by the registry (resource-types.ts) and the built-in catalog.
import type { PrinterColumn } from './istio-crds.ts';

export interface ResourceType {
  group: string;
  /** Served versions, most preferred first. */
  versions: string[];
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  verbs: string[];
  /** Subresource names: status, scale, log, proxy, portforward. */
  subresources: string[];
  /** Custom resources only accept JSON merge patch, not strategic merge (as in Kubernetes). */
  custom: boolean;
  /**
   * Whether the registry strategy keeps metadata.generation (1 on create, +1 when the spec changes):
   * workloads, policies, CRDs and every custom resource; not ConfigMap, Secret, Pod, Service, Event...
   */
  generation: boolean;
  printerColumns?: PrinterColumn[];
}
