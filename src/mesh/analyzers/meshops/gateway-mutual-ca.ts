// meshops.GatewayMutualCAAnalyzer (MSH0006): a MUTUAL or OPTIONAL_MUTUAL Gateway server whose credential has a
// valid certificate but no CA to verify clients with. istiod's SDS serves the CA of credential `x` as
// `kubernetes://x-cacert`, from the Secret `x-cacert` (keys `cacert` or `ca.crt`) or from `x`'s own
// `ca.crt`/`cacert` (pilot/pkg/xds/sds.go); without one the server never gets its validation context and
// clients' handshakes fail. Istio's gateway.SecretAnalyzer does not ask this, so it is meshops' own code and
// gateway.SecretAnalyzer stays as Istio's. The questions are gateway/credentials.ts's, from the Secrets in the
// files; on a live cluster the analyze feature asks them of what the gateway's Envoy loaded.
import { checkGatewayCredentials, secretJudge } from '../gateway/credentials.ts';
import type { Analyzer } from '../types.ts';
import { gvk, istioGateways } from '../util/kinds.ts';

export function gatewayMutualCaAnalyzerAt(now: () => Date): Analyzer {
  return {
    name: 'meshops.GatewayMutualCAAnalyzer',
    description: 'Finds MUTUAL gateway servers whose credential has no CA certificate',
    inputs: [gvk.Gateway, gvk.Pod, gvk.Secret],
    analyze(snapshot) {
      const judge = secretJudge(snapshot, now());
      return checkGatewayCredentials(snapshot, judge, istioGateways(snapshot).list, 'mutual-ca').messages;
    },
  };
}

export const gatewayMutualCaAnalyzer: Analyzer = gatewayMutualCaAnalyzerAt(() => new Date());
