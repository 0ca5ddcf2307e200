// Follows istio/istio pkg/config/analysis/analyzers/envoyfilter/envoyfilter.go: EnvoyPatchAnalyzer.Analyze,
// analyzeEnvoyFilterPatch, relativeOperationMsg.
//
// envoyfilter.EnvoyPatchAnalyzer, patch by patch (stopping at the first without `patch`), every message on the
// EnvoyFilter at `spec.configPatches[i]`:
// * ADD to ROUTE_CONFIGURATION or HTTP_ROUTE is ignored by Istio (IST0153);
// * REMOVE of ROUTE_CONFIGURATION or HTTP_ROUTE likewise (IST0154), any other REMOVE is relative;
// * REPLACE of anything but NETWORK_FILTER or HTTP_FILTER is ignored (IST0152), of those it is relative;
// * INSERT_BEFORE and INSERT_AFTER are relative; MERGE, ADD, INSERT_FIRST are not (at this Istio version);
// * a relative operation in an EnvoyFilter without `priority` (or priority 0) is IST0151, or IST0155 when a patch
//   seen before it (in this EnvoyFilter or one walked earlier) with a `match.proxy.proxyVersion` named the same
//   filter: the patch value's `name`, else the listener filter chain filter the patch matches.
// Istio places each message with util.ErrorLine at `spec.configPatches[i].patch.value`, whose field map holds scalar
// leaves only; a patch value is an object, so the line is the resource's, and Istio's SortedDedupedCopy then folds
// identical messages of one EnvoyFilter (e.g. two relative REPLACEs) into one. We point at that path only when it
// is a scalar, so the same messages coincide here too.
import type { KubeObject } from '../../../kube/objects.ts';
import { fullName, isRec, num, rec, recs, spec, str } from '../util/fields.ts';
import type { Rec } from '../util/fields.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { gvk } from '../util/kinds.ts';

const ROUTE_TARGETS = new Set(['ROUTE_CONFIGURATION', 'HTTP_ROUTE']);
const FILTER_TARGETS = new Set(['NETWORK_FILTER', 'HTTP_FILTER']);

export const envoyPatchAnalyzer: Analyzer = {
  name: 'envoyfilter.EnvoyPatchAnalyzer',
  description: 'Checks an envoyFilters',
  inputs: [gvk.EnvoyFilter],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    // Filter names patched with a proxyVersion match, by EnvoyFilters seen so far (Istio walks them in name order).
    const versionedNames = new Set<string>();
    const filters = [...snapshot.listOf(gvk.EnvoyFilter)].sort((a, b) =>
      fullName(a) < fullName(b) ? -1 : fullName(a) > fullName(b) ? 1 : 0,
    );
    for (const ef of filters) analyzeFilter(ef, versionedNames, out);
    return out;
  },
};

function analyzeFilter(ef: KubeObject, versionedNames: Set<string>, out: AnalysisMessage[]): void {
  const priority = num(spec(ef)['priority']) ?? 0;
  const patches = recs(spec(ef)['configPatches']);
  for (let i = 0; i < patches.length; i++) {
    const cp = patches[i] as Rec;
    if (!isRec(cp['patch'])) break;
    const patch = rec(cp['patch']);
    const match = rec(cp['match']);
    const applyTo = str(cp['applyTo']);
    const operation = str(patch['operation']);
    const name = instanceName(patch, match);
    const path = isScalar(patch['value']) ? ['spec', 'configPatches', i, 'patch', 'value'] : undefined;
    const relative = () => {
      if (priority !== 0) return;
      const withVersion = versionedNames.has(name);
      out.push(
        message(
          withVersion ? 'EnvoyFilterUsesRelativeOperationWithProxyVersion' : 'EnvoyFilterUsesRelativeOperation',
          ef,
          [],
          path,
        ),
      );
    };
    if (operation === 'ADD') {
      if (ROUTE_TARGETS.has(applyTo)) out.push(message('EnvoyFilterUsesAddOperationIncorrectly', ef, [], path));
    } else if (operation === 'REMOVE') {
      if (ROUTE_TARGETS.has(applyTo)) out.push(message('EnvoyFilterUsesRemoveOperationIncorrectly', ef, [], path));
      else relative();
    } else if (operation === 'REPLACE') {
      if (!FILTER_TARGETS.has(applyTo)) out.push(message('EnvoyFilterUsesReplaceOperationIncorrectly', ef, [], path));
      else relative();
    } else if (operation === 'INSERT_BEFORE' || operation === 'INSERT_AFTER') {
      relative();
    }
    if (str(rec(match['proxy'])['proxyVersion']) !== '') versionedNames.add(name);
  }
}

const isScalar = (v: unknown): boolean => v !== undefined && v !== null && typeof v !== 'object';

/** The filter a patch is about: its value's `name`, else the listener filter chain filter it matches. */
function instanceName(patch: Rec, match: Rec): string {
  const value = patch['value'];
  if (!isRec(value)) return '';
  if (value['name'] !== undefined) return JSON.stringify(value['name']);
  const chain = rec(rec(match['listener'])['filterChain']);
  return isRec(match['listener']) && isRec(rec(match['listener'])['filterChain'])
    ? str(rec(chain['filter'])['name'])
    : '';
}
