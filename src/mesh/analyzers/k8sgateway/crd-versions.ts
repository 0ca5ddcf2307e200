// Follows istio/istio pkg/config/analysis/analyzers/k8sgateway/crdversion.go: CRDVersionAnalyzer.Analyze.
//
// k8sgateway.CRDVersionAnalyzer: istiod ignores Gateway API CRDs older than the bundle version it needs,
// so their resources silently do nothing.
import { annotations } from '../util/fields.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { gvk } from '../util/kinds.ts';

const BUNDLE_VERSION = 'gateway.networking.k8s.io/bundle-version';
const MINIMUM: Record<string, [number, number, number]> = {
  'grpcroutes.gateway.networking.k8s.io': [1, 1, 0],
  'backendtlspolicies.gateway.networking.k8s.io': [1, 4, 0],
  'tlsroutes.gateway.networking.k8s.io': [1, 5, 0],
};

export const gatewayApiCrdVersionAnalyzer: Analyzer = {
  name: 'k8sgateway.CRDVersionAnalyzer',
  description: 'Checks Gateway API CRDs are at the minimum version required by this Istio version',
  inputs: [gvk.CustomResourceDefinition],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    for (const crd of snapshot.listOf(gvk.CustomResourceDefinition)) {
      const minimum = MINIMUM[crd.metadata.name];
      const raw = annotations(crd)[BUNDLE_VERSION];
      if (!minimum || raw === undefined) continue;
      const m = raw.trim().match(/^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/);
      if (!m) continue;
      const installed = [Number(m[1]), Number(m[2]), Number(m[3])];
      const below = installed[0]! - minimum[0] || installed[1]! - minimum[1] || installed[2]! - minimum[2];
      if (below < 0) {
        const shown = `${installed.join('.')}${m[4] ? `-${m[4]}` : ''}`;
        out.push(message('GatewayAPICRDVersionBelowMinimum', crd, [crd.metadata.name, shown, minimum.join('.')]));
      }
    }
    return out;
  },
};
