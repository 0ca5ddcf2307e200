// authorization.k8s.io/v1 reviews, answered as the API server answers them: SubjectAccessReview,
// LocalSubjectAccessReview and SelfSubjectAccessReview (validated as pkg/apis/authorization/validation
// does, decided by the authorizer chain with RBAC's reason), and SelfSubjectRulesReview (the RBAC
// rules that apply to the requester in a namespace), which `kubectl auth can-i --list` shows.
import type { KubeObject } from '../kube/objects.ts';
import { badRequest, type FieldError, invalid } from './api-errors.ts';
import type { Identity } from './auth.ts';
import { type Decision, decideNonResource, decideResource, grantedRules } from './rbac.ts';

type Obj = Record<string, unknown>;

interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

interface NonResourceAttributes {
  path?: string;
  verb?: string;
}

interface ReviewSpec {
  resourceAttributes?: ResourceAttributes | null;
  nonResourceAttributes?: NonResourceAttributes | null;
  user?: string;
  groups?: string[];
  uid?: string;
  extra?: Record<string, string[]>;
  namespace?: string;
}

const GROUP = 'authorization.k8s.io';

function obj(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** The checks every access review's spec gets (ValidateSelfSubjectAccessReviewSpec). */
function attributesErrors(spec: ReviewSpec): FieldError[] {
  const errors: FieldError[] = [];
  if (present(spec.resourceAttributes) && present(spec.nonResourceAttributes)) {
    errors.push({
      type: 'FieldValueInvalid',
      field: 'spec.nonResourceAttributes',
      value: spec.nonResourceAttributes,
      detail: 'cannot be specified in combination with resourceAttributes',
    });
  }
  if (!present(spec.resourceAttributes) && !present(spec.nonResourceAttributes)) {
    errors.push({
      type: 'FieldValueInvalid',
      field: 'spec.resourceAttributes',
      value: 'null',
      detail: 'exactly one of nonResourceAttributes or resourceAttributes must be specified',
    });
  }
  return errors;
}

/** Internal objects have no kind, so the 422 reads `.authorization.k8s.io "" is invalid: ...`. */
function rejectIf(errors: FieldError[]): void {
  if (errors.length) throw invalid(GROUP, '', '', errors);
}

function decide(
  rbac: readonly KubeObject[],
  subject: Identity,
  spec: ReviewSpec,
  namespaceOverride?: string,
): Decision {
  const ra = spec.resourceAttributes;
  if (ra) {
    const namespace = namespaceOverride ?? (ra.namespace || undefined);
    const resource = ra.subresource ? `${ra.resource ?? ''}/${ra.subresource}` : (ra.resource ?? '');
    return decideResource(
      rbac,
      subject.user,
      subject.groups,
      ra.verb ?? '',
      ra.group ?? '',
      resource,
      namespace,
      ra.name || undefined,
    );
  }
  const nra = spec.nonResourceAttributes ?? {};
  return decideNonResource(rbac, subject.user, subject.groups, nra.verb ?? '', nra.path ?? '');
}

function answer(kind: string, apiVersion: string, metadata: Obj, spec: ReviewSpec, status: object): object {
  return { kind, apiVersion, metadata: { ...metadata, creationTimestamp: null }, spec, status };
}

function statusOf(d: Decision): object {
  return { allowed: d.allowed, ...(d.reason ? { reason: d.reason } : {}) };
}

/**
 * The answer to a review POSTed to `plural` (group authorization.k8s.io, served as `apiVersion`), by
 * `who`, under `pathNamespace` for the namespaced LocalSubjectAccessReview. Throws the API's 4xx.
 */
export function reviewAnswer(
  plural: string,
  apiVersion: string,
  body: unknown,
  who: Identity,
  rbac: readonly KubeObject[],
  pathNamespace?: string,
): object {
  const review = obj(body);
  const metadata = obj(review.metadata);
  const spec = obj(review.spec) as ReviewSpec;
  switch (plural) {
    case 'subjectaccessreviews': {
      const errors = attributesErrors(spec);
      if (!spec.user && !(spec.groups ?? []).length) {
        errors.push({
          type: 'FieldValueInvalid',
          field: 'spec.user',
          value: spec.user ?? '',
          detail: 'at least one of user or group must be specified',
        });
      }
      rejectIf(errors);
      const subject = { user: spec.user ?? '', groups: spec.groups ?? [] };
      return answer('SubjectAccessReview', apiVersion, metadata, spec, statusOf(decide(rbac, subject, spec)));
    }
    case 'localsubjectaccessreviews': {
      const namespace = pathNamespace ?? '';
      if (metadata.namespace !== undefined && metadata.namespace !== '' && metadata.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      const errors = attributesErrors(spec);
      if (!spec.user && !(spec.groups ?? []).length) {
        errors.push({
          type: 'FieldValueInvalid',
          field: 'spec.user',
          value: spec.user ?? '',
          detail: 'at least one of user or group must be specified',
        });
      }
      if (spec.resourceAttributes && (spec.resourceAttributes.namespace ?? '') !== namespace) {
        errors.push({
          type: 'FieldValueInvalid',
          field: 'spec.resourceAttributes.namespace',
          value: spec.resourceAttributes.namespace ?? '',
          detail: 'must match metadata.namespace',
        });
      }
      if (present(spec.nonResourceAttributes)) {
        errors.push({
          type: 'FieldValueInvalid',
          field: 'spec.nonResourceAttributes',
          value: spec.nonResourceAttributes,
          detail: 'disallowed on this kind of request',
        });
      }
      rejectIf(errors);
      const subject = { user: spec.user ?? '', groups: spec.groups ?? [] };
      return answer(
        'LocalSubjectAccessReview',
        apiVersion,
        { ...metadata, namespace },
        spec,
        statusOf(decide(rbac, subject, spec, namespace)),
      );
    }
    case 'selfsubjectaccessreviews':
      rejectIf(attributesErrors(spec));
      return answer('SelfSubjectAccessReview', apiVersion, metadata, spec, statusOf(decide(rbac, who, spec)));
    case 'selfsubjectrulesreviews':
      return answer('SelfSubjectRulesReview', apiVersion, metadata, spec, rulesStatus(rbac, who, spec.namespace ?? ''));
    default:
      throw badRequest(`${plural} is not an access review`);
  }
}

/** SelfSubjectRulesReview status: each applicable rule, split into resource and non-resource rules. */
export function rulesStatus(rbac: readonly KubeObject[], who: Identity, namespace: string): object {
  const resourceRules: object[] = [];
  const nonResourceRules: object[] = [];
  for (const { rule } of grantedRules(rbac, who.user, who.groups, namespace || undefined)) {
    if (rule.resources?.length) {
      resourceRules.push({
        verbs: rule.verbs ?? [],
        ...(rule.apiGroups?.length ? { apiGroups: rule.apiGroups } : {}),
        resources: rule.resources,
        ...(rule.resourceNames?.length ? { resourceNames: rule.resourceNames } : {}),
      });
    }
    if (rule.nonResourceURLs?.length)
      nonResourceRules.push({ verbs: rule.verbs ?? [], nonResourceURLs: rule.nonResourceURLs });
  }
  return { resourceRules, nonResourceRules, incomplete: false };
}
