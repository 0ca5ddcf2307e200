// The sandbox store's vocabulary: the events it emits to watchers and the options of its writes,
// deletes and construction (see store.ts).
import type { KubeObject, ManagedFieldsEntry } from '../kube/objects.ts';
import type { ResourceRegistry, ResourceType } from './resource-types.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  rt: ResourceType;
  object: KubeObject;
  /** The object before a MODIFIED event (watchers with selectors need it). */
  old?: KubeObject;
  rv: number;
}

export interface WriteOptions {
  dryRun?: boolean;
  /** Who wrote, for metadata.managedFields. */
  manager?: string;
  operation?: 'Update' | 'Apply';
  /** 'status' writes only .status; the main resource keeps the old status when the kind has a status subresource. */
  subresource?: string;
  /** Write status along with everything else (seeds and controllers; never from HTTP). */
  wholeObject?: boolean;
  /** managedFields already worked out (server-side apply); otherwise an Update by `manager` is recorded. */
  managedFields?: ManagedFieldsEntry[];
}

export interface DeleteOptions {
  dryRun?: boolean;
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface StoreOptions {
  registry?: ResourceRegistry;
  now?: () => Date;
  /** How many events a watch can replay from an older resourceVersion. */
  historyLimit?: number;
}
