// Follows istio/istio pkg/config/analysis/analyzers/gateway/gateway.go: IngressGatewayPortAnalyzer.Analyze,
// analyzeGateway (pods of any namespace the selector matches; Services in each pod's namespace whose selector,
// empty = all, matches it; their TCP ports, by port and by numeric targetPort; IST0101 on the Gateway when no pod
// matches, else IST0162 for each server port none of them offers). One stored version of Istio's source counts the
// targetPort alone (the port only when no numeric targetPort); the fix for istio/istio#51257 (PR #51278, which adds
// the translation case) also accepts a server port that is a Service port, since istiod translates it to that
// port's targetPort, and moves the badport case to a port that is neither (8004). So both count here.
//
// gateway.IngressGatewayPortAnalyzer: a Gateway must select some pod, and each server port must be a
// TCP port of a Service that selects those pods, or traffic to it goes nowhere.
import { istioGateways } from '../util/kinds.ts';
import type { Analyzer, AnalysisMessage } from '../types.ts';
import { message } from '../types.ts';
import { labels, nsOf, num, rec, recs, spec, str, strMap } from '../util/fields.ts';
import { podsSelected, selectorString, type servicesSelecting } from '../util/workloads.ts';
import { gvk } from '../util/kinds.ts';

export const ingressGatewayPortAnalyzer: Analyzer = {
  name: 'gateway.IngressGatewayPortAnalyzer',
  description: "Checks a gateway's ports against the gateway's Kubernetes service ports",
  inputs: [gvk.Gateway, gvk.Pod, gvk.Service],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    for (const gw of istioGateways(snapshot).list) {
      const selector = strMap(spec(gw)['selector']);
      const pods = podsSelected(snapshot, selector);
      const selectorPath = selectorLinePath(selector);
      if (pods.length === 0) {
        out.push(message('ReferencedResourceNotFound', gw, ['selector', selectorString(selector)], selectorPath));
        continue;
      }
      const servicePorts = new Set<number>();
      for (const pod of pods) {
        for (const svc of servicesSelectingAny(snapshot, nsOf(pod), labels(pod))) {
          // A server port may be the Service port (istiod translates it to the targetPort the pod listens on;
          // Istio's case gatewayCustomIngressGatewayTranslation) or that targetPort itself
          // (gatewayCustomIngressGateway). A port without protocol is TCP, as the API server defaults it.
          for (const p of recs(rec(svc.spec)['ports'])) {
            if (str(p['protocol'] || 'TCP') !== 'TCP') continue;
            servicePorts.add(num(p['port']) ?? -1);
            const target = num(p['targetPort']);
            if (target !== undefined) servicePorts.add(target);
          }
        }
      }
      for (const server of recs(spec(gw)['servers'])) {
        const port = server['port'];
        if (port === undefined || port === null) continue;
        const number = num(rec(port)['number']) ?? 0;
        if (!servicePorts.has(number))
          out.push(message('GatewayPortNotDefinedOnService', gw, [number, selectorString(selector)], selectorPath));
      }
    }
    return out;
  },
};

/** Like servicesSelecting, but an empty Service selector selects everything (k8s SelectorFromSet semantics). */
function servicesSelectingAny(
  snapshot: Parameters<typeof servicesSelecting>[0],
  ns: string,
  podLabels: Record<string, string>,
) {
  return snapshot.listOf(gvk.Service, ns).filter((svc) => {
    const sel = strMap(rec(svc.spec)['selector']);
    return Object.entries(sel).every(([k, v]) => podLabels[k] === v);
  });
}

export function selectorLinePath(selector: Record<string, string>): (string | number)[] {
  const first = Object.keys(selector).sort()[0];
  return first ? ['spec', 'selector', first] : ['spec', 'selector'];
}
