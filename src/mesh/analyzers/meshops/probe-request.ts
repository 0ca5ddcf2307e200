// Whether an AuthorizationPolicy rule can match the kubelet's HTTP probe when the sidecar does not rewrite
// it: a plaintext GET from the node, with no peer identity (principal, namespace) and no request identity
// (JWT). For DENY the question is "surely matches" and for ALLOW "may match", so that meshops reports a
// blocked probe only when it is sure: a rule that depends on something unknown here (source IP, headers,
// hosts) counts as matching an ALLOW and not matching a DENY.
import { isRec, rec, recs, str, strs } from '../util/fields.ts';
import type { Rec } from '../util/fields.ts';

export interface ProbeRequest {
  port: number;
  path: string;
}

/** Source fields a request without any identity can never satisfy. */
const IDENTITY_SOURCE = ['principals', 'requestPrincipals', 'namespaces'];
const IDENTITY_KEYS = /^(source\.principal|source\.namespace|request\.auth\.)/;

/** Istio's path and host patterns: exact, `prefix*`, `*suffix`, or `*`. */
export function patternMatches(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  return pattern === value;
}

function operationMatches(op: Rec, req: ProbeRequest, sure: boolean): boolean {
  const ports = strs(op['ports']);
  if (ports.length && !ports.includes(String(req.port))) return false;
  if (strs(op['notPorts']).includes(String(req.port))) return false;
  const paths = strs(op['paths']);
  if (paths.length && !paths.some((p) => patternMatches(p, req.path))) return false;
  if (strs(op['notPaths']).some((p) => patternMatches(p, req.path))) return false;
  const methods = strs(op['methods']);
  if (methods.length && !methods.includes('GET')) return false;
  if (strs(op['notMethods']).includes('GET')) return false;
  // Hosts: the probe's Host header is the pod IP and port; unknown to a pattern here.
  if (sure && (strs(op['hosts']).length > 0 || strs(op['notHosts']).length > 0)) return false;
  return true;
}

function sourceMatches(source: Rec, sure: boolean): boolean {
  if (IDENTITY_SOURCE.some((f) => strs(source[f]).length > 0)) return false;
  // IP blocks: the node's address is not known here.
  return !(sure && Object.keys(source).length > 0);
}

function conditionMatches(when: Rec, sure: boolean): boolean {
  const key = str(when['key']);
  if (IDENTITY_KEYS.test(key) && strs(when['values']).length > 0) return false;
  return !sure;
}

/** Whether a rule matches the probe: surely (sure = true, for DENY) or possibly (for ALLOW). */
export function ruleMatchesProbe(rule: Rec, req: ProbeRequest, sure: boolean): boolean {
  const from = recs(rule['from']);
  if (from.length && !from.some((f) => sourceMatches(rec(f['source']), sure))) return false;
  const to = recs(rule['to']);
  if (to.length && !to.some((t) => operationMatches(rec(t['operation']), req, sure))) return false;
  return recs(rule['when']).every((w) => conditionMatches(w, sure));
}

/** The rules of a policy; a policy without rules (`spec: {}`) has none, and so an ALLOW one allows nothing. */
export function policyRules(spec: Rec): Rec[] {
  return Array.isArray(spec['rules']) ? spec['rules'].filter(isRec) : [];
}
