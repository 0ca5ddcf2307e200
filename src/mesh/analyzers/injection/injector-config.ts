// The sidecar injector's settings as istiod reads them from the `istio-sidecar-injector[-<revision>]` ConfigMap's
// `values` key (JSON Helm values). Follows istio/istio pkg/config/analysis/analyzers/util: GetInjectorConfigMapName;
// injection/injection-image.go: GetIstioProxyImage; injection/injection.go:
// GetEnableNamespacesByDefaultFromInjectedConfigMap.
import type { KubeObject } from '../../../kube/objects.ts';
import type { SnapshotReader } from '../../snapshot.ts';
import { isRec, memo, rec } from '../util/fields.ts';
import type { Rec } from '../util/fields.ts';
import { gvk } from '../util/kinds.ts';

export const INJECTOR_CONFIGMAP = 'istio-sidecar-injector';

export function injectorConfigMapName(revision: string | undefined): string {
  return !revision || revision === 'default' ? INJECTOR_CONFIGMAP : `${INJECTOR_CONFIGMAP}-${revision}`;
}

/** Injector ConfigMaps by name (any namespace; the name carries the revision). */
export function injectorConfigMaps(snapshot: SnapshotReader): Map<string, KubeObject> {
  return memo(snapshot, 'injector.configMaps', () => {
    const out = new Map<string, KubeObject>();
    for (const cm of snapshot.listOf(gvk.ConfigMap))
      if (cm.metadata.name.startsWith(INJECTOR_CONFIGMAP)) out.set(cm.metadata.name, cm);
    return out;
  });
}

export function injectorValues(cm: KubeObject): Rec | undefined {
  const raw = rec(cm['data'])['values'];
  if (typeof raw !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    return isRec(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The proxy image the injector would use (Istio's GetIstioProxyImage): `global.proxy.image` if it contains a `/`,
 * else `<hub>/<image>:<tag>`. As Go's json.Unmarshal into Istio's struct: a `values` that is not JSON, or whose
 * `global`, `global.proxy`, `hub`, `tag` or `proxy.image` has another type than Istio's fields, gives ''.
 */
export function injectorProxyImage(cm: KubeObject): string {
  const raw = rec(cm['data'])['values'];
  if (typeof raw !== 'string') return '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return '';
  }
  const object = (v: unknown): Rec | undefined => (v === null || v === undefined ? {} : isRec(v) ? v : undefined);
  const text = (v: unknown): string | undefined =>
    v === null || v === undefined ? '' : typeof v === 'string' ? v : undefined;
  const values = object(parsed);
  const global = values && object(values['global']);
  const proxy = global && object(global['proxy']);
  if (!global || !proxy) return '';
  const hub = text(global['hub']);
  const tag = text(global['tag']);
  const image = text(proxy['image']);
  if (hub === undefined || tag === undefined || image === undefined) return '';
  if (image.includes('/')) return image;
  return `${hub}/${image}:${tag}`;
}

export function enableNamespacesByDefault(cm: KubeObject): boolean {
  return rec(injectorValues(cm)?.['sidecarInjectorWebhook'])['enableNamespacesByDefault'] === true;
}
