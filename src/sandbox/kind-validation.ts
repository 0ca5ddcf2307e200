// Each built-in kind's own validation (k8s.io/kubernetes pkg/apis/core/validation and
// pkg/apis/apps/validation), for the kinds the sandbox serves and the rules clients trip over:
// ConfigMap/Secret keys and the 1 MiB limit, Pod specs (containers, names, images, enum fields, ports),
// Deployment/ReplicaSet selectors against template labels, Service ports and types. Runs before
// defaulting, so only values that are present are checked. Wording, field paths and order follow Kubernetes.
import type { KubeObject } from '../kube/objects.ts';
import type { FieldError } from './api-errors.ts';
import type { ResourceType } from './resource-types.ts';
import { dns1123LabelProblems, labelErrors, qualifiedNameProblems } from './name-rules.ts';

type Obj = Record<string, unknown>;

const MAX_SECRET_SIZE = 1024 * 1024;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const CONFIG_KEY_MSG =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

function asObj(v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

function asArray(v: unknown): Obj[] {
  return Array.isArray(v) ? (v.filter((x) => asObj(x)) as Obj[]) : [];
}

function quoted(values: string[]): string {
  return `supported values: ${values.map((v) => JSON.stringify(v)).join(', ')}`;
}

function notSupported(field: string, value: unknown, values: string[]): FieldError {
  return { type: 'FieldValueNotSupported', field, value, detail: quoted(values) };
}

function enumCheck(out: FieldError[], field: string, value: unknown, values: string[]): void {
  if (value !== undefined && value !== '' && !values.includes(String(value)))
    out.push(notSupported(field, value, values));
}

function nonNegative(out: FieldError[], field: string, value: unknown): void {
  if (typeof value === 'number' && value < 0)
    out.push({ type: 'FieldValueInvalid', field, value, detail: 'must be greater than or equal to 0' });
}

/** IsConfigMapKey: the key rules shared by ConfigMap and Secret data. */
function configKeyProblems(key: string): string[] {
  const out: string[] = [];
  if (key.length > 253) out.push('must be no more than 253 characters');
  if (!CONFIG_KEY.test(key)) out.push(CONFIG_KEY_MSG);
  if (key === '.') out.push("must not be '.'");
  else if (key === '..') out.push("must not be '..'");
  else if (key.startsWith('..')) out.push("must not start with '..'");
  return out;
}

function configMapErrors(o: KubeObject): FieldError[] {
  const out: FieldError[] = [];
  const data = asObj(o.data) ?? {};
  const binary = asObj(o.binaryData) ?? {};
  let size = 0;
  for (const [bag, other, entries] of [
    ['data', binary, data],
    ['binaryData', data, binary],
  ] as const) {
    for (const [key, value] of Object.entries(entries)) {
      for (const why of configKeyProblems(key))
        out.push({ type: 'FieldValueInvalid', field: `${bag}[${key}]`, value: key, detail: why });
      if (key in other)
        out.push({
          type: 'FieldValueInvalid',
          field: `${bag}[${key}]`,
          value: key,
          detail: `duplicate of key present in ${bag === 'data' ? 'binaryData' : 'data'}`,
        });
      size += bag === 'data' ? Buffer.byteLength(String(value)) : Buffer.from(String(value), 'base64').length;
    }
  }
  if (size > MAX_SECRET_SIZE)
    out.push({ type: 'FieldValueTooLong', field: '', detail: `must have at most ${MAX_SECRET_SIZE} bytes` });
  return out;
}

function secretErrors(o: KubeObject): FieldError[] {
  const out: FieldError[] = [];
  const data = asObj(o.data) ?? {};
  const stringData = asObj(o.stringData) ?? {};
  let size = 0;
  for (const [key, value] of Object.entries(data)) {
    for (const why of configKeyProblems(key))
      out.push({ type: 'FieldValueInvalid', field: `data[${key}]`, value: key, detail: why });
    size += Buffer.from(String(value), 'base64').length;
  }
  for (const [key, value] of Object.entries(stringData)) {
    for (const why of configKeyProblems(key))
      out.push({ type: 'FieldValueInvalid', field: `data[${key}]`, value: key, detail: why });
    if (!(key in data)) size += Buffer.byteLength(String(value));
  }
  if (size > MAX_SECRET_SIZE)
    out.push({ type: 'FieldValueTooLong', field: 'data', detail: `must have at most ${MAX_SECRET_SIZE} bytes` });
  const has = (k: string) => k in data || k in stringData;
  switch (o.type) {
    case 'kubernetes.io/tls':
      for (const k of ['tls.crt', 'tls.key'])
        if (!has(k)) out.push({ type: 'FieldValueRequired', field: `data[${k}]` });
      break;
    case 'kubernetes.io/dockerconfigjson':
      if (!has('.dockerconfigjson')) out.push({ type: 'FieldValueRequired', field: 'data[.dockerconfigjson]' });
      break;
    case 'kubernetes.io/service-account-token':
      if (!o.metadata.annotations?.['kubernetes.io/service-account.name'])
        out.push({ type: 'FieldValueRequired', field: 'metadata.annotations[kubernetes.io/service-account.name]' });
      break;
    default:
      break;
  }
  return out;
}

/** IsValidPortName (an IANA_SVC_NAME). */
function portNameProblems(name: string): string[] {
  const out: string[] = [];
  if (name.length > 15) out.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(name)) out.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(name)) out.push('must contain at least one letter (a-z)');
  if (name.includes('--')) out.push('must not contain consecutive hyphens');
  if (name.startsWith('-') || name.endsWith('-')) out.push('must not begin or end with a hyphen');
  return out;
}

function portErrors(out: FieldError[], path: string, port: unknown): void {
  if (typeof port === 'number' && (port < 1 || port > 65535))
    out.push({ type: 'FieldValueInvalid', field: path, value: port, detail: 'must be between 1 and 65535, inclusive' });
}

function containerErrors(out: FieldError[], containers: unknown, path: string, required: boolean): void {
  const list = asArray(containers);
  if (list.length === 0) {
    if (required) out.push({ type: 'FieldValueRequired', field: path });
    return;
  }
  const names = new Set<string>();
  list.forEach((c, i) => {
    const at = `${path}[${i}]`;
    const name = typeof c.name === 'string' ? c.name : '';
    if (name === '') out.push({ type: 'FieldValueRequired', field: `${at}.name` });
    else
      for (const why of dns1123LabelProblems(name))
        out.push({ type: 'FieldValueInvalid', field: `${at}.name`, value: name, detail: why });
    if (names.has(name)) out.push({ type: 'FieldValueDuplicate', field: `${at}.name`, value: name });
    names.add(name);
    if (typeof c.image !== 'string' || c.image === '') out.push({ type: 'FieldValueRequired', field: `${at}.image` });
    asArray(c.ports).forEach((p, j) => {
      const pp = `${at}.ports[${j}]`;
      if (typeof p.name === 'string' && p.name !== '')
        for (const why of portNameProblems(p.name))
          out.push({ type: 'FieldValueInvalid', field: `${pp}.name`, value: p.name, detail: why });
      if (p.containerPort === undefined || p.containerPort === 0)
        out.push({ type: 'FieldValueRequired', field: `${pp}.containerPort` });
      else portErrors(out, `${pp}.containerPort`, p.containerPort);
      if (p.hostPort !== undefined && p.hostPort !== 0) portErrors(out, `${pp}.hostPort`, p.hostPort);
      enumCheck(out, `${pp}.protocol`, p.protocol, ['SCTP', 'TCP', 'UDP']);
    });
    enumCheck(out, `${at}.imagePullPolicy`, c.imagePullPolicy, ['Always', 'IfNotPresent', 'Never']);
    enumCheck(out, `${at}.terminationMessagePolicy`, c.terminationMessagePolicy, ['File', 'FallbackToLogsOnError']);
  });
}

/** ValidatePodSpec, the parts that matter to clients. */
export function podSpecErrors(spec: unknown, path: string): FieldError[] {
  const out: FieldError[] = [];
  const s = asObj(spec) ?? {};
  const volumes = new Set<string>();
  asArray(s.volumes).forEach((v, i) => {
    const name = typeof v.name === 'string' ? v.name : '';
    if (name === '') out.push({ type: 'FieldValueRequired', field: `${path}.volumes[${i}].name` });
    else
      for (const why of dns1123LabelProblems(name))
        out.push({ type: 'FieldValueInvalid', field: `${path}.volumes[${i}].name`, value: name, detail: why });
    if (volumes.has(name)) out.push({ type: 'FieldValueDuplicate', field: `${path}.volumes[${i}].name`, value: name });
    volumes.add(name);
  });
  containerErrors(out, s.containers, `${path}.containers`, true);
  containerErrors(out, s.initContainers, `${path}.initContainers`, false);
  enumCheck(out, `${path}.restartPolicy`, s.restartPolicy, ['Always', 'OnFailure', 'Never']);
  enumCheck(out, `${path}.dnsPolicy`, s.dnsPolicy, ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None']);
  nonNegative(out, `${path}.terminationGracePeriodSeconds`, s.terminationGracePeriodSeconds);
  if (typeof s.activeDeadlineSeconds === 'number' && s.activeDeadlineSeconds < 1) {
    out.push({
      type: 'FieldValueInvalid',
      field: `${path}.activeDeadlineSeconds`,
      value: s.activeDeadlineSeconds,
      detail: 'must be between 1 and 2147483647, inclusive',
    });
  }
  if (typeof s.serviceAccountName === 'string' && s.serviceAccountName !== '') {
    for (const why of dns1123SubdomainProblems(s.serviceAccountName))
      out.push({
        type: 'FieldValueInvalid',
        field: `${path}.serviceAccountName`,
        value: s.serviceAccountName,
        detail: why,
      });
  }
  return out;
}

function dns1123SubdomainProblems(n: string): string[] {
  const out: string[] = [];
  if (n.length > 253) out.push('must be no more than 253 characters');
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(n)) {
    out.push(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  }
  return out;
}

interface Requirement {
  key?: string;
  operator?: string;
  values?: string[];
}

/** metav1 ValidateLabelSelector: matchLabels as labels, matchExpressions' operators and values. */
function selectorErrors(out: FieldError[], sel: Obj, path: string): void {
  out.push(...labelErrors(asObj(sel.matchLabels) as Record<string, string> | undefined, `${path}.matchLabels`));
  (Array.isArray(sel.matchExpressions) ? (sel.matchExpressions as Requirement[]) : []).forEach((r, i) => {
    const at = `${path}.matchExpressions[${i}]`;
    const values = r.values ?? [];
    if (r.operator === 'In' || r.operator === 'NotIn') {
      if (values.length === 0)
        out.push({
          type: 'FieldValueRequired',
          field: `${at}.values`,
          detail: "must be specified when `operator` is 'In' or 'NotIn'",
        });
    } else if (r.operator === 'Exists' || r.operator === 'DoesNotExist') {
      if (values.length > 0)
        out.push({
          type: 'FieldValueForbidden',
          field: `${at}.values`,
          detail: "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        });
    } else {
      out.push({
        type: 'FieldValueInvalid',
        field: `${at}.operator`,
        value: r.operator ?? '',
        detail: 'not a valid selector operator',
      });
    }
    for (const why of qualifiedNameProblems(r.key ?? ''))
      out.push({ type: 'FieldValueInvalid', field: `${at}.key`, value: r.key ?? '', detail: why });
  });
}

/** Whether labels satisfy a label selector (nil selects nothing, {} everything), as LabelSelectorAsSelector. */
function selects(sel: Obj | undefined, labels: Record<string, string>): boolean {
  if (!sel) return false;
  for (const [k, v] of Object.entries(asObj(sel.matchLabels) ?? {})) if (labels[k] !== v) return false;
  for (const r of (Array.isArray(sel.matchExpressions) ? sel.matchExpressions : []) as Requirement[]) {
    const has = r.key !== undefined && r.key in labels;
    const val = r.key !== undefined ? labels[r.key] : undefined;
    const values = r.values ?? [];
    if (r.operator === 'In' && !(has && values.includes(val as string))) return false;
    if (r.operator === 'NotIn' && has && values.includes(val as string)) return false;
    if (r.operator === 'Exists' && !has) return false;
    if (r.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** ValidateDeploymentSpec / ValidateReplicaSetSpec: replicas, selector, the template it must select. */
function workloadErrors(o: KubeObject, deployment: boolean): FieldError[] {
  const out: FieldError[] = [];
  const spec = asObj(o.spec) ?? {};
  nonNegative(out, 'spec.replicas', spec.replicas);
  const sel = asObj(spec.selector);
  const empty =
    sel !== undefined &&
    Object.keys(asObj(sel.matchLabels) ?? {}).length +
      (Array.isArray(sel.matchExpressions) ? sel.matchExpressions.length : 0) ===
      0;
  if (!sel) out.push({ type: 'FieldValueRequired', field: 'spec.selector' });
  else {
    selectorErrors(out, sel, 'spec.selector');
    if (empty)
      out.push({
        type: 'FieldValueInvalid',
        field: 'spec.selector',
        value: sel,
        detail: 'empty selector is invalid for deployment',
      });
  }
  const template = asObj(spec.template);
  if (!template) out.push({ type: 'FieldValueRequired', field: 'spec.template' });
  else {
    const meta = asObj(template.metadata) ?? {};
    const labels = (asObj(meta.labels) ?? {}) as Record<string, string>;
    if (!empty && !selects(sel, labels)) {
      out.push({
        type: 'FieldValueInvalid',
        field: 'spec.template.metadata.labels',
        value: labels,
        detail: '`selector` does not match template `labels`',
      });
    }
    out.push(...labelErrors(labels, 'spec.template.metadata.labels'));
    const podSpec = asObj(template.spec) ?? {};
    out.push(...podSpecErrors(podSpec, 'spec.template.spec'));
    if (
      podSpec.restartPolicy !== undefined &&
      podSpec.restartPolicy !== 'Always' &&
      ['OnFailure', 'Never'].includes(String(podSpec.restartPolicy))
    ) {
      out.push(notSupported('spec.template.spec.restartPolicy', podSpec.restartPolicy, ['Always']));
    }
    if (podSpec.activeDeadlineSeconds !== undefined) {
      out.push({
        type: 'FieldValueForbidden',
        field: 'spec.template.spec.activeDeadlineSeconds',
        detail: 'activeDeadlineSeconds in ReplicaSet is not Supported',
      });
    }
  }
  nonNegative(out, 'spec.minReadySeconds', spec.minReadySeconds);
  if (deployment) {
    const strategy = asObj(spec.strategy) ?? {};
    if (strategy.type === 'Recreate' && strategy.rollingUpdate !== undefined) {
      out.push({
        type: 'FieldValueForbidden',
        field: 'spec.strategy.rollingUpdate',
        detail: "may not be specified when strategy `type` is 'Recreate'",
      });
    }
    enumCheck(out, 'spec.strategy.type', strategy.type, ['Recreate', 'RollingUpdate']);
    nonNegative(out, 'spec.revisionHistoryLimit', spec.revisionHistoryLimit);
    if (typeof spec.progressDeadlineSeconds === 'number') {
      nonNegative(out, 'spec.progressDeadlineSeconds', spec.progressDeadlineSeconds);
      if (spec.progressDeadlineSeconds <= (typeof spec.minReadySeconds === 'number' ? spec.minReadySeconds : 0)) {
        out.push({
          type: 'FieldValueInvalid',
          field: 'spec.progressDeadlineSeconds',
          value: spec.progressDeadlineSeconds,
          detail: 'must be greater than minReadySeconds',
        });
      }
    }
  }
  return out;
}

/** ValidateService: ports (required unless ExternalName or headless), names, numbers, protocols, types. */
function serviceErrors(o: KubeObject): FieldError[] {
  const out: FieldError[] = [];
  const spec = asObj(o.spec) ?? {};
  const ports = asArray(spec.ports);
  const headless = spec.clusterIP === 'None';
  if (ports.length === 0 && spec.type !== 'ExternalName' && !headless)
    out.push({ type: 'FieldValueRequired', field: 'spec.ports' });
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const at = `spec.ports[${i}]`;
    const name = typeof p.name === 'string' ? p.name : '';
    if (ports.length > 1 && name === '') out.push({ type: 'FieldValueRequired', field: `${at}.name` });
    else if (name !== '')
      for (const why of dns1123LabelProblems(name))
        out.push({ type: 'FieldValueInvalid', field: `${at}.name`, value: name, detail: why });
    if (name !== '' && names.has(name)) out.push({ type: 'FieldValueDuplicate', field: `${at}.name`, value: name });
    names.add(name);
    if (p.port === undefined) out.push({ type: 'FieldValueRequired', field: `${at}.port` });
    else portErrors(out, `${at}.port`, p.port);
    enumCheck(out, `${at}.protocol`, p.protocol, ['SCTP', 'TCP', 'UDP']);
    if (typeof p.targetPort === 'number' && p.targetPort !== 0) portErrors(out, `${at}.targetPort`, p.targetPort);
  });
  enumCheck(out, 'spec.type', spec.type, ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort']);
  enumCheck(out, 'spec.sessionAffinity', spec.sessionAffinity, ['ClientIP', 'None']);
  out.push(...labelErrors(asObj(spec.selector) as Record<string, string> | undefined, 'spec.selector'));
  return out;
}

/** The kind-specific field errors for a built-in object (none for kinds without rules here, and custom resources). */
export function kindErrors(rt: ResourceType, o: KubeObject): FieldError[] {
  if (rt.custom) return [];
  switch (`${rt.group}/${rt.kind}`) {
    case '/ConfigMap':
      return configMapErrors(o);
    case '/Secret':
      return secretErrors(o);
    case '/Pod':
      return podSpecErrors(o.spec, 'spec');
    case '/Service':
      return serviceErrors(o);
    case 'apps/Deployment':
      return workloadErrors(o, true);
    case 'apps/ReplicaSet':
      return workloadErrors(o, false);
    default:
      return [];
  }
}
