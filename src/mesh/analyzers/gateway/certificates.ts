// Follows istio/istio pkg/config/analysis/analyzers/gateway/certificate.go: CertificateAnalyzer.Analyze,
// analyzeDuplicateCertificate, haveSameCertificate, getGatewaysWithSelector, selectorSubset (with
// PILOT_SCOPE_GATEWAY_TO_NAMESPACE at its default, false: gateways of every namespace are compared; an empty
// selector is a subset of every selector; one IST0138 per pair of TLS servers that share a certificate).
//
// gateway.CertificateAnalyzer: two Gateways on overlapping workloads must not serve the same
// certificate (same credentialName, or same serverCertificate + privateKey).
import type { KubeObject } from '../../../kube/objects.ts';
import { fullName, isRec, recs, spec, str, strMap } from '../util/fields.ts';
import type { Rec } from '../util/fields.ts';
import { istioGateways } from '../util/kinds.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { gvk } from '../util/kinds.ts';

export const gatewayCertificateAnalyzer: Analyzer = {
  name: 'gateway.CertificateAnalyzer',
  description: 'Checks a gateway certificate',
  inputs: [gvk.Gateway],
  analyze(snapshot) {
    // Only gateways with TLS servers can conflict; index them by selector label pair.
    const tlsGateways = istioGateways(snapshot).list.filter((gw) => tlsSettings(gw).length > 0);
    const byPair = new Map<string, KubeObject[]>();
    for (const gw of tlsGateways) {
      for (const [k, v] of Object.entries(strMap(spec(gw)['selector']))) {
        const key = `${k}\u0000${v}`;
        const list = byPair.get(key);
        if (list) list.push(gw);
        else byPair.set(key, [gw]);
      }
    }
    const out: AnalysisMessage[] = [];
    for (const gw of tlsGateways) {
      const selector = strMap(spec(gw)['selector']);
      const entries = Object.entries(selector);
      let candidates: readonly KubeObject[] = tlsGateways;
      for (const [k, v] of entries) {
        const list = byPair.get(`${k}\u0000${v}`) ?? [];
        if (list.length < candidates.length) candidates = list;
      }
      const mine = tlsSettings(gw);
      for (const other of candidates) {
        if (other === gw || !selectorSubset(selector, strMap(spec(other)['selector']))) continue;
        const theirs = tlsSettings(other);
        for (const a of mine)
          for (const b of theirs)
            if (sameCertificate(a, b))
              out.push(message('GatewayDuplicateCertificate', gw, [[fullName(gw), fullName(other)]]));
      }
    }
    return out;
  },
};

function tlsSettings(gw: KubeObject): Rec[] {
  return recs(spec(gw)['servers'])
    .map((s) => s['tls'])
    .filter(isRec);
}

function selectorSubset(x: Record<string, string>, y: Record<string, string>): boolean {
  return Object.entries(x).every(([k, v]) => y[k] === v);
}

function sameCertificate(a: Rec, b: Rec): boolean {
  const ca = str(a['credentialName']);
  const cb = str(b['credentialName']);
  if (ca !== '' && cb !== '') return ca === cb;
  if (ca === '' && cb === '') {
    const sa = str(a['serverCertificate']);
    const sb = str(b['serverCertificate']);
    if (sa !== '' && sa === sb) {
      const pa = str(a['privateKey']);
      const pb = str(b['privateKey']);
      return pa !== '' && pb !== '' && pa === pb;
    }
  }
  return false;
}
