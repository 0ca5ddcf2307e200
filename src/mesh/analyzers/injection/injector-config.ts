// The sidecar injector's settings as istiod reads them from the `istio-sidecar-injector[-<revision>]`
// ConfigMap's `values` key (JSON Helm values).
import type { KubeObject } from '../../../kube/objects.ts';
import type { SnapshotReader } from '../../snapshot.ts';
import { isRec, memo, rec, str } from '../util/fields.ts';
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

/** The proxy image the injector would use: `global.proxy.image` if it has a registry, else hub/image:tag. */
export function injectorProxyImage(cm: KubeObject): string {
  const values = injectorValues(cm);
  if (!values) return '';
  const global = rec(values['global']);
  const image = str(rec(global['proxy'])['image']);
  if (image.includes('/')) return image;
  return `${str(global['hub'])}/${image}:${str(global['tag'])}`;
}

export function enableNamespacesByDefault(cm: KubeObject): boolean {
  return rec(injectorValues(cm)?.['sidecarInjectorWebhook'])['enableNamespacesByDefault'] === true;
}
