// istiod's validation (pkg/config/validation) where it is stricter than the CRD schema, for the kinds people most
// often write by hand. The rules live per API group in rules/; this file only dispatches by kind. Each rule
// function names the Istio function it follows; the texts are Istio's where we know them. Errors the CRD schema
// already reports are left to it (a missing server port, an empty portLevelMtls), except where istiod's wording is
// the one people search for (port-level mTLS without a selector: both are reported).
import type { KubeObject } from '../../../kube/objects.ts';
import { spec } from '../util/fields.ts';
import type { RuleProblem } from './rules/common.ts';
import { gateway, serviceEntry } from './rules/networking.ts';
import { authorizationPolicy, peerAuthentication } from './rules/security.ts';

export type { RuleProblem } from './rules/common.ts';

export function istioRuleProblems(obj: KubeObject): RuleProblem[] {
  const s = spec(obj);
  switch (obj.kind) {
    case 'AuthorizationPolicy':
      // Istio prefixes each of these errors with the policy (multierror.Prefix).
      return authorizationPolicy(s).map((p) => ({
        ...p,
        text: `invalid policy ${obj.metadata.name}.${obj.metadata.namespace ?? ''}: ${p.text}`,
      }));
    case 'PeerAuthentication':
      return peerAuthentication(s);
    case 'Gateway':
      return gateway(s);
    case 'ServiceEntry':
      return serviceEntry(s);
    default:
      return [];
  }
}
