// Follows istio/istio pkg/config/analysis/analyzers/deployment/pod.go: ApplicationUIDAnalyzer.Analyze,
// analyzeAppUIDForPod, analyzeAppUIDForDeployment.
//
// applicationUID.Analyzer: UID 1337 belongs to the sidecar proxy (its traffic bypasses capture); application
// containers must not run as it. Pods and Deployments (pod template) that are not Istio's control plane: the pod
// securityContext, and each container but `istio-proxy` and `istio-operator`, with runAsUser 1337 is IST0144 on the
// object (once for each).
import type { KubeObject } from '../../../kube/objects.ts';
import { num, podTemplate, rec, spec, str } from '../util/fields.ts';
import type { Rec } from '../util/fields.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { containers, isIstioControlPlane, PROXY_CONTAINER } from '../util/workloads.ts';
import { gvk } from '../util/kinds.ts';

const PROXY_UID = 1337;
const SKIPPED_CONTAINERS = new Set([PROXY_CONTAINER, 'istio-operator']);

export const applicationUidAnalyzer: Analyzer = {
  name: 'applicationUID.Analyzer',
  description: 'Checks invalid application UID',
  inputs: [gvk.Pod, gvk.Deployment],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    for (const pod of snapshot.listOf(gvk.Pod)) check(pod, spec(pod), out);
    for (const d of snapshot.listOf(gvk.Deployment)) check(d, podTemplate(d).spec, out);
    return out;
  },
};

function check(obj: KubeObject, podSpec: Rec, out: AnalysisMessage[]): void {
  if (isIstioControlPlane(obj)) return;
  if (num(rec(podSpec['securityContext'])['runAsUser']) === PROXY_UID)
    out.push(message('InvalidApplicationUID', obj, []));
  for (const c of containers(podSpec)) {
    if (SKIPPED_CONTAINERS.has(str(c['name']))) continue;
    if (num(rec(c['securityContext'])['runAsUser']) === PROXY_UID) out.push(message('InvalidApplicationUID', obj, []));
  }
}
