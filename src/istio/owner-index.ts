// Which workload a pod belongs to, for naming what to restart.
import type { KubeObject } from '../kube/objects.ts';
import { controllerOf } from '../mesh/pods.ts';
import type { MeshSnapshot } from '../mesh/snapshot.ts';
import type { WorkloadRef } from './stale-report.ts';

/** Pod → ReplicaSet → Deployment, through controller ownerReferences in the snapshot. */
export class OwnerIndex {
  private readonly snapshot: MeshSnapshot;
  constructor(snapshot: MeshSnapshot) {
    this.snapshot = snapshot;
  }

  workloadOf(pod: KubeObject): WorkloadRef | undefined {
    const ns = pod.metadata.namespace ?? '';
    const owner = controllerOf(pod);
    if (!owner) return undefined;
    if (owner.kind === 'ReplicaSet') {
      const rs = this.snapshot.get('ReplicaSet', ns, owner.name);
      const up = rs ? controllerOf(rs) : undefined;
      if (up?.kind === 'Deployment') return { kind: 'Deployment', namespace: ns, name: up.name };
      return { kind: 'ReplicaSet', namespace: ns, name: owner.name };
    }
    return { kind: owner.kind, namespace: ns, name: owner.name };
  }
}
