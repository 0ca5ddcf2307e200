// injection.Analyzer: namespaces should say whether they want sidecars (one injection label, not two),
// and pods in injected namespaces should have the proxy.
import type { MeshSnapshot } from '../snapshot.ts';
import { annotations, fullName, labels, nsOf, spec } from './fields.ts';
import { enableNamespacesByDefault, injectorConfigMapName, injectorConfigMaps } from './injector-config.ts';
import type { AnalysisMessage, Analyzer } from './types.ts';
import { message } from './types.ts';
import { containers, INJECTION_LABEL, isSystemNamespace, PROXY_CONTAINER, REVISION_LABEL, SIDECAR_INJECT } from './workloads.ts';

export const injectionAnalyzer: Analyzer = {
  name: 'injection.Analyzer',
  description: 'Checks conditions related to Istio sidecar injection',
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    const injected = new Set<string>();
    for (const ns of snapshot.list('Namespace')) {
      const name = ns.metadata.name;
      if (name === snapshot.istioNamespace || isSystemNamespace(name)) continue;
      const l = labels(ns);
      const legacy = l[INJECTION_LABEL] ?? '';
      const hasRevision = REVISION_LABEL in l;
      if (legacy === '' && !hasRevision) {
        if (byDefault(snapshot, l[REVISION_LABEL])) out.push(message('NamespaceInjectionEnabledByDefault', ns, []));
        else out.push(message('NamespaceNotInjected', ns, [name, name]));
        continue;
      }
      if (hasRevision && legacy !== '') {
        out.push(message('NamespaceMultipleInjectionLabels', ns, [name, name]));
        continue;
      }
      // A legacy label other than `enabled` deliberately opts out.
      if (!hasRevision && legacy !== 'enabled') continue;
      injected.add(name);
    }
    for (const pod of snapshot.list('Pod')) {
      if (!injected.has(nsOf(pod))) continue;
      const inject = labels(pod)[SIDECAR_INJECT] ?? annotations(pod)[SIDECAR_INJECT] ?? '';
      if (inject.toLowerCase() === 'false') continue;
      if (spec(pod)['hostNetwork'] === true) continue;
      const proxy = containers(spec(pod)).find((c) => c['name'] === PROXY_CONTAINER);
      if (!proxy || !proxy['image']) out.push(message('PodMissingProxy', pod, [fullName(pod)]));
    }
    return out;
  },
};

/** sidecarInjectorWebhook.enableNamespacesByDefault of the namespace's injector (default one as fallback). */
function byDefault(snapshot: MeshSnapshot, revision: string | undefined): boolean {
  const cms = injectorConfigMaps(snapshot);
  const cm = cms.get(injectorConfigMapName(revision)) ?? cms.get(injectorConfigMapName(undefined));
  return cm ? enableNamespacesByDefault(cm) : false;
}
