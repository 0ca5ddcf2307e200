// The slice of API-server validation the sandbox enforces: object names (DNS-1123 subdomain or label,
// DNS-1035 for Services, path segments for RBAC), label keys/values. Messages match Kubernetes'.
import type { KubeObject } from '../kube/objects.ts';
import type { FieldError } from './api-errors.ts';
import type { ResourceType } from './resource-types.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

function nameRule(rt: ResourceType): (name: string) => string | undefined {
  const key = `${rt.group}/${rt.plural}`;
  if (key === '/namespaces') return (n) => (DNS1123_LABEL.test(n) && n.length <= 63 ? undefined : n.length > 63 ? 'must be no more than 63 characters' : LABEL_MSG);
  if (key === '/services') return (n) => (DNS1035_LABEL.test(n) && n.length <= 63 ? undefined : n.length > 63 ? 'must be no more than 63 characters' : DNS1035_MSG);
  if (rt.group === 'rbac.authorization.k8s.io') {
    return (n) => (n === '.' || n === '..' ? `may not be '${n}'` : n.includes('/') ? "may not contain '/'" : n.includes('%') ? "may not contain '%'" : undefined);
  }
  return (n) => (DNS1123_SUBDOMAIN.test(n) && n.length <= 253 ? undefined : n.length > 253 ? 'must be no more than 253 characters' : SUBDOMAIN_MSG);
}

function labelErrors(labels: Record<string, string> | undefined): FieldError[] {
  const out: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    const slash = k.lastIndexOf('/');
    const namepart = slash < 0 ? k : k.slice(slash + 1);
    const prefix = slash < 0 ? '' : k.slice(0, slash);
    if (!QUALIFIED_NAME.test(namepart) || namepart.length > 63 || (prefix && !DNS1123_SUBDOMAIN.test(prefix))) {
      out.push({ type: 'FieldValueInvalid', field: 'metadata.labels', value: k, detail: "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character" });
    }
    if (v.length > 63 || !LABEL_VALUE.test(v)) {
      out.push({
        type: 'FieldValueInvalid',
        field: 'metadata.labels',
        value: v,
        detail: v.length > 63 ? 'must be no more than 63 characters' : "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
      });
    }
  }
  return out;
}

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
  return errors;
}
