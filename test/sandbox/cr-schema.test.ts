// Custom resources against their stored CRD's schema (pruning, fieldValidation, types, enums, CEL),
// and the CEL subset on its own.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Agent, fetch } from 'undici';
import { evalRule } from '../../src/sandbox/cel.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';

describe('evalRule (the CEL subset)', () => {
  it('evaluates the rule shapes CRDs use', () => {
    expect(evalRule('self.all(key, !key.contains("*"))', { app: 'x' })).toBe(true);
    expect(evalRule('self.all(key, !key.contains("*"))', { 'app*': 'x' })).toBe(false);
    expect(evalRule("duration(self) >= duration('1ms')", '5s')).toBe(true);
    expect(evalRule("duration(self) >= duration('1ms')", '500us')).toBe(false);
    expect(evalRule('0 < self && self <= 65535', 70000)).toBe(false);
    expect(evalRule('(has(self.a) ? 1 : 0) + (has(self.b) ? 1 : 0) <= 1', { a: 1, b: 2 })).toBe(false);
    expect(evalRule('self.all(l1, self.exists_one(l2, l1.number == l2.number))', [{ number: 1 }, { number: 1 }])).toBe(
      false,
    );
    expect(evalRule('url(self).getScheme() in ["http", "https"]', 'https://x.example')).toBe(true);
    expect(evalRule('self in ["", "HTTP", "HTTPS"]', 'FTP')).toBe(false);
    expect(evalRule('self.startsWith("unix://") ? self.substring(7, 8) == "/" : true', 'unix:///sock')).toBe(true);
  });
});

describe('custom resource schema validation', () => {
  let sb: Sandbox;
  let dispatcher: Agent;
  const crdUrl = () => `${sb.url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions`;
  const headers = () => ({
    authorization: `Bearer ${(sb.kubeconfig().match(/token: (\S+)/) as RegExpMatchArray)[1]}`,
    'content-type': 'application/json',
    accept: 'application/json',
  });
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${sb.url}${path}`, {
      dispatcher,
      method,
      headers: headers(),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { code: r.status, warning: r.headers.get('warning'), body: (await r.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    sb = await startSandbox({ controllers: false });
    dispatcher = new Agent({ connect: { ca: sb.caCert, servername: 'localhost' } });
    const schema = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          required: ['size'],
          properties: {
            size: { type: 'integer', maximum: 10 },
            mode: { type: 'string', enum: ['A', 'B'] },
            labels: {
              type: 'object',
              additionalProperties: { type: 'string' },
              'x-kubernetes-validations': [{ rule: 'self.all(k, !k.contains("*"))', message: 'no wildcards' }],
            },
            free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
          },
        },
      },
    };
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema } }],
      },
    };
    const r = await fetch(crdUrl(), { dispatcher, method: 'POST', headers: headers(), body: JSON.stringify(crd) });
    expect(r.status).toBe(201);
  });
  afterAll(async () => {
    await sb.close();
    await dispatcher.close();
  });

  const widget = (name: string, spec: unknown) => ({
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name },
    spec,
  });
  const W = '/apis/example.com/v1/namespaces/default/widgets';

  it('prunes unknown fields with a warning by default, refuses them under Strict, keeps preserved ones', async () => {
    const ok = await call('POST', W, widget('w1', { size: 1, bogus: true, free: { anything: 1 } }));
    expect(ok.code).toBe(201);
    expect(ok.warning).toBe('299 - "unknown field \\"spec.bogus\\""');
    expect(ok.body.spec).toEqual({ size: 1, free: { anything: 1 } });
    const strict = await call('POST', `${W}?fieldValidation=Strict`, widget('w2', { size: 1, bogus: true }));
    expect(strict.code).toBe(400);
    expect(strict.body.message).toBe(
      'Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field "spec.bogus"',
    );
    const ignored = await call('POST', `${W}?fieldValidation=Ignore`, widget('w3', { size: 1, bogus: true }));
    expect([ignored.code, ignored.warning]).toEqual([201, null]);
  });

  it('answers 422 for types, enums, bounds and required fields, and for failed CEL rules', async () => {
    const typed = await call('POST', W, widget('bad1', { size: 'big' }));
    expect(typed.code).toBe(422);
    expect(typed.body.message).toBe(
      'Widget.example.com "bad1" is invalid: [spec.size: Invalid value: "string": spec.size in body must be of type integer: "string", <nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation]',
    );
    const enumd = await call('POST', W, widget('bad2', { size: 11, mode: 'C' }));
    expect(enumd.body.message).toBe(
      'Widget.example.com "bad2" is invalid: [spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10, spec.mode: Unsupported value: "C": supported values: "A", "B"]',
    );
    const required = await call('POST', W, widget('bad3', {}));
    expect((required.body.details as { causes: unknown[] }).causes[0]).toEqual({
      reason: 'FieldValueRequired',
      message: 'Required value',
      field: 'spec.size',
    });
    const cel = await call('POST', W, widget('bad4', { size: 1, labels: { 'a*': 'x' } }));
    expect(cel.body.message).toBe(
      'Widget.example.com "bad4" is invalid: spec.labels: Invalid value: "object": no wildcards',
    );
  });

  it('follows the CRD as it is updated through the API', async () => {
    const cur = await call('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com');
    const crd = cur.body as {
      spec: {
        versions: { schema: { openAPIV3Schema: { properties: { spec: { properties: Record<string, unknown> } } } } }[];
      };
    };
    (crd.spec.versions[0] as (typeof crd.spec.versions)[0]).schema.openAPIV3Schema.properties.spec.properties.color = {
      type: 'string',
    };
    expect(
      (await call('PUT', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com', crd)).code,
    ).toBe(200);
    const w = await call('POST', W, widget('w5', { size: 1, color: 'red' }));
    expect([w.code, w.warning, w.body.spec]).toEqual([201, null, { size: 1, color: 'red' }]);
  });
});
