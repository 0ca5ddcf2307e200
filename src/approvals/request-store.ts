// Approval requests kept as ConfigMaps in the bot's namespace (why ConfigMaps: docs/approvals.md).
// Every state change is a PUT carrying the resourceVersion that was read: when two clicks or two
// replicas race, the API server lets exactly one write through and answers 409 to the others.
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
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

/** Someone else wrote the request between our read and our write (a 409, or found on reconciling). */
class WriteConflict extends Error {}

/** An answer that says the write did not happen and will not: anything but a lost answer or a server fault. */
function definite(err: unknown): boolean {
  return err instanceof KubeApiError && err.status < 500 && err.status !== 429 && err.status !== 408;
}

function newWriteId(): string {
  return randomBytes(8).toString('hex');
}

export function objectName(id: string): string {
  return `meshops-req-${id}`;
}

export class RequestStore {
  private readonly kube: KubeClient;
  readonly namespace: string;
  private readonly log: Logger;

  /** First wait before reading a request back after a lost answer; doubles each try. */
  private readonly backoffMs: number;

  constructor(kube: KubeClient, namespace: string, log: Logger, options: { backoffMs?: number } = {}) {
    this.kube = kube;
    this.namespace = namespace;
    this.log = log;
    this.backoffMs = options.backoffMs ?? 200;
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
        annotations: {
          'meshops.dev/target': `${rec.target.kind} ${rec.target.namespace}/${rec.target.name}`,
          'meshops.dev/cluster': rec.cluster,
        },
      },
      data: { [DATA_KEY]: JSON.stringify(rec) },
    };
  }

  private fromObject(obj: KubeObject): StoredRequest | undefined {
    const text = (obj.data as Record<string, string> | undefined)?.[DATA_KEY];
    let parsed: ReturnType<typeof requestSchema.safeParse> | undefined;
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
    const mine = { ...rec, writeId: newWriteId() };
    try {
      const created = await this.kube.create(this.toObject(mine));
      return { record: mine, resourceVersion: created.metadata.resourceVersion ?? '' };
    } catch (err) {
      if (definite(err) && !(err instanceof KubeApiError && err.status === 409)) throw err;
      // The answer was lost, the server failed, or (after a retry inside the client) it already exists:
      // it is ours only if it carries this write's id.
      const found = await this.settle(mine.id, mine.writeId, err);
      if (found) return found;
      throw err;
    }
  }

  async read(id: string): Promise<StoredRequest | undefined> {
    const obj = await this.kube.get('ConfigMap', this.namespace, objectName(id));
    return obj ? this.fromObject(obj) : undefined;
  }

  /**
   * PUT with the read resourceVersion. Throws WriteConflict when someone else wrote first. When the
   * answer is lost (reset, timeout, 5xx) it reads the request back: our write landed if it carries this
   * write's id; if the request is unchanged, the write is sent again with the same precondition.
   */
  async write(current: StoredRequest, next: ApprovalRequest): Promise<StoredRequest> {
    const mine: ApprovalRequest = { ...next, rev: current.record.rev + 1, writeId: newWriteId() };
    let lastErr: unknown;
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        const saved = await this.kube.replace(this.toObject(mine, current.resourceVersion));
        return { record: mine, resourceVersion: saved.metadata.resourceVersion ?? '' };
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 409)
          throw new WriteConflict(`request ${mine.id} changed under us`);
        if (definite(err)) throw err;
        lastErr = err;
        this.log.warn({ err, id: mine.id, attempt }, 'the answer to a request-state write was lost; reading it back');
      }
      const found = await this.settle(mine.id, mine.writeId, lastErr);
      if (found) return found;
      const now = await this.read(mine.id).catch(() => undefined);
      if (now && now.resourceVersion !== current.resourceVersion)
        throw new WriteConflict(`request ${mine.id} changed under us`);
    }
    throw lastErr;
  }

  /** After a lost answer: read the request back (a few tries) and return it when this write's id is on it. */
  private async settle(id: string, writeId: string | undefined, cause: unknown): Promise<StoredRequest | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      await delay(this.backoffMs * 2 ** attempt);
      try {
        const now = await this.read(id);
        return now?.record.writeId === writeId ? now : undefined;
      } catch (err) {
        this.log.warn(
          { err, id, cause: String(cause) },
          'could not read a request back after a lost answer; trying again',
        );
      }
    }
    throw cause;
  }

  /**
   * Read, decide, write with a precondition; on 409 read again and decide again, so the decision is
   * always taken on the latest state. Returns undefined when the request does not exist.
   */
  async mutate<T>(
    id: string,
    decide: (rec: ApprovalRequest) => Promise<Decision<T>> | Decision<T>,
  ): Promise<{ stored: StoredRequest; result: T } | undefined> {
    for (let attempt = 0; attempt < 25; attempt++) {
      const current = await this.read(id);
      if (!current) return undefined;
      const d = await decide(current.record);
      if ('keep' in d) return { stored: current, result: d.result };
      try {
        return { stored: await this.write(current, d.write), result: d.result };
      } catch (err) {
        if (err instanceof WriteConflict) continue;
        throw err;
      }
    }
    throw new Error(`approval request ${id}: too many concurrent updates`);
  }

  async list(
    filter: { state?: string; targetNamespace?: string; type?: 'offer' | 'proposal' } = {},
  ): Promise<StoredRequest[]> {
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
