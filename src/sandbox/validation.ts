// The slice of API-server validation the sandbox enforces: object names (DNS-1123 subdomain or label,
// DNS-1035 for Services, path segments for RBAC), label keys/values, annotations; each kind's own
// rules are in kind-validation.ts. Messages match Kubernetes'.
import type { KubeObject } from '../kube/objects.ts';
import type { FieldError } from './api-errors.ts';
import { kindErrors } from './kind-validation.ts';
import type { ResourceType } from './resource-types.ts';
import { annotationErrors, labelErrors, nameRule } from './name-rules.ts';

export { dns1123LabelProblems, labelErrors, qualifiedNameProblems } from './name-rules.ts';

/** Field errors for an object about to be created or updated (empty when valid). */
export function validateObject(rt: ResourceType, obj: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  const name = obj.metadata.name;
  if (!name) {
    errors.push({ type: 'FieldValueRequired', field: 'metadata.name', detail: 'name or generateName is required' });
  } else {
    const why = nameRule(rt)(name);
    if (why) errors.push({ type: 'FieldValueInvalid', field: 'metadata.name', value: name, detail: why });
  }
  errors.push(...labelErrors(obj.metadata.labels));
  errors.push(...annotationErrors(obj.metadata.annotations));
  errors.push(...kindErrors(rt, obj));
  return errors;
}
