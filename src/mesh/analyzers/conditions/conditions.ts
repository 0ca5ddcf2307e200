// conditions.ConditionAnalyzer: surfaces negative status conditions that controllers (istiod, the
// Gateway API controller) wrote on objects, e.g. a Gateway not Accepted or a waypoint not bound.
import { groupOf } from '../../../kube/objects.ts';
import type { KubeObject } from '../../../kube/objects.ts';
import { rec, recs, str } from '../util/fields.ts';
import type { Rec } from '../util/fields.ts';
import { GATEWAY_API } from '../util/kinds.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';

const ROUTE_CONDITIONS = { Accepted: 'False', Programmed: 'False', ResolvedRefs: 'False' };
const NEGATIVE: Record<string, { group?: string; conditions: Record<string, string>; parents?: boolean }> = {
  Service: { group: '', conditions: { 'istio.io/WaypointBound': 'False' } },
  ServiceEntry: { conditions: { 'istio.io/WaypointBound': 'False' } },
  AuthorizationPolicy: { conditions: { ZtunnelAccepted: 'False', WaypointAccepted: 'False' } },
  Gateway: { group: GATEWAY_API, conditions: ROUTE_CONDITIONS },
  HTTPRoute: { group: GATEWAY_API, conditions: ROUTE_CONDITIONS, parents: true },
  GRPCRoute: { group: GATEWAY_API, conditions: ROUTE_CONDITIONS, parents: true },
};

export const conditionAnalyzer: Analyzer = {
  name: 'conditions.ConditionAnalyzer',
  description: 'Checks for negative status conditions on resources',
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    for (const [kind, rule] of Object.entries(NEGATIVE)) {
      for (const obj of snapshot.list(kind)) {
        if (rule.group !== undefined && groupOf(obj.apiVersion) !== rule.group) continue;
        for (const c of conditionsOf(obj, rule.parents ?? false)) {
          const type = str(c['type']);
          const reason = str(c['reason']);
          const negative = rule.conditions[type] !== undefined && rule.conditions[type] === str(c['status']);
          // A waypoint that accepted only part of a policy reports status True with reason PartiallyInvalid.
          const partial = kind === 'AuthorizationPolicy' && type === 'WaypointAccepted' && reason === 'PartiallyInvalid';
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
