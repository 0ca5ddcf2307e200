// meshops.AuthzCoverageAnalyzer (MSH0007): a workload that no ALLOW AuthorizationPolicy selects, in a namespace
// whose own ALLOW policies lock other workloads down. Istio's semantics (istio.io concepts/security "Implicit
// enablement" and reference/config/security/authorization-policy): once an ALLOW policy applies to a workload,
// requests that none of them matches are denied; a workload no ALLOW policy applies to allows every request no
// DENY or CUSTOM policy refuses. Follows Kiali's KIA1301 "This workload is not covered by any authorization
// policy" (kiali/kiali business/checkers/workloads/uncovered_workload_checker.go, Warning), narrowed: Kiali
// counts a policy of any action and flags every uncovered workload, even where no policy exists; here only
// enforced ALLOW policies cover, and only a namespace with an ALLOW policy of its own that restricts one of its
// workloads (the operator locked something down there) has its other workloads reported. The root namespace is
// not judged: its policies are the mesh's, and one with a selector picks workloads anywhere, not its own gateways.
// Selection is istiod's (pilot/pkg/model/authorization.go ListAuthorizationPolicies, policyattachment.go
// ShouldAttachPolicy): the root namespace's policies and the workload's namespace's; no selector selects all,
// matchLabels a subset of the pod's labels; a policy with targetRef(s) is never attached to a sidecar by
// selection. An ALLOW policy without rules (`spec: {}`, allow-nothing; builder testdata allow-none) denies
// everything and covers; `istio.io/dry-run: "true"` policies are not enforced and neither cover nor lock down;
// an ALLOW with an empty rule (`rules: [{}]`) covers but locks nothing down; a DENY with an empty rule applying to
// the workload refuses everything, so that workload is not open. Only pods something enforces policies for are
// judged: a sidecar (istio-proxy) or ambient capture (ztunnel); pods without a proxy are skipped as in the other
// meshops analyzers (Istio's injection.Analyzer reports missing proxies), and so are Gateway API gateway and
// waypoint pods (label gateway.networking.k8s.io/gateway-name), whose policies attach by targetRef.
import type { KubeObject } from '../../../kube/objects.ts';
import { matchesLabels } from '../../../kube/objects.ts';
import { annotations, fullName, isRec, labels, nsOf, rec, recs, spec, str, strMap } from '../util/fields.ts';
import { gvk } from '../util/kinds.ts';
import { podInAmbient } from '../util/workloads.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { proxyContainer } from './pod-status.ts';
import { policyRules } from './probe-request.ts';

const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

export const authzCoverageAnalyzer: Analyzer = {
  name: 'meshops.AuthzCoverageAnalyzer',
  description: 'Finds workloads no ALLOW AuthorizationPolicy selects in namespaces whose ALLOW policies select others',
  inputs: [gvk.Pod, gvk.AuthorizationPolicy, gvk.MeshConfig],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    const root = snapshot.rootNamespace;
    const rootPolicies = enforcedSelecting(snapshot.listOf(gvk.AuthorizationPolicy, root));
    const byNamespace = new Map<string, KubeObject[]>();
    for (const pod of snapshot.listOf(gvk.Pod)) {
      if (!enforced(pod)) continue;
      const list = byNamespace.get(nsOf(pod));
      if (list) list.push(pod);
      else byNamespace.set(nsOf(pod), [pod]);
    }
    for (const [ns, pods] of [...byNamespace].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      // The root namespace's policies are the mesh's: one with a selector picks workloads anywhere, and locks
      // nothing of the root namespace's own (its gateways) down.
      if (ns === root) continue;
      const own = enforcedSelecting(snapshot.listOf(gvk.AuthorizationPolicy, ns));
      const applying = [...rootPolicies, ...own];
      // The namespace's own ALLOW policies that restrict (no empty rule) and select one of its workloads.
      const lockers = own.filter((ap) => action(ap) === 'ALLOW' && !allowsAll(ap) && pods.some((p) => selects(ap, p)));
      if (lockers.length === 0) continue;
      const reported = new Set<string>();
      for (const pod of [...pods].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))) {
        const policies = applying.filter((ap) => selects(ap, pod));
        if (policies.some((ap) => action(ap) === 'ALLOW')) continue;
        if (policies.some((ap) => action(ap) === 'DENY' && policyRules(spec(ap)).some(isEmptyRule))) continue;
        const workload = workloadOf(pod);
        if (reported.has(workload)) continue;
        reported.add(workload);
        const names = lockers.map(fullName).sort().join(', ');
        out.push(
          message(
            'WorkloadNotCoveredByAllowPolicy',
            pod,
            [workload, ns, `AuthorizationPolicy ${names}`],
            ['metadata', 'labels'],
          ),
        );
      }
    }
    return out;
  },
};

/** A pod whose traffic a proxy authorizes: a sidecar, or ztunnel (ambient); not a finished pod, not a Gateway API one. */
function enforced(pod: KubeObject): boolean {
  const phase = str(rec(pod['status'])['phase']);
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  if (GATEWAY_NAME_LABEL in labels(pod)) return false;
  return proxyContainer(pod) !== undefined || podInAmbient(pod);
}

/** Policies a sidecar can be selected by: no targetRef(s), not in dry-run. */
function enforcedSelecting(policies: readonly KubeObject[]): KubeObject[] {
  return policies.filter((ap) => {
    const s = spec(ap);
    if (isRec(s['targetRef']) || recs(s['targetRefs']).length > 0) return false;
    return annotations(ap)['istio.io/dry-run'] !== 'true';
  });
}

function action(ap: KubeObject): string {
  return str(spec(ap)['action']) || 'ALLOW';
}

function selects(ap: KubeObject, pod: KubeObject): boolean {
  const selector = spec(ap)['selector'];
  return !isRec(selector) || matchesLabels(strMap(selector['matchLabels']), labels(pod));
}

function isEmptyRule(rule: Record<string, unknown>): boolean {
  return recs(rule['from']).length === 0 && recs(rule['to']).length === 0 && recs(rule['when']).length === 0;
}

function allowsAll(ap: KubeObject): boolean {
  return policyRules(spec(ap)).some(isEmptyRule);
}

/**
 * The workload a pod belongs to, as `<Kind> <namespace>/<name>`: its controller, with a ReplicaSet named
 * `<deployment>-<pod-template-hash>` taken as that Deployment; a pod without owner is its own workload.
 */
function workloadOf(pod: KubeObject): string {
  const refs = pod.metadata.ownerReferences ?? [];
  const owner = refs.find((r) => r.controller) ?? refs[0];
  if (!owner) return `Pod ${fullName(pod)}`;
  if (owner.kind === 'ReplicaSet') {
    const hash = labels(pod)['pod-template-hash'];
    const suffix = hash ? `-${hash}` : undefined;
    if (suffix && owner.name.endsWith(suffix)) return `Deployment ${nsOf(pod)}/${owner.name.slice(0, -suffix.length)}`;
  }
  return `${owner.kind} ${nsOf(pod)}/${owner.name}`;
}
