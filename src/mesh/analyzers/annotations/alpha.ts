// Follows istio/istio pkg/config/analysis/analyzers/maturity/maturity.go: AlphaAnalyzer.Analyze, allowAnnotations,
// isCNIEnabled.
//
// annotations.AlphaAnalyzer: Istio annotations (registry.ts) whose feature is Alpha (no stability guarantee), on
// Namespaces, Services, Pods and Deployments: IST0136 each, on the object. Not reported: the annotations Istio always
// sets (ALWAYS_IGNORED_ANNOTATIONS), and on a Pod without an `istio-init` init container (Istio CNI, as Istio judges
// it) the ones the injector then writes by default. Istio leaves it out of the default set as noisy; it runs here only
// when asked for by name.
import { annotations, spec } from '../util/fields.ts';
import {
  ALWAYS_IGNORED_ANNOTATIONS,
  CNI_DEFAULT_ANNOTATIONS,
  isIstioAnnotation,
  lookupAnnotation,
} from './registry.ts';
import { ANNOTATED_KINDS } from './k8s.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { initContainers } from '../util/workloads.ts';

export const alphaAnnotationsAnalyzer: Analyzer = {
  name: 'annotations.AlphaAnalyzer',
  description: 'Checks for alpha Istio annotations in Kubernetes resources',
  inputs: ANNOTATED_KINDS,
  optIn: true,
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    for (const ref of ANNOTATED_KINDS) {
      for (const obj of snapshot.listOf(ref)) {
        const cni = ref.kind === 'Pod' && !initContainers(spec(obj)).some((c) => c['name'] === 'istio-init');
        for (const name of Object.keys(annotations(obj))) {
          if (!isIstioAnnotation(name)) continue;
          const def = lookupAnnotation(name);
          if (def?.status !== 'Alpha' || ALWAYS_IGNORED_ANNOTATIONS.has(name)) continue;
          // With Istio CNI the injector writes these itself; the user did not choose them.
          if (cni && CNI_DEFAULT_ANNOTATIONS.has(name)) continue;
          out.push(message('AlphaAnnotation', obj, [name], ['metadata', 'annotations', name]));
        }
      }
    }
    return out;
  },
};
