// Follows istio/istio pkg/config/analysis/analyzers/virtualservice/destinationrules.go: DestinationRuleAnalyzer.Analyze,
// analyzeVirtualService, checkDestinationSubset, initDestHostsAndSubsets (hosts compared as
// util.GetResourceNameFromHost: `ns/name` of an FQDN, else the short name in the referring object's namespace).
//
// virtualservice.DestinationRuleAnalyzer: a route to a subset needs a DestinationRule for that host
// that defines the subset.
import type { SnapshotReader } from '../../snapshot.ts';
import { memo, nsOf, recs, spec, str } from '../util/fields.ts';
import { resourceNameFromHost } from '../util/hosts.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { mirrorDestinations, routeDestinations } from './destinations.ts';
import { gvk } from '../util/kinds.ts';

export const virtualServiceDestinationRuleAnalyzer: Analyzer = {
  name: 'virtualservice.DestinationRuleAnalyzer',
  description: 'Checks the destination rules associated with each virtual service',
  inputs: [gvk.VirtualService, gvk.DestinationRule],
  analyze(snapshot) {
    const known = hostSubsets(snapshot);
    const out: AnalysisMessage[] = [];
    for (const vs of snapshot.listOf(gvk.VirtualService)) {
      const ns = nsOf(vs);
      const missing = (host: string, subset: string) =>
        subset !== '' && !known.has(`${resourceNameFromHost(ns, host)}\u0000${subset}`);
      for (const d of routeDestinations(vs)) {
        const host = str(d.destination['host']);
        const subset = str(d.destination['subset']);
        if (missing(host, subset))
          out.push(
            message(
              'ReferencedResourceNotFound',
              vs,
              ['host+subset in destinationrule', `${host}+${subset}`],
              [...d.path, 'host'],
            ),
          );
      }
      for (const d of mirrorDestinations(vs)) {
        const host = str(d.destination['host']);
        const subset = str(d.destination['subset']);
        if (missing(host, subset))
          out.push(
            message(
              'ReferencedResourceNotFound',
              vs,
              ['mirror+subset in destinationrule', `${host}+${subset}`],
              [...d.path, 'host'],
            ),
          );
      }
    }
    return out;
  },
};

/** `ns/name\0subset` for every subset of every DestinationRule. */
function hostSubsets(snapshot: SnapshotReader): Set<string> {
  return memo(snapshot, 'virtualservice.hostSubsets', () => {
    const set = new Set<string>();
    for (const dr of snapshot.listOf(gvk.DestinationRule)) {
      const ns = nsOf(dr);
      const host = str(spec(dr)['host']);
      for (const subset of recs(spec(dr)['subsets']))
        set.add(`${resourceNameFromHost(ns, host)}\u0000${str(subset['name'])}`);
    }
    return set;
  });
}
