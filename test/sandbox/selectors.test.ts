// labelSelector / fieldSelector parsing and matching.
import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { ApiError } from '../../src/sandbox/api-errors.ts';
import {
  matchesFieldRequirements,
  matchesLabelRequirements,
  parseFieldSelector,
  parseLabelSelector,
} from '../../src/sandbox/selectors.ts';

const labels = { app: 'reviews', version: 'v2', 'app.kubernetes.io/part-of': 'bookinfo' };
const m = (sel: string) => matchesLabelRequirements(parseLabelSelector(sel), labels);

describe('label selectors', () => {
  it('supports =, ==, !=, in, notin, exists and !key', () => {
    expect(m('app=reviews')).toBe(true);
    expect(m('app==reviews,version=v2')).toBe(true);
    expect(m('app!=reviews')).toBe(false);
    expect(m('missing!=x')).toBe(true);
    expect(m('version in (v1, v2)')).toBe(true);
    expect(m('version notin (v1,v2)')).toBe(false);
    expect(m('app.kubernetes.io/part-of')).toBe(true);
    expect(m('!app')).toBe(false);
    expect(m('!tier')).toBe(true);
    expect(m('')).toBe(true);
  });

  it('rejects bad syntax with a 400', () => {
    expect(() => parseLabelSelector('app in (a')).toThrow(ApiError);
    expect(() => parseLabelSelector('app ~ x')).toThrow(ApiError);
  });
});

describe('field selectors', () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns' },
    spec: { nodeName: 'n1' },
    status: { phase: 'Running' },
  } as KubeObject;
  it('compares dotted paths with = and !=', () => {
    expect(matchesFieldRequirements(parseFieldSelector('metadata.name=p,status.phase=Running'), pod)).toBe(true);
    expect(matchesFieldRequirements(parseFieldSelector('spec.nodeName!=n1'), pod)).toBe(false);
    expect(matchesFieldRequirements(parseFieldSelector('involvedObject.name=p'), pod)).toBe(false);
    expect(() => parseFieldSelector('nonsense')).toThrow(ApiError);
  });
});
