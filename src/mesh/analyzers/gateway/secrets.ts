// gateway.SecretAnalyzer: a server's TLS credentialName must name a Secret in the namespace of the
// gateway workload (not of the Gateway object), which is where the gateway reads it from, and that Secret
// must hold a certificate and key the gateway can serve (valid now; with a CA for MUTUAL).
// Follows Istio's pkg/config/analysis/analyzers/gateway/secret.go (SecretAnalyzer.Analyze, isValidSecret,
// getGatewayNamespace); the questions and their answers from Secrets are in credentials.ts.
import type { Analyzer } from '../types.ts';
import { gvk } from '../util/kinds.ts';
import { checkGatewayCredentials, secretJudge } from './credentials.ts';

/** The analyzer at a clock: Istio judges expiry at time.Now(); tests and the demo give their own. */
export function gatewaySecretAnalyzerAt(now: () => Date): Analyzer {
  return {
    name: 'gateway.SecretAnalyzer',
    description: "Checks a gateway's referenced secrets for correctness",
    inputs: [gvk.Gateway, gvk.Pod, gvk.Secret],
    analyze(snapshot) {
      return checkGatewayCredentials(snapshot, secretJudge(snapshot, now())).messages;
    },
  };
}

export const gatewaySecretAnalyzer: Analyzer = gatewaySecretAnalyzerAt(() => new Date());
