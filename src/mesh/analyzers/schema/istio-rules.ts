// istiod's validation (pkg/config/validation) where it is stricter than the CRD schema, for the kinds people most
// often write by hand. Each function names the Istio function it follows; the texts are Istio's where we know
// them. Errors the CRD schema already reports are left to it (a missing server port, an empty portLevelMtls), except
// where istiod's wording is the one people search for (port-level mTLS without a selector: both are reported).
import type { KubeObject } from '../../../kube/objects.ts';
import { arr, isRec, rec, recs, spec, str, strs } from '../util/fields.ts';
import type { Rec } from '../util/fields.ts';

type Path = (string | number)[];
export interface RuleProblem {
  text: string;
  path: Path;
  warning?: boolean;
}

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

const validPort = (p: unknown): boolean => {
  const n = typeof p === 'number' ? p : typeof p === 'string' && /^\d+$/.test(p) ? Number(p) : Number.NaN;
  return Number.isInteger(n) && n >= 1 && n <= 65535;
};

const MEANINGLESS = (action: string) =>
  `${action} action without \`rules\` is meaningless as it will never be triggered, add an empty rule \`{}\` if you want it be triggered for every request`;

/** After ValidateAuthorizationPolicy (pkg/config/validation/validation.go). */
function authorizationPolicy(s: Rec): RuleProblem[] {
  const out: RuleProblem[] = [];
  const action = str(s['action']) || 'ALLOW';
  const rules = s['rules'];
  if (action === 'CUSTOM') {
    if (rules === undefined || rules === null) out.push({ text: MEANINGLESS('CUSTOM'), path: ['spec', 'action'] });
    else if (str(rec(s['provider'])['name']) === '')
      out.push({ text: '`provider.name` must not be empty', path: ['spec', 'provider'] });
    customUnsupported(recs(rules), out);
  } else if (s['provider'] !== undefined && s['provider'] !== null) {
    out.push({ text: `\`provider\` must not be with non CUSTOM action, found ${action}`, path: ['spec', 'provider'] });
  }
  if (action === 'DENY' && (rules === undefined || rules === null))
    out.push({ text: MEANINGLESS('DENY'), path: ['spec', 'action'] });
  arr(rules).forEach((rule, i) => {
    const at: Path = ['spec', 'rules', i];
    if (!isRec(rule)) {
      out.push({ text: `\`rule\` must not be nil, found at rule ${i}`, path: at });
      return;
    }
    if (Array.isArray(rule['from']) && rule['from'].length === 0)
      out.push({ text: `\`from\` must not be empty, found at rule ${i}`, path: [...at, 'from'] });
    recs(rule['from']).forEach((from, j) => {
      if (!isRec(from['source']))
        out.push({ text: `\`from.source\` must not be nil, found at rule ${i}`, path: [...at, 'from', j] });
      else if (Object.keys(from['source']).length === 0)
        out.push({ text: `\`from.source\` must not be empty, found at rule ${i}`, path: [...at, 'from', j, 'source'] });
    });
    if (Array.isArray(rule['to']) && rule['to'].length === 0)
      out.push({ text: `\`to\` must not be empty, found at rule ${i}`, path: [...at, 'to'] });
    recs(rule['to']).forEach((to, j) => {
      const op = to['operation'];
      if (!isRec(op)) {
        out.push({ text: `\`to.operation\` must not be nil, found at rule ${i}`, path: [...at, 'to', j] });
        return;
      }
      if (Object.keys(op).length === 0)
        out.push({
          text: `\`to.operation\` must not be empty, found at rule ${i}`,
          path: [...at, 'to', j, 'operation'],
        });
      // security.ValidatePorts: ports are strings in the API, each must be a number in 1..65535.
      for (const field of ['ports', 'notPorts'])
        strs(op[field]).forEach((p, k) => {
          if (!validPort(p))
            out.push({ text: `invalid port: ${JSON.stringify(p)}`, path: [...at, 'to', j, 'operation', field, k] });
        });
    });
    recs(rule['when']).forEach((cond, j) => {
      if (str(cond['key']) === '') out.push({ text: '`key` must not be empty', path: [...at, 'when', j] });
      else if (strs(cond['values']).length === 0 && strs(cond['notValues']).length === 0)
        out.push({
          text: `at least one of \`values\` or \`notValues\` must be set for key ${str(cond['key'])}`,
          path: [...at, 'when', j],
        });
    });
  });
  return out;
}

const CUSTOM_UNSUPPORTED_SOURCES: Array<[string, string]> = [
  ['namespaces', 'From.Namespaces'],
  ['notNamespaces', 'From.NotNamespaces'],
  ['principals', 'From.Principals'],
  ['notPrincipals', 'From.NotPrincipals'],
  ['requestPrincipals', 'From.RequestPrincipals'],
  ['notRequestPrincipals', 'From.NotRequestPrincipals'],
];

/** The sources and conditions ValidateAuthorizationPolicy says CUSTOM does not support yet. */
function customUnsupported(rules: Rec[], out: RuleProblem[]): void {
  const unsupported = (name: string, path: Path) =>
    out.push({ text: `${name} is currently not supported with CUSTOM action`, path });
  rules.forEach((rule, i) => {
    recs(rule['from']).forEach((from, j) => {
      const src = rec(from['source']);
      for (const [field, name] of CUSTOM_UNSUPPORTED_SOURCES)
        if (strs(src[field]).length > 0) unsupported(name, ['spec', 'rules', i, 'from', j, 'source', field]);
    });
    recs(rule['when']).forEach((cond, j) => {
      const key = str(cond['key']);
      if (['source.namespace', 'source.principal'].includes(key) || key.startsWith('request.auth.'))
        unsupported(key, ['spec', 'rules', i, 'when', j, 'key']);
    });
  });
}

/** After ValidatePeerAuthentication. */
function peerAuthentication(s: Rec): RuleProblem[] {
  const out: RuleProblem[] = [];
  const ports = rec(s['portLevelMtls']);
  const selector = Object.keys(rec(rec(s['selector'])['matchLabels'])).length > 0;
  // The CRD's CEL rule says "portLevelMtls requires selector" for the same mistake; istiod words it so.
  if (!selector && Object.keys(ports).length > 0)
    out.push({
      text: 'mesh/namespace peer authentication cannot have port level mTLS',
      path: ['spec', 'portLevelMtls'],
    });
  // An empty portLevelMtls (istiod: "port level mTLS, if defined, must have at least one element") is the CRD's
  // minProperties: 1, reported from the schema.
  for (const port of Object.keys(ports))
    if (!validPort(port)) out.push({ text: 'port must be in range 1..65535', path: ['spec', 'portLevelMtls', port] });
  return out;
}

const SERVER_PROTOCOLS = ['HTTP', 'HTTPS', 'GRPC', 'GRPC-WEB', 'HTTP2', 'MONGO', 'REDIS', 'MYSQL', 'TCP', 'TLS'];

/** After ValidateGateway, validateServer, validateServerPort and validateTLSOptions. */
function gateway(s: Rec): RuleProblem[] {
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

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const isIp = (a: string): boolean => IPV4.test(a) || (a.includes(':') && /^[0-9a-fA-F:.]+$/.test(a));

/** After ValidateServiceEntry (the parts the CRD's CEL rules do not cover). */
function serviceEntry(s: Rec): RuleProblem[] {
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
