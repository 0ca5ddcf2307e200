// A snapshot that notes every kind an analyzer reads, for the inputs test. It wraps a MeshSnapshot in a
// Proxy so that any way in is seen: group-qualified reads are noted by kind and group, the mesh settings
// as Istio's pseudo-kinds (MeshConfig, MeshNetworks), and anything else (a kind-only `list`, `objects`, ...)
// as a read that names no group, which the test refuses.
import type { KindRef, MeshSnapshot, SnapshotReader } from '../../src/mesh/snapshot.ts';
import { kindRefKey } from '../../src/mesh/snapshot.ts';
import { gvk } from '../../src/mesh/analyzers/util/kinds.ts';

export interface Recording {
  snapshot: SnapshotReader;
  /** Kinds read, as `Kind.group` (kindRefKey). */
  reads: Set<string>;
  /** Reads that name no group or go around the reader (e.g. `list('Pod')`, `objects`). */
  ungrouped: Set<string>;
}

const PASS_THROUGH = new Set(['istioNamespace', 'remoteClusters']);

export function recordReads(inner: MeshSnapshot): Recording {
  const reads = new Set<string>();
  const ungrouped = new Set<string>();
  const note = (ref: KindRef) => reads.add(kindRefKey(ref));
  const snapshot = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'listOf') return (ref: KindRef, namespace?: string) => (note(ref), target.listOf(ref, namespace));
      if (prop === 'getOf')
        return (ref: KindRef, namespace: string | undefined, name: string) => (
          note(ref), target.getOf(ref, namespace, name)
        );
      if (prop === 'meshConfig' || prop === 'rootNamespace') note(gvk.MeshConfig);
      else if (prop === 'meshNetworks') note(gvk.MeshNetworks);
      else if (typeof prop === 'string' && !PASS_THROUGH.has(prop)) ungrouped.add(prop);
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as SnapshotReader;
  return { snapshot, reads, ungrouped };
}
