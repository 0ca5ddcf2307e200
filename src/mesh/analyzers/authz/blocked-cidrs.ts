// Follows istio/istio pkg/config/analysis/analyzers/authn/ (package authn, BlockedCIDRsAnalyzer): Analyze,
// isIstiodDeployment, hasBlockedCIDRsEnv, formatRANames.
//
// authn.BlockedCIDRsAnalyzer: with RequestAuthentications present, istiod fetches JWKS URIs that users control;
// BLOCKED_CIDRS_IN_JWKS_URIS on istiod keeps those fetches off internal networks. Every Deployment labelled
// `app: istiod` whose containers set no non-empty value for it is IST0175, naming up to 5 policies.
import { fullName, labels, podTemplate, recs, str } from '../util/fields.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { containers } from '../util/workloads.ts';
import { gvk } from '../util/kinds.ts';

const ENV = 'BLOCKED_CIDRS_IN_JWKS_URIS';
const MAX_NAMES = 5;

export const blockedCidrsAnalyzer: Analyzer = {
  name: 'authn.BlockedCIDRsAnalyzer',
  description:
    'Checks that BLOCKED_CIDRS_IN_JWKS_URIS is configured on istiod when RequestAuthentication resources exist',
  inputs: [gvk.RequestAuthentication, gvk.Deployment],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    const names = snapshot.listOf(gvk.RequestAuthentication).map(fullName);
    if (names.length === 0) return out;
    const shown =
      names.length <= MAX_NAMES
        ? names.join(', ')
        : `${names.slice(0, MAX_NAMES).join(', ')}, and ${names.length - MAX_NAMES} more`;
    for (const d of snapshot.listOf(gvk.Deployment)) {
      if (labels(d)['app'] !== 'istiod') continue;
      const configured = containers(podTemplate(d).spec).some((c) =>
        recs(c['env']).some((e) => str(e['name']) === ENV && str(e['value']) !== ''),
      );
      if (!configured) out.push(message('JwksUriFetchUnrestricted', d, [names.length, shown]));
    }
    return out;
  },
};
