// Remediations as data: each kind says how to preview itself (a server-side dry run), how to execute
// exactly what was previewed, how to tell whether the target moved since, and how to follow the result.
// The approvals engine is the same for every kind; new kinds register here.
import type { KubeClient } from '../kube/client.ts';
import type { PreviewData, Target } from './request.ts';

export type Preview = ({ ok: true } & PreviewData) | { ok: false; reason: string };

export interface Progress {
  done: boolean;
  ok: boolean;
  summary: string;
  /** Things going wrong right now: pods failing to start, with their reason. */
  problems: string[];
  /**
   * The kind's own state of a watch window (baselines, readings), JSON only: the engine keeps it in the
   * request, so the replica that resumes the follow-up through its Lease continues the same window.
   */
  window?: unknown;
}

export interface ExecutionContext {
  /** The approval request's id: the kind marks its change with it where the object allows. */
  requestId: string;
}

export interface Verification {
  landed: boolean;
  /** What was seen, in words, for the message and the audit trail. */
  evidence: string;
  /** generation:N / resourceVersion:N of the target now; undefined when it is gone. */
  fingerprint: string | undefined;
}

export interface RemediationKind {
  kind: string;
  /** Target kinds this remediation accepts (e.g. Deployment). */
  targetKinds: readonly string[];
  /** "Restart deployment bookinfo/reviews-v2". */
  title(target: Target): string;
  /** The confirm dialog's sentence, naming the target. */
  confirm(target: Target, preview: PreviewData): string;
  /** RBAC the bot (or the impersonated approver) needs, for docs and deploy/. */
  permissions: readonly string[];
  preview(kube: KubeClient, target: Target, params: Record<string, unknown>, now: Date): Promise<Preview>;
  /** generation:N or resourceVersion:N of the target now; undefined when it is gone. */
  fingerprint(kube: KubeClient, target: Target): Promise<string | undefined>;
  /** Applies preview.plan, marked as this request's change; returns one sentence saying what changed. */
  execute(kube: KubeClient, target: Target, plan: unknown, ctx: ExecutionContext): Promise<string>;
  /**
   * Reads the live object once and says whether this request's own change is there (by a value only
   * this request writes: the restart annotation's timestamp, a marker annotation with the request id),
   * plus the target's fingerprint now. Throws when the object cannot be read: the engine then says it
   * cannot tell, rather than guessing.
   */
  verify(kube: KubeClient, target: Target, plan: unknown, ctx: ExecutionContext): Promise<Verification>;
  /**
   * Where the change stands; `since` is when it was applied (watch windows, event filters), `window` what
   * the last look returned as Progress.window (from the request, so also after another replica's look).
   */
  followUp?(kube: KubeClient, target: Target, plan: unknown, since: Date, window?: unknown): Promise<Progress>;
  followUpTimeoutMs?: number;
}

export class RemediationRegistry {
  private readonly byKind = new Map<string, RemediationKind>();

  constructor(kinds: readonly RemediationKind[] = []) {
    for (const k of kinds) this.register(k);
  }

  register(kind: RemediationKind): void {
    if (this.byKind.has(kind.kind)) throw new Error(`remediation kind ${kind.kind} is registered twice`);
    this.byKind.set(kind.kind, kind);
  }

  get(kind: string): RemediationKind | undefined {
    return this.byKind.get(kind);
  }

  kinds(): string[] {
    return [...this.byKind.keys()];
  }
}
