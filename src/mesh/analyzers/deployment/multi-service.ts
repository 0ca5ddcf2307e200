// Follows istio/istio pkg/config/analysis/analyzers/deployment/services.go: ServiceAssociationAnalyzer.Analyze,
// analyzeDeploymentPortProtocol, analyzeDeploymentTargetPorts, findMatchingServices.
//
// deployment.MultiServiceAnalyzer: Services selecting the same mesh workload must not use one port number with
// different protocols (IST0116), nor one targetPort with different ports (IST0137), both on the Deployment. As
// Istio: a Deployment is looked at when it is in the mesh (util's DeploymentInMesh) and is not a waypoint
// (`gateway.istio.io/managed: istio.io-mesh-controller`); the Services are those of its namespace whose selector is
// not empty and selects the pod template's labels; an empty targetPort counts as the port; names and ports in the
// message are sorted.
import type { KubeObject } from '../../../kube/objects.ts';
import { matchesLabels } from '../../../kube/objects.ts';
import { fullName, labels, nsOf, num, podTemplate, recs, spec, str, strMap } from '../util/fields.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { deploymentInMesh } from '../util/workloads.ts';
import { gvk } from '../util/kinds.ts';

const GATEWAY_MANAGED = 'gateway.istio.io/managed';
const WAYPOINT_CONTROLLER = 'istio.io-mesh-controller';

export const multiServiceAnalyzer: Analyzer = {
  name: 'deployment.MultiServiceAnalyzer',
  description: 'Checks association between services and pods',
  inputs: [gvk.Deployment, gvk.Service, gvk.Namespace],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    for (const d of snapshot.listOf(gvk.Deployment)) {
      if (labels(d)[GATEWAY_MANAGED] === WAYPOINT_CONTROLLER) continue;
      if (!deploymentInMesh(snapshot, d)) continue;
      const podLabels = strMap(podTemplate(d).metadata['labels']);
      const services = snapshot.listOf(gvk.Service, nsOf(d)).filter((s) => {
        const selector = strMap(spec(s)['selector']);
        return Object.keys(selector).length > 0 && matchesLabels(selector, podLabels);
      });
      if (services.length === 0) continue;
      checkProtocols(d, services, out);
      checkTargetPorts(d, services, out);
    }
    return out;
  },
};

function checkProtocols(d: KubeObject, services: KubeObject[], out: AnalysisMessage[]): void {
  const byPort = new Map<number, Map<string, string[]>>();
  for (const svc of services) {
    for (const p of recs(spec(svc)['ports'])) {
      const port = num(p['port']) ?? 0;
      const protocol = str(p['protocol']) || 'TCP';
      let protocols = byPort.get(port);
      if (!protocols) byPort.set(port, (protocols = new Map()));
      const names = protocols.get(protocol);
      if (names) names.push(fullName(svc));
      else protocols.set(protocol, [fullName(svc)]);
    }
  }
  for (const [port, protocols] of byPort) {
    if (protocols.size > 1)
      out.push(
        message('DeploymentAssociatedToMultipleServices', d, [
          d.metadata.name,
          port,
          [...protocols.values()].flat().sort(),
        ]),
      );
  }
}

function checkTargetPorts(d: KubeObject, services: KubeObject[], out: AnalysisMessage[]): void {
  const byTarget = new Map<string, Map<number, string>>();
  for (const svc of services) {
    for (const p of recs(spec(svc)['ports'])) {
      const port = num(p['port']) ?? 0;
      let target = str(p['targetPort']);
      if (target === '' || target === '0') target = String(port);
      let ports = byTarget.get(target);
      if (!ports) byTarget.set(target, (ports = new Map()));
      ports.set(port, fullName(svc));
    }
  }
  for (const [target, ports] of byTarget) {
    if (ports.size > 1)
      out.push(
        message('DeploymentConflictingPorts', d, [
          d.metadata.name,
          [...ports.values()].sort(),
          target,
          [...ports.keys()].sort((a, b) => a - b),
        ]),
      );
  }
}
