// The istio_requests_total labels the traffic model's sidecars report, for requests that reached a
// destination pod and for those that did not (no route, no cluster, no healthy endpoint): then the
// destination's workload, app, version and principal are `unknown`, as Istio's stats filter reports
// them without upstream peer metadata.
import { serviceHost } from './mesh-policy.ts';
import type { Labels, PodRef } from './traffic-pods.ts';

export interface LabelTarget {
  service: string;
  namespace: string;
}

export function requestLabels(
  reporter: 'source' | 'destination',
  caller: PodRef,
  dest: PodRef | undefined,
  target: LabelTarget,
  code: string,
  flags: string,
  policy: string,
): Labels {
  // A caller without a sidecar has no peer metadata: the destination sees it as unknown.
  const known = caller.sidecar;
  return {
    reporter,
    source_workload: known ? caller.workload : 'unknown',
    source_workload_namespace: known ? caller.ns : 'unknown',
    source_principal: known && policy === 'mutual_tls' ? caller.principal : 'unknown',
    source_app: known ? caller.app : 'unknown',
    source_version: known ? caller.version : 'unknown',
    destination_workload: dest?.workload ?? 'unknown',
    destination_workload_namespace: dest?.ns ?? 'unknown',
    destination_principal: dest && policy === 'mutual_tls' ? dest.principal : 'unknown',
    destination_app: dest?.app ?? 'unknown',
    destination_version: dest?.version ?? 'unknown',
    destination_service: serviceHost(target.service, target.namespace),
    destination_service_name: target.service,
    destination_service_namespace: target.namespace,
    request_protocol: 'http',
    response_code: code,
    grpc_response_status: '',
    response_flags: flags,
    connection_security_policy: policy,
  };
}
