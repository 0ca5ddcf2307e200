// Engineer B's area: how create/update bodies are decoded and validated, admission defaults,
// serialization order, generation per kind and the kube-root-ca.crt publisher.
import { describe, expect, it } from '@jest/globals';
import { ApiError, goValueText } from '../../src/sandbox/api-errors.ts';
import { readJson } from '../../src/sandbox/json-syntax.ts';
import { decodeObjectBody } from '../../src/sandbox/object-decoding.ts';
import { admitNewPod } from '../../src/sandbox/pod-admission.ts';
import { dryRunOf, writeOptionsOf } from '../../src/sandbox/request-options.ts';
import { builtinResourceTypes, ResourceRegistry } from '../../src/sandbox/resource-types.ts';
import { RootCaPublisher } from '../../src/sandbox/root-ca-publisher.ts';
import { SandboxStore } from '../../src/sandbox/store.ts';
import { validateObject } from '../../src/sandbox/validation.ts';
import { inWireOrder } from '../../src/sandbox/wire-order.ts';
import type { KubeObject } from '../../src/kube/objects.ts';

const registry = new ResourceRegistry(builtinResourceTypes());
const cmType = registry.byGroupResource('', 'configmaps')!;
const deployType = registry.byGroupResource('apps', 'deployments')!;
const podType = registry.byGroupResource('', 'pods')!;

function failure(f: () => unknown): { code: number; message: string; causes?: unknown } {
  try {
    f();
  } catch (e) {
    if (e instanceof ApiError) return { code: e.code, message: e.status.message, causes: e.status.details?.causes };
    throw e;
  }
  throw new Error('expected a failure');
}

const decode = (text: string, validation: 'Strict' | 'Warn' | 'Ignore' = 'Warn') =>
  decodeObjectBody(Buffer.from(text), 'application/json', cmType, 'v1', registry, validation);

describe('create/update body decoding', () => {
  it('words syntax errors as Go does, with the first 30 bytes', () => {
    expect(failure(() => decode('{"apiVersion": "v1", "kind": ')).message).toBe(
      'the object provided is unrecognized (must be of type ConfigMap): couldn\'t get version/kind; json parse error: unexpected end of JSON input ({"apiVersion": "v1", "kind": )',
    );
    expect(() => readJson('{"a" 1}')).toThrow("invalid character '1' after object key");
    expect(() => readJson('[1,]')).toThrow("invalid character ']' looking for beginning of value");
  });

  it('refuses another kind as an unknown conversion, and an unregistered kind', () => {
    expect(failure(() => decode('{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}')).message).toBe(
      'Secret in version "v1" cannot be handled as a ConfigMap: converting (v1.Secret) to (core.ConfigMap): unknown conversion',
    );
    expect(failure(() => decode('{"apiVersion":"v1","kind":"Gadget"}')).message).toMatch(
      /^Gadget in version "v1" cannot be handled as a ConfigMap: no kind "Gadget" is registered for version "v1"/,
    );
  });

  it('reports the first type mismatch with the Go struct and field path', () => {
    expect(failure(() => decode('{"kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":1}}')).message).toBe(
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string',
    );
    expect(failure(() => decode('{"metadata":{"labels":{"a":true}}}')).message).toMatch(
      /Go struct field ObjectMeta.metadata.labels of type string$/,
    );
    const d = (t: string) => decodeObjectBody(Buffer.from(t), 'application/json', deployType, 'v1', registry, 'Strict');
    expect(failure(() => d('{"spec":{"replicas":"2"}}')).message).toMatch(
      /cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32$/,
    );
    // Quantities and int-or-strings take both forms.
    expect(
      d(
        '{"spec":{"template":{"spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":1,"memory":"1Gi"}},"ports":[{"containerPort":80}]}]}},"strategy":{"rollingUpdate":{"maxSurge":1}}}}',
      ).warnings,
    ).toEqual([]);
  });

  it('refuses, warns about or ignores unknown and duplicate fields, and drops unknown ones', () => {
    const body = '{"kind":"ConfigMap","metadata":{"name":"u","name":"v"},"bogus":1,"data":{"a":"1"}}';
    expect(failure(() => decode(body, 'Strict')).message).toBe(
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: duplicate field "metadata.name", unknown field "bogus"',
    );
    const warned = decode(body, 'Warn');
    expect(warned.warnings).toEqual(['duplicate field "metadata.name"', 'unknown field "bogus"']);
    expect(warned.body).toEqual({ kind: 'ConfigMap', metadata: { name: 'v' }, data: { a: '1' } });
    expect(decode(body, 'Ignore').warnings).toEqual([]);
    const d = decodeObjectBody(
      Buffer.from('{"spec":{"template":{"spec":{"containers":[{"name":"c","imagePullPolicyy":"x"}]}}}}'),
      'application/json',
      deployType,
      'v1',
      registry,
      'Warn',
    );
    expect(d.warnings).toEqual(['unknown field "spec.template.spec.containers[0].imagePullPolicyy"']);
  });

  it('checks dryRun and fieldValidation as CreateOptions & co.', () => {
    const e = failure(() => writeOptionsOf(new URLSearchParams('dryRun=Foo&fieldValidation=Loud'), 'CreateOptions'));
    expect(e.code).toBe(422);
    expect(e.message).toBe(
      'CreateOptions.meta.k8s.io "" is invalid: [dryRun: Unsupported value: []string{"Foo"}: supported values: "All", fieldValidation: Unsupported value: "Loud": supported values: "", "Ignore", "Strict", "Warn"]',
    );
    expect(writeOptionsOf(new URLSearchParams('dryRun=All'), 'UpdateOptions')).toEqual({
      dryRun: true,
      fieldValidation: 'Warn',
    });
    expect(failure(() => dryRunOf(new URLSearchParams(), 'DeleteOptions', ['Nope'])).message).toMatch(
      /^DeleteOptions.meta.k8s.io "" is invalid: dryRun/,
    );
  });

  it('prints bad values as Go does', () => {
    expect(goValueText({ b: '2', a: '1' })).toBe('map[string]string{"a":"1", "b":"2"}');
    expect(goValueText(null)).toBe('"null"');
    expect(goValueText(5)).toBe('5');
  });
});

describe('validation of built-in kinds', () => {
  const deploy = (spec: Record<string, unknown>): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd' },
    spec,
  });
  const template = { metadata: { labels: { app: 'd1' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } };

  it('requires a Deployment selector that selects its template', () => {
    expect(validateObject(deployType, deploy({ template }))).toEqual([
      { type: 'FieldValueRequired', field: 'spec.selector' },
      {
        type: 'FieldValueInvalid',
        field: 'spec.template.metadata.labels',
        value: { app: 'd1' },
        detail: '`selector` does not match template `labels`',
      },
    ]);
    expect(validateObject(deployType, deploy({ selector: { matchLabels: { app: 'd1' } }, template }))).toEqual([]);
    expect(
      validateObject(deployType, deploy({ selector: { matchLabels: { app: 'd1' } }, template, replicas: -1 }))[0],
    ).toMatchObject({ field: 'spec.replicas', detail: 'must be greater than or equal to 0' });
  });

  it('checks Pod containers and enums', () => {
    const pod = (containers: unknown[], extra: Record<string, unknown> = {}): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { containers, ...extra },
    });
    expect(validateObject(podType, pod([{ name: 'c', image: 'x', imagePullPolicy: 'Sometimes' }]))).toEqual([
      {
        type: 'FieldValueNotSupported',
        field: 'spec.containers[0].imagePullPolicy',
        value: 'Sometimes',
        detail: 'supported values: "Always", "IfNotPresent", "Never"',
      },
    ]);
    expect(validateObject(podType, pod([]))).toEqual([{ type: 'FieldValueRequired', field: 'spec.containers' }]);
    expect(
      validateObject(podType, pod([{ name: 'c' }, { name: 'c', image: 'y' }], { restartPolicy: 'Sometimes' })).map(
        (e) => `${e.field}:${e.type}`,
      ),
    ).toEqual([
      'spec.containers[0].image:FieldValueRequired',
      'spec.containers[1].name:FieldValueDuplicate',
      'spec.restartPolicy:FieldValueNotSupported',
    ]);
  });

  it('checks ConfigMap keys and the 1 MiB limit, and label keys in full wording', () => {
    const cm = (data: Record<string, string>, labels?: Record<string, string>): KubeObject => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', ...(labels ? { labels } : {}) },
      data,
    });
    expect(validateObject(cmType, cm({ 'a b': '1' }))[0]).toMatchObject({ field: 'data[a b]', value: 'a b' });
    expect(validateObject(cmType, cm({ a: 'x'.repeat(1024 * 1024 + 1) }))).toEqual([
      { type: 'FieldValueTooLong', field: '', detail: 'must have at most 1048576 bytes' },
    ]);
    expect(validateObject(cmType, cm({}, { 'bad key!': 'v' }))[0]?.detail).toMatch(
      /regex used for validation is '\(\[A-Za-z0-9\]\[-A-Za-z0-9_.\]\*\)\?\[A-Za-z0-9\]'\)$/,
    );
  });
});

describe('admission, generation, serialization', () => {
  it('gives a new Pod the service-account token volume, tolerations and priority', () => {
    const spec: Record<string, unknown> = { containers: [{ name: 'c', image: 'x' }] };
    admitNewPod(spec, undefined);
    expect(spec).toMatchObject({ enableServiceLinks: true, priority: 0, preemptionPolicy: 'PreemptLowerPriority' });
    expect((spec.tolerations as { key: string }[]).map((t) => t.key)).toEqual([
      'node.kubernetes.io/not-ready',
      'node.kubernetes.io/unreachable',
    ]);
    const volume = (spec.volumes as { name: string; projected?: unknown }[])[0]!;
    expect(volume.name).toMatch(/^kube-api-access-[a-z0-9]{5}$/);
    expect((spec.containers as { volumeMounts: unknown[] }[])[0]!.volumeMounts).toEqual([
      { name: volume.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
    ]);
    const off: Record<string, unknown> = { containers: [{ name: 'c' }], automountServiceAccountToken: false };
    admitNewPod(off, undefined);
    expect(off.volumes).toBeUndefined();
  });

  it('keeps metadata.generation only for kinds that have one', () => {
    const store = new SandboxStore({ registry: new ResourceRegistry(builtinResourceTypes()) });
    store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } });
    expect(
      store.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'n' }, data: { a: '1' } })
        .metadata.generation,
    ).toBeUndefined();
    const d = store.put({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', namespace: 'n' },
      spec: { replicas: 1 },
    });
    expect(d.metadata.generation).toBe(1);
    const rt = store.resourceType('deployments');
    const annotated = store.update(rt, { ...d, metadata: { ...d.metadata, annotations: { a: 'b' } } });
    expect(annotated.metadata.generation).toBe(2);
  });

  it('orders fields as the Go types do', () => {
    const o = inWireOrder({
      status: {},
      data: {},
      apiVersion: 'v1',
      metadata: { labels: {}, uid: 'u', namespace: 'n', name: 'x' },
      kind: 'ConfigMap',
    } as unknown as KubeObject);
    expect(JSON.stringify(o)).toBe(
      '{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x","namespace":"n","uid":"u","labels":{}},"data":{},"status":{}}',
    );
  });

  it('publishes kube-root-ca.crt into every namespace, and restores it', async () => {
    const store = new SandboxStore({ registry: new ResourceRegistry(builtinResourceTypes()) });
    store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } });
    const publisher = new RootCaPublisher(store, 'PEM');
    publisher.start();
    expect(store.get('ConfigMap', 'a', 'kube-root-ca.crt')).toMatchObject({ data: { 'ca.crt': 'PEM' } });
    store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'b' } });
    await Promise.resolve();
    expect(store.get('ConfigMap', 'b', 'kube-root-ca.crt')).toBeDefined();
    store.delete('ConfigMap', 'b', 'kube-root-ca.crt');
    await Promise.resolve();
    expect(store.get('ConfigMap', 'b', 'kube-root-ca.crt')?.data).toEqual({ 'ca.crt': 'PEM' });
    publisher.stop();
  });
});
