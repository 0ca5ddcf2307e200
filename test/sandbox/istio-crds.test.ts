// The sandbox's compact Istio CRD table must match Istio's own CRDs (../shared conformance copy).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { ISTIO_CRDS } from '../../src/sandbox/istio-crds.ts';
import { conformanceDir, describeWithShared } from '../support/shared.ts';

interface Crd {
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; singular: string; shortNames?: string[]; categories?: string[] };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      additionalPrinterColumns?: { name: string; type: string; jsonPath: string }[];
    }[];
  };
}

describeWithShared('Istio CRD table', () => {
  const crds = parseAllDocuments(readFileSync(join(conformanceDir, 'istio/crds/crd-all.gen.yaml'), 'utf8'))
    .map((d) => d.toJS() as Crd | null)
    .filter((d): d is Crd => d !== null);

  it('lists exactly the kinds, plurals, names, scopes and categories of crd-all.gen.yaml', () => {
    const fromFile = crds.map((c) => ({
      group: c.spec.group,
      kind: c.spec.names.kind,
      plural: c.spec.names.plural,
      singular: c.spec.names.singular,
      shortNames: c.spec.names.shortNames ?? [],
      categories: c.spec.names.categories ?? [],
      scope: c.spec.scope,
    }));
    const ours = ISTIO_CRDS.map(({ group, kind, plural, singular, shortNames, categories, scope }) => ({
      group,
      kind,
      plural,
      singular,
      shortNames,
      categories,
      scope,
    }));
    const key = (x: { group: string; kind: string }) => `${x.group}/${x.kind}`;
    expect([...ours].sort((a, b) => key(a).localeCompare(key(b)))).toEqual(
      [...fromFile].sort((a, b) => key(a).localeCompare(key(b))),
    );
    expect(ours).toHaveLength(15);
  });

  it('has every served version, the same storage version, and the printer columns', () => {
    for (const c of crds) {
      const row = ISTIO_CRDS.find((r) => r.group === c.spec.group && r.kind === c.spec.names.kind);
      expect(row).toBeDefined();
      const served = c.spec.versions.filter((v) => v.served);
      expect(row?.versions.map((v) => v.name).sort()).toEqual(served.map((v) => v.name).sort());
      expect(row?.versions.find((v) => v.storage)?.name).toBe(c.spec.versions.find((v) => v.storage)?.name);
      const columns = (served[0]?.additionalPrinterColumns ?? []).map(({ name, type, jsonPath }) => ({
        name,
        type,
        jsonPath,
      }));
      expect(row?.printerColumns.map(({ name, type, jsonPath }) => ({ name, type, jsonPath }))).toEqual(columns);
    }
  });
});
