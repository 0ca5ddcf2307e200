// Subresources with handlers of their own: scale (read and written as an autoscaling/v1 Scale),
// a pod's log (from the sandbox's log book, or seeded from the pod's annotations), the pod proxy
// (to the handlers registered on the sandbox's pod network), and the access reviews.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../kube/objects.ts';
import { ApiError, badRequest, type FieldError, invalid, notFound } from './api-errors.ts';
import { bodyObject, isDryRun, managerOf, sendJson } from './api-io.ts';
import { existing, type HandlerContext, servedVersion } from './api-objects.ts';
import { rbacObjects, type ResourcePath } from './api-routing.ts';
import { reviewAnswer } from './access-reviews.ts';
import type { Identity } from './auth.ts';
import { clone } from './patch.ts';
import { LOGS_ANNOTATION_PREFIX, renderLogs } from './pod-logs.ts';
import { logQuerySchema, parseQuery } from './request-schemas.ts';
import type { ResourceType } from './resource-types.ts';

export function toScale(obj: KubeObject): object {
  const spec = (obj.spec ?? {}) as { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  const status = (obj.status ?? {}) as { replicas?: number };
  const selector = Object.entries(spec.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: spec.replicas ?? 0 },
    status: { replicas: status.replicas ?? 0, selector },
  };
}

/** Write a Scale's spec.replicas into the object it scales (PUT, or PATCH after the patch is applied). */
export async function writeScale(
  ctx: HandlerContext,
  res: ServerResponse,
  rt: ResourceType,
  p: ResourcePath,
  raw: unknown,
  params: URLSearchParams,
  req: IncomingMessage,
): Promise<void> {
  const replicas = (raw as { spec?: { replicas?: unknown } } | undefined)?.spec?.replicas;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    const cause: FieldError = {
      type: 'FieldValueInvalid',
      field: 'spec.replicas',
      value: replicas,
      detail: 'must be greater than or equal to 0',
    };
    throw invalid('autoscaling', 'Scale', p.name as string, [cause]);
  }
  const current = existing(ctx.store, rt, p);
  const next = clone(current);
  (next.spec as { replicas?: number }).replicas = replicas;
  const dryRun = isDryRun(params, req.method === 'PATCH' ? 'PatchOptions' : 'UpdateOptions');
  const out = ctx.store.update(rt, next, { dryRun, manager: managerOf(params, req) });
  sendJson(res, 200, toScale(out));
}

export function podLog(
  ctx: HandlerContext,
  res: ServerResponse,
  rt: ResourceType,
  p: ResourcePath,
  params: URLSearchParams,
): void {
  const pod = existing(ctx.store, rt, p);
  const q = parseQuery(logQuerySchema, params);
  const spec = pod.spec as { containers?: { name: string }[]; initContainers?: { name: string }[] } | undefined;
  const names = (spec?.containers ?? []).map((c) => c.name);
  const all = [...names, ...(spec?.initContainers ?? []).map((c) => c.name)];
  let container = q.container;
  if (!container) {
    if (names.length !== 1)
      throw badRequest(
        `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${names.join(' ')}]`,
      );
    container = names[0] as string;
  }
  if (!all.includes(container)) throw badRequest(`container ${container} is not valid for pod ${pod.metadata.name}`);
  // A pod no node runs yet has no kubelet to ask: the API server answers 204 No Content.
  if (!(pod.spec as { nodeName?: string } | undefined)?.nodeName) {
    res.writeHead(204, { 'cache-control': 'no-cache, private' });
    res.end();
    return;
  }
  type Statuses = {
    containerStatuses?: {
      name: string;
      state?: { waiting?: { reason?: string; message?: string } };
      restartCount?: number;
    }[];
  };
  const statuses = (pod.status as Statuses | undefined)?.containerStatuses ?? [];
  const st = statuses.find((s) => s.name === container);
  const waiting = st?.state?.waiting;
  if (waiting && !(st?.restartCount && st.restartCount > 0)) {
    const pulling = waiting.reason === 'ImagePullBackOff' || waiting.reason === 'ErrImagePull';
    const why = pulling ? 'trying and failing to pull image' : (waiting.reason ?? 'ContainerCreating');
    throw badRequest(`container "${container}" in pod "${pod.metadata.name}" is waiting to start: ${why}`);
  }
  if (!st && statuses.length === 0 && (pod.status as { phase?: string } | undefined)?.phase === 'Pending') {
    throw badRequest(`container "${container}" in pod "${pod.metadata.name}" is waiting to start: ContainerCreating`);
  }
  const ns = p.namespace as string;
  let lines = ctx.logs.get(ns, pod.metadata.name, container);
  if (!lines) {
    const fromAnnotation = pod.metadata.annotations?.[`${LOGS_ANNOTATION_PREFIX}${container}`];
    const started = (pod.status as { startTime?: string } | undefined)?.startTime ?? pod.metadata.creationTimestamp;
    const end = started ? new Date(started) : ctx.store.now();
    ctx.logs.set(
      ns,
      pod.metadata.name,
      container,
      fromAnnotation ? fromAnnotation.replace(/\n$/, '').split('\n') : [],
      end,
    );
    lines = ctx.logs.get(ns, pod.metadata.name, container) ?? [];
  }
  const { container: _c, follow: _f, previous: _p, ...query } = q;
  const text = renderLogs(lines, query, ctx.store.now());
  res.writeHead(200, {
    'content-type': 'text/plain',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-cache, private',
  });
  res.end(text);
}

export function proxy(
  ctx: HandlerContext,
  req: IncomingMessage,
  res: ServerResponse,
  rt: ResourceType,
  p: ResourcePath,
): void {
  if (rt.plural !== 'pods')
    throw new ApiError(503, 'ServiceUnavailable', `no endpoints available for service "${p.name}"`, {});
  const spec = String(p.name);
  const parts = spec.split(':');
  const podName = parts.length === 3 ? (parts[1] as string) : (parts[0] as string);
  const port = parts.length >= 2 ? Number(parts[parts.length - 1]) : 80;
  if (!ctx.store.peek(rt, p.namespace, podName)) throw notFound(rt, podName);
  ctx.podEndpoints.handleProxy(req, res, p.namespace as string, podName, port, `/${p.rest ?? ''}`);
}

export async function accessReview(
  ctx: HandlerContext,
  req: IncomingMessage,
  res: ServerResponse,
  rt: ResourceType,
  p: ResourcePath,
  who: Identity,
): Promise<void> {
  const body = await bodyObject(req);
  sendJson(
    res,
    201,
    reviewAnswer(rt.plural, servedVersion(rt, p.version), body, who, rbacObjects(ctx.store), p.namespace),
  );
}
