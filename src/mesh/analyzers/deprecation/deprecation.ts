// Follows istio/istio pkg/config/analysis/analyzers/deprecation/deprecation.go: FieldAnalyzer.Analyze,
// analyzeVirtualService, analyzeSidecar, analyzeCRD.
//
// deprecation.DeprecationAnalyzer: fields and CRDs Istio deprecated or removed, hand-maintained like Istio's list
// (IST0002 on the object): `http[].fault.delay.percent` above 0, a Sidecar's `outboundTrafficPolicy.egressProxy`,
// the CRDs of the removed rbac.istio.io kinds. Istio's list of deprecated kinds (collections.Deprecated) is empty.
import { isRec, num, rec, recs, spec, str } from '../util/fields.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message, optional } from '../types.ts';
import { gvk } from '../util/kinds.ts';

const REMOVED_CRDS = [
  { group: 'rbac.istio.io', kind: 'ClusterRbacConfig' },
  { group: 'rbac.istio.io', kind: 'RbacConfig' },
  { group: 'rbac.istio.io', kind: 'ServiceRole' },
  { group: 'rbac.istio.io', kind: 'ServiceRoleBinding' },
];

export const deprecationAnalyzer: Analyzer = {
  name: 'deprecation.DeprecationAnalyzer',
  description: 'Checks for deprecated Istio types and fields',
  inputs: [
    gvk.VirtualService,
    gvk.Sidecar,
    optional(gvk.CustomResourceDefinition, 'CRDs of removed Istio kinds (rbac.istio.io) are not looked for'),
  ],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    for (const vs of snapshot.listOf(gvk.VirtualService)) {
      recs(spec(vs)['http']).forEach((route, i) => {
        const delay = rec(rec(route['fault'])['delay']);
        if ((num(delay['percent']) ?? 0) > 0) {
          out.push(
            message(
              'Deprecated',
              vs,
              ['HTTPRoute.fault.delay.percent is deprecated; use HTTPRoute.fault.delay.percentage'],
              ['spec', 'http', i, 'fault', 'delay', 'percent'],
            ),
          );
        }
      });
    }
    for (const sc of snapshot.listOf(gvk.Sidecar)) {
      if (isRec(rec(spec(sc)['outboundTrafficPolicy'])['egressProxy'])) {
        out.push(
          message(
            'Deprecated',
            sc,
            ['OutboundTrafficPolicy.EgressProxy ignored'],
            ['spec', 'outboundTrafficPolicy', 'egressProxy'],
          ),
        );
      }
    }
    for (const crd of snapshot.listOf(gvk.CustomResourceDefinition)) {
      const s = spec(crd);
      const group = str(s['group']);
      const kind = str(rec(s['names'])['kind']);
      for (const removed of REMOVED_CRDS) {
        if (removed.group === group && removed.kind === kind)
          out.push(message('Deprecated', crd, [`Custom resource type ${group} ${kind} is removed`]));
      }
    }
    return out;
  },
};
