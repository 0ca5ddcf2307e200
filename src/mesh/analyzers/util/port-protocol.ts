// The protocol Istio infers for a Service port. Follows istio/istio pkg/config/kube/conversion.go: ConvertProtocol,
// and pkg/config/protocol/instance.go: Parse. UDP and SCTP come from the Kubernetes protocol; otherwise the name
// looked at is the appProtocol when one is set (Kubernetes' `kubernetes.io/h2c`, `/ws`, `/wss` mapped first) and
// the port name only when it is not; a `grpc-web` prefix is GRPC-Web, else the part before the first `-` is parsed
// (case-insensitively); what does not parse is Unsupported (left to protocol sniffing), except on a few
// well-known ports, which are TCP.

const PROTOCOLS = new Map<string, string>([
  ['tcp', 'TCP'],
  ['udp', 'UDP'],
  ['grpc', 'GRPC'],
  ['grpc-web', 'GRPC-Web'],
  ['http', 'HTTP'],
  ['http_proxy', 'HTTP_PROXY'],
  ['http2', 'HTTP2'],
  ['https', 'HTTPS'],
  ['tls', 'TLS'],
  ['mongo', 'Mongo'],
  ['redis', 'Redis'],
  ['mysql', 'MySQL'],
]);
/** SMTP, DNS, MySQL, MongoDB. */
const WELL_KNOWN_TCP_PORTS = new Set([25, 53, 3306, 27017]);
const KUBERNETES_APP_PROTOCOLS: Record<string, string> = {
  'kubernetes.io/h2c': 'HTTP2',
  'kubernetes.io/ws': 'HTTP',
  'kubernetes.io/wss': 'HTTPS',
};

export function parseProtocol(name: string): string {
  return PROTOCOLS.get(name.toLowerCase()) ?? 'Unsupported';
}

/** `appProtocol` undefined when the port has none; an empty one is still one (and parses as Unsupported). */
export function portProtocol(port: number, name: string, k8sProtocol: string, appProtocol?: string): string {
  if (k8sProtocol === 'UDP') return 'UDP';
  if (k8sProtocol === 'SCTP') return 'SCTP';
  let looked = name;
  if (appProtocol !== undefined) {
    const known = KUBERNETES_APP_PROTOCOLS[appProtocol];
    if (known) return known;
    looked = appProtocol;
  }
  if (looked.toLowerCase().startsWith('grpc-web')) return 'GRPC-Web';
  const dash = looked.indexOf('-');
  const out = parseProtocol(dash >= 0 ? looked.slice(0, dash) : looked);
  if (out === 'Unsupported' && WELL_KNOWN_TCP_PORTS.has(port)) return 'TCP';
  return out;
}
