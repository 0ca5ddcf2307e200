// The sandbox's stand-ins for kube-controller-manager and the kubelet, run one step per tick, in
// this order: the namespace controller (namespace-controller.ts), the default ServiceAccount per
// namespace (serviceaccount-controller.ts), the Deployment controller (deployment-controller.ts:
// new ReplicaSet per pod-template hash, one-at-a-time rolling replacement, status and conditions as
// kubectl rollout status reads them, ScalingReplicaSet events), the ReplicaSet controller
// (replicaset-controller.ts: pods with ownerReferences, `<rs>-<5 chars>` names), a kubelet that
// starts pods (kubelet.ts; or keeps them failing when the template says
// `sandbox.meshops.dev/fail-start: <reason>`) and the Endpoints controller (endpoints-controller.ts).
import { ControllerContext, type ControllerOptions } from './controller-context.ts';
import { DeploymentController } from './deployment-controller.ts';
import { EndpointsController } from './endpoints-controller.ts';
import { Kubelet } from './kubelet.ts';
import { NamespaceController } from './namespace-controller.ts';
import { ReplicaSetController } from './replicaset-controller.ts';
import { ServiceAccountController } from './serviceaccount-controller.ts';
import type { SandboxStore } from './store.ts';

export type { ControllerOptions } from './controller-context.ts';
export { podTemplateHash } from './deployment-controller.ts';
export { FAIL_START_ANNOTATION } from './kubelet.ts';

export class Controllers {
  private readonly ctx: ControllerContext;
  private timer: NodeJS.Timeout | undefined;
  private readonly namespaceController: NamespaceController;
  private readonly serviceAccounts: ServiceAccountController;
  private readonly deployments: DeploymentController;
  private readonly replicaSets: ReplicaSetController;
  private readonly kubelet: Kubelet;
  private readonly endpoints: EndpointsController;

  constructor(store: SandboxStore, opts: ControllerOptions) {
    this.ctx = new ControllerContext(store, opts);
    this.namespaceController = new NamespaceController(store, opts.namespaceLagMs ?? 1500);
    this.serviceAccounts = new ServiceAccountController(this.ctx);
    this.deployments = new DeploymentController(this.ctx);
    this.replicaSets = new ReplicaSetController(this.ctx);
    this.kubelet = new Kubelet(this.ctx);
    this.endpoints = new EndpointsController(this.ctx);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      try {
        this.tick();
      } catch {
        // A controller error must not kill the server; the next tick retries from stored state.
      }
    }, this.ctx.opts.stepMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Tick until a tick changes nothing (a stuck rollout stops changing too), at most maxTicks. */
  settle(maxTicks = 100): void {
    this.ctx.settling = true;
    try {
      for (let i = 0; i < maxTicks; i++) if (!this.tick()) return;
    } finally {
      this.ctx.settling = false;
    }
  }

  /** One step of every controller; true when anything was written. */
  tick(): boolean {
    const store = this.ctx.store;
    const before = store.resourceVersion;
    this.namespaceController.tick(this.ctx.settling);
    this.serviceAccounts.tick();
    this.deployments.tick();
    this.replicaSets.tick();
    this.kubelet.tick();
    this.endpoints.tick();
    return store.resourceVersion !== before;
  }
}
