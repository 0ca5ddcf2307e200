// Follows istio/istio pkg/config/analysis/analyzers/webhook/webhook.go: Analyzer.Analyze, extractRevisions,
// isIstioWebhook, selectorMatches.
//
// webhook.Analyzer: Istio's injection webhooks must not overlap (a pod matched twice is injected twice) and must point
// at a Service that exists. A MutatingWebhookConfiguration counts when it names a revision (`istio.io/rev` label, or
// in a webhook's namespace or object selector, matchLabels or matchExpressions) or has a webhook whose name ends in
// `istio.io`. Every namespace label set ({}, istio-injection enabled/disabled, each with every revision) is tried
// against every object label set ({}, sidecar.istio.io/inject true/false, likewise): when more than one webhook
// (`<configuration>/<webhook>`) matches, each is IST0139 on its configuration, naming the others. A webhook calling a
// Service that is not there is IST0139 too; one with a URL is not checked.
import type { KubeObject } from '../../../kube/objects.ts';
import { fullName, isRec, labels, rec, recs, str, strMap, strs } from '../util/fields.ts';
import type { Rec } from '../util/fields.ts';
import { selectorMatches } from '../injection/image-auto.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { INJECTION_LABEL, REVISION_LABEL, SIDECAR_INJECT } from '../util/workloads.ts';
import { gvk } from '../util/kinds.ts';

export const webhookAnalyzer: Analyzer = {
  name: 'webhook.Analyzer',
  description: 'Checks the validity of Istio webhooks',
  inputs: [gvk.MutatingWebhookConfiguration, gvk.Service],
  analyze(snapshot) {
    const hooks: { key: string; config: KubeObject; hook: Rec }[] = [];
    const revisions = new Set<string>();
    for (const cfg of snapshot.listOf(gvk.MutatingWebhookConfiguration)) {
      const webhooks = recs(cfg['webhooks']);
      const revs = revisionsOf(cfg, webhooks);
      if (revs.length === 0 && !webhooks.some((w) => str(w['name']).endsWith('istio.io'))) continue;
      for (const r of revs) revisions.add(r);
      for (const hook of webhooks) hooks.push({ key: `${fullName(cfg)}/${str(hook['name'])}`, config: cfg, hook });
    }
    // Istio keeps one configuration per `<configuration>/<webhook>` key, the last it saw.
    const configOf = new Map(hooks.map((h) => [h.key, h.config]));
    const out: AnalysisMessage[] = [];
    // Every namespace/pod label combination that matters must reach at most one webhook.
    const permutations = (base: Record<string, string>[]) => [
      ...base,
      ...[...revisions].flatMap((rev) => base.map((l) => ({ ...l, [REVISION_LABEL]: rev }))),
    ];
    const nsLabels = permutations([{}, { [INJECTION_LABEL]: 'enabled' }, { [INJECTION_LABEL]: 'disabled' }]);
    const objLabels = permutations([{}, { [SIDECAR_INJECT]: 'true' }, { [SIDECAR_INJECT]: 'false' }]);
    for (const nl of nsLabels) {
      for (const ol of objLabels) {
        const matches = hooks.filter(
          (h) => selectorMatches(h.hook['namespaceSelector'], nl) && selectorMatches(h.hook['objectSelector'], ol),
        );
        const keys = [...new Set(matches.map((m) => m.key))];
        if (keys.length < 2) continue;
        for (const key of keys) {
          const others = keys.filter((k) => k !== key).sort();
          out.push(
            message('InvalidWebhook', configOf.get(key) as KubeObject, [
              `Webhook overlaps with others: [${others.join(' ')}]. This may cause injection to occur twice.`,
            ]),
          );
        }
      }
    }
    for (const h of hooks) {
      const svc = rec(rec(h.hook['clientConfig'])['service']);
      if (!isRec(rec(h.hook['clientConfig'])['service'])) continue; // a URL, not a Service
      const ns = str(svc['namespace']);
      const name = str(svc['name']);
      if (!snapshot.getOf(gvk.Service, ns || undefined, name)) {
        out.push(
          message('InvalidWebhook', h.config, [
            `Injector refers to a control plane service that does not exist: ${ns ? `${ns}/${name}` : name}.`,
          ]),
        );
      }
    }
    return out;
  },
};

function revisionsOf(cfg: KubeObject, webhooks: Rec[]): string[] {
  const revs = new Set<string>();
  const own = labels(cfg)[REVISION_LABEL];
  if (own !== undefined) revs.add(own);
  for (const w of webhooks) {
    for (const sel of [w['namespaceSelector'], w['objectSelector']]) {
      if (!isRec(sel)) continue;
      const ml = strMap(sel['matchLabels'])[REVISION_LABEL];
      if (ml !== undefined) revs.add(ml);
      for (const e of recs(sel['matchExpressions']))
        if (str(e['key']) === REVISION_LABEL) for (const v of strs(e['values'])) revs.add(v);
    }
  }
  return [...revs];
}
