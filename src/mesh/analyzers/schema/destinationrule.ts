// schema.ValidationAnalyzer.DestinationRule: the checks istiod's validation (pkg/config/validation,
// ValidateDestinationRule) applies to a DestinationRule's traffic policies, a conservative subset that
// catches what the admission webhook would have refused when an object reached the cluster without it
// (webhook off, failurePolicy Ignore, another revision's webhook): load balancer settings (a Maglev table
// size Envoy refuses because it is not prime, a consistent-hash cookie without a name), empty traffic or
// port policies, out-of-range percentages, negative connection-pool limits, duplicate subset names and a
// workload-selected rule exported beyond its namespace. Errors are IST0106, warnings IST0133, as Istio's.
import { isRec, num, rec, recs, spec, str, strs } from '../util/fields.ts';
import type { Rec } from '../util/fields.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { gvk } from '../util/kinds.ts';
import { connectionPoolProblems } from './rules/common.ts';

type Path = (string | number)[];
interface Problem {
  text: string;
  path: Path;
  warning?: boolean;
}

export const destinationRuleValidationAnalyzer: Analyzer = {
  name: 'schema.ValidationAnalyzer.DestinationRule',
  description: 'Checks DestinationRules for traffic policies istiod validation refuses (load balancer, pools, subsets)',
  inputs: [gvk.DestinationRule],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    for (const dr of snapshot.listOf(gvk.DestinationRule)) {
      for (const p of destinationRuleProblems(spec(dr), dr.metadata.namespace ?? '')) {
        out.push(message(p.warning ? 'SchemaWarning' : 'SchemaValidationError', dr, [p.text], p.path));
      }
    }
    return out;
  },
};

/** Istio's ValidateDestinationRule, the parts listed at the top of this file. */
export function destinationRuleProblems(s: Rec, namespace: string): Problem[] {
  const problems: Problem[] = [];
  if (isRec(s['trafficPolicy'])) trafficPolicy(rec(s['trafficPolicy']), ['spec', 'trafficPolicy'], problems);
  const seen = new Set<string>();
  recs(s['subsets']).forEach((subset, i) => {
    const name = str(subset['name']);
    if (seen.has(name))
      problems.push({ text: `duplicate subset names: ${name}`, path: ['spec', 'subsets', i, 'name'] });
    seen.add(name);
    if (isRec(subset['trafficPolicy']))
      trafficPolicy(rec(subset['trafficPolicy']), ['spec', 'subsets', i, 'trafficPolicy'], problems);
  });
  const exportTo = strs(s['exportTo']).map((e) => (e === '.' ? namespace : e));
  if (isRec(s['workloadSelector']) && exportTo.length > 0) {
    if (!exportTo.includes(namespace))
      problems.push({
        text: 'destination rule with workload selector cannot have exportTo beyond current namespace',
        path: ['spec', 'exportTo'],
      });
    else if (new Set(exportTo).size > 1)
      problems.push({
        text: 'destination rule with workload selector cannot have multiple entries in exportTo',
        path: ['spec', 'exportTo'],
      });
  }
  return problems;
}

const POLICY_FIELDS = ['outlierDetection', 'connectionPool', 'loadBalancer', 'tls', 'portLevelSettings', 'tunnel'];

function trafficPolicy(tp: Rec, path: Path, problems: Problem[]): void {
  if (!POLICY_FIELDS.some((f) => tp[f] !== undefined) && tp['proxyProtocol'] === undefined) {
    problems.push({ text: 'traffic policy must have at least one field', path });
    return;
  }
  if (tp['tunnel'] !== undefined && tp['proxyProtocol'] !== undefined) {
    problems.push({ text: 'tunnel and proxyProtocol must not be set together', path });
    return;
  }
  policyFields(tp, path, problems);
  recs(tp['portLevelSettings']).forEach((pl, i) => {
    const at = [...path, 'portLevelSettings', i];
    if (!isRec(pl['port'])) problems.push({ text: 'portTrafficPolicy must have valid port', path: at });
    if (!['outlierDetection', 'connectionPool', 'loadBalancer', 'tls'].some((f) => pl[f] !== undefined))
      problems.push({ text: 'port traffic policy must have at least one field', path: at });
    else policyFields(pl, at, problems);
  });
}

function policyFields(tp: Rec, path: Path, problems: Problem[]): void {
  if (isRec(tp['outlierDetection']))
    outlierDetection(rec(tp['outlierDetection']), [...path, 'outlierDetection'], problems);
  if (isRec(tp['connectionPool']))
    connectionPoolProblems(rec(tp['connectionPool']), [...path, 'connectionPool'], problems);
  if (isRec(tp['loadBalancer'])) loadBalancer(rec(tp['loadBalancer']), [...path, 'loadBalancer'], problems);
}

function outlierDetection(od: Rec, path: Path, problems: Problem[]): void {
  if (od['consecutiveErrors'] !== undefined && num(od['consecutiveErrors']) !== 0)
    problems.push({
      text: 'outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead',
      path: [...path, 'consecutiveErrors'],
      warning: true,
    });
  if (od['splitExternalLocalOriginErrors'] !== true && (num(od['consecutiveLocalOriginFailures']) ?? 0) > 0)
    problems.push({
      text: 'outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false',
      path: [...path, 'consecutiveLocalOriginFailures'],
    });
  for (const f of ['maxEjectionPercent', 'minHealthPercent']) {
    const v = num(od[f]);
    if (v !== undefined && (v < 0 || v > 100))
      problems.push({ text: `percentage ${v} is not in range 0..100`, path: [...path, f] });
  }
}

function loadBalancer(lb: Rec, path: Path, problems: Problem[]): void {
  if (!isRec(lb['consistentHash'])) return;
  const ch = rec(lb['consistentHash']);
  const at = [...path, 'consistentHash'];
  if (isRec(ch['httpCookie']) && str(rec(ch['httpCookie'])['name']) === '')
    problems.push({ text: 'name required for HttpCookie', path: [...at, 'httpCookie'] });
  const minimumRingSize = num(ch['minimumRingSize']) ?? 0;
  if (minimumRingSize !== 0) {
    problems.push({
      text: "consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash configuration instead",
      path: [...at, 'minimumRingSize'],
      warning: true,
    });
    if (isRec(ch['maglev']) || isRec(ch['ringHash']))
      problems.push({ text: 'only one of MinimumRingSize or Maglev/Ringhash can be specified', path: at });
  }
  if (isRec(ch['maglev'])) {
    const tableSize = num(rec(ch['maglev'])['tableSize']) ?? 0;
    const where = [...at, 'maglev', 'tableSize'];
    if (tableSize === 0) problems.push({ text: 'tableSize must be set for maglev', path: where });
    if (tableSize >= 5000011) problems.push({ text: 'tableSize must be less than 5000011 for maglev', path: where });
    if (!isPrime(tableSize)) problems.push({ text: 'tableSize must be a prime number for maglev', path: where });
  }
}

/** Envoy's Primes::isPrime, which Istio's validation copies (0 is "not prime", 1 to 3 are). */
export function isPrime(x: number): boolean {
  if (x !== 0 && x < 4) return true;
  if (x % 2 === 0) return false;
  const limit = Math.floor(Math.sqrt(x));
  for (let f = 3; f <= limit; f += 2) if (x % f === 0) return false;
  return true;
}
