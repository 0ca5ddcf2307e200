// meshops.ProbeAuthorizationAnalyzer (MSH0003): with sidecar.istio.io/rewriteAppHTTPProbers: "false", the
// kubelet's HTTP probes are no longer sent to the sidecar agent but straight to the app's port through the
// proxy, plaintext and without a mesh identity, so AuthorizationPolicies judge them like any other request:
// a DENY that matches, or ALLOW policies none of which admits an identity-less GET, fail the probe.
import type { KubeObject } from '../../../kube/objects.ts';
import { matchesLabels } from '../../../kube/objects.ts';
import type { SnapshotReader } from '../../snapshot.ts';
import { annotations, fullName, isRec, labels, nsOf, num, rec, recs, spec, str, strMap } from '../util/fields.ts';
import type { Rec } from '../util/fields.ts';
import { gvk } from '../util/kinds.ts';
import { PROXY_CONTAINER } from '../util/workloads.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { policyRules, type ProbeRequest, ruleMatchesProbe } from './probe-request.ts';
import { proxyContainer } from './pod-status.ts';

const REWRITE = 'sidecar.istio.io/rewriteAppHTTPProbers';
const PROBES = [
  ['livenessProbe', 'liveness'],
  ['readinessProbe', 'readiness'],
  ['startupProbe', 'startup'],
] as const;

export const probeAuthorizationAnalyzer: Analyzer = {
  name: 'meshops.ProbeAuthorizationAnalyzer',
  description: 'Finds HTTP probes that reach the application unrewritten and are refused by an AuthorizationPolicy',
  inputs: [gvk.Pod, gvk.AuthorizationPolicy, gvk.MeshConfig],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    for (const pod of snapshot.listOf(gvk.Pod)) {
      if (!proxyContainer(pod) || annotations(pod)[REWRITE] !== 'false') continue;
      const policies = applying(snapshot, pod);
      if (policies.length === 0) continue;
      recs(spec(pod)['containers']).forEach((c, i) => {
        if (str(c['name']) === PROXY_CONTAINER) return;
        for (const [field, probe] of PROBES) {
          const http = rec(rec(c[field])['httpGet']);
          const port = resolvePort(http['port'], c);
          if (!isRec(c[field]) || Object.keys(http).length === 0 || port === undefined) continue;
          const verdict = judge(policies, { port, path: str(http['path']) || '/' });
          if (!verdict) continue;
          out.push(
            message(
              'ProbeBlockedByAuthorizationPolicy',
              pod,
              [probe, str(c['name']), String(port), verdict],
              ['spec', 'containers', i, field],
            ),
          );
        }
      });
    }
    return out;
  },
};

/** Policies a sidecar enforces for the pod: its namespace's and the root namespace's, selected by labels. */
function applying(snapshot: SnapshotReader, pod: KubeObject): KubeObject[] {
  const namespaces = [...new Set([nsOf(pod), snapshot.rootNamespace])];
  return namespaces.flatMap((ns) =>
    snapshot.listOf(gvk.AuthorizationPolicy, ns).filter((ap) => {
      const s = spec(ap);
      if (isRec(s['targetRef']) || recs(s['targetRefs']).length > 0) return false;
      if (annotations(ap)['istio.io/dry-run'] === 'true') return false;
      return !isRec(s['selector']) || matchesLabels(strMap(rec(s['selector'])['matchLabels']), labels(pod));
    }),
  );
}

/** Why the probe is refused, or undefined when it may pass. */
function judge(policies: readonly KubeObject[], req: ProbeRequest): string | undefined {
  const action = (ap: KubeObject) => str(spec(ap)['action']) || 'ALLOW';
  const deny = policies.find(
    (ap) => action(ap) === 'DENY' && policyRules(spec(ap)).some((r) => ruleMatchesProbe(r, req, true)),
  );
  if (deny) return `AuthorizationPolicy ${fullName(deny)} denies it`;
  const allows = policies.filter((ap) => action(ap) === 'ALLOW');
  if (allows.length === 0 || allows.some((ap) => policyRules(spec(ap)).some((r) => ruleMatchesProbe(r, req, false))))
    return undefined;
  return `no ALLOW policy that applies admits it (AuthorizationPolicy ${allows.map(fullName).sort().join(', ')})`;
}

/** A probe's port: a number, or the name of one of the container's ports. */
function resolvePort(port: unknown, container: Rec): number | undefined {
  const n = num(port);
  if (n !== undefined) return n;
  const named = recs(container['ports']).find((p) => str(p['name']) === str(port));
  return named ? num(named['containerPort']) : undefined;
}
