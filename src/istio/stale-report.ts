// The shape of the /mesh stale diagnosis: plain data that the Slack wording renders and tests pin.
// No logic here beyond the ordering every part of the diagnosis sorts by.
import type { IstiodFailure, IstiodSummary } from './merge.ts';

export type Finding = 'STALE' | 'ERROR' | 'DISCONNECTED' | 'UNKNOWN';

export interface WorkloadRef {
  kind: string;
  namespace: string;
  name: string;
}

export interface ConfigChange {
  kind: string;
  namespace: string;
  name: string;
  /** ISO time of the last write to its spec (managedFields), else its creation. */
  changedAt: string;
  source: 'managedFields' | 'creationTimestamp';
  manager?: string;
}

/** The config a proxy's trouble points at: what changed, what in the evidence leads to it, and where. */
export interface Suspect extends ConfigChange {
  /** `named`: the NACK names a resource this object builds; `type`: only the troubled type and the time do. */
  via: 'named' | 'type';
  /** The resource it builds, in words ("cluster `outbound|9080|v2|reviews…` (Service reviews.bookinfo, …)"). */
  builds?: string;
  /** The field Envoy's text points at, where the object sets it, with its value. */
  field?: { path: string; value?: string };
  /** How long before the unacknowledged push it changed. */
  leadMs: number;
}

/** What fixes a group's trouble: the config (a NACK), new pods, istiod itself. */
export type GroupFix = 'config' | 'restart' | 'istiod';

/** Affected proxies of one namespace with one cause: a finding, its types and, for a NACK, Envoy's text. */
export interface TroubleGroup {
  namespace: string;
  finding: Finding;
  types: string[];
  /** ERROR: the NACK text these proxies share (one per type, joined). */
  message?: string;
  /** The resources the NACK names, in words, with Envoy's words about each. */
  named: Array<{ resource: string; detail: string }>;
  suspect?: Suspect;
  /** STALE or ERROR with no config change before it that could explain it. */
  noPriorChange: boolean;
  /** Earliest unacknowledged push among them (ISO). */
  since?: string;
  proxies: string[];
  /** Their owners (Deployment where there is one), most affected pods first, with those pods' names. */
  workloads: Array<WorkloadRef & { pods: string[] }>;
  fix: GroupFix;
}

export interface AffectedProxy {
  proxyId: string;
  pod: string;
  namespace: string;
  finding: Finding;
  /** Short type names that are STALE or ERROR (empty for DISCONNECTED/UNKNOWN). */
  types: string[];
  errors: Array<{ type: string; message: string }>;
  istiod?: string;
  /** istiod's proxy type: `sidecar`, or `router` for gateways. */
  proxyType?: string;
  /** Earliest unacknowledged push among the affected types (ISO). */
  since?: string;
  /** The pod's owner: ReplicaSet → Deployment where there is one. */
  owner?: WorkloadRef;
  /** The suspect of its group (shared), absent when none precedes the trouble. */
  suspect?: Suspect;
}

export interface NamespaceCounts {
  namespace: string;
  proxies: number;
  synced: number;
  stale: number;
  error: number;
  notSent: number;
  disconnected: number;
  unknown: number;
}

export interface Interpretation {
  type: string;
  status: 'STALE' | 'ERROR';
  proxies: number;
  text: string;
  /** For ERROR: the distinct NACK texts Envoy sent back. */
  errors?: string[];
}

export interface ObviousCause {
  /** Istio's message code when an Istio analyzer found it (IST0101, IST0173, ...). */
  code?: string;
  kind: string;
  namespace: string;
  name: string;
  text: string;
}

export interface LogGroup {
  level: string;
  /** The line with per-connection parts blanked, so repeats of one problem count together. */
  pattern: string;
  count: number;
  lastAt?: string;
  /** The newest matching line as logged (trimmed). */
  sample: string;
  istiods: string[];
}

export interface IstiodLogRead {
  istiod: string;
  ok: boolean;
  text?: string;
  error?: string;
}

export interface IstiodPodHealth {
  name: string;
  ready: boolean;
  restarts: number;
  lastTermination?: { reason: string; at?: string; container: string };
}

export interface IstiodHealth {
  namespace: string;
  desired?: number;
  ready: number;
  pods: IstiodPodHealth[];
  deployments: WorkloadRef[];
  unhealthy: boolean;
  reasons: string[];
}

export interface RestartSuggestion {
  target: WorkloadRef;
  why: string;
  forIstiod: boolean;
  pods: string[];
}

export interface StaleReport {
  namespace?: string;
  now: string;
  istiodNamespace: string;
  totals: Omit<NamespaceCounts, 'namespace'>;
  byNamespace: NamespaceCounts[];
  /** Short names of the types every connected proxy watches and has SYNCED (the all-clear line). */
  syncedTypes: string[];
  affected: AffectedProxy[];
  interpretations: Interpretation[];
  causes: ObviousCause[];
  logs: { groups: LogGroup[]; failures: Array<{ istiod: string; error: string }>; window: string };
  health: IstiodHealth;
  istiods: IstiodSummary[];
  failures: IstiodFailure[];
  noIstiod: boolean;
  /** Every istiod that was asked answered 404: ENABLE_DEBUG_ON_HTTP=false. */
  debugDisabled: boolean;
  restarts: RestartSuggestion[];
  /** Affected proxies grouped by namespace and cause, the largest trouble first. */
  groups: TroubleGroup[];
  /** STALE on so many proxies at once that istiod, not each workload, is the common factor (why, in words). */
  massStale?: string;
}

/** Plain code-unit order (not locale order), so the report reads the same on every machine. */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
