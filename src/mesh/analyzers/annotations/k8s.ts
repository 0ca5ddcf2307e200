// Follows istio/istio pkg/config/analysis/analyzers/annotations/annotations.go: K8sAnalyzer.Analyze,
// allowAnnotations, istioAnnotation, lookupAnnotation.
//
// annotations.K8sAnalyzer, over the annotations of Namespaces, Services, Pods and Deployments that are Istio's
// (`*istio.io/...` or `kubernetes.io/ingress.class`) and not always set by Istio itself: one Istio does not know is
// IST0108 (a typo); a deprecated one IST0135 (not `sidecar.istio.io/inject` beside the label of that name); one for
// other kinds than this one IST0107 (e.g. on a Deployment instead of its pod template); one whose value the injector
// would reject IST0125. Every message is on the object, at the annotation.
import type { KubeObject } from '../../../kube/objects.ts';
import type { KindRef } from '../../snapshot.ts';
import { gvk } from '../util/kinds.ts';
import { annotations, labels } from '../util/fields.ts';
import { ALWAYS_IGNORED_ANNOTATIONS, ANNOTATION_VALIDATION, isIstioAnnotation, lookupAnnotation } from './registry.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { SIDECAR_INJECT } from '../util/workloads.ts';

export const ANNOTATED_KINDS: readonly KindRef[] = [gvk.Namespace, gvk.Service, gvk.Pod, gvk.Deployment];
const DEPRECATION_EXTRA: Record<string, string> = {
  [SIDECAR_INJECT]: ' in favor of the "sidecar.istio.io/inject" label',
};

export const k8sAnnotationsAnalyzer: Analyzer = {
  name: 'annotations.K8sAnalyzer',
  description: 'Checks for misplaced and invalid Istio annotations in Kubernetes resources',
  inputs: ANNOTATED_KINDS,
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    for (const ref of ANNOTATED_KINDS) for (const obj of snapshot.listOf(ref)) check(obj, ref.kind, out);
    return out;
  },
};

function check(obj: KubeObject, kind: string, out: AnalysisMessage[]): void {
  for (const [name, value] of Object.entries(annotations(obj))) {
    if (!isIstioAnnotation(name)) continue;
    if (ALWAYS_IGNORED_ANNOTATIONS.has(name)) continue;
    const path = ['metadata', 'annotations', name];
    const def = lookupAnnotation(name);
    if (!def) {
      out.push(message('UnknownAnnotation', obj, [name], path));
      continue;
    }
    // Someone keeping the deprecated annotation beside its replacement label knows; no need to nag.
    if (def.deprecated && !(name === SIDECAR_INJECT && SIDECAR_INJECT in labels(obj))) {
      out.push(message('DeprecatedAnnotation', obj, [name, DEPRECATION_EXTRA[name] ?? ''], path));
    }
    if (def.resources.includes('Any')) continue;
    if (!def.resources.includes(kind)) {
      out.push(message('MisplacedAnnotation', obj, [name, def.resources.join(', ')], path));
      continue;
    }
    const problem = ANNOTATION_VALIDATION[name]?.(String(value));
    if (problem) out.push(message('InvalidAnnotation', obj, [name, problem], path));
  }
}
