// envoyfilter.EnvoyPatchAnalyzer places its messages as Istio does: util.ErrorLine at
// `spec.configPatches[i].patch.value` finds scalar leaves only, so an object value leaves the message on the resource,
// and identical messages of one EnvoyFilter fold into one (Istio's SortedDedupedCopy).
import { describe, expect, it } from '@jest/globals';
import { analyze } from '../../src/mesh/analyzers/index.ts';
import { parseYamlObjects } from '../../src/mesh/analyzers/load.ts';
import { messageResource } from '../../src/mesh/analyzers/types.ts';
import { meshConfigFrom } from '../../src/mesh/mesh-config.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';

const yaml = `apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: two-replaces
  namespace: shop
spec:
  configPatches:
  - applyTo: HTTP_FILTER
    match:
      context: SIDECAR_INBOUND
    patch:
      operation: REPLACE
      value:
        name: envoy.lua
  - applyTo: NETWORK_FILTER
    match:
      context: SIDECAR_OUTBOUND
    patch:
      operation: REPLACE
      value:
        name: other
`;

describe('envoyfilter.EnvoyPatchAnalyzer message placement', () => {
  it('reports two relative REPLACEs of one EnvoyFilter once, on the resource line', () => {
    const snapshot = new MeshSnapshot(parseYamlObjects(yaml, 'ef.yaml'), { meshConfig: meshConfigFrom(undefined) });
    const ms = analyze(snapshot, { analyzers: ['envoyfilter.EnvoyPatchAnalyzer'] });
    expect(ms.map((m) => `${m.code} ${messageResource(m)}`)).toEqual(['IST0151 EnvoyFilter shop/two-replaces']);
    expect(ms[0]?.line).toBe(4);
  });
});
