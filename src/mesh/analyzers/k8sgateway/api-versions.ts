// precheck.GatewayAPIVersionAnalyzer: the Gateway API CRDs installed must serve the API versions this Istio
// reads. Follows Istio's istioctl/pkg/precheck/precheck.go, checkGatewayAPIs (with extractCRDVersions): for
// each CRD of group gateway.networking.k8s.io, its served versions (sorted, joined by ",", or "none");
// Gateway, GatewayClass, HTTPRoute or ReferenceGrant not serving v1beta1 → IST0156
// UnsupportedGatewayAPIVersion; Gateway, GatewayClass, HTTPRoute or GRPCRoute not serving v1 → IST0172
// FutureUnsupportedGatewayAPIVersion; both reported on the CRD. istioctl runs it in `x precheck`, not in
// `analyze`; meshops runs it with the analyzers because the CRDs are in what it reads (live and in files).
import { rec, recs, spec, str } from '../util/fields.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { GATEWAY_API, gvk } from '../util/kinds.ts';

const BETA_KINDS = new Set(['Gateway', 'GatewayClass', 'HTTPRoute', 'ReferenceGrant']);
const BETA_VERSION = 'v1beta1';
const STABLE_KINDS = new Set(['Gateway', 'GatewayClass', 'HTTPRoute', 'GRPCRoute']);
const STABLE_VERSION = 'v1';

export const gatewayApiVersionAnalyzer: Analyzer = {
  name: 'precheck.GatewayAPIVersionAnalyzer',
  description: 'Checks the Gateway API CRDs serve the API versions Istio reads (istioctl x precheck)',
  inputs: [gvk.CustomResourceDefinition],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    for (const crd of snapshot.listOf(gvk.CustomResourceDefinition)) {
      const s = spec(crd);
      if (str(s['group']) !== GATEWAY_API) continue;
      const kind = str(rec(s['names'])['kind']);
      const served = [
        ...new Set(
          recs(s['versions'])
            .filter((v) => v['served'] === true)
            .map((v) => str(v['name'])),
        ),
      ];
      const has = served.length ? served.sort().join(',') : 'none';
      if (BETA_KINDS.has(kind) && !served.includes(BETA_VERSION))
        out.push(message('UnsupportedGatewayAPIVersion', crd, [has, BETA_VERSION], ['spec', 'versions']));
      if (STABLE_KINDS.has(kind) && !served.includes(STABLE_VERSION))
        out.push(message('FutureUnsupportedGatewayAPIVersion', crd, [has, STABLE_VERSION], ['spec', 'versions']));
    }
    return out;
  },
};
