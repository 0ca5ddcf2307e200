// istiod's validation (pkg/config/validation) where it is stricter than the CRD schema, for every kind the schema
// analyzers check but VirtualService and DestinationRule (which have their own analyzers). The rules live per API group in rules/; this file only dispatches by kind. Each rule
// function names the Istio function it follows; the texts are Istio's where we know them. Errors the CRD schema
// already reports are left to it (a missing server port, an empty portLevelMtls), except where istiod's wording is
// the one people search for (port-level mTLS without a selector: both are reported).
import type { KubeObject } from '../../../kube/objects.ts';
import { spec } from '../util/fields.ts';
import type { RuleProblem } from './rules/common.ts';
import { envoyFilter, proxyConfig, telemetry, wasmPlugin } from './rules/extensions.ts';
import { gateway, serviceEntry, workloadEntry, workloadGroup } from './rules/networking.ts';
import { authorizationPolicy, peerAuthentication, requestAuthentication } from './rules/security.ts';
import { sidecar } from './rules/sidecar.ts';

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
    case 'RequestAuthentication':
      return requestAuthentication(s);
    case 'Sidecar':
      return sidecar(s, obj.metadata.namespace ?? '');
    case 'WorkloadEntry':
      return workloadEntry(s);
    case 'WorkloadGroup':
      return workloadGroup(s);
    case 'EnvoyFilter':
      return envoyFilter(s);
    case 'WasmPlugin':
      return wasmPlugin(s);
    case 'Telemetry':
      return telemetry(s);
    case 'ProxyConfig':
      return proxyConfig(s);
    default:
      return [];
  }
}
