// Which DestinationRules concern a Service (and the pods behind it), summarized as plain data plus
// words: which subsets select the pods, and the traffic policies that apply.
import { matchesLabels } from '../kube/objects.ts';
import type { MeshSnapshot } from './snapshot.ts';
import { exportScope, hostCovers, resolveHost, serviceFqdn } from './hosts.ts';
import type { ExportScope } from './hosts.ts';
import { destinationRuleSpecSchema, parseField } from './istio-specs.ts';
import type { PortTrafficPolicy, SpecProblem, TrafficPolicy } from './istio-specs.ts';
import { refOf, refText } from './object-ref.ts';
import type { ObjectRef } from './object-ref.ts';

export type ShortPolicy = 'load balancer' | 'connection pool' | 'outlier detection';

export interface PolicySummary {
  tlsMode?: string;
  /** Present ones, in istioctl's order: load balancer, connection pool, outlier detection. */
  policies: ShortPolicy[];
  /** Each setting in words. */
  details: string[];
}

export interface PortPolicySummary extends PolicySummary {
  port: number;
}

export interface DestinationRuleSummary {
  ref: ObjectRef;
  host: string;
  hostMatch: 'exact' | 'wildcard';
  exportTo: ExportScope;
  matchingSubsets: string[];
  nonMatchingSubsets: string[];
  /** Subsets whose labels select no pod of the service at all. */
  subsetsSelectingNoPods: string[];
  trafficPolicy?: PolicySummary;
  portLevel: PortPolicySummary[];
  /** Traffic policy of the subset(s) the described pods fall into, when they have one. */
  subsetPolicies: { subset: string; policy: PolicySummary; portLevel: PortPolicySummary[] }[];
  /**
   * `workloadSelector`: the rule applies only at these callers' sidecars (workloads of its own namespace with
   * these labels), not for every caller of the host.
   */
  onlyForCallers?: { namespace: string; labels: Record<string, string> };
}

/** The subsets of a service's DestinationRule(s) that select any of the given pods' labels. */
export interface SubsetIndex {
  matching: Set<string>;
  nonMatching: Set<string>;
  /** Subsets that select no pod of the service at all: traffic sent there fails (503, no healthy upstream). */
  empty: Set<string>;
  /** A DestinationRule defines subsets for the service at all. */
  hasRule: boolean;
}

function compactJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/"([^"]+)":/g, '$1: ')
    .replace(/"/g, '');
}

function summarizePolicy(tp: TrafficPolicy | PortTrafficPolicy): PolicySummary {
  const policies: ShortPolicy[] = [];
  const details: string[] = [];
  if (tp.loadBalancer) {
    policies.push('load balancer');
    const simple = tp.loadBalancer.simple;
    details.push(`load balancer ${typeof simple === 'string' ? simple : compactJson(tp.loadBalancer)}`);
  }
  if (tp.connectionPool) {
    policies.push('connection pool');
    details.push(`connection pool ${compactJson(tp.connectionPool)}`);
  }
  if (tp.outlierDetection) {
    policies.push('outlier detection');
    details.push(`outlier detection ${compactJson(tp.outlierDetection)}`);
  }
  const tlsMode = tp.tls ? (tp.tls.mode ?? 'DISABLE') : undefined;
  if (tlsMode) details.unshift(`TLS mode ${tlsMode}`);
  return { tlsMode, policies, details };
}

function portLevelOf(tp: TrafficPolicy | undefined): PortPolicySummary[] {
  return (tp?.portLevelSettings ?? []).map((p) => ({ port: p.port?.number ?? 0, ...summarizePolicy(p) }));
}

/**
 * DestinationRules whose host covers the service, exact host first. `podLabels` are the labels of
 * the pods being described (a subset "matches" when it selects any of them); `servicePodLabels`
 * are all the service's pods, to find subsets that select nothing.
 */
export function destinationRulesForService(
  snapshot: MeshSnapshot,
  svcName: string,
  svcNamespace: string,
  podLabels: readonly Record<string, string>[],
  servicePodLabels: readonly Record<string, string>[],
  problems: SpecProblem[] = [],
): DestinationRuleSummary[] {
  const fqdn = serviceFqdn(svcName, svcNamespace);
  const out: DestinationRuleSummary[] = [];
  for (const dr of snapshot.list('DestinationRule')) {
    const spec = parseField(dr, destinationRuleSpecSchema, problems);
    if (!spec) continue;
    const ns = dr.metadata.namespace ?? '';
    const host = resolveHost(spec.host, ns);
    if (!hostCovers(host, fqdn)) continue;
    const matchingSubsets: string[] = [];
    const nonMatchingSubsets: string[] = [];
    const subsetsSelectingNoPods: string[] = [];
    const subsetPolicies: DestinationRuleSummary['subsetPolicies'] = [];
    for (const s of spec.subsets ?? []) {
      const selects = (labels: Record<string, string>) => matchesLabels(s.labels ?? {}, labels);
      if (podLabels.some(selects)) {
        matchingSubsets.push(s.name);
        if (s.trafficPolicy)
          subsetPolicies.push({
            subset: s.name,
            policy: summarizePolicy(s.trafficPolicy),
            portLevel: portLevelOf(s.trafficPolicy),
          });
      } else nonMatchingSubsets.push(s.name);
      if (!servicePodLabels.some(selects)) subsetsSelectingNoPods.push(s.name);
    }
    out.push({
      ref: refOf(dr),
      host: spec.host,
      hostMatch: host === fqdn ? 'exact' : 'wildcard',
      exportTo: exportScope(spec.exportTo, ns),
      matchingSubsets,
      nonMatchingSubsets,
      subsetsSelectingNoPods,
      trafficPolicy: spec.trafficPolicy ? summarizePolicy(spec.trafficPolicy) : undefined,
      portLevel: portLevelOf(spec.trafficPolicy),
      subsetPolicies,
      ...(Object.keys(spec.workloadSelector?.matchLabels ?? {}).length
        ? { onlyForCallers: { namespace: ns, labels: { ...spec.workloadSelector!.matchLabels } } }
        : {}),
    });
  }
  return out.sort((a, b) =>
    a.hostMatch === b.hostMatch ? refText(a.ref).localeCompare(refText(b.ref)) : a.hostMatch === 'exact' ? -1 : 1,
  );
}

export function subsetIndexOf(rules: readonly DestinationRuleSummary[]): SubsetIndex {
  const matching = new Set<string>();
  const nonMatching = new Set<string>();
  const empty = new Set<string>();
  for (const r of rules) {
    r.matchingSubsets.forEach((s) => matching.add(s));
    r.nonMatchingSubsets.forEach((s) => nonMatching.add(s));
    r.subsetsSelectingNoPods.forEach((s) => empty.add(s));
  }
  return {
    matching,
    nonMatching,
    empty,
    hasRule: rules.some((r) => r.matchingSubsets.length + r.nonMatchingSubsets.length > 0),
  };
}
