// The sandbox's ReplicaSet controller, one step per tick: pods with ownerReferences and
// `<rs>-<5 chars>` names up to spec.replicas, surplus pods removed (unready and newest first),
// SuccessfulCreate/SuccessfulDelete events, and the ReplicaSet's replica counts in its status.
import type { KubeObject } from '../kube/objects.ts';
import { randomSuffix } from './api-objects.ts';
import {
  type ControllerContext,
  controllerOwner,
  type DeploymentSpec,
  isReady,
  NODE_NAME,
  type Obj,
} from './controller-context.ts';
import { clone, deepEqual } from './patch.ts';

export class ReplicaSetController {
  private readonly ctx: ControllerContext;

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
  }

  /** One step over every ReplicaSet. */
  tick(): void {
    const rsrt = this.ctx.rt('replicasets');
    const podrt = this.ctx.rt('pods');
    for (const rs of this.ctx.store.scan(rsrt)) {
      const spec = (rs.spec ?? {}) as { replicas?: number; template?: DeploymentSpec['template'] };
      const desired = spec.replicas ?? 1;
      let pods = this.ctx.ownedBy(podrt, rs);
      if (pods.length < desired) {
        for (let i = pods.length; i < desired; i++) this.createPod(rs);
      } else if (pods.length > desired) {
        const victims = [...pods]
          .sort(
            (a, b) =>
              Number(isReady(a)) - Number(isReady(b)) ||
              String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)),
          )
          .slice(0, pods.length - desired);
        for (const v of victims) {
          this.ctx.store.remove(podrt, v.metadata.namespace, v.metadata.name);
          this.ctx.opts.logs?.forgetPod(v.metadata.namespace as string, v.metadata.name);
          this.ctx.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${v.metadata.name}`, 'replicaset-controller');
        }
      }
      pods = this.ctx.ownedBy(podrt, rs);
      const ready = pods.filter(isReady).length;
      const status: Obj = {
        replicas: pods.length,
        fullyLabeledReplicas: pods.length,
        readyReplicas: ready,
        availableReplicas: ready,
        observedGeneration: rs.metadata.generation ?? 1,
      };
      for (const k of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas'] as const)
        if (status[k] === 0) delete status[k];
      const current = this.ctx.store.peek(rsrt, rs.metadata.namespace, rs.metadata.name);
      if (!current || deepEqual(status, current.status)) continue;
      const next = clone(current);
      next.status = status;
      delete next.metadata.resourceVersion;
      this.ctx.store.update(rsrt, next, { wholeObject: true, manager: 'kube-controller-manager' });
    }
  }

  private createPod(rs: KubeObject): void {
    const template = ((rs.spec as { template?: DeploymentSpec['template'] }).template ?? {}) as NonNullable<
      DeploymentSpec['template']
    >;
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${rs.metadata.name}-${randomSuffix()}`,
        generateName: `${rs.metadata.name}-`,
        namespace: rs.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}) },
        ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
        ownerReferences: [controllerOwner('ReplicaSet', rs)],
      },
      spec: { ...clone(template.spec ?? {}), ...(this.ctx.opts.nodes !== false ? { nodeName: NODE_NAME } : {}) },
    };
    const created = this.ctx.store.create(this.ctx.rt('pods'), pod, { manager: 'kube-controller-manager' });
    this.ctx.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`, 'replicaset-controller');
  }
}
