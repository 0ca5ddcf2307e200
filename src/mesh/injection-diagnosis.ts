// Why a pod that should have a sidecar has none. The labels say injection is on; what is really missing
// is found in order: an Istio injector webhook that selects the pod, the istiod Service and ready pods it
// calls, and only then timing (the pod created before the webhook or before the namespace label).
// Istio's injector: MutatingWebhookConfigurations whose webhooks are named *.sidecar-injector.istio.io,
// calling istiod's Service (clientConfig.service) on /inject.
import type { KubeObject } from '../kube/objects.ts';
import { selectorMatches } from './analyzers/injection/image-auto.ts';
import type { MeshSnapshot } from './snapshot.ts';

/** What describe could read of the injector webhooks: the objects, or why it could not read them. */
export type InjectorFacts = { webhooks: KubeObject[] } | { unreadable: string };

interface Hook {
  config: KubeObject;
  name: string;
  namespaceSelector: unknown;
  objectSelector: unknown;
  service?: { namespace: string; name: string };
}

function injectorHooks(webhooks: KubeObject[]): Hook[] {
  const out: Hook[] = [];
  for (const config of webhooks) {
    const hooks = Array.isArray(config.webhooks) ? (config.webhooks as Record<string, unknown>[]) : [];
    for (const h of hooks) {
      const name = typeof h.name === 'string' ? h.name : '';
      if (!name.endsWith('sidecar-injector.istio.io')) continue;
      const svc = (h.clientConfig as { service?: { namespace?: unknown; name?: unknown } } | undefined)?.service;
      out.push({
        config,
        name,
        namespaceSelector: h.namespaceSelector,
        objectSelector: h.objectSelector,
        ...(typeof svc?.name === 'string' && typeof svc.namespace === 'string'
          ? { service: { namespace: svc.namespace, name: svc.name } }
          : {}),
      });
    }
  }
  return out;
}

function ready(pod: KubeObject): boolean {
  const conditions =
    (pod.status as { conditions?: { type?: string; status?: string }[] } | undefined)?.conditions ?? [];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** When a manager last wrote a field of the namespace that owns one of these labels (managedFields), if known. */
function labelWrittenAt(ns: KubeObject | undefined, keys: string[]): number | undefined {
  const entries = (ns?.metadata.managedFields ?? []) as {
    time?: string;
    fieldsV1?: { 'f:metadata'?: { 'f:labels'?: Record<string, unknown> } };
  }[];
  let latest: number | undefined;
  for (const e of entries) {
    const owned = e.fieldsV1?.['f:metadata']?.['f:labels'] ?? {};
    if (!keys.some((k) => `f:${k}` in owned)) continue;
    const t = Date.parse(e.time ?? '');
    if (Number.isFinite(t)) latest = Math.max(latest ?? t, t);
  }
  return latest;
}

const created = (o: KubeObject | undefined): number => Date.parse(o?.metadata.creationTimestamp ?? '');

/**
 * The cause, in words, for a pod whose labels ask for injection but that runs no sidecar. `facts` is
 * undefined when the caller did not look at the webhooks at all.
 */
export function missingSidecarCause(
  snapshot: MeshSnapshot,
  pod: KubeObject,
  reason: string,
  facts: InjectorFacts | undefined,
): string {
  const ns = pod.metadata.namespace ?? 'default';
  const nsObj = snapshot.get('Namespace', undefined, ns);
  const nsLabels = { ...(nsObj?.metadata.labels ?? {}), 'kubernetes.io/metadata.name': ns };
  const podLabels = pod.metadata.labels ?? {};
  const lead = `injection is enabled for this pod (${reason}) but it has no sidecar`;
  if (!facts) return `${lead}: it may have been created before injection was enabled; restart it`;
  if ('unreadable' in facts)
    return `${lead}, and meshops could not check Istio's injector webhook (${facts.unreadable}); if a restarted pod still has none, check that Istio's sidecar-injector webhook and istiod are installed`;
  const hooks = injectorHooks(facts.webhooks);
  if (hooks.length === 0) {
    return `${lead}: the cluster has no Istio sidecar-injector webhook (no MutatingWebhookConfiguration with a *.sidecar-injector.istio.io webhook), so no pod gets a sidecar — Istio's control plane is not installed here, or was removed. Install Istio, then restart the pod`;
  }
  const selecting = hooks.filter(
    (h) => selectorMatches(h.namespaceSelector, nsLabels) && selectorMatches(h.objectSelector, podLabels),
  );
  if (selecting.length === 0) {
    const names = [...new Set(hooks.map((h) => h.config.metadata.name))].join(', ');
    return `${lead}: none of Istio's injector webhooks (${names}) selects this pod with its namespace and pod labels — a revision label naming a revision that is not installed, or selectors changed. Fix the labels or install that revision, then restart the pod`;
  }
  const hook = selecting[0] as Hook;
  if (hook.service) {
    const svc = snapshot.get('Service', hook.service.namespace, hook.service.name);
    const where = `${hook.service.namespace}/${hook.service.name}`;
    if (!svc)
      return `${lead}: the injector webhook ${hook.name} calls Service ${where}, which does not exist — istiod is not installed or was removed. Reinstall istiod, then restart the pod`;
    const selector = (svc.spec as { selector?: Record<string, string> } | undefined)?.selector;
    const backing =
      selector && Object.keys(selector).length ? snapshot.podsMatching(hook.service.namespace, selector) : [];
    if (!backing.some(ready)) {
      return `${lead}: the injector webhook ${hook.name} calls Service ${where}, and no istiod pod behind it is ready (${backing.length} pod${backing.length === 1 ? '' : 's'}), so pods are created without a sidecar (the webhook's failurePolicy lets them through) or not at all. Fix istiod first, then restart the pod`;
    }
  }
  const podAt = created(pod);
  const hookAt = created(hook.config);
  if (Number.isFinite(podAt) && Number.isFinite(hookAt) && podAt < hookAt)
    return `${lead}: it was created before Istio's injector webhook existed; restart it`;
  const labelAt = labelWrittenAt(nsObj, ['istio-injection', 'istio.io/rev']);
  if (Number.isFinite(podAt) && labelAt !== undefined && podAt < labelAt)
    return `${lead}: it is older than the namespace's injection label; restart it`;
  if (Number.isFinite(podAt)) {
    return `${lead}, although istiod is ready and the webhook ${hook.name} selects it now: it was not injected when it was created (istiod unreachable then, or labels changed since). Restart it; if the new pod has no sidecar either, read istiod's log and the webhook's failurePolicy`;
  }
  return `${lead}: it may have been created before injection was enabled; restart it`;
}
