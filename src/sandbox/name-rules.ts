// Kubernetes' name and metadata rules (apimachinery's IsDNS1123Label/Subdomain, IsDNS1035Label,
// IsQualifiedName, ValidateLabels, ValidateAnnotations), with its messages. Shared by validation.ts
// (every object) and kind-validation.ts (each kind's own fields), so neither imports the other's rules.
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

/** IsDNS1123Label: at most 63 characters of [a-z0-9-], alphanumeric at both ends. */
export function dns1123LabelProblems(n: string): string[] {
  const out: string[] = [];
  if (n.length > 63) out.push('must be no more than 63 characters');
  if (!DNS1123_LABEL.test(n)) out.push(LABEL_MSG);
  return out;
}

export function nameRule(rt: ResourceType): (name: string) => string | undefined {
  const key = `${rt.group}/${rt.plural}`;
  if (key === '/namespaces')
    return (n) =>
      DNS1123_LABEL.test(n) && n.length <= 63
        ? undefined
        : n.length > 63
          ? 'must be no more than 63 characters'
          : LABEL_MSG;
  if (key === '/services')
    return (n) =>
      DNS1035_LABEL.test(n) && n.length <= 63
        ? undefined
        : n.length > 63
          ? 'must be no more than 63 characters'
          : DNS1035_MSG;
  if (rt.group === 'rbac.authorization.k8s.io') {
    return (n) =>
      n === '.' || n === '..'
        ? `may not be '${n}'`
        : n.includes('/')
          ? "may not contain '/'"
          : n.includes('%')
            ? "may not contain '%'"
            : undefined;
  }
  return (n) =>
    DNS1123_SUBDOMAIN.test(n) && n.length <= 253
      ? undefined
      : n.length > 253
        ? 'must be no more than 253 characters'
        : SUBDOMAIN_MSG;
}

const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const QUALIFIED_NAME_MSG = `name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${QUALIFIED_NAME_FMT}')`;
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

/** apimachinery's IsQualifiedName: `[prefix/]name`, the prefix a DNS subdomain. */
export function qualifiedNameProblems(value: string): string[] {
  const parts = value.split('/');
  if (parts.length > 2) {
    return [
      `a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${QUALIFIED_NAME_FMT}') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  const out: string[] = [];
  const name = parts.length === 2 ? (parts[1] as string) : (parts[0] as string);
  if (parts.length === 2) {
    const prefix = parts[0] as string;
    if (prefix.length === 0) out.push('prefix part must be non-empty');
    else if (prefix.length > 253) out.push('prefix part must be no more than 253 characters');
    else if (!DNS1123_SUBDOMAIN.test(prefix)) out.push(`prefix part ${SUBDOMAIN_MSG}`);
  }
  if (name.length === 0) out.push('name part must be non-empty');
  else if (name.length > 63) out.push('name part must be no more than 63 characters');
  if (name.length > 0 && !QUALIFIED_NAME.test(name)) out.push(QUALIFIED_NAME_MSG);
  return out;
}

/** ValidateLabels: every key a qualified name, every value a label value (both reported at `path`). */
export function labelErrors(labels: Record<string, string> | undefined, path = 'metadata.labels'): FieldError[] {
  const out: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    for (const why of qualifiedNameProblems(k))
      out.push({ type: 'FieldValueInvalid', field: path, value: k, detail: why });
    if (v.length > 63)
      out.push({ type: 'FieldValueInvalid', field: path, value: v, detail: 'must be no more than 63 characters' });
    if (!LABEL_VALUE.test(v)) out.push({ type: 'FieldValueInvalid', field: path, value: v, detail: LABEL_VALUE_MSG });
  }
  return out;
}

const TOTAL_ANNOTATION_SIZE = 256 * 1024;

/** ValidateAnnotations: keys are qualified names (compared lower-cased); keys and values total at most 256 KiB. */
export function annotationErrors(annotations: Record<string, string> | undefined): FieldError[] {
  const out: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    for (const why of qualifiedNameProblems(k.toLowerCase()))
      out.push({ type: 'FieldValueInvalid', field: 'metadata.annotations', value: k, detail: why });
    size += Buffer.byteLength(k) + Buffer.byteLength(String(v));
  }
  if (size > TOTAL_ANNOTATION_SIZE)
    out.push({
      type: 'FieldValueTooLong',
      field: 'metadata.annotations',
      detail: `must have at most ${TOTAL_ANNOTATION_SIZE} bytes`,
    });
  return out;
}
