// Follows istio/istio pkg/config/analysis/analyzers/injection/injection.go: Analyzer.Analyze,
// GetEnableNamespacesByDefaultFromInjectedConfigMap.
//
// injection.Analyzer: a namespace should say, with one label, whether it wants sidecars, and pods in a namespace
// labelled `istio-injection=enabled` should have the proxy. As Istio:
// * `istio-system` itself and Kubernetes' own namespaces (util.IsSystemNamespace: inject.IgnoredNamespaces) are skipped;
// * the labels counted are `istio-injection` (any value) and, unless `istio-injection` has a value other than
//   `enabled`, `istio.io/rev` and `istio.io/dataplane-mode` (any value); more than one is IST0123, and the namespace
//   is still judged below;
// * `istio.io/dataplane-mode=ambient` ends there (no sidecars wanted);
// * neither `istio-injection` (or an empty one) nor `istio.io/rev`: IST0148 when the injector of that revision has
//   `sidecarInjectorWebhook.enableNamespacesByDefault`, else IST0102. Istio's flag is the last one it read (it keeps
//   it from one namespace to the next when the namespace's injector ConfigMap is not there), and so is this one;
// * only `istio-injection=enabled` namespaces have their pods checked (a revision-labelled one does not): a pod
//   without injection disabled (`sidecar.istio.io/inject` label, else annotation, `false` in any case), not on the
//   host network, and without an `istio-proxy` container with an image (containers, then init containers: native
//   sidecars) is IST0103.
import type { SnapshotReader } from '../../snapshot.ts';
import { annotations, fullName, labels, nsOf, spec, str } from '../util/fields.ts';
import { enableNamespacesByDefault, injectorConfigMapName } from './injector-config.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message, optional } from '../types.ts';
import {
  containers,
  DATAPLANE_MODE,
  INJECTION_LABEL,
  initContainers,
  isSystemNamespace,
  PROXY_CONTAINER,
  REVISION_LABEL,
  SIDECAR_INJECT,
} from '../util/workloads.ts';
import { gvk } from '../util/kinds.ts';

/** constants.IstioSystemNamespace: Istio skips this name, whatever the Istio namespace of the install is. */
const ISTIO_SYSTEM = 'istio-system';

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
    let byDefault = false;
    const namespaces = [...snapshot.listOf(gvk.Namespace)].sort((a, b) => compare(a.metadata.name, b.metadata.name));
    for (const ns of namespaces) {
      const name = ns.metadata.name;
      if (name === ISTIO_SYSTEM || isSystemNamespace(name)) continue;
      const l = labels(ns);
      const hasLegacy = INJECTION_LABEL in l;
      const legacy = l[INJECTION_LABEL] ?? '';
      const hasRevision = REVISION_LABEL in l;
      const istioLabels = hasLegacy ? [`${INJECTION_LABEL}=${legacy}`] : [];
      for (const key of [REVISION_LABEL, DATAPLANE_MODE]) {
        if (key in l && (!hasLegacy || legacy === 'enabled')) istioLabels.push(`${key}=${l[key]}`);
      }
      if (istioLabels.length > 1) out.push(message('NamespaceMultipleInjectionLabels', ns, [istioLabels]));
      if (l[DATAPLANE_MODE] === 'ambient') continue;
      const cm = injectorConfigMap(snapshot, injectorConfigMapName(l[REVISION_LABEL]));
      if (cm) byDefault = enableNamespacesByDefault(cm);
      if (legacy === '' && !hasRevision) {
        if (byDefault) out.push(message('NamespaceInjectionEnabledByDefault', ns, []));
        else out.push(message('NamespaceNotInjected', ns, [name, name]));
        continue;
      }
      if (legacy !== 'enabled') continue;
      injected.add(name);
    }
    for (const pod of snapshot.listOf(gvk.Pod)) {
      if (!injected.has(nsOf(pod))) continue;
      const podLabels = labels(pod);
      const inject = SIDECAR_INJECT in podLabels ? podLabels[SIDECAR_INJECT] : annotations(pod)[SIDECAR_INJECT];
      if ((inject ?? '').toLowerCase() === 'false') continue;
      if (spec(pod)['hostNetwork'] === true) continue;
      const proxy = [...containers(spec(pod)), ...initContainers(spec(pod))].find((c) => c['name'] === PROXY_CONTAINER);
      if (str(proxy?.['image']) === '') out.push(message('PodMissingProxy', pod, [fullName(pod)]));
    }
    return out;
  },
};

/** The first ConfigMap (any namespace) with the injector's name, as Istio's ForEach finds it. */
function injectorConfigMap(snapshot: SnapshotReader, name: string) {
  return snapshot.listOf(gvk.ConfigMap).find((cm) => cm.metadata.name === name);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
