// The sandbox's ServiceAccount controller: every namespace that is not terminating gets its
// `default` ServiceAccount.
import type { ControllerContext } from './controller-context.ts';

export class ServiceAccountController {
  private readonly ctx: ControllerContext;

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
  }

  /** One step over every namespace. */
  tick(): void {
    const sa = this.ctx.rt('serviceaccounts');
    for (const ns of this.ctx.store.scan(this.ctx.rt('namespaces'))) {
      if (ns.metadata.deletionTimestamp) continue;
      if (!this.ctx.store.peek(sa, ns.metadata.name, 'default')) {
        this.ctx.store.create(sa, {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: { name: 'default', namespace: ns.metadata.name },
        });
      }
    }
  }
}
