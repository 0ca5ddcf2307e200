// service.PortNameAnalyzer: Service ports should name their protocol (`http-web`, `grpc`, ...) or set
// appProtocol; otherwise Istio falls back to sniffing. ExternalName services get their own message.
import { labels, num, recs, spec, str } from '../util/fields.ts';
import { portProtocol } from '../util/port-protocol.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { isIstioControlPlane } from '../util/workloads.ts';
import { gvk } from '../util/kinds.ts';

const GATEWAY_MANAGED = 'gateway.istio.io/managed';
const MANAGED_VALUES = new Set([
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
      if (isIstioControlPlane(svc)) continue;
      if (MANAGED_VALUES.has(labels(svc)[GATEWAY_MANAGED] ?? '')) continue;
      const s = spec(svc);
      const external = str(s['type']) === 'ExternalName';
      recs(s['ports']).forEach((p, i) => {
        const name = str(p['name']);
        const port = num(p['port']) ?? 0;
        const protocol = portProtocol(port, name, str(p['protocol']) || 'TCP', str(p['appProtocol']) || undefined);
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

function targetPortString(v: unknown): string {
  return v === undefined || v === null ? '0' : String(v);
}
