// The common shape of issue 16's diagnostics (sidecar resources, startup race, probes vs authorization):
// pure functions over Kubernetes objects that return findings with their evidence, a confidence and a
// proposed fix described as data (the patch or the object that would be applied), or say why they could
// not check. Missing data is never good news: what a check could not read is listed in `unread`, and a
// check with nothing to look at answers "could not check", not "nothing found".
import type { KubeObject } from '../../kube/objects.ts';
import type { ObjectRef } from '../object-ref.ts';

export type CheckName = 'sidecar-resources' | 'startup-race' | 'probe-authz';

export type Confidence = 'high' | 'medium' | 'low';

/**
 * A change that would remove the cause. `patch` is a strategic-merge patch of `target` (for a
 * Deployment: its pod template); `object` is a whole object to create; `mesh-config` names a
 * mesh-wide setting (the istio ConfigMap's `mesh` key) as a merge into MeshConfig.
 */
export type Fix =
  | { kind: 'strategic-merge-patch'; target: ObjectRef; patch: Record<string, unknown>; why: string }
  | { kind: 'create'; target: ObjectRef; object: KubeObject; why: string }
  | { kind: 'mesh-config'; target: ObjectRef; patch: Record<string, unknown>; why: string };

export interface Finding {
  check: CheckName;
  title: string;
  cause: string;
  evidence: string[];
  confidence: Confidence;
  /** The pods the finding is about. */
  pods: string[];
  fix?: Fix;
  /** Other fixes that would also remove the cause, best first after `fix`. */
  alternatives?: Fix[];
}

/**
 * The outcome of one check. `notes` are facts worth saying that are not problems (a look-alike seen and
 * not flagged, a protection that is in place); `unread` says which inputs were missing and why.
 */
export type DiagnosticResult =
  | { check: CheckName; outcome: 'found'; findings: Finding[]; notes: string[]; unread: string[] }
  | { check: CheckName; outcome: 'nothing-found'; notes: string[]; unread: string[] }
  | { check: CheckName; outcome: 'could-not-check'; reason: string; notes: string[]; unread: string[] };

/** An optional input: the data, or why the caller could not read it. `undefined` means it was not asked for. */
export type Readable<T> = T | { unreadable: string };

export function isUnreadable<T>(value: Readable<T> | undefined): value is { unreadable: string } {
  return typeof value === 'object' && value !== null && 'unreadable' in value;
}

export function result(check: CheckName, findings: Finding[], notes: string[], unread: string[]): DiagnosticResult {
  return findings.length > 0
    ? { check, outcome: 'found', findings, notes, unread }
    : { check, outcome: 'nothing-found', notes, unread };
}

export function couldNotCheck(check: CheckName, reason: string, notes: string[] = [], unread: string[] = []) {
  return { check, outcome: 'could-not-check', reason, notes, unread } satisfies DiagnosticResult;
}
