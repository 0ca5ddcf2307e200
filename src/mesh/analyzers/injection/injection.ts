// injection.Analyzer: namespaces should say whether they want sidecars (one injection label, not two),
// and pods in injected namespaces should have the proxy.
import type { SnapshotReader } from '../../snapshot.ts';
import { annotations, fullName, labels, nsOf, spec } from '../util/fields.ts';
import { enableNamespacesByDefault, injectorConfigMapName, injectorConfigMaps } from './injector-config.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message, optional } from '../types.ts';
import {
  containers,
  DATAPLANE_MODE,
  INJECTION_LABEL,
  isSystemNamespace,
  PROXY_CONTAINER,
  REVISION_LABEL,
  SIDECAR_INJECT,
} from '../util/workloads.ts';
import { gvk } from '../util/kinds.ts';

export const injectionAnalyzer: Analyzer = {
  name: 'injection.Analyzer',
  description: 'Checks conditions related to Istio sidecar injection',
  inputs: [
    gvk.Namespace,
    gvk.Pod,
    optional(
      gvk.ConfigMap,
      'a namespace the injector injects by default (enableNamespacesByDefault) is reported as not injected',
    ),
  ],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    const injected = new Set<string>();
    for (const ns of snapshot.listOf(gvk.Namespace)) {
      const name = ns.metadata.name;
      if (name === snapshot.istioNamespace || isSystemNamespace(name)) continue;
      const l = labels(ns);
      const legacy = l[INJECTION_LABEL] ?? '';
      // A legacy label other than `enabled` (e.g. `disabled`) deliberately opts the namespace out.
      if (legacy !== '' && legacy !== 'enabled') continue;
      const hasRevision = REVISION_LABEL in l;
      const ambient = l[DATAPLANE_MODE] === 'ambient';
      const enablers = [legacy === 'enabled', hasRevision, ambient].filter(Boolean).length;
      if (enablers > 1) {
        out.push(message('NamespaceMultipleInjectionLabels', ns, [name, name]));
        continue;
      }
      if (enablers === 0) {
        if (byDefault(snapshot, l[REVISION_LABEL])) out.push(message('NamespaceInjectionEnabledByDefault', ns, []));
        else out.push(message('NamespaceNotInjected', ns, [name, name]));
        continue;
      }
      if (ambient) continue; // ambient namespaces get no sidecars
      injected.add(name);
    }
    for (const pod of snapshot.listOf(gvk.Pod)) {
      if (!injected.has(nsOf(pod))) continue;
      const inject = labels(pod)[SIDECAR_INJECT] ?? annotations(pod)[SIDECAR_INJECT] ?? '';
      if (inject.toLowerCase() === 'false') continue;
      if (spec(pod)['hostNetwork'] === true) continue;
      const proxy = containers(spec(pod)).find((c) => c['name'] === PROXY_CONTAINER);
      if (!proxy?.['image']) out.push(message('PodMissingProxy', pod, [fullName(pod)]));
    }
    return out;
  },
};

/** sidecarInjectorWebhook.enableNamespacesByDefault of the namespace's injector (default one as fallback). */
function byDefault(snapshot: SnapshotReader, revision: string | undefined): boolean {
  const cms = injectorConfigMaps(snapshot);
  const cm = cms.get(injectorConfigMapName(revision)) ?? cms.get(injectorConfigMapName(undefined));
  return cm ? enableNamespacesByDefault(cm) : false;
}
