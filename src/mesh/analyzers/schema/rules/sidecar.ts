// istiod's stricter rules for Sidecar (networking.istio.io): ValidateSidecar and the functions it calls. The CRD
// requires an ingress listener's port and an egress listener's hosts, bounds durations, and has the enums; the
// rest is here.
import { arr, isRec, rec, str, strs } from '../../util/fields.ts';
import type { Rec } from '../../util/fields.ts';
import { parseProtocol } from '../../util/port-protocol.ts';
import {
  type Path,
  type RuleProblem,
  alphaSelectorProblems,
  connectionPoolProblems,
  fqdnError,
  int,
  ipError,
  isDns1123Label,
  isIpAddress,
  partialWildcardError,
  portError,
  portNameError,
  protocolError,
  unixAddressError,
  wildcardDomainError,
} from './common.ts';
import { serverTlsProblems } from './networking.ts';

const UNIX = 'unix://';
const given = (r: Rec, f: string) => r[f] !== undefined && r[f] !== null;
const defined = (texts: (string | undefined)[]): string[] => texts.filter((t): t is string => t !== undefined);

/** After ValidateSidecar. `namespace` is the Sidecar's own, for `./` hosts. */
export function sidecar(s: Rec, namespace: string): RuleProblem[] {
  const selector = alphaSelectorProblems(s, 'sidecar');
  // ValidateAlphaWorkloadSelector's errors end the validation: istiod returns them alone.
  if (selector.some((p) => !p.warning)) return selector.filter((p) => !p.warning);
  if (
    arr(s['egress']).length === 0 &&
    arr(s['ingress']).length === 0 &&
    !given(s, 'outboundTrafficPolicy') &&
    !given(s, 'inboundConnectionPool')
  )
    return [{ text: 'sidecar: empty configuration provided', path: ['spec'] }];
  const out = [...selector];
  ingress(s, out);
  if (isRec(s['inboundConnectionPool']))
    connectionPoolProblems(rec(s['inboundConnectionPool']), ['spec', 'inboundConnectionPool'], out);
  egress(s, namespace, out);
  outboundTrafficPolicy(rec(s['outboundTrafficPolicy']), out);
  return out;
}

function ingress(s: Rec, out: RuleProblem[]): void {
  const ports = new Set<number>();
  arr(s['ingress']).forEach((listener, i) => {
    const at: Path = ['spec', 'ingress', i];
    if (!isRec(listener)) {
      out.push({ text: 'sidecar: ingress may not be null', path: at });
      return;
    }
    const port = listener['port'];
    if (!isRec(port)) return; // required by the CRD
    if (int(port['targetPort']) > 0)
      out.push({ text: 'targetPort has no impact on Sidecars', path: [...at, 'port', 'targetPort'] });
    // validateSidecarIngressPortAndBind
    const bind = str(listener['bind']);
    for (const text of defined([
      str(port['name']) === '' ? undefined : portNameError(str(port['name'])),
      protocolError(str(port['protocol'])),
      portError(int(port['number'])),
      bind === '' ? undefined : ipError(bind),
    ]))
      out.push({ text, path: [...at, 'port'] });
    if (ports.has(int(port['number'])))
      out.push({ text: 'sidecar: ports on IP bound listeners must be unique', path: [...at, 'port', 'number'] });
    ports.add(int(port['number']));
    for (const text of defaultEndpointErrors(str(listener['defaultEndpoint'])))
      out.push({ text, path: [...at, 'defaultEndpoint'] });
    if (isRec(listener['tls'])) ingressTls(rec(listener['tls']), [...at, 'tls'], out);
    const pool = listener['connectionPool'];
    if (isRec(pool)) {
      connectionPoolProblems(pool, [...at, 'connectionPool'], out);
      const protocol = str(port['protocol']);
      if (isRec(pool['http']) && !['HTTP', 'HTTP2', 'HTTP_PROXY', 'GRPC', 'GRPC-Web'].includes(parseProtocol(protocol)))
        out.push({
          text: `sidecar: HTTP connection pool settings are configured for port ${int(port['number'])} (${JSON.stringify(str(port['name']))}) but its protocol is not HTTP (${protocol}); only TCP settings will apply`,
          path: [...at, 'connectionPool', 'http'],
          warning: true,
        });
    }
  });
}

/** The defaultEndpoint of an ingress listener: 127.0.0.1:<port>, 0.0.0.0:<port>, [::1]:<port>, [::]:<port> or unix://. */
function defaultEndpointErrors(endpoint: string): string[] {
  if (endpoint === '') return [];
  if (endpoint.startsWith(UNIX)) return defined([unixAddressError(endpoint.slice(UNIX.length))]);
  const out: string[] = [];
  const split = splitHostPort(endpoint);
  // On a split error Go's host and port are both empty: the port check below reports "" too, as istiod does.
  const [host, port] = typeof split === 'string' ? ['', ''] : split;
  if (typeof split === 'string') out.push(split);
  if (host !== '' && !['127.0.0.1', '0.0.0.0', '::1', '::'].includes(host))
    out.push(
      'sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,unix://filepath or unset',
    );
  if (!/^[-+]?\d+$/.test(port))
    out.push(
      `sidecar: defaultEndpoint port (${port}) is not a number: strconv.Atoi: parsing ${JSON.stringify(port)}: invalid syntax`,
    );
  else out.push(...defined([portError(Number(port))]));
  return out;
}

/** Go's net.SplitHostPort: [host, port], or its error text. */
function splitHostPort(hostport: string): [string, string] | string {
  const fail = (why: string) => `address ${hostport}: ${why}`;
  const colon = hostport.lastIndexOf(':');
  if (colon < 0) return fail('missing port in address');
  let host: string;
  if (hostport.startsWith('[')) {
    const end = hostport.indexOf(']');
    if (end < 0) return fail("missing ']' in address");
    if (end + 1 === hostport.length) return fail('missing port in address');
    if (end + 1 !== colon)
      return fail(hostport[end + 1] === ':' ? 'too many colons in address' : 'missing port in address');
    host = hostport.slice(1, end);
  } else {
    host = hostport.slice(0, colon);
    if (host.includes(':')) return fail('too many colons in address');
  }
  return [host, hostport.slice(colon + 1)];
}

function ingressTls(tls: Rec, at: Path, out: RuleProblem[]): void {
  if (strs(tls['subjectAltNames']).length > 0)
    out.push({ text: 'sidecar: subjectAltNames is not supported in ingress tls', path: [...at, 'subjectAltNames'] });
  if (tls['httpsRedirect'] === true)
    out.push({ text: 'sidecar: httpsRedirect is not supported', path: [...at, 'httpsRedirect'] });
  if (str(tls['credentialName']) !== '')
    out.push({ text: 'sidecar: credentialName is not currently supported', path: [...at, 'credentialName'] });
  const mode = str(tls['mode']);
  if (mode === 'ISTIO_MUTUAL' || mode === 'AUTO_PASSTHROUGH')
    out.push({
      text: `configuration is invalid: cannot set mode to ${mode} in sidecar ingress tls`,
      path: [...at, 'mode'],
    });
  out.push(...serverTlsProblems(tls, at));
}

function egress(s: Rec, namespace: string, out: RuleProblem[]): void {
  const listeners = arr(s['egress']);
  const ports = new Set<number>();
  const sockets = new Set<string>();
  let catchAll = false;
  listeners.forEach((listener, i) => {
    const at: Path = ['spec', 'egress', i];
    if (!isRec(listener)) {
      out.push({ text: 'egress listener may not be null', path: at });
      return;
    }
    // There can be only one catch-all listener (no port), and it must be the last.
    const port = listener['port'];
    if (!isRec(port)) {
      if (catchAll) {
        out.push({ text: 'sidecar: egress can have only one listener with empty port', path: at });
        return;
      }
      if (i === listeners.length - 1) catchAll = true;
      else
        out.push({
          text: 'sidecar: the egress listener with empty port should be the last listener in the list',
          path: at,
        });
    } else {
      if (int(port['targetPort']) > 0)
        out.push({ text: 'targetPort has no impact on Sidecars', path: [...at, 'port', 'targetPort'] });
      const bind = str(listener['bind']);
      for (const text of egressPortErrors(port, bind, str(listener['captureMode']) || 'DEFAULT'))
        out.push({ text, path: [...at, 'port'] });
      if (int(port['number']) === 0) {
        if (sockets.has(bind))
          out.push({ text: 'sidecar: unix domain socket values for listeners must be unique', path: [...at, 'bind'] });
        sockets.add(bind);
      } else {
        if (ports.has(int(port['number'])))
          out.push({ text: 'sidecar: ports on IP bound listeners must be unique', path: [...at, 'port', 'number'] });
        ports.add(int(port['number']));
      }
    }
    egressHosts(listener['hosts'], namespace, [...at, 'hosts'], out);
  });
}

/** validateSidecarEgressPortBindAndCaptureMode: port 0 is a unix domain socket listener. */
function egressPortErrors(port: Rec, bind: string, captureMode: string): string[] {
  const name = str(port['name']);
  const out = defined([name === '' ? undefined : portNameError(name), protocolError(str(port['protocol']))]);
  if (int(port['number']) === 0) {
    if (!bind.startsWith(UNIX)) out.push('sidecar: ports with 0 value must have a unix domain socket bind address');
    else out.push(...defined([unixAddressError(bind.slice(UNIX.length))]));
    if (captureMode !== 'DEFAULT' && captureMode !== 'NONE')
      out.push('sidecar: captureMode must be DEFAULT/NONE for unix domain socket listeners');
  } else {
    out.push(...defined([portError(int(port['number'])), bind === '' ? undefined : ipError(bind)]));
  }
  return out;
}

function egressHosts(hosts: unknown, namespace: string, at: Path, out: RuleProblem[]): void {
  if (!Array.isArray(hosts)) return; // required by the CRD
  if (hosts.length === 0) {
    out.push({ text: 'sidecar: egress listener must contain at least one host', path: at });
    return;
  }
  const byNamespace = new Map<string, Set<string>>();
  strs(hosts).forEach((host, j) => {
    const slash = host.indexOf('/');
    if (slash >= 0) {
      const ns = host.slice(0, slash) === '.' ? namespace : host.slice(0, slash);
      const svc = host.slice(slash + 1);
      const seen = byNamespace.get(ns) ?? new Set<string>();
      byNamespace.set(ns, seen);
      if (svc !== '*' ? seen.has(svc) || seen.has('*') : seen.size !== 0)
        out.push({ text: `duplicated egress host: ${host}`, path: [...at, j], warning: true });
      seen.add(svc);
    }
    for (const text of namespaceSlashHostErrors(host)) out.push({ text, path: [...at, j] });
  });
  if (byNamespace.get('*')?.has('*') && byNamespace.size !== 1)
    out.push({ text: '`*/*` host select all resources, no other hosts can be added', path: at, warning: true });
}

/** agent.ValidateNamespaceSlashWildcardHostname for a sidecar (isGateway false). */
function namespaceSlashHostErrors(host: string): string[] {
  const slash = host.indexOf('/');
  if (slash < 0) return ['host must be of form namespace/dnsName'];
  const ns = host.slice(0, slash);
  const name = host.slice(slash + 1);
  const out: string[] = [];
  if (ns === '' || name === '') out.push('config namespace and dnsName in host entry cannot be empty');
  // The namespace may be *, . or ~ in sidecars, or a DNS label.
  if (!['*', '.', '~'].includes(ns) && !isDns1123Label(ns))
    out.push(`invalid namespace value ${JSON.stringify(ns)} in sidecar`);
  // validateSidecarOrGatewayHostnamePart(name, false)
  if (name !== '*' && !name.includes('.')) out.push('short names (non FQDN) are not allowed');
  const domain = wildcardDomainError(name);
  if (domain) {
    // For a sidecar istiod appends the domain error, then again unless the name is an IP address.
    out.push(domain);
    if (!isIpAddress(name)) out.push(domain);
  }
  out.push(...defined([partialWildcardError(name)]));
  return out;
}

/** After validateSidecarOutboundTrafficPolicy: an egress proxy only with ALLOW_ANY. */
function outboundTrafficPolicy(policy: Rec, out: RuleProblem[]): void {
  const proxy = policy['egressProxy'];
  if (!isRec(proxy)) return;
  const at: Path = ['spec', 'outboundTrafficPolicy', 'egressProxy'];
  // The mode's default (enum value 0) is REGISTRY_ONLY.
  if ((str(policy['mode']) || 'REGISTRY_ONLY') !== 'ALLOW_ANY') {
    out.push({
      text: 'sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode',
      path: ['spec', 'outboundTrafficPolicy', 'mode'],
    });
    return;
  }
  const host = str(proxy['host']);
  for (const text of defined([fqdnError(host)])) out.push({ text, path: [...at, 'host'] });
  if (!isRec(proxy['port'])) {
    out.push({ text: 'sidecar: egress_proxy port must be non-nil', path: at });
    return;
  }
  // validateDestination
  const subset = str(proxy['subset']);
  for (const text of defined([
    host === '*' ? 'invalid destination host *' : wildcardDomainError(host),
    subset !== '' && !isDns1123Label(subset) ? `subset name is invalid: ${subset}` : undefined,
    portError(int(rec(proxy['port'])['number'])),
  ]))
    out.push({ text, path: at });
}
