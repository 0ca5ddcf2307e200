// Follows istio/istio pkg/config/analysis/analyzers/service/portname.go: PortNameAnalyzer.Analyze, analyzeService.
//
// service.PortNameAnalyzer: Service ports should name their protocol (`http-web`, `grpc`, ...) or set appProtocol;
// otherwise Istio falls back to sniffing. Istio control plane Services (label `istio`, or `release: istio`) and
// Services of Istio-managed gateways (`gateway.istio.io/managed`) are left out. A port whose protocol (util's
// ConvertProtocol) is Unsupported, or an ExternalName Service's port named exactly `tcp`, is IST0118 (name, port,
// targetPort), or IST0150 on an ExternalName Service; both on the Service at `spec.ports[i]`.
import type { KubeObject } from '../../../kube/objects.ts';
import { labels, num, recs, spec, str } from '../util/fields.ts';
import { portProtocol } from '../util/port-protocol.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { isIstioControlPlane } from '../util/workloads.ts';
import { gvk } from '../util/kinds.ts';

const GATEWAY_MANAGED = 'gateway.istio.io/managed';
const MANAGED_VALUES: ReadonlySet<string> = new Set([
  'istio.io-gateway-controller',
  'istio.io-mesh-controller',
  'istio.io-eastwest-controller',
]);

export const portNameAnalyzer: Analyzer = {
  name: 'service.PortNameAnalyzer',
  description: 'Checks the port names associated with each service',
  inputs: [gvk.Service],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    for (const svc of snapshot.listOf(gvk.Service)) {
      if (skippedByPortNameAnalyzer(svc)) continue;
      const s = spec(svc);
      const external = str(s['type']) === 'ExternalName';
      recs(s['ports']).forEach((p, i) => {
        const name = str(p['name']);
        const port = num(p['port']) ?? 0;
        const app = p['appProtocol'];
        const protocol = portProtocol(
          port,
          name,
          str(p['protocol']) || 'TCP',
          typeof app === 'string' ? app : undefined,
        );
        if (protocol !== 'Unsupported' && !(name === 'tcp' && external)) return;
        const path = ['spec', 'ports', i];
        if (external) out.push(message('ExternalNameServiceTypeInvalidPortName', svc, [], path));
        else
          out.push(
            message('PortNameIsNotUnderNamingConvention', svc, [name, port, targetPortString(p['targetPort'])], path),
          );
      });
    }
    return out;
  },
};

/** Istio's control plane Services and Istio-managed gateways' Services: their ports are Istio's own. */
export function skippedByPortNameAnalyzer(svc: KubeObject): boolean {
  return isIstioControlPlane(svc) || MANAGED_VALUES.has(labels(svc)[GATEWAY_MANAGED] ?? '');
}

function targetPortString(v: unknown): string {
  return v === undefined || v === null ? '0' : String(v);
}
