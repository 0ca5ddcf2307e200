// Follows istio/istio pkg/config/analysis/analyzers/conditions/conditions.go: ConditionAnalyzer.Analyze,
// negativeConditionsToReport, shouldReportCondition, extractConditions, extractParentConditions.
//
// conditions.ConditionAnalyzer: surfaces the negative status conditions controllers (istiod, the Gateway API
// controller) wrote on objects (IST0171 on the object): Service and ServiceEntry `istio.io/WaypointBound` False,
// AuthorizationPolicy `ZtunnelAccepted`/`WaypointAccepted` False (and `WaypointAccepted` with reason
// PartiallyInvalid, which is True), Gateway API Gateways' conditions and HTTPRoutes'/GRPCRoutes' parent conditions
// `Accepted`, `Programmed`, `ResolvedRefs` False.
import type { KubeObject } from '../../../kube/objects.ts';
import type { KindRef } from '../../snapshot.ts';
import { rec, recs, str } from '../util/fields.ts';
import type { Rec } from '../util/fields.ts';
import { gvk } from '../util/kinds.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message, optional } from '../types.ts';

interface Checked {
  ref: KindRef;
  conditions: Record<string, string>;
  /** Conditions per parent (Gateway API routes), not on the object. */
  parents?: boolean;
  /** Gateway API kinds are optional: without them the others are still checked. */
  optional?: string;
}

const ROUTE_CONDITIONS = { Accepted: 'False', Programmed: 'False', ResolvedRefs: 'False' };
const WITHOUT_GATEWAY_API = 'negative conditions on Gateway API Gateways and routes are not seen';
const CHECKED: readonly Checked[] = [
  { ref: gvk.Service, conditions: { 'istio.io/WaypointBound': 'False' } },
  { ref: gvk.ServiceEntry, conditions: { 'istio.io/WaypointBound': 'False' } },
  { ref: gvk.AuthorizationPolicy, conditions: { ZtunnelAccepted: 'False', WaypointAccepted: 'False' } },
  { ref: gvk.KubernetesGateway, conditions: ROUTE_CONDITIONS, optional: WITHOUT_GATEWAY_API },
  { ref: gvk.HTTPRoute, conditions: ROUTE_CONDITIONS, parents: true, optional: WITHOUT_GATEWAY_API },
  { ref: gvk.GRPCRoute, conditions: ROUTE_CONDITIONS, parents: true, optional: WITHOUT_GATEWAY_API },
];

export const conditionAnalyzer: Analyzer = {
  name: 'conditions.ConditionAnalyzer',
  description: 'Checks for negative status conditions on resources',
  inputs: CHECKED.map((c) => (c.optional ? optional(c.ref, c.optional) : c.ref)),
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    for (const rule of CHECKED) {
      for (const obj of snapshot.listOf(rule.ref)) {
        for (const c of conditionsOf(obj, rule.parents ?? false)) {
          const type = str(c['type']);
          const reason = str(c['reason']);
          const negative = rule.conditions[type] !== undefined && rule.conditions[type] === str(c['status']);
          // A waypoint that accepted only part of a policy reports status True with reason PartiallyInvalid.
          const partial =
            rule.ref.kind === 'AuthorizationPolicy' && type === 'WaypointAccepted' && reason === 'PartiallyInvalid';
          if (negative) out.push(message('NegativeConditionStatus', obj, [type, reason, str(c['message'])]));
          if (partial) out.push(message('NegativeConditionStatus', obj, [type, reason, str(c['message'])]));
        }
      }
    }
    return out;
  },
};

function conditionsOf(obj: KubeObject, parents: boolean): Rec[] {
  const status = rec(obj['status']);
  if (parents) return recs(status['parents']).flatMap((p) => recs(p['conditions']));
  return recs(status['conditions']);
}
