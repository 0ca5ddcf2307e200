// Follows istio/istio pkg/config/analysis/analyzers/authz/authorizationpolicies.go:
// AuthorizationPoliciesAnalyzer.Analyze, analyzeNoMatchingWorkloads, analyzeNamespaceNotFound, namespaceMatch,
// initPodLabelsMap; and analyzers/util/common.go: PodInMesh, PodInAmbientMode.
//
// auth.AuthorizationPoliciesAnalyzer: a policy should apply to some mesh workload (a pod with a proxy, or asking for
// injection by label/annotation/namespace, or captured by ztunnel), and the namespaces its rules name should exist.
// In the root namespace (mesh config `rootNamespace`) a policy without selector is mesh-wide and always fine, one
// with a selector must match a mesh pod in any namespace; elsewhere a policy without selector needs a mesh pod in its
// namespace and one with a selector a matching mesh pod there (IST0127, with the selector). Every
// `from.source.namespaces` and `notNamespaces` entry (`*`, `prefix*`, `*suffix` or a name, case-insensitive) must
// match a Namespace (IST0101 at that entry).
import type { KubeObject } from '../../../kube/objects.ts';
import { matchesLabels } from '../../../kube/objects.ts';
import type { SnapshotReader } from '../../snapshot.ts';
import { isRec, labels, memo, nsOf, rec, recs, spec, strMap, strs } from '../util/fields.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { podInAmbient, podInMesh, selectorString } from '../util/workloads.ts';
import { gvk } from '../util/kinds.ts';

export const authorizationPoliciesAnalyzer: Analyzer = {
  name: 'auth.AuthorizationPoliciesAnalyzer',
  description: 'Checks the validity of authorization policies',
  inputs: [gvk.AuthorizationPolicy, gvk.Namespace, gvk.Pod, gvk.MeshConfig],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    const meshPods = meshPodLabelsByNamespace(snapshot);
    const rootNs = snapshot.rootNamespace;
    const namespaces = snapshot.listOf(gvk.Namespace).map((n) => n.metadata.name);
    const lowerNames = new Set(namespaces.map((n) => n.toLowerCase()));
    // Exact names are a set lookup; only patterns (`*`, `prefix*`, `*suffix`) scan the namespaces.
    const exists = (pattern: string) =>
      pattern.includes('*')
        ? namespaces.some((n) => namespaceMatch(n, pattern))
        : lowerNames.has(pattern.toLowerCase());
    for (const ap of snapshot.listOf(gvk.AuthorizationPolicy)) {
      noMatchingWorkloads(ap, meshPods, rootNs, out);
      recs(spec(ap)['rules']).forEach((rule, i) =>
        recs(rule['from']).forEach((from, j) => {
          const source = rec(from['source']);
          for (const [field, list] of [
            ['namespaces', strs(source['namespaces'])],
            ['notNamespaces', strs(source['notNamespaces'])],
          ] as const) {
            list.forEach((ns, k) => {
              if (!exists(ns)) {
                out.push(
                  message(
                    'ReferencedResourceNotFound',
                    ap,
                    ['namespace', ns],
                    ['spec', 'rules', i, 'from', j, 'source', field, k],
                  ),
                );
              }
            });
          }
        }),
      );
    }
    return out;
  },
};

function noMatchingWorkloads(
  ap: KubeObject,
  meshPods: Map<string, Record<string, string>[]>,
  rootNs: string,
  out: AnalysisMessage[],
): void {
  const ns = nsOf(ap);
  const sel = spec(ap)['selector'];
  const selector = isRec(sel) ? strMap(sel['matchLabels']) : undefined;
  if (ns === rootNs) {
    // Mesh-wide: a selector must match a mesh pod anywhere.
    if (selector && ![...meshPods.values()].some((pods) => pods.some((l) => matchesLabels(selector, l)))) {
      out.push(message('NoMatchingWorkloadsFound', ap, [selectorString(selector)]));
    }
    return;
  }
  const pods = meshPods.get(ns) ?? [];
  if (!selector) {
    if (pods.length === 0) out.push(message('NoMatchingWorkloadsFound', ap, ['']));
    return;
  }
  if (!pods.some((l) => matchesLabels(selector, l)))
    out.push(message('NoMatchingWorkloadsFound', ap, [selectorString(selector)]));
}

function meshPodLabelsByNamespace(snapshot: SnapshotReader): Map<string, Record<string, string>[]> {
  return memo(snapshot, 'auth.meshPods', () => {
    const byNs = new Map<string, Record<string, string>[]>();
    for (const pod of snapshot.listOf(gvk.Pod)) {
      if (!podInMesh(snapshot, pod) && !podInAmbient(pod)) continue;
      const list = byNs.get(nsOf(pod));
      if (list) list.push(labels(pod));
      else byNs.set(nsOf(pod), [labels(pod)]);
    }
    return byNs;
  });
}

/** Istio's namespace patterns: `*`, `*suffix`, `prefix*`, or an exact (case-insensitive) name. */
export function namespaceMatch(ns: string, pattern: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*')) return ns.endsWith(pattern.slice(1));
  if (pattern.endsWith('*')) return ns.startsWith(pattern.slice(0, -1));
  return ns.toLowerCase() === pattern.toLowerCase();
}
