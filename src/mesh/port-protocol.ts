// The protocol Istio assumes for a Service port, following Istio's "explicit protocol selection":
// UDP from the Kubernetes protocol; else `appProtocol` when set; else the port name's prefix
// (`<protocol>[-<suffix>]`, case-insensitive, `grpc-web` checked whole because it holds a dash).
// Unknown names on a few well-known ports (25, 53, 3306, 27017) become TCP; anything else is left
// to protocol sniffing. Mirrors pkg/config/kube ConvertProtocol and istioctl's findProtocolForPort.

export type IstioProtocol =
  | 'HTTP'
  | 'HTTP2'
  | 'HTTPS'
  | 'GRPC'
  | 'GRPC-Web'
  | 'HTTP_PROXY'
  | 'TCP'
  | 'TLS'
  | 'UDP'
  | 'Mongo'
  | 'Redis'
  | 'MySQL'
  | 'HBONE'
  | 'UnsupportedProtocol';

export interface PortLike {
  name?: string;
  port?: number;
  protocol?: string;
  appProtocol?: string;
}

export interface PortProtocol {
  /** What Istio's model holds for the port. */
  protocol: IstioProtocol;
  /** Where it came from: the appProtocol field, the port name, a well-known port, or nothing (sniffing). */
  source: 'udp' | 'appProtocol' | 'name' | 'well-known-port' | 'sniffing';
  /** For people: "HTTP", or "auto-detect (protocol sniffing)" when Istio must guess. */
  display: string;
  /** Istio will sniff this port's protocol (no name prefix or appProtocol it knows). */
  sniffed: boolean;
}

const byName: Record<string, IstioProtocol> = {
  tcp: 'TCP',
  udp: 'UDP',
  grpc: 'GRPC',
  'grpc-web': 'GRPC-Web',
  http: 'HTTP',
  http_proxy: 'HTTP_PROXY',
  http2: 'HTTP2',
  https: 'HTTPS',
  tls: 'TLS',
  mongo: 'Mongo',
  redis: 'Redis',
  mysql: 'MySQL',
};

const wellKnownTcpPorts = new Set([25, 53, 3306, 27017]);

/** Istio's ConvertProtocol: the protocol instance for a port (UnsupportedProtocol = sniffed). */
export function convertProtocol(port: PortLike): { protocol: IstioProtocol; source: PortProtocol['source'] } {
  if ((port.protocol ?? 'TCP').toUpperCase() === 'UDP') return { protocol: 'UDP', source: 'udp' };
  let name = port.name ?? '';
  let source: PortProtocol['source'] = 'name';
  // appProtocol replaces the name outright (no fall back to the name). Istio's ConvertProtocol, as read
  // here, has no mapping for Kubernetes' `kubernetes.io/h2c`-style values, so they are sniffed.
  if (port.appProtocol !== undefined) {
    name = port.appProtocol;
    source = 'appProtocol';
  }
  if (name.slice(0, 8).toLowerCase() === 'grpc-web') return { protocol: 'GRPC-Web', source };
  const dash = name.indexOf('-');
  const prefix = (dash >= 0 ? name.slice(0, dash) : name).toLowerCase();
  const known = byName[prefix];
  if (known) return { protocol: known, source };
  if (port.port !== undefined && wellKnownTcpPorts.has(port.port))
    return { protocol: 'TCP', source: 'well-known-port' };
  return { protocol: 'UnsupportedProtocol', source: 'sniffing' };
}

/**
 * istioctl's findProtocolForPort: "auto-detect" for an unnamed TCP port without appProtocol, "HBONE"
 * for the internal appProtocol hbone, otherwise the converted protocol.
 */
export function findProtocolForPort(port: PortLike): string {
  if (!port.name && port.appProtocol === undefined && (port.protocol ?? 'TCP').toUpperCase() !== 'UDP') {
    return 'auto-detect';
  }
  const { protocol } = convertProtocol(port);
  if (protocol === 'UnsupportedProtocol' && port.appProtocol === 'hbone') return 'HBONE';
  return protocol;
}

/** The protocol for people, with sniffing spelled out. */
export function protocolForPort(port: PortLike): PortProtocol {
  const { protocol, source } = convertProtocol(port);
  if (protocol === 'UnsupportedProtocol' && port.appProtocol === 'hbone') {
    return { protocol: 'HBONE', source: 'appProtocol', display: 'HBONE', sniffed: false };
  }
  const sniffed = protocol === 'UnsupportedProtocol';
  return { protocol, source, sniffed, display: sniffed ? 'auto-detect (protocol sniffing)' : protocol };
}

/**
 * A port name Istio cannot classify: it has a name (or appProtocol) but no known prefix. Unnamed ports
 * are sniffed by design and not worth a warning; named ones usually mean a typo (`htpp-web`).
 */
export function unclassifiedPortName(port: PortLike): string | undefined {
  const p = protocolForPort(port);
  if (!p.sniffed) return undefined;
  if (port.appProtocol !== undefined) return `appProtocol "${port.appProtocol}"`;
  if (port.name) return `port name "${port.name}"`;
  return undefined;
}
