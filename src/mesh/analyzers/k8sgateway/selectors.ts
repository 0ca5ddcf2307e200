// Follows istio/istio pkg/config/analysis/analyzers/k8sgateway/workloadselector.go: SelectorAnalyzer.Analyze,
// gatewayPodsLabelMap (a policy without targetRef whose selector's matchLabels are contained in the labels of a
// Gateway API gateway pod of its namespace: IST0166 once per such pod).
//
// k8sgateway.SelectorAnalyzer: policies that pick a Gateway API gateway's pods by label selector have
// no effect; they must use targetRef.
import { isRec, labels, nsOf, rec, spec, str, strMap } from '../util/fields.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { gvk } from '../util/kinds.ts';

const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
const POLICY_KINDS = [gvk.AuthorizationPolicy, gvk.RequestAuthentication, gvk.Telemetry, gvk.WasmPlugin];

export const k8sGatewaySelectorAnalyzer: Analyzer = {
  name: 'k8sgateway.SelectorAnalyzer',
  description: 'Check that selectors are effective for Kubernetes gateway',
  inputs: [gvk.Pod, ...POLICY_KINDS],
  analyze(snapshot) {
    const gatewayPods = new Map<string, Record<string, string>[]>();
    for (const pod of snapshot.listOf(gvk.Pod)) {
      if (!(GATEWAY_NAME_LABEL in labels(pod))) continue;
      const list = gatewayPods.get(nsOf(pod));
      if (list) list.push(labels(pod));
      else gatewayPods.set(nsOf(pod), [labels(pod)]);
    }
    const out: AnalysisMessage[] = [];
    for (const ref of POLICY_KINDS) {
      for (const policy of snapshot.listOf(ref)) {
        const s = spec(policy);
        if (isRec(s['targetRef']) || !isRec(s['selector'])) continue;
        const selector = strMap(rec(s['selector'])['matchLabels']);
        for (const podLabels of gatewayPods.get(nsOf(policy)) ?? []) {
          if (Object.entries(selector).every(([k, v]) => podLabels[k] === v)) {
            out.push(
              message('IneffectiveSelector', policy, [str(podLabels[GATEWAY_NAME_LABEL])], ['spec', 'selector']),
            );
          }
        }
      }
    }
    return out;
  },
};
