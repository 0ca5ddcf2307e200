// Approval requests kept as ConfigMaps in the bot's namespace (why ConfigMaps: docs/approvals.md).
// Every state change is a PUT carrying the resourceVersion that was read: when two clicks or two
// replicas race, the API server lets exactly one write through and answers 409 to the others.
import { KubeApiError, type KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/objects.ts';
import type { Logger } from '../log.ts';
import { type ApprovalRequest, requestSchema } from './request.ts';

export const REQUEST_LABEL = 'meshops.dev/approval-request';
const DATA_KEY = 'request.json';

export interface StoredRequest {
  record: ApprovalRequest;
  resourceVersion: string;
}

/** What a mutation decides after reading the current record. */
export type Decision<T> = { write: ApprovalRequest; result: T } | { keep: true; result: T };

export function objectName(id: string): string {
  return `meshops-req-${id}`;
}

export class RequestStore {
  private readonly kube: KubeClient;
  readonly namespace: string;
  private readonly log: Logger;

  constructor(kube: KubeClient, namespace: string, log: Logger) {
    this.kube = kube;
    this.namespace = namespace;
    this.log = log;
  }

  private toObject(rec: ApprovalRequest, resourceVersion?: string): KubeObject {
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: objectName(rec.id),
        namespace: this.namespace,
        ...(resourceVersion ? { resourceVersion } : {}),
        labels: {
          'app.kubernetes.io/managed-by': 'meshops',
          [REQUEST_LABEL]: rec.type,
          'meshops.dev/state': rec.state,
          'meshops.dev/kind': rec.kind,
          'meshops.dev/target-namespace': rec.target.namespace,
        },
        annotations: { 'meshops.dev/target': `${rec.target.kind} ${rec.target.namespace}/${rec.target.name}`, 'meshops.dev/cluster': rec.cluster },
      },
      data: { [DATA_KEY]: JSON.stringify(rec) },
    };
  }

  private fromObject(obj: KubeObject): StoredRequest | undefined {
    const text = (obj.data as Record<string, string> | undefined)?.[DATA_KEY];
    let parsed;
    try {
      parsed = requestSchema.safeParse(JSON.parse(text ?? ''));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) {
      // Someone edited the object by hand: it is no request we can act on.
      this.log.warn({ name: obj.metadata.name }, 'approval request object does not parse; ignoring it');
      return undefined;
    }
    return { record: parsed.data, resourceVersion: obj.metadata.resourceVersion ?? '' };
  }

  async create(rec: ApprovalRequest): Promise<StoredRequest> {
    const created = await this.kube.create(this.toObject(rec));
    return { record: rec, resourceVersion: created.metadata.resourceVersion ?? '' };
  }

  async read(id: string): Promise<StoredRequest | undefined> {
    const obj = await this.kube.get('ConfigMap', this.namespace, objectName(id));
    return obj ? this.fromObject(obj) : undefined;
  }

  /** PUT with the read resourceVersion; a KubeApiError 409 means someone else wrote first. */
  async write(current: StoredRequest, next: ApprovalRequest): Promise<StoredRequest> {
    const saved = await this.kube.replace(this.toObject(next, current.resourceVersion));
    return { record: next, resourceVersion: saved.metadata.resourceVersion ?? '' };
  }

  /**
   * Read, decide, write with a precondition; on 409 read again and decide again, so the decision is
   * always taken on the latest state. Returns undefined when the request does not exist.
   */
  async mutate<T>(id: string, decide: (rec: ApprovalRequest) => Promise<Decision<T>> | Decision<T>): Promise<{ stored: StoredRequest; result: T } | undefined> {
    for (let attempt = 0; attempt < 25; attempt++) {
      const current = await this.read(id);
      if (!current) return undefined;
      const d = await decide(current.record);
      if ('keep' in d) return { stored: current, result: d.result };
      try {
        return { stored: await this.write(current, d.write), result: d.result };
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 409) continue;
        throw err;
      }
    }
    throw new Error(`approval request ${id}: too many concurrent updates`);
  }


  async list(filter: { state?: string; targetNamespace?: string; type?: 'offer' | 'proposal' } = {}): Promise<StoredRequest[]> {
    const selector = [
      filter.type ? `${REQUEST_LABEL}=${filter.type}` : REQUEST_LABEL,
      filter.state ? `meshops.dev/state=${filter.state}` : undefined,
      filter.targetNamespace ? `meshops.dev/target-namespace=${filter.targetNamespace}` : undefined,
    ]
      .filter(Boolean)
      .join(',');
    const objects = await this.kube.list('ConfigMap', { namespace: this.namespace, labelSelector: selector });
    return objects.map((o) => this.fromObject(o)).filter((s): s is StoredRequest => s !== undefined);
  }
}
