// What a caller of the Kubernetes client passes: patch types, list, write and log options, the identity
// to act as, and the client's own options (the per-request record, impersonation, timeout).

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';
export const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  force?: boolean;
}

export interface Identity {
  user: string;
  groups?: string[];
}

export interface LogOptions {
  container?: string;
  tailLines?: number;
  sinceSeconds?: number;
  limitBytes?: number;
  timestamps?: boolean;
}

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
}

export interface KubeClientOptions {
  /** Called after every request: metrics and benches count API calls here. */
  onRequest?: (record: RequestRecord) => void;
  impersonate?: Identity;
  userAgent?: string;
  timeoutMs?: number;
  /**
   * Lists are read in pages of this many items (limit/continue), as client-go's pager does (500), so a large
   * cluster's list is never one huge answer for the server to build or for us to parse at once.
   */
  listPageSize?: number;
}

/** The query every write sends: dryRun=All when asked, and our field manager. */
export function writeQuery(options: WriteOptions): Record<string, string | undefined> {
  return { dryRun: options.dryRun ? 'All' : undefined, fieldManager: options.fieldManager ?? 'meshops' };
}
