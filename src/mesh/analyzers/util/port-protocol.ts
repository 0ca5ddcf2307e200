// The protocol Istio infers for a Service port (pkg/config/kube ConvertProtocol): UDP/SCTP from the
// Kubernetes protocol, else appProtocol, else the port name's prefix before '-', else TCP for a few
// well-known ports; anything else is unsupported, i.e. left to protocol sniffing.

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
const WELL_KNOWN_TCP_PORTS = new Set([25, 53, 3306, 27017]);

export function parseProtocol(name: string): string {
  return PROTOCOLS.get(name.toLowerCase()) ?? 'Unsupported';
}

export function portProtocol(port: number, name: string, k8sProtocol: string, appProtocol?: string): string {
  if (k8sProtocol === 'UDP') return 'UDP';
  if (k8sProtocol === 'SCTP') return 'SCTP';
  if (appProtocol) {
    const known = { 'kubernetes.io/h2c': 'HTTP2', 'kubernetes.io/ws': 'HTTP', 'kubernetes.io/wss': 'HTTPS' } as Record<
      string,
      string
    >;
    const p = known[appProtocol] ?? parseProtocol(appProtocol);
    if (p !== 'Unsupported') return p;
  }
  let out: string;
  if (name.toLowerCase().startsWith('grpc-web')) out = 'GRPC-Web';
  else {
    const dash = name.indexOf('-');
    out = parseProtocol(dash >= 0 ? name.slice(0, dash) : name);
  }
  if (out === 'UDP') out = 'Unsupported';
  if (out === 'Unsupported' && WELL_KNOWN_TCP_PORTS.has(port)) return 'TCP';
  return out;
}
