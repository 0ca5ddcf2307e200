// Field ownership (managedFields) and server-side apply, as pure functions.
import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { ApiError } from '../../src/sandbox/api-errors.ts';
import {
  builtinListTypes,
  managedFieldsAfterUpdate,
  type Manager,
  serverSideApply,
} from '../../src/sandbox/field-manager.ts';

const track = { listTypeOf: builtinListTypes, hasStatus: false };
const cm = (data: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'c', namespace: 'n' },
  data,
});
const applier = (manager: string): Manager => ({
  manager,
  operation: 'Apply',
  apiVersion: 'v1',
  time: '2026-01-01T00:00:00Z',
});
const updater = (manager: string): Manager => ({
  manager,
  operation: 'Update',
  apiVersion: 'v1',
  time: '2026-01-01T00:00:00Z',
});

function stored(obj: KubeObject, managedFields: unknown): KubeObject {
  return {
    ...obj,
    metadata: { ...obj.metadata, managedFields: managedFields as KubeObject['metadata']['managedFields'] },
  };
}

describe('serverSideApply', () => {
  it('owns the applied fields, conflicts on another applier’s changed value, moves it with force, prunes what nobody owns', () => {
    const a = serverSideApply(undefined, cm({ x: '1', y: '1' }), applier('a'), false, track);
    expect(a.object.data).toEqual({ x: '1', y: '1' });
    expect(a.managedFields).toEqual([
      {
        manager: 'a',
        operation: 'Apply',
        apiVersion: 'v1',
        time: '2026-01-01T00:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { 'f:x': {}, 'f:y': {} } },
      },
    ]);
    const live = stored(a.object, a.managedFields);

    let err: unknown;
    try {
      serverSideApply(live, cm({ x: '2' }), applier('b'), false, track);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toMatchObject({
      code: 409,
      reason: 'Conflict',
      message: 'Apply failed with 1 conflict: conflict with "a": .data.x',
      details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "a"', field: '.data.x' }] },
    });
    // The same value is no conflict: both own it.
    expect(() => serverSideApply(live, cm({ x: '1' }), applier('b'), false, track)).not.toThrow();

    const b = serverSideApply(live, cm({ x: '2' }), applier('b'), true, track);
    expect(b.object.data).toEqual({ x: '2', y: '1' });
    expect(b.managedFields.map((m) => `${m.manager}:${JSON.stringify((m as { fieldsV1: unknown }).fieldsV1)}`)).toEqual(
      ['a:{"f:data":{"f:y":{}}}', 'b:{"f:data":{"f:x":{}}}'],
    );

    const dropped = serverSideApply(
      stored(b.object, b.managedFields),
      { ...cm({}), data: {} },
      applier('a'),
      false,
      track,
    );
    expect(dropped.object.data).toEqual({ x: '2' });
    expect(dropped.managedFields.map((m) => m.manager)).toEqual(['a', 'b']);
  });

  it('merges containers by name (new ones after the live ones) and names Update owners with their version', () => {
    const deploy = (containers: object[]): KubeObject => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: { template: { spec: { containers } } },
    });
    const created = deploy([{ name: 'c', image: 'nginx' }]);
    const fields = managedFieldsAfterUpdate(
      undefined,
      created,
      { ...updater('kubectl'), apiVersion: 'apps/v1' },
      track,
    );
    expect((fields[0] as { fieldsV1: unknown }).fieldsV1).toEqual({
      'f:spec': {
        'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } },
      },
    });
    const live = stored(created, fields);
    const out = serverSideApply(
      live,
      deploy([{ name: 'side', image: 'busybox' }]),
      { ...applier('ci'), apiVersion: 'apps/v1' },
      false,
      track,
    );
    expect(
      (out.object.spec as { template: { spec: { containers: { name: string }[] } } }).template.spec.containers.map(
        (c) => c.name,
      ),
    ).toEqual(['c', 'side']);
    expect(() =>
      serverSideApply(
        live,
        deploy([{ name: 'c', image: 'nginx:2' }]),
        { ...applier('ci'), apiVersion: 'apps/v1' },
        false,
        track,
      ),
    ).toThrow(
      'Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.template.spec.containers[name="c"].image',
    );
  });
});

describe('managedFieldsAfterUpdate', () => {
  it('gives the updater what it changed and takes it from the others; an unchanged claim keeps its time', () => {
    const a = serverSideApply(undefined, cm({ x: '1', y: '1' }), applier('a'), false, track);
    const live = stored(a.object, a.managedFields);
    const next = stored(cm({ x: '9', y: '1' }), a.managedFields);
    const fields = managedFieldsAfterUpdate(live, next, { ...updater('kubectl'), time: '2026-02-02T00:00:00Z' }, track);
    expect(
      fields.map((m) => `${m.manager}/${m.operation}:${JSON.stringify((m as { fieldsV1: unknown }).fieldsV1)}`),
    ).toEqual(['a/Apply:{"f:data":{"f:y":{}}}', 'kubectl/Update:{"f:data":{"f:x":{}}}']);
    const again = managedFieldsAfterUpdate(
      stored(next, fields),
      stored(next, fields),
      { ...updater('kubectl'), time: '2026-03-03T00:00:00Z' },
      track,
    );
    expect(again).toEqual(fields);
  });
});
