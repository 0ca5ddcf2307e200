// meshops.AppProtocolAnalyzer (MSH0008): a Service port whose appProtocol Istio cannot classify. Istio's protocol
// selection (pkg/config/kube/conversion.go ConvertProtocol; istio.io "Protocol Selection": appProtocol, when set,
// is used instead of the port name) reads the appProtocol alone once it is set: an unknown one is Unsupported even
// when the port name says `http-…`, and the port falls back to protocol detection. Istio's service.PortNameAnalyzer
// reports that as IST0118 about the port *name*, which is not what is wrong; this says so. Skipped as Istio's
// analyzer skips them: Istio's control plane Services and Istio-managed gateways' Services (their ports are
// Istio's), UDP and SCTP ports (classified by the Kubernetes protocol), and ports Istio treats as TCP (well-known
// ports) whatever their appProtocol.
import { skippedByPortNameAnalyzer } from '../service/port-names.ts';
import { num, recs, spec, str } from '../util/fields.ts';
import { gvk } from '../util/kinds.ts';
import { portProtocol } from '../util/port-protocol.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';

export const appProtocolAnalyzer: Analyzer = {
  name: 'meshops.AppProtocolAnalyzer',
  description: "Finds Service ports whose appProtocol Istio does not know (it then ignores the port's name)",
  inputs: [gvk.Service],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    for (const svc of snapshot.listOf(gvk.Service)) {
      if (skippedByPortNameAnalyzer(svc)) continue;
      recs(spec(svc)['ports']).forEach((p, i) => {
        const app = p['appProtocol'];
        if (typeof app !== 'string') return;
        const name = str(p['name']);
        const port = num(p['port']) ?? 0;
        const k8sProtocol = str(p['protocol']) || 'TCP';
        if (portProtocol(port, name, k8sProtocol, app) !== 'Unsupported') return;
        const byName = portProtocol(port, name, k8sProtocol);
        const nameMeans = byName === 'Unsupported' ? 'nothing either' : byName;
        out.push(message('UnknownAppProtocol', svc, [app, port, name, nameMeans], ['spec', 'ports', i, 'appProtocol']));
      });
    }
    return out;
  },
};
