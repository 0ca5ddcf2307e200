// istiod's stricter rules for the security.istio.io kinds: AuthorizationPolicy, PeerAuthentication,
// RequestAuthentication.
import { arr, isRec, rec, recs, str, strs } from '../../util/fields.ts';
import type { Rec } from '../../util/fields.ts';
import { type Path, type RuleProblem, durationError, selectorWarning, validPort } from './common.ts';

const MEANINGLESS = (action: string) =>
  `${action} action without \`rules\` is meaningless as it will never be triggered, add an empty rule \`{}\` if you want it be triggered for every request`;

/** After ValidateAuthorizationPolicy (pkg/config/validation/validation.go). */
export function authorizationPolicy(s: Rec): RuleProblem[] {
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
export function peerAuthentication(s: Rec): RuleProblem[] {
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

/**
 * After ValidateRequestAuthentication and validateJwtRule. The CRD already refuses an empty issuer, audience,
 * header, param or cookie name, a jwksUri that is not http(s), both jwks and jwksUri, a bad outputClaimToHeaders
 * header and a timeout under 1ms; targetRef kinds are not checked here (the kinds istiod allows vary by version).
 */
export function requestAuthentication(s: Rec): RuleProblem[] {
  const out = selectorWarning(s);
  recs(s['jwtRules']).forEach((rule, i) => {
    const at: Path = ['spec', 'jwtRules', i];
    if (rule['issuer'] === undefined || rule['issuer'] === null) out.push({ text: 'issuer must be set', path: at });
    const jwks = rule['jwks'];
    if (typeof jwks === 'string' && jwks !== '') {
      const why = jwksError(jwks);
      if (why) out.push({ text: `jwks parse error: ${why}`, path: [...at, 'jwks'] });
    }
    const timeout = rule['timeout'];
    const late = typeof timeout === 'string' ? durationError(timeout, false) : undefined;
    if (late) out.push({ text: late, path: [...at, 'timeout'] });
  });
  return out;
}

/**
 * Why jwk.Parse (lestrrat-go/jwx) would refuse inline JWKS: not JSON, or neither a key set (`keys`) nor a single
 * key (`kty`). The reason after istiod's "jwks parse error: " prefix is ours, not the library's.
 */
function jwksError(text: string): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return 'not valid JSON';
  }
  if (!isRec(doc)) return 'not a JSON object';
  if (doc['keys'] === undefined) return typeof doc['kty'] === 'string' ? undefined : 'missing "kty" (or "keys")';
  if (!Array.isArray(doc['keys'])) return '"keys" is not an array';
  const bad = doc['keys'].findIndex((k) => !isRec(k) || typeof k['kty'] !== 'string');
  return bad < 0 ? undefined : `key ${bad} has no "kty"`;
}
