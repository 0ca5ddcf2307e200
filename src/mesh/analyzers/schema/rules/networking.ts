// istiod's stricter rules for the networking.istio.io kinds: Gateway, ServiceEntry, WorkloadEntry, WorkloadGroup
// (Sidecar's are in sidecar.ts).
import { isRec, rec, recs, str, strs } from '../../util/fields.ts';
import type { Rec } from '../../util/fields.ts';
import { type Path, type RuleProblem, fqdnError, isIp, isIpAddress, labelErrors } from './common.ts';

const SERVER_PROTOCOLS = ['HTTP', 'HTTPS', 'GRPC', 'GRPC-WEB', 'HTTP2', 'MONGO', 'REDIS', 'MYSQL', 'TCP', 'TLS'];

/** After ValidateGateway, validateServer, validateServerPort and validateTLSOptions. */
export function gateway(s: Rec): RuleProblem[] {
  const out: RuleProblem[] = [];
  const servers = recs(s['servers']);
  if (servers.length === 0) out.push({ text: 'gateway must have at least one server', path: ['spec'] });
  const names = new Set<string>();
  servers.forEach((server, i) => {
    const at: Path = ['spec', 'servers', i];
    if (Array.isArray(server['hosts']) && server['hosts'].length === 0)
      out.push({ text: 'server config must contain at least one host', path: [...at, 'hosts'] });
    const port = rec(server['port']);
    const protocol = str(port['protocol']).toUpperCase();
    if (protocol !== '' && !SERVER_PROTOCOLS.includes(protocol))
      out.push({
        text: `invalid protocol ${JSON.stringify(str(port['protocol']))}, supported protocols are ${SERVER_PROTOCOLS.join(', ')}`,
        path: [...at, 'port', 'protocol'],
      });
    const name = str(port['name']);
    if (name !== '') {
      if (names.has(name))
        out.push({
          text: `port names in servers must be unique: duplicate name ${name}`,
          path: [...at, 'port', 'name'],
        });
      names.add(name);
    }
    const tls = server['tls'];
    if ((protocol === 'HTTPS' || protocol === 'TLS') && !isRec(tls))
      out.push({ text: 'server must have TLS settings for HTTPS/TLS protocols', path: at });
    if (isRec(tls)) out.push(...serverTlsProblems(tls, [...at, 'tls']));
  });
  return out;
}

/**
 * After validateTLSOptions, the certificate part: SIMPLE and MUTUAL need certificates unless a credential names
 * where they come from. Used by Gateway servers and Sidecar ingress listeners.
 */
export function serverTlsProblems(tls: Rec, at: Path): RuleProblem[] {
  const out: RuleProblem[] = [];
  // The API's default mode is PASSTHROUGH (enum value 0), which needs no certificate; a credential name
  // (or several, or inline tlsCertificates) means the certificates come from elsewhere.
  const mode = str(tls['mode']) || 'PASSTHROUGH';
  const credential = str(tls['credentialName']) !== '' || strs(tls['credentialNames']).length > 0;
  if ((mode === 'SIMPLE' || mode === 'MUTUAL') && !credential && recs(tls['tlsCertificates']).length === 0) {
    if (str(tls['serverCertificate']) === '') out.push({ text: `${mode} TLS requires a server certificate`, path: at });
    if (str(tls['privateKey']) === '') out.push({ text: `${mode} TLS requires a private key`, path: at });
    if (mode === 'MUTUAL' && str(tls['caCertificates']) === '')
      out.push({ text: 'MUTUAL TLS requires a client CA bundle', path: at });
  }
  return out;
}

/** After ValidateServiceEntry (the parts the CRD's CEL rules do not cover). */
export function serviceEntry(s: Rec): RuleProblem[] {
  const out: RuleProblem[] = [];
  const hosts = strs(s['hosts']);
  hosts.forEach((h, i) => {
    if (h === '*') out.push({ text: 'invalid host *', path: ['spec', 'hosts', i] });
  });
  const resolution = str(s['resolution']) || 'NONE';
  const endpoints = recs(s['endpoints']);
  if (resolution === 'STATIC')
    endpoints.forEach((e, i) => {
      const address = str(e['address']);
      if (address !== '' && !address.startsWith('unix://') && !isIp(address))
        out.push({
          text: `endpoint address ${JSON.stringify(address)} is not a valid IP address`,
          path: ['spec', 'endpoints', i, 'address'],
        });
    });
  if (resolution === 'DNS' && endpoints.length === 0)
    hosts.forEach((h, i) => {
      if (h.startsWith('*'))
        out.push({
          text: `hosts must be FQDN if no endpoints are provided for resolution mode ${resolution}`,
          path: ['spec', 'hosts', i],
        });
    });
  return out;
}

/**
 * After ValidateWorkloadEntry (validateWorkloadEntry, FQDN addresses allowed). The CRD's CEL rules already say
 * "Address is required" when neither address nor network is set, and check unix:// addresses, port names and
 * port numbers.
 */
export function workloadEntry(s: Rec): RuleProblem[] {
  const out: RuleProblem[] = [];
  const network = str(s['network']);
  const address = s['address'];
  if (address === '' && network === '') return [{ text: 'address is required', path: ['spec', 'address'] }];
  if ((address === undefined || address === null || address === '') && network !== '')
    out.push({ text: `address is unset with network ${JSON.stringify(network)}`, path: ['spec'], warning: true });
  const addr = str(address);
  if (addr !== '' && !addr.startsWith('unix://') && !isIpAddress(addr) && fqdnError(addr) !== undefined)
    out.push({
      text: `endpoint address ${JSON.stringify(addr)} is not a valid FQDN or an IP address`,
      path: ['spec', 'address'],
    });
  for (const text of labelErrors(s['labels'])) out.push({ text, path: ['spec', 'labels'] });
  return out;
}

/**
 * After ValidateWorkloadGroup and validateReadinessProbe. The template (required) is not validated as a
 * WorkloadEntry, as istiod does not: its address is filled in later. The CRD bounds the probe's numbers, ports,
 * scheme and header names.
 */
export function workloadGroup(s: Rec): RuleProblem[] {
  if (!isRec(s['template'])) return [];
  // istiod returns one error here, its go-multierror list of the bad labels; we join them into one message too.
  const bad = labelErrors(rec(s['metadata'])['labels']);
  if (bad.length > 0) return [{ text: `invalid labels: ${bad.join('; ')}`, path: ['spec', 'metadata', 'labels'] }];
  const probe = s['probe'];
  if (!isRec(probe)) return [];
  const given = (f: string) => probe[f] !== undefined && probe[f] !== null;
  // A probe with no method at all: the Go switch's default case prints the nil interface's type.
  if (!['httpGet', 'tcpSocket', 'exec', 'grpc'].some(given))
    return [{ text: 'unknown health check method <nil>', path: ['spec', 'probe'] }];
  const command = rec(probe['exec'])['command'];
  if (Array.isArray(command) && command.length === 0)
    return [{ text: 'exec.command is required', path: ['spec', 'probe', 'exec', 'command'] }];
  return [];
}
