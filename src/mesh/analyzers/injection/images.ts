// Follows istio/istio pkg/config/analysis/analyzers/injection/injection-image.go: ImageAnalyzer.Analyze,
// GetIstioProxyImage; and pkg/config/analysis/analyzers/util/proxyconfig.go: EffectiveProxyConfigResolver.ImageType.
//
// injection.ImageAnalyzer: pods in injected namespaces whose proxy image differs from what the injector would inject
// now (typically left over from before an upgrade), listed per namespace (IST0158, on the Namespace). As Istio:
// * every ConfigMap whose name starts with `istio-sidecar-injector` is an injector, keyed by name (any namespace);
//   its image is `global.proxy.image` when that contains a `/`, else `<global.hub>/<global.proxy.image>:<global.tag>`
//   (a `values` key that is not JSON of that shape gives the empty image); no injector, no messages;
// * a namespace is injected with `istio.io/rev` (any value: its revision, `istio-sidecar-injector-<rev>`, or the
//   default injector for `default` or an empty one) or `istio-injection=enabled` (the default injector);
// * a pod with `sidecar.istio.io/proxyImage` is left alone (it chose its own image), and so is one whose
//   namespace's injector is not there;
// * every `istio-proxy` container (containers and init containers, i.e. native sidecars) must carry the injector's
//   image or that image with `-<variant>`, the variant (image type) being the last set of: mesh config
//   `defaultConfig.image.imageType`, the ProxyConfig of the root namespace, the namespace's ProxyConfig without a
//   selector, a ProxyConfig whose selector's labels the pod has (in a namespace whose name the pod's namespace starts,
//   as Istio compares `<namespace>/<name>` by prefix), the pod's `proxy.istio.io/config` annotation; `default`
//   counts as none.
import { parse as parseYaml } from 'yaml';
import type { KubeObject } from '../../../kube/objects.ts';
import type { SnapshotReader } from '../../snapshot.ts';
import { MAX_YAML_ALIASES } from '../../yaml-limits.ts';
import { annotations, fullName, isRec, labels, nsOf, rec, spec, str, strMap } from '../util/fields.ts';
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
    const resolver = proxyConfigResolver(snapshot);
    const mismatched = new Map<string, string[]>();
    for (const pod of snapshot.listOf(gvk.Pod)) {
      const cmName = injectorOf.get(nsOf(pod));
      if (!cmName) continue;
      if (annotations(pod)['sidecar.istio.io/proxyImage']) continue;
      const expected = images.get(cmName);
      if (expected === undefined) continue;
      const variant = resolver(pod);
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

const imageTypeOf = (v: unknown): string => str(rec(rec(v)['image'])['imageType']);

/** EffectiveProxyConfigResolver.ImageType: the image variant in effect for a pod ('' for the default one). */
function proxyConfigResolver(snapshot: SnapshotReader): (pod: KubeObject) => string {
  const rootNamespace = snapshot.rootNamespace || 'istio-system';
  let root: unknown;
  const byNamespace = new Map<string, unknown>();
  const byWorkload: { key: string; spec: unknown }[] = [];
  for (const pc of snapshot.listOf(gvk.ProxyConfig)) {
    if (nsOf(pc) === rootNamespace) root = pc.spec;
    else if (!isRec(spec(pc)['selector'])) byNamespace.set(nsOf(pc), pc.spec);
    else byWorkload.push({ key: fullName(pc), spec: pc.spec });
  }
  const meshType = imageTypeOf(snapshot.meshConfig.defaultConfig);
  return (pod) => {
    let variant = meshType;
    const set = (v: string) => {
      if (v !== '') variant = v;
    };
    set(imageTypeOf(root));
    set(imageTypeOf(byNamespace.get(nsOf(pod))));
    const podLabels = labels(pod);
    for (const w of byWorkload) {
      if (!w.key.startsWith(nsOf(pod))) continue;
      const want = strMap(rec(rec(w.spec)['selector'])['matchLabels']);
      if (Object.entries(want).every(([k, v]) => k in podLabels && podLabels[k] === v)) set(imageTypeOf(w.spec));
    }
    const raw = annotations(pod)['proxy.istio.io/config'];
    if (raw !== undefined) set(imageTypeOf(parseProxyConfig(raw)));
    return variant === 'default' ? '' : variant;
  };
}

/** The annotation's ProxyConfig (YAML or JSON); one that does not parse counts as unset, as in Istio. */
function parseProxyConfig(raw: string): unknown {
  try {
    return parseYaml(raw, { maxAliasCount: MAX_YAML_ALIASES });
  } catch {
    return undefined;
  }
}
