// Pods found together (`describe app=reviews`) do not always get the same configuration: they fall into
// different DestinationRule subsets, different routes reach them, a workload-level PeerAuthentication or
// AuthorizationPolicy selects some and not others. Each pod is described, the pods are grouped by what
// applies to them, and each other group is told apart from the pod described in full by what differs.
import type { AuthorizationView } from './authorization.ts';
import type { DestinationRuleSummary } from './destination-rules.ts';
import type { ObjectRef } from './object-ref.ts';
import type { EffectivePeerAuthentication } from './peer-authentication.ts';
import type { RouteSummary, VirtualServiceSummary } from './virtual-services.ts';

/** What of a PodDescription (workload.ts) tells configurations apart. */
export interface DescribedPod {
  pod: ObjectRef;
  services: readonly { service: ObjectRef }[];
  destinationRules: readonly DestinationRuleSummary[];
  virtualServices: readonly VirtualServiceSummary[];
  gatewayVirtualServices: readonly VirtualServiceSummary[];
  peerAuthentication: EffectivePeerAuthentication;
  authorization: AuthorizationView;
  sidecar: { injection: { hasSidecar: boolean }; version?: { tag?: string }; scope: { text: string } };
}

export interface PodDifference {
  /** What differs: "subsets of DestinationRule bookinfo/reviews", "mTLS", "VirtualService bookinfo/reviews". */
  facet: string;
  /** For these pods. */
  value: string;
  /** For the pod described in full. */
  described: string;
}

export interface PodVariant {
  pods: ObjectRef[];
  differences: PodDifference[];
}

export interface PodGrouping {
  /** Pods that get exactly the described pod's configuration (itself first). */
  same: ObjectRef[];
  /** The other pods, one entry per configuration, in pod-name order of their first pod. */
  variants: PodVariant[];
}

const NOT_LISTED = 'does not apply';

function routeName(r: RouteSummary): string {
  return r.name ? `${r.kind.toUpperCase()} route ${r.name}` : `${r.kind.toUpperCase()} route #${r.index + 1}`;
}

function vsValue(vs: VirtualServiceSummary): string {
  const reaching = vs.routes.filter((r) => r.reachesPod).map(routeName);
  return reaching.length ? `reached by ${reaching.join(', ')}` : 'no route reaches it';
}

/** What applies to one pod, facet by facet, as words (equal words: equal configuration). */
export function podFacets(d: DescribedPod): Map<string, string> {
  const f = new Map<string, string>();
  f.set('Services', d.services.map((s) => s.service.name).join(', ') || 'none');
  for (const dr of d.destinationRules) {
    if (dr.matchingSubsets.length + dr.nonMatchingSubsets.length === 0) continue;
    f.set(
      `subsets of DestinationRule ${dr.ref.namespace}/${dr.ref.name}`,
      dr.matchingSubsets.map((s) => `\`${s}\``).join(', ') || 'none',
    );
  }
  for (const vs of d.virtualServices) f.set(`VirtualService ${vs.ref.namespace}/${vs.ref.name}`, vsValue(vs));
  for (const vs of d.gatewayVirtualServices)
    f.set(`VirtualService ${vs.ref.namespace}/${vs.ref.name} (at gateways)`, vsValue(vs));
  const pa = d.peerAuthentication;
  f.set(
    'mTLS',
    (pa.ports.length ? pa.ports : [{ port: 0, mode: pa.workloadMode, decidedBy: pa.decidedBy }])
      .map((p) => `${p.port ? `port ${p.port} ` : ''}${p.mode} (${p.decidedBy.text})`)
      .join('; '),
  );
  const az = Object.entries(d.authorization.byAction)
    .flatMap(([action, ps]) => ps.map((p) => `${action} ${p.policy.namespace}/${p.policy.name}`))
    .sort();
  f.set('AuthorizationPolicies', az.join(', ') || 'none');
  f.set(
    'sidecar',
    d.sidecar.injection.hasSidecar ? `sidecar ${d.sidecar.version?.tag ?? '(version unknown)'}` : 'no sidecar',
  );
  f.set('Sidecar scope', d.sidecar.scope.text);
  return f;
}

function differences(described: Map<string, string>, other: Map<string, string>): PodDifference[] {
  const out: PodDifference[] = [];
  for (const facet of new Set([...described.keys(), ...other.keys()])) {
    const a = described.get(facet) ?? NOT_LISTED;
    const b = other.get(facet) ?? NOT_LISTED;
    if (a !== b) out.push({ facet, value: b, described: a });
  }
  return out;
}

/** Groups `all` (the described pod among them) by configuration; the described pod's group is `same`. */
export function groupPods(described: DescribedPod, all: readonly DescribedPod[]): PodGrouping {
  const mine = podFacets(described);
  const key = (m: Map<string, string>) => JSON.stringify([...m].sort(([a], [b]) => a.localeCompare(b)));
  const mineKey = key(mine);
  const groups = new Map<string, { facets: Map<string, string>; pods: ObjectRef[] }>();
  const same: ObjectRef[] = [described.pod];
  for (const d of all) {
    if (d.pod.name === described.pod.name && d.pod.namespace === described.pod.namespace) continue;
    const facets = podFacets(d);
    const k = key(facets);
    if (k === mineKey) {
      same.push(d.pod);
      continue;
    }
    const g = groups.get(k) ?? { facets, pods: [] };
    g.pods.push(d.pod);
    groups.set(k, g);
  }
  return {
    same,
    variants: [...groups.values()].map((g) => ({ pods: g.pods, differences: differences(mine, g.facets) })),
  };
}
