// meshops.SidecarOOMAnalyzer (MSH0001): a pod whose istio-proxy was OOMKilled. Istio has no analyzer for it;
// the kubelet's status says so, and the fix is the proxy's memory limit or a Sidecar that shrinks its config.
import { num, rec, str } from '../util/fields.ts';
import { gvk } from '../util/kinds.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { containerStatuses, proxyContainer, terminations } from './pod-status.ts';

export const sidecarOomAnalyzer: Analyzer = {
  name: 'meshops.SidecarOOMAnalyzer',
  description: 'Finds pods whose istio-proxy container was killed for running out of memory',
  inputs: [gvk.Pod],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    for (const pod of snapshot.listOf(gvk.Pod)) {
      const proxy = proxyContainer(pod);
      if (!proxy) continue;
      const status = containerStatuses(pod).get(str(proxy.container['name']));
      if (!terminations(status).some((t) => str(t['reason']) === 'OOMKilled')) continue;
      const limit = str(rec(rec(proxy.container['resources'])['limits'])['memory']) || 'not set';
      out.push(message('SidecarOOMKilled', pod, [num(status?.['restartCount']) ?? 0, limit], proxy.path));
    }
    return out;
  },
};
