// Follows istio/istio pkg/config/analysis/analyzers/injection/image-auto.go: ImageAutoAnalyzer.Analyze,
// hasAutoImage, matchesWebhooks, selectorMatches.
//
// injection.ImageAutoAnalyzer: `image: auto` on an istio-proxy container (containers only) works only if the injector
// replaces it. A Pod still showing it was not injected (IST0147, whatever the webhooks); a Deployment with it that no
// webhook named `*istio.io` matches (namespace selector over its namespace's labels, `default` when it has none, and
// object selector over its pod template's labels) will not be (IST0146).
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

/**
 * A Kubernetes LabelSelector (matchLabels + matchExpressions); absent selects everything. One that
 * metav1.LabelSelectorAsSelector refuses (In/NotIn without values, Exists/DoesNotExist with values, another
 * operator) selects nothing, as in Istio.
 */
export function selectorMatches(selector: unknown, have: Record<string, string>): boolean {
  if (!isRec(selector)) return true;
  let matches = true;
  for (const [k, v] of Object.entries(strMap(selector['matchLabels']))) if (have[k] !== v) matches = false;
  for (const e of recs(selector['matchExpressions'])) {
    const key = str(e['key']);
    const values = strs(e['values']);
    const present = key in have;
    switch (str(e['operator'])) {
      case 'In':
        if (values.length === 0) return false;
        if (!present || !values.includes(have[key] ?? '')) matches = false;
        break;
      case 'NotIn':
        if (values.length === 0) return false;
        if (present && values.includes(have[key] ?? '')) matches = false;
        break;
      case 'Exists':
        if (values.length > 0) return false;
        if (!present) matches = false;
        break;
      case 'DoesNotExist':
        if (values.length > 0) return false;
        if (present) matches = false;
        break;
      default:
        return false;
    }
  }
  return matches;
}
