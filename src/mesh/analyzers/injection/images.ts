// injection.ImageAnalyzer: pods in injected namespaces whose proxy image differs from what the injector
// would inject now (typically left over from before an upgrade) are listed per namespace.
import type { KubeObject } from '../../../kube/objects.ts';
import { matchesLabels } from '../../../kube/objects.ts';
import type { SnapshotReader } from '../../snapshot.ts';
import { annotations, isRec, labels, nsOf, rec, spec, str, strMap } from '../util/fields.ts';
import { injectorConfigMapName, injectorConfigMaps, injectorProxyImage } from './injector-config.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { containers, initContainers, INJECTION_LABEL, PROXY_CONTAINER, REVISION_LABEL } from '../util/workloads.ts';
import { gvk } from '../util/kinds.ts';

export const injectionImageAnalyzer: Analyzer = {
  name: 'injection.ImageAnalyzer',
  description: 'Checks the image of auto-injection configured with the running proxies on pods',
  inputs: [gvk.ConfigMap, gvk.Namespace, gvk.Pod, gvk.ProxyConfig, gvk.MeshConfig],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    const cms = injectorConfigMaps(snapshot);
    if (cms.size === 0) return out;
    const images = new Map<string, string>();
    for (const [name, cm] of cms) images.set(name, injectorProxyImage(cm));
    const injectorOf = new Map<string, string>();
    const namespaces = new Map<string, KubeObject>();
    for (const ns of snapshot.listOf(gvk.Namespace)) {
      namespaces.set(ns.metadata.name, ns);
      const l = labels(ns);
      if (REVISION_LABEL in l) injectorOf.set(ns.metadata.name, injectorConfigMapName(l[REVISION_LABEL]));
      else if (l[INJECTION_LABEL] === 'enabled') injectorOf.set(ns.metadata.name, injectorConfigMapName(undefined));
    }
    const mismatched = new Map<string, string[]>();
    for (const pod of snapshot.listOf(gvk.Pod)) {
      const cmName = injectorOf.get(nsOf(pod));
      if (!cmName) continue;
      // A pod that names its own proxy image overrides the injector.
      if (annotations(pod)['sidecar.istio.io/proxyImage']) continue;
      const expected = images.get(cmName);
      if (expected === undefined) continue;
      const variant = imageType(snapshot, pod);
      for (const c of [...containers(spec(pod)), ...initContainers(spec(pod))]) {
        if (c['name'] !== PROXY_CONTAINER) continue;
        const image = str(c['image']);
        if (image !== expected && image !== `${expected}-${variant}`) {
          const list = mismatched.get(nsOf(pod));
          if (list) list.push(pod.metadata.name);
          else mismatched.set(nsOf(pod), [pod.metadata.name]);
        }
      }
    }
    for (const [ns, pods] of mismatched) {
      const nsObj = namespaces.get(ns);
      if (nsObj) out.push(message('PodsIstioProxyImageMismatchInNamespace', nsObj, [pods]));
    }
    return out;
  },
};

/**
 * The proxy image variant (e.g. `distroless`) in effect for a pod: the pod annotation, else ProxyConfig
 * for the workload, the namespace, the root namespace, else mesh config defaultConfig.image.imageType.
 */
function imageType(snapshot: SnapshotReader, pod: KubeObject): string {
  const annotated = annotations(pod)['sidecar.istio.io/proxyImageType'];
  if (annotated) return annotated;
  const typeOf = (pc: KubeObject) => str(rec(spec(pc)['image'])['imageType']);
  const withSelector = (pc: KubeObject) => isRec(spec(pc)['selector']);
  for (const pc of snapshot.listOf(gvk.ProxyConfig, nsOf(pod))) {
    if (withSelector(pc) && matchesLabels(strMap(rec(spec(pc)['selector'])['matchLabels']), labels(pod)) && typeOf(pc))
      return typeOf(pc);
  }
  for (const ns of [nsOf(pod), snapshot.rootNamespace]) {
    for (const pc of snapshot.listOf(gvk.ProxyConfig, ns)) if (!withSelector(pc) && typeOf(pc)) return typeOf(pc);
  }
  return str(rec(rec(snapshot.meshConfig.defaultConfig)['image'])['imageType']) || 'default';
}
