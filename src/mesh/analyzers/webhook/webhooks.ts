// webhook.Analyzer: Istio's injection webhooks must not overlap (a pod matched twice is injected twice)
// and must point at a Service that exists.
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
        for (const m of matches) {
          const others = keys.filter((k) => k !== m.key).sort();
          out.push(
            message('InvalidWebhook', m.config, [
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
