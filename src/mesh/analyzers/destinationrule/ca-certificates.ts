// Follows istio/istio pkg/config/analysis/analyzers/destinationrule/ca-certificates.go:
// CaCertificateAnalyzer.Analyze, analyzeDestinationRule (IST0128 at destination level, IST0129 per port-level
// setting, for SIMPLE or MUTUAL without caCertificates; a credentialName on a DestinationRule with a
// workloadSelector supplies the CA, as in Istio's current version).
//
// destinationrule.CaCertificateAnalyzer: TLS SIMPLE/MUTUAL without caCertificates does not verify the
// server. A credentialName on a DestinationRule with a workloadSelector carries the CA, so it is fine.
import { fullName, isRec, nsOf, rec, recs, spec, str } from '../util/fields.ts';
import type { Rec } from '../util/fields.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { gvk } from '../util/kinds.ts';

export const caCertificateAnalyzer: Analyzer = {
  name: 'destinationrule.CaCertificateAnalyzer',
  description: 'Checks if caCertificates is set when TLS mode is SIMPLE/MUTUAL',
  inputs: [gvk.DestinationRule],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    for (const dr of snapshot.listOf(gvk.DestinationRule)) {
      const s = spec(dr);
      const policy = rec(s['trafficPolicy']);
      const hasSelector = isRec(s['workloadSelector']);
      const host = str(s['host']);
      const tls = rec(policy['tls']);
      if (unverified(tls, hasSelector)) {
        out.push(
          message(
            'NoServerCertificateVerificationDestinationLevel',
            dr,
            [fullName(dr), nsOf(dr), str(tls['mode']), host],
            ['spec', 'trafficPolicy', 'tls', 'mode'],
          ),
        );
      }
      recs(policy['portLevelSettings']).forEach((p, i) => {
        const ptls = rec(p['tls']);
        if (unverified(ptls, hasSelector)) {
          out.push(
            message(
              'NoServerCertificateVerificationPortLevel',
              dr,
              [fullName(dr), nsOf(dr), str(ptls['mode']), host, portString(p['port'])],
              ['spec', 'trafficPolicy', 'portLevelSettings', i, 'tls', 'mode'],
            ),
          );
        }
      });
    }
    return out;
  },
};

function unverified(tls: Rec, hasSelector: boolean): boolean {
  const mode = str(tls['mode']);
  if (mode !== 'SIMPLE' && mode !== 'MUTUAL') return false;
  if (str(tls['caCertificates']) !== '') return false;
  if (hasSelector && str(tls['credentialName']) !== '') return false;
  return true;
}

function portString(port: unknown): string {
  const n = rec(port)['number'];
  return n === undefined ? '' : `number:${String(n)}`;
}
