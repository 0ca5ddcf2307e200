// istiod's stricter rules for the networking.istio.io kinds: Gateway, ServiceEntry.
import { isRec, rec, recs, str, strs } from '../../util/fields.ts';
import type { Rec } from '../../util/fields.ts';
import { type Path, type RuleProblem, isIp } from './common.ts';

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
    if (isRec(tls)) {
      // The API's default mode is PASSTHROUGH (enum value 0), which needs no certificate; a credential name
      // (or several, or inline tlsCertificates) means the certificates come from elsewhere.
      const mode = str(tls['mode']) || 'PASSTHROUGH';
      const credential = str(tls['credentialName']) !== '' || strs(tls['credentialNames']).length > 0;
      if ((mode === 'SIMPLE' || mode === 'MUTUAL') && !credential && recs(tls['tlsCertificates']).length === 0) {
        if (str(tls['serverCertificate']) === '')
          out.push({ text: `${mode} TLS requires a server certificate`, path: [...at, 'tls'] });
        if (str(tls['privateKey']) === '')
          out.push({ text: `${mode} TLS requires a private key`, path: [...at, 'tls'] });
        if (mode === 'MUTUAL' && str(tls['caCertificates']) === '')
          out.push({ text: 'MUTUAL TLS requires a client CA bundle', path: [...at, 'tls'] });
      }
    }
  });
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
