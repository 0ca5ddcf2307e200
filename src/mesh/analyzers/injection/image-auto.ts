// injection.ImageAutoAnalyzer: `image: auto` on an istio-proxy container only works if the injector
// replaces it; a pod still showing it was not injected, and a Deployment no Istio webhook matches won't be.
import type { SnapshotReader } from '../../snapshot.ts';
import { isRec, labels, podTemplate, recs, spec, str, strMap, strs } from '../util/fields.ts';
import type { Rec } from '../util/fields.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { containers, PROXY_CONTAINER } from '../util/workloads.ts';
import { gvk } from '../util/kinds.ts';

export const imageAutoAnalyzer: Analyzer = {
  name: 'injection.ImageAutoAnalyzer',
  description: 'Makes sure that Pods and Deployments with `image: auto` are going to be injected',
  inputs: [gvk.MutatingWebhookConfiguration, gvk.Pod, gvk.Deployment, gvk.Namespace],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    const webhooks = snapshot
      .listOf(gvk.MutatingWebhookConfiguration)
      .flatMap((w) => recs(w['webhooks']).filter((h) => str(h['name']).endsWith('istio.io')));
    for (const pod of snapshot.listOf(gvk.Pod)) {
      if (hasAutoImage(spec(pod))) out.push(message('ImageAutoWithoutInjectionError', pod, ['Pod', pod.metadata.name]));
    }
    for (const d of snapshot.listOf(gvk.Deployment)) {
      const template = podTemplate(d);
      if (!hasAutoImage(template.spec)) continue;
      const nsLabels = namespaceLabels(snapshot, d.metadata.namespace || 'default');
      const podLabels = strMap(template.metadata['labels']);
      if (
        !webhooks.some(
          (w) => selectorMatches(w['namespaceSelector'], nsLabels) && selectorMatches(w['objectSelector'], podLabels),
        )
      ) {
        out.push(message('ImageAutoWithoutInjectionWarning', d, ['Deployment', d.metadata.name]));
      }
    }
    return out;
  },
};

function hasAutoImage(podSpec: Rec): boolean {
  return containers(podSpec).some((c) => c['name'] === PROXY_CONTAINER && c['image'] === 'auto');
}

function namespaceLabels(snapshot: SnapshotReader, name: string): Record<string, string> {
  const ns = snapshot.getOf(gvk.Namespace, undefined, name);
  return ns ? labels(ns) : {};
}

/** A Kubernetes LabelSelector (matchLabels + matchExpressions); absent selects everything. */
export function selectorMatches(selector: unknown, have: Record<string, string>): boolean {
  if (!isRec(selector)) return true;
  for (const [k, v] of Object.entries(strMap(selector['matchLabels']))) if (have[k] !== v) return false;
  for (const e of recs(selector['matchExpressions'])) {
    const key = str(e['key']);
    const values = strs(e['values']);
    const present = key in have;
    switch (str(e['operator'])) {
      case 'In':
        if (!present || !values.includes(have[key] ?? '')) return false;
        break;
      case 'NotIn':
        if (present && values.includes(have[key] ?? '')) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
