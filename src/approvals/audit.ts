// Audit, the two places besides the persisted request: a pino line any log pipeline can pick up, and a
// Kubernetes Event on the target so `kubectl describe` and `kubectl get events` show who did what.
import { randomBytes } from 'node:crypto';
import type { KubeClient } from '../kube/client.ts';
import type { Logger } from '../log.ts';
import type { ApprovalRequest } from './request.ts';

export type AuditAction =
  | 'proposed'
  | 'approved'
  | 'denied'
  | 'expired'
  | 'superseded'
  | 'executed'
  | 'succeeded'
  | 'failed'
  | 'unknown';

const REASONS: Record<AuditAction, string> = {
  proposed: 'MeshopsProposed',
  approved: 'MeshopsApproved',
  denied: 'MeshopsDenied',
  expired: 'MeshopsExpired',
  superseded: 'MeshopsSuperseded',
  executed: 'MeshopsExecuted',
  succeeded: 'MeshopsSucceeded',
  failed: 'MeshopsFailed',
  unknown: 'MeshopsOutcomeUnknown',
};

export interface AuditEntry {
  action: AuditAction;
  /** Slack user id of whoever caused this step (requester, approver, denier), if a person did. */
  by?: string;
  message: string;
}

export class Auditor {
  private readonly log: Logger;
  private readonly replica: string;
  private readonly now: () => Date;

  constructor(log: Logger, replica: string, now: () => Date) {
    this.log = log;
    this.replica = replica;
    this.now = now;
  }

  /** Writes the audit line and the Event. An Event that cannot be written is logged, never fatal. */
  /** The log line always; the Event on the target when its cluster is served here (`kube` defined). */
  async record(kube: KubeClient | undefined, rec: ApprovalRequest, entry: AuditEntry): Promise<void> {
    const target = `${rec.target.kind} ${rec.target.namespace}/${rec.target.name}`;
    this.log.info(
      {
        audit: {
          action: entry.action,
          id: rec.id,
          kind: rec.kind,
          cluster: rec.cluster,
          target,
          state: rec.state,
          by: entry.by,
          requester: rec.requester.userId,
          approvers: rec.approvals.map((a) => a.userId),
          message: entry.message,
        },
      },
      `audit: ${entry.action} ${rec.kind} ${target}`,
    );
    if (!kube) return;
    const at = this.now().toISOString();
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name: `${rec.target.name}.${randomBytes(8).toString('hex')}`,
        namespace: rec.target.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'meshops' },
        annotations: { 'meshops.dev/request': rec.id },
      },
      involvedObject: {
        apiVersion: rec.preview?.targetApiVersion ?? 'apps/v1',
        kind: rec.target.kind,
        namespace: rec.target.namespace,
        name: rec.target.name,
        ...(rec.preview?.targetUid ? { uid: rec.preview.targetUid } : {}),
      },
      reason: REASONS[entry.action],
      message: entry.message.slice(0, 1024),
      type: entry.action === 'failed' || entry.action === 'denied' || entry.action === 'unknown' ? 'Warning' : 'Normal',
      source: { component: 'meshops' },
      reportingComponent: 'meshops',
      reportingInstance: this.replica,
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
    };
    try {
      await kube.create(event);
    } catch (err) {
      this.log.warn({ err, id: rec.id, reason: event.reason }, 'could not record a Kubernetes Event for an audit step');
    }
  }
}
