// schema.ValidationAnalyzer.VirtualService: the checks istiod's validation applies to a VirtualService
// that matter most when YAML is written by hand: structural errors (IST0106, a conservative subset of
// Istio's validation) and route order (IST0130/IST0131): a rule after a match-all rule, a rule whose
// matches all repeat earlier ones, and a match shadowed by an earlier one never receive traffic.
import { isRec, num, rec, recs, spec, str } from '../util/fields.ts';
import type { Rec } from '../util/fields.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { gvk } from '../util/kinds.ts';

export const virtualServiceValidationAnalyzer: Analyzer = {
  name: 'schema.ValidationAnalyzer.VirtualService',
  description: 'Checks VirtualServices for structural errors and for rules and matches that can never be used',
  inputs: [gvk.VirtualService],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    // VirtualServices other VirtualServices delegate to have no hosts by design.
    const delegates = new Set<string>();
    for (const vs of snapshot.listOf(gvk.VirtualService)) {
      for (const h of recs(spec(vs)['http'])) {
        const d = rec(h['delegate']);
        if (str(d['name'])) delegates.add(`${str(d['namespace']) || (vs.metadata.namespace ?? '')}/${str(d['name'])}`);
      }
    }
    for (const vs of snapshot.listOf(gvk.VirtualService)) {
      const s = spec(vs);
      for (const problem of structuralProblems(
        s,
        delegates.has(`${vs.metadata.namespace ?? ''}/${vs.metadata.name}`),
      )) {
        out.push(message('SchemaValidationError', vs, [problem.text], problem.path));
      }
      const unreachable = (rule: string, reason: string) =>
        out.push(message('VirtualServiceUnreachableRule', vs, [rule, reason]));
      const ineffective = (rule: string, match: string, dup: string) =>
        out.push(message('VirtualServiceIneffectiveMatch', vs, [rule, match, dup]));
      analyzeRoutes(recs(s['http']), true, unreachable, ineffective);
      analyzeRoutes(recs(s['tcp']), false, unreachable, ineffective);
      analyzeRoutes(recs(s['tls']), false, unreachable, ineffective);
    }
    return out;
  },
};

interface PrefixMatch {
  rule: string;
  match: string;
  prefix: string;
  port: number;
  method: string;
  authority: string;
  headers: Map<string, string>;
  queryParams: Map<string, string>;
  withoutHeaders: Map<string, string>;
}

function analyzeRoutes(
  routes: Rec[],
  http: boolean,
  unreachable: (rule: string, reason: string) => void,
  ineffective: (rule: string, match: string, dup: string) => void,
): void {
  const seen = new Map<string, number>();
  let emptyMatchAt = -1;
  const prefixes: PrefixMatch[] = [];
  routes.forEach((route, i) => {
    const matches = recs(route['match']);
    const rule = ruleName(route, i, http);
    if (matches.length === 0) {
      if (emptyMatchAt >= 0) unreachable(rule, 'only the last rule can have no matches');
      emptyMatchAt = i;
      return;
    }
    let duplicates = 0;
    matches.forEach((m, j) => {
      if (emptyMatchAt >= 0) {
        unreachable(rule, 'route without matches defined before');
        return;
      }
      const key = canonical(http ? withoutName(m) : m);
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        ineffective(rule, matchName(m, j, http), ruleName(routes[earlier] ?? {}, earlier, http));
        duplicates++;
        return;
      }
      seen.set(key, i);
      if (http) {
        const p = prefixMatch(m, rule, matchName(m, j, http));
        if (p) prefixes.push(p);
      }
    });
    if (duplicates === matches.length) unreachable(rule, 'all matches used by prior rules');
  });
  // A shorter prefix earlier, with the same other conditions, shadows a longer one later.
  for (let a = 0; a < prefixes.length; a++) {
    for (let b = a + 1; b < prefixes.length; b++) {
      const earlier = prefixes[a]!;
      const later = prefixes[b]!;
      if (later.prefix === earlier.prefix) continue;
      if (covers(earlier, later))
        ineffective(
          later.rule,
          `${later.match} of prefix ${later.prefix}`,
          `${earlier.match} of prefix ${earlier.prefix} on ${earlier.rule}`,
        );
    }
  }
}

function ruleName(route: Rec, i: number, http: boolean): string {
  const name = str(route['name']);
  return http && name ? JSON.stringify(name) : `#${i}`;
}

function matchName(m: Rec, j: number, http: boolean): string {
  const name = str(m['name']);
  return http && name ? JSON.stringify(name) : `#${j}`;
}

function withoutName(m: Rec): Rec {
  const { name: _name, ...rest } = m;
  return rest;
}

/** JSON with sorted keys, so equal matches compare equal whatever their field order in YAML. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isRec(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

function exactOrPrefix(sm: unknown): string {
  const r = rec(sm);
  if (str(r['exact'])) return `exact:${str(r['exact'])}`;
  if (str(r['prefix'])) return `prefix:${str(r['prefix'])}`;
  return '';
}

function stringMatches(v: unknown): Map<string, string> {
  return new Map(Object.entries(rec(v)).map(([k, sm]) => [k, exactOrPrefix(sm)]));
}

function prefixMatch(m: Rec, rule: string, match: string): PrefixMatch | undefined {
  const prefix = str(rec(m['uri'])['prefix']);
  if (prefix === '') return undefined;
  return {
    rule,
    match,
    prefix,
    port: num(m['port']) ?? 0,
    // Without a method condition Istio compares as if GET.
    method: exactOrPrefix(m['method']) || 'exact:GET',
    authority: exactOrPrefix(m['authority']),
    headers: stringMatches(m['headers']),
    queryParams: stringMatches(m['queryParams']),
    withoutHeaders: stringMatches(m['withoutHeaders']),
  };
}

function covers(a: PrefixMatch, b: PrefixMatch): boolean {
  if (!b.prefix.startsWith(a.prefix)) return false;
  if (a.port !== b.port) return false;
  if (a.method !== b.method && !a.method.startsWith(b.method)) return false;
  if (a.authority !== b.authority && !a.authority.startsWith(b.authority)) return false;
  return (
    mapCovers(a.headers, b.headers) &&
    mapCovers(a.queryParams, b.queryParams) &&
    mapCovers(a.withoutHeaders, b.withoutHeaders)
  );
}

function mapCovers(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const other = b.get(k);
    if (other === undefined) return false;
    if (v !== other && !v.startsWith(other)) return false;
  }
  return true;
}

interface Problem {
  text: string;
  path: (string | number)[];
}

/** Errors istiod's validation would reject the VirtualService for (a conservative subset). */
function structuralProblems(s: Rec, isDelegate: boolean): Problem[] {
  const problems: Problem[] = [];
  const hosts = Array.isArray(s['hosts']) ? s['hosts'] : [];
  if (hosts.length === 0 && !isDelegate)
    problems.push({ text: 'virtual service must have at least one host', path: ['spec'] });
  const http = recs(s['http']);
  const tcp = recs(s['tcp']);
  const tls = recs(s['tls']);
  if (http.length === 0 && tcp.length === 0 && tls.length === 0)
    problems.push({ text: 'http, tcp or tls must be provided in virtual service', path: ['spec'] });
  http.forEach((h, i) => {
    const routes = recs(h['route']);
    if (routes.length === 0 && !isRec(h['redirect']) && !isRec(h['directResponse']) && !isRec(h['delegate'])) {
      problems.push({
        text: 'HTTP route, redirect, direct_response or delegate is required',
        path: ['spec', 'http', i],
      });
    }
    checkDestinations(routes, ['spec', 'http', i, 'route'], problems);
  });
  tcp.forEach((t, i) => {
    const routes = recs(t['route']);
    if (routes.length === 0) problems.push({ text: 'TCP route is required', path: ['spec', 'tcp', i] });
    checkDestinations(routes, ['spec', 'tcp', i, 'route'], problems);
  });
  tls.forEach((t, i) => {
    if (recs(t['match']).length === 0)
      problems.push({ text: 'TLS route must have at least one match condition', path: ['spec', 'tls', i] });
    const routes = recs(t['route']);
    if (routes.length === 0) problems.push({ text: 'TLS route is required', path: ['spec', 'tls', i] });
    checkDestinations(routes, ['spec', 'tls', i, 'route'], problems);
  });
  return problems;
}

function checkDestinations(routes: Rec[], path: (string | number)[], problems: Problem[]): void {
  routes.forEach((r, j) => {
    const dest = r['destination'];
    if (!isRec(dest)) problems.push({ text: 'destination is required', path: [...path, j] });
    else if (str(dest['host']) === '')
      problems.push({ text: 'destination.host is required', path: [...path, j, 'destination'] });
    const weight = num(r['weight']);
    if (typeof r['weight'] === 'number' && r['weight'] < 0)
      problems.push({ text: `weight ${r['weight']} < 0`, path: [...path, j, 'weight'] });
    else if (r['weight'] !== undefined && weight === undefined)
      problems.push({
        text: `weight must be an integer: ${JSON.stringify(r['weight'])}`,
        path: [...path, j, 'weight'],
      });
  });
}
