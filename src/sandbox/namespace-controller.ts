// The namespace controller's part of namespace deletion: a namespace the API marked Terminating
// (deletionTimestamp, spec.finalizers [kubernetes]) keeps refusing new objects while the controller,
// after a lag like a real controller's, deletes everything in it; once it is empty the controller
// drops the `kubernetes` finalizer and the namespace leaves storage.
import type { KubeObject } from '../kube/objects.ts';
import { clone } from './patch.ts';
import type { SandboxStore } from './store.ts';

export class NamespaceController {
  private readonly store: SandboxStore;
  /** How long a Terminating namespace waits before the controller starts on it (wall-clock ms). */
  private readonly lagMs: number;
  /** When the controller first saw each terminating namespace (by uid). */
  private readonly seen = new Map<string, number>();

  constructor(store: SandboxStore, lagMs: number) {
    this.store = store;
    this.lagMs = lagMs;
  }

  private contents(namespace: string): { rt: ReturnType<SandboxStore['resourceType']>; obj: KubeObject }[] {
    const out: { rt: ReturnType<SandboxStore['resourceType']>; obj: KubeObject }[] = [];
    for (const rt of this.store.registry.all()) {
      if (!rt.namespaced) continue;
      for (const obj of this.store.scan(rt, namespace)) out.push({ rt, obj });
    }
    return out;
  }

  /** One pass; `immediate` skips the lag (settling a seeded cluster). True when anything was written. */
  tick(immediate = false): boolean {
    const nsrt = this.store.resourceType('namespaces');
    let wrote = false;
    const live = new Set<string>();
    for (const ns of this.store.scan(nsrt)) {
      if (!ns.metadata.deletionTimestamp) continue;
      const uid = ns.metadata.uid ?? ns.metadata.name;
      live.add(uid);
      const first = this.seen.get(uid) ?? Date.now();
      this.seen.set(uid, first);
      if (!immediate && Date.now() - first < this.lagMs) continue;
      const left = this.contents(ns.metadata.name);
      if (left.length > 0) {
        for (const { rt, obj } of left) {
          if (this.store.peek(rt, obj.metadata.namespace, obj.metadata.name))
            this.store.remove(rt, obj.metadata.namespace, obj.metadata.name, { propagationPolicy: 'Orphan' });
        }
        wrote = true;
        continue;
      }
      // Empty: finalize (spec.finalizers emptied), then the namespace goes.
      const spec = (ns.spec ?? {}) as { finalizers?: string[] };
      if ((spec.finalizers ?? []).length > 0 || (ns.metadata.finalizers ?? []).length > 0) {
        const next = clone(ns);
        next.spec = { ...spec, finalizers: [] };
        delete next.metadata.finalizers;
        delete next.metadata.resourceVersion;
        this.store.update(nsrt, next, { wholeObject: true, manager: 'kube-controller-manager' });
      }
      this.store.remove(nsrt, undefined, ns.metadata.name);
      this.seen.delete(uid);
      wrote = true;
    }
    for (const uid of this.seen.keys()) if (!live.has(uid)) this.seen.delete(uid);
    return wrote;
  }
}
