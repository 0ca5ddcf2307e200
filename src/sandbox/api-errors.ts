// Kubernetes `Status` failures with the codes, reasons and wording the real API server uses, so that
// client-node, kubectl and our own error handling see what they would see against a cluster.
import type { ResourceType } from './resource-types.ts';
import { groupResource } from './resource-types.ts';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    uid?: string;
    causes?: StatusCause[];
    retryAfterSeconds?: number;
  };
  code: number;
}

export class ApiError extends Error {
  readonly status: KubeStatus;
  constructor(code: number, reason: string, message: string, details?: KubeStatus['details']) {
    super(message);
    this.name = 'ApiError';
    this.status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
    if (details) this.status.details = details;
  }
  get code(): number {
    return this.status.code;
  }
}

type Res = Pick<ResourceType, 'group' | 'plural'>;

function details(rt: Res, name?: string): KubeStatus['details'] {
  const d: NonNullable<KubeStatus['details']> = {};
  if (name) d.name = name;
  if (rt.group) d.group = rt.group;
  d.kind = rt.plural;
  return d;
}

export function notFound(rt: Res, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${groupResource(rt)} "${name}" not found`, details(rt, name));
}

export function namespaceNotFound(namespace: string): ApiError {
  return notFound({ group: '', plural: 'namespaces' }, namespace);
}

/** A path the server has no handler for (unknown group, version or resource). */
export function pathNotFound(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

/**
 * A path no API handler claims (an unknown group, a custom resource group's unknown version or
 * resource, a non-API path): the server's mux answers plain text `404 page not found`, not a Status.
 */
export class PlainNotFound extends ApiError {
  constructor() {
    super(404, 'NotFound', '404 page not found', {});
    this.name = 'PlainNotFound';
  }
}

export function plainNotFound(): ApiError {
  return new PlainNotFound();
}

export function alreadyExists(rt: Res, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${groupResource(rt)} "${name}" already exists`, details(rt, name));
}

export function conflict(
  rt: Res,
  name: string,
  why = 'the object has been modified; please apply your changes to the latest version and try again',
): ApiError {
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${groupResource(rt)} "${name}": ${why}`,
    details(rt, name),
  );
}

export interface FieldError {
  type:
    | 'FieldValueRequired'
    | 'FieldValueInvalid'
    | 'FieldValueNotSupported'
    | 'FieldValueForbidden'
    | 'FieldValueDuplicate'
    | 'FieldValueTooLong'
    | 'FieldValueTypeInvalid'
    | 'FieldValueTooMany';
  field: string;
  /** For FieldValueInvalid: the offending value. */
  value?: unknown;
  detail?: string;
}

/**
 * A bad value as Go's field.Error prints it: strings quoted (%q), numbers and booleans plain, nil as
 * "null", string slices and maps in %#v form (`[]string{"Foo"}`, `map[string]string{"app":"d1"}`).
 */
export function goValueText(v: unknown): string {
  if (v === null || v === undefined) return '"null"';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string'))
    return `[]string{${v.map((x) => JSON.stringify(x)).join(', ')}}`;
  if (typeof v === 'object' && Object.values(v as object).every((x) => typeof x === 'string')) {
    const entries = Object.entries(v as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[string]string{${entries.map(([k, x]) => `${JSON.stringify(k)}:${JSON.stringify(x)}`).join(', ')}}`;
  }
  return JSON.stringify(v);
}

function fieldErrorText(e: FieldError): string {
  switch (e.type) {
    case 'FieldValueRequired':
      return `Required value${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueForbidden':
      return `Forbidden${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueTooLong':
      return `Too long${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueTooMany':
      return `Too many: ${goValueText(e.value)}${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueDuplicate':
      return `Duplicate value: ${goValueText(e.value)}`;
    case 'FieldValueNotSupported':
      return `Unsupported value: ${goValueText(e.value)}${e.detail ? `: ${e.detail}` : ''}`;
    default:
      return `Invalid value: ${goValueText(e.value)}${e.detail ? `: ${e.detail}` : ''}`;
  }
}

/** 422 Invalid: `Pod "x" is invalid: metadata.name: Required value: ...` */
export function invalid(group: string, kind: string, name: string, errors: FieldError[]): ApiError {
  const texts = errors.map((e) => `${e.field}: ${fieldErrorText(e)}`);
  const summary = texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`;
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  return new ApiError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${summary}`, {
    ...(name ? { name } : {}),
    ...(group ? { group } : {}),
    ...(kind ? { kind } : {}),
    causes: errors.map((e) => ({ reason: e.type, message: fieldErrorText(e), field: e.field })),
  });
}

/** What Kubernetes answers when a JSON patch cannot be applied (a failed `test`, a missing path). */
export function patchNotApplied(): ApiError {
  return new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', {});
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function methodNotAllowed(): ApiError {
  return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
}

export function unsupportedMediaType(contentType: string, accepted: string[]): ApiError {
  return new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
    {
      causes: [{ reason: 'UnexpectedServerResponse', message: contentType }],
    },
  );
}

/** A PATCH content type this resource does not take (e.g. strategic merge for a custom resource). */
export function patchTypeNotAccepted(accepted: string[]): ApiError {
  return new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );
}

/** A content type no PATCH route consumes: the router's own answer, wrapped in a Status. */
export function routeUnsupportedMediaType(): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', '415: Unsupported Media Type', {});
}

export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}

export function gone(requested: string, oldest: number): ApiError {
  return new ApiError(410, 'Expired', `too old resource version: ${requested} (${oldest})`);
}

/**
 * 403 with the RBAC authorizer's wording, e.g. `deployments.apps "x" is forbidden: User "alice" cannot
 * patch resource "deployments" in API group "apps" in the namespace "bookinfo"`.
 */
export function forbidden(opts: {
  user: string;
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}): ApiError {
  const res = opts.subresource ? `${opts.resource}/${opts.subresource}` : opts.resource;
  const where = opts.namespace ? `in the namespace "${opts.namespace}"` : 'at the cluster scope';
  const why = `User "${opts.user}" cannot ${opts.verb} resource "${res}" in API group "${opts.group}" ${where}`;
  const gr = groupResource({ group: opts.group, plural: opts.resource });
  const head = opts.name ? `${gr} "${opts.name}" is forbidden` : `${gr} is forbidden`;
  return new ApiError(403, 'Forbidden', `${head}: ${why}`, {
    ...(opts.name ? { name: opts.name } : {}),
    ...(opts.group ? { group: opts.group } : {}),
    kind: opts.resource,
  });
}

export function internalError(message: string): ApiError {
  return new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
}
