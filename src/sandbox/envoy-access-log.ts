// Envoy access-log lines as the sandbox's sidecars write them: Istio's default TEXT format
// (EnvoyTextLogFormat), or its JSON twin (meshConfig.accessLogEncoding: JSON).
/** One access-log line in Istio's default TEXT format (EnvoyTextLogFormat), or its JSON twin. */
export function accessLogLine(f: Record<string, string | number | undefined>, encoding: 'TEXT' | 'JSON'): string {
  const v = (k: string) => (f[k] === undefined || f[k] === '' ? '-' : String(f[k]));
  if (encoding === 'JSON') {
    const keys = [
      'start_time',
      'route_name',
      'method',
      'path',
      'protocol',
      'response_code',
      'response_flags',
      'response_code_details',
      'connection_termination_details',
      'bytes_received',
      'bytes_sent',
      'duration',
      'upstream_service_time',
      'x_forwarded_for',
      'user_agent',
      'request_id',
      'authority',
      'upstream_host',
      'upstream_cluster',
      'upstream_local_address',
      'downstream_local_address',
      'downstream_remote_address',
      'requested_server_name',
      'upstream_transport_failure_reason',
    ];
    const numeric = new Set(['response_code', 'bytes_received', 'bytes_sent', 'duration']);
    return JSON.stringify(
      Object.fromEntries(
        keys.map((k) => [k, numeric.has(k) ? Number(f[k] ?? 0) : f[k] === undefined ? null : String(f[k])]),
      ),
    );
  }
  return (
    `[${v('start_time')}] "${v('method')} ${v('path')} ${v('protocol')}" ${v('response_code')} ${v('response_flags')} ${v('response_code_details')} ${v('connection_termination_details')} "${v('upstream_transport_failure_reason')}" ` +
    `${v('bytes_received')} ${v('bytes_sent')} ${v('duration')} ${v('upstream_service_time')} "${v('x_forwarded_for')}" "${v('user_agent')}" "${v('request_id')}" "${v('authority')}" "${v('upstream_host')}" ` +
    `${v('upstream_cluster')} ${v('upstream_local_address')} ${v('downstream_local_address')} ${v('downstream_remote_address')} ${v('requested_server_name')} ${v('route_name')}`
  );
}
