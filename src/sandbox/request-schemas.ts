// zod schemas for what arrives over HTTP: object bodies, DeleteOptions, access reviews, query
// parameters. Failures become the 400s Kubernetes answers for undecodable requests.
import { z } from 'zod';
import type { KubeObject } from '../kube/objects.ts';
import { badRequest } from './api-errors.ts';

const stringMap = z.record(z.string(), z.string());

export const objectMetaSchema = z.looseObject({
  name: z.string().optional(),
  generateName: z.string().optional(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  labels: stringMap.nullish(),
  annotations: stringMap.nullish(),
  ownerReferences: z
    .array(z.looseObject({ apiVersion: z.string(), kind: z.string(), name: z.string(), uid: z.string() }))
    .nullish(),
  finalizers: z.array(z.string()).nullish(),
});

export const objectBodySchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: objectMetaSchema.optional(),
});

function describe(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || '<root>'}: ${i.message}`).join('; ');
}

/** A decoded request body as a KubeObject shape (metadata always present). */
export function parseObjectBody(raw: unknown): KubeObject {
  const r = objectBodySchema.safeParse(raw);
  if (!r.success) throw badRequest(`error decoding request body: ${describe(r.error)}`);
  const meta = r.data.metadata ?? {};
  // Kubernetes treats null maps like absent ones.
  for (const k of ['labels', 'annotations', 'ownerReferences', 'finalizers'] as const)
    if (meta[k] === null) delete meta[k];
  return {
    ...r.data,
    apiVersion: r.data.apiVersion ?? '',
    kind: r.data.kind ?? '',
    metadata: { ...meta, name: meta.name ?? '' },
  } as KubeObject;
}

export const deleteOptionsSchema = z.looseObject({
  propagationPolicy: z.enum(['Foreground', 'Background', 'Orphan']).optional(),
  orphanDependents: z.boolean().optional(),
  dryRun: z.array(z.string()).optional(),
  gracePeriodSeconds: z.number().optional(),
  preconditions: z.looseObject({ uid: z.string().optional(), resourceVersion: z.string().optional() }).optional(),
});

export type DeleteOptionsBody = z.infer<typeof deleteOptionsSchema>;

export function parseDeleteOptions(raw: unknown): DeleteOptionsBody {
  if (raw === undefined || raw === null) return {};
  const r = deleteOptionsSchema.safeParse(raw);
  if (!r.success) throw badRequest(`error decoding DeleteOptions: ${describe(r.error)}`);
  return r.data;
}

const resourceAttributes = z.looseObject({
  namespace: z.string().optional(),
  verb: z.string().optional(),
  group: z.string().optional(),
  version: z.string().optional(),
  resource: z.string().optional(),
  subresource: z.string().optional(),
  name: z.string().optional(),
});

const nonResourceAttributes = z.looseObject({ path: z.string().optional(), verb: z.string().optional() });

export const accessReviewSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: z.looseObject({}).optional(),
  spec: z.looseObject({
    resourceAttributes: resourceAttributes.optional(),
    nonResourceAttributes: nonResourceAttributes.optional(),
    user: z.string().optional(),
    groups: z.array(z.string()).optional(),
    uid: z.string().optional(),
  }),
});

export type AccessReview = z.infer<typeof accessReviewSchema>;

export function parseAccessReview(raw: unknown): AccessReview {
  const r = accessReviewSchema.safeParse(raw);
  if (!r.success) throw badRequest(`error decoding access review: ${describe(r.error)}`);
  return r.data;
}

const intParam = z
  .string()
  .regex(/^-?\d+$/)
  .transform(Number);

const boolParam = z.enum(['true', 'false', '1', '0', '']).transform((v) => v === 'true' || v === '1');

export const logQuerySchema = z.object({
  container: z.string().optional(),
  tailLines: intParam.optional(),
  sinceSeconds: intParam.optional(),
  sinceTime: z.string().optional(),
  limitBytes: intParam.optional(),
  timestamps: boolParam.optional(),
  follow: boolParam.optional(),
  previous: boolParam.optional(),
});

export const listQuerySchema = z.object({
  labelSelector: z.string().optional(),
  fieldSelector: z.string().optional(),
  resourceVersion: z.string().optional(),
  resourceVersionMatch: z.string().optional(),
  limit: intParam.optional(),
  continue: z.string().optional(),
  timeoutSeconds: intParam.optional(),
  watch: boolParam.optional(),
  sendInitialEvents: boolParam.optional(),
  allowWatchBookmarks: boolParam.optional(),
  includeObject: z.enum(['None', 'Metadata', 'Object']).optional(),
});

export type ListQuery = z.infer<typeof listQuerySchema>;

/** Parse the query parameters a schema knows; unknown ones are ignored as the API server does. */
export function parseQuery<T extends z.ZodType>(schema: T, params: URLSearchParams): z.infer<T> {
  const raw: Record<string, string> = {};
  for (const [k, v] of params) raw[k] = v;
  const shape = (schema as unknown as z.ZodObject).shape as Record<string, unknown>;
  const known: Record<string, string> = {};
  for (const k of Object.keys(shape)) if (raw[k] !== undefined) known[k] = raw[k];
  const r = schema.safeParse(known);
  if (!r.success) throw badRequest(`invalid query parameters: ${describe(r.error)}`);
  return r.data;
}
