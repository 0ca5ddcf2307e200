// deprecation.DeprecationAnalyzer: fields and CRDs Istio deprecated or removed (hand-maintained, like
// Istio's own list).
import { groupOf } from '../../../kube/objects.ts';
import { isRec, num, rec, recs, spec, str } from '../util/fields.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';

const REMOVED_CRDS = [
  { group: 'rbac.istio.io', kind: 'ClusterRbacConfig' },
  { group: 'rbac.istio.io', kind: 'RbacConfig' },
  { group: 'rbac.istio.io', kind: 'ServiceRole' },
  { group: 'rbac.istio.io', kind: 'ServiceRoleBinding' },
];

export const deprecationAnalyzer: Analyzer = {
  name: 'deprecation.DeprecationAnalyzer',
  description: 'Checks for deprecated Istio types and fields',
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    for (const vs of snapshot.list('VirtualService')) {
      recs(spec(vs)['http']).forEach((route, i) => {
        const delay = rec(rec(route['fault'])['delay']);
        if ((num(delay['percent']) ?? 0) > 0) {
          out.push(message('Deprecated', vs, ['HTTPRoute.fault.delay.percent is deprecated; use HTTPRoute.fault.delay.percentage'], ['spec', 'http', i, 'fault', 'delay', 'percent']));
        }
      });
    }
    for (const sc of snapshot.list('Sidecar')) {
      if (isRec(rec(spec(sc)['outboundTrafficPolicy'])['egressProxy'])) {
        out.push(message('Deprecated', sc, ['OutboundTrafficPolicy.EgressProxy ignored'], ['spec', 'outboundTrafficPolicy', 'egressProxy']));
      }
    }
    for (const crd of snapshot.list('CustomResourceDefinition')) {
      if (groupOf(crd.apiVersion) !== 'apiextensions.k8s.io') continue;
      const s = spec(crd);
      const group = str(s['group']);
      const kind = str(rec(s['names'])['kind']);
      for (const removed of REMOVED_CRDS) {
        if (removed.group === group && removed.kind === kind) out.push(message('Deprecated', crd, [`Custom resource type ${group} ${kind} is removed`]));
      }
    }
    return out;
  },
};
