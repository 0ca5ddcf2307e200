// The kube-controller-manager's root-ca-cert-publisher: every namespace that is not terminating holds
// a ConfigMap kube-root-ca.crt with the cluster CA (`ca.crt`), recreated when deleted and restored
// when changed. Pods' projected service-account volumes read it.
import type { KubeObject } from '../kube/objects.ts';
import type { SandboxStore, StoreEvent } from './store.ts';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

export class RootCaPublisher {
  private readonly store: SandboxStore;
  private readonly caPem: string;
  private unsubscribe: (() => void) | undefined;
  private readonly pending = new Set<string>();

  constructor(store: SandboxStore, caPem: string) {
    this.store = store;
    this.caPem = caPem;
  }

  /** Publish into every namespace now, then follow namespace and ConfigMap events. */
  start(): void {
    if (this.unsubscribe) return;
    for (const ns of this.store.scan(this.store.resourceType('namespaces'))) this.reconcile(ns.metadata.name);
    this.unsubscribe = this.store.subscribe((e) => this.onEvent(e));
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private onEvent(e: StoreEvent): void {
    let ns: string | undefined;
    if (e.rt.group === '' && e.rt.plural === 'namespaces' && e.type !== 'DELETED') ns = e.object.metadata.name;
    else if (e.rt.group === '' && e.rt.plural === 'configmaps' && e.object.metadata.name === ROOT_CA_CONFIGMAP)
      ns = e.object.metadata.namespace;
    if (ns === undefined || this.pending.has(ns)) return;
    // After the write that triggered us has finished (as the real controller works from its queue).
    this.pending.add(ns);
    queueMicrotask(() => {
      this.pending.delete(ns);
      try {
        this.reconcile(ns);
      } catch {
        // The namespace went away in between; the next event retries.
      }
    });
  }

  private reconcile(namespace: string): void {
    const nsObj = this.store.peek(this.store.resourceType('namespaces'), undefined, namespace);
    if (
      !nsObj ||
      nsObj.metadata.deletionTimestamp ||
      (nsObj.status as { phase?: string } | undefined)?.phase === 'Terminating'
    )
      return;
    const rt = this.store.resourceType('configmaps');
    const current = this.store.peek(rt, namespace, ROOT_CA_CONFIGMAP);
    const data = { 'ca.crt': this.caPem };
    if (!current) {
      const cm: KubeObject = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations: { 'kubernetes.io/description': DESCRIPTION } },
        data,
      };
      this.store.create(rt, cm, { manager: 'kube-controller-manager' });
      return;
    }
    const currentData = (current as { data?: Record<string, string> }).data;
    if (
      currentData?.['ca.crt'] === this.caPem &&
      Object.keys(currentData).length === 1 &&
      current.metadata.annotations?.['kubernetes.io/description'] === DESCRIPTION
    )
      return;
    const next = {
      ...current,
      metadata: {
        ...current.metadata,
        annotations: { ...current.metadata.annotations, 'kubernetes.io/description': DESCRIPTION },
      },
      data,
    } as KubeObject;
    delete next.metadata.resourceVersion;
    this.store.update(rt, next, { manager: 'kube-controller-manager' });
  }
}
