// The sandbox's Endpoints controller: for every Service with a selector, an Endpoints object listing
// the matching pods that have an IP (ready ones under addresses, the others under notReadyAddresses),
// with named target ports resolved against the first pod's container ports.
import type { KubeObject } from '../kube/objects.ts';
import { type ControllerContext, isReady, type PodStatus } from './controller-context.ts';
import { clone, deepEqual } from './patch.ts';
import { selectorObjectMatches } from './selectors.ts';

interface ServiceSpec {
  selector?: Record<string, string>;
  ports?: { name?: string; port: number; targetPort?: number | string; protocol?: string }[];
}

type ContainerPorts = { containers?: { ports?: { name?: string; containerPort: number }[] }[] };

function address(p: KubeObject) {
  return {
    ip: (p.status as PodStatus).podIP,
    nodeName: (p.spec as { nodeName?: string }).nodeName,
    targetRef: { kind: 'Pod', name: p.metadata.name, namespace: p.metadata.namespace, uid: p.metadata.uid },
  };
}

export class EndpointsController {
  private readonly ctx: ControllerContext;

  constructor(ctx: ControllerContext) {
    this.ctx = ctx;
  }

  /** One step over every Service. */
  tick(): void {
    const eprt = this.ctx.rt('endpoints');
    const podrt = this.ctx.rt('pods');
    for (const svc of this.ctx.store.scan(this.ctx.rt('services'))) {
      const spec = (svc.spec ?? {}) as ServiceSpec;
      if (!spec.selector || Object.keys(spec.selector).length === 0) continue;
      const selected = (p: KubeObject) =>
        !p.metadata.deletionTimestamp && selectorObjectMatches({ matchLabels: spec.selector }, p.metadata.labels);
      const pods = this.ctx.store
        .scan(podrt, svc.metadata.namespace)
        .filter((p) => selected(p) && (p.status as PodStatus | undefined)?.podIP);
      const ready = pods.filter(isReady).map(address);
      const notReady = pods.filter((p) => !isReady(p)).map(address);
      const firstPod = pods[0];
      const ports = (spec.ports ?? []).map((sp) => {
        let port = sp.targetPort ?? sp.port;
        if (typeof port === 'string' && firstPod) {
          const named = ((firstPod.spec as ContainerPorts).containers ?? [])
            .flatMap((c) => c.ports ?? [])
            .find((cp) => cp.name === port);
          port = named?.containerPort ?? port;
        }
        return { ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP' };
      });
      const subsets =
        ready.length || notReady.length
          ? [
              {
                ...(ready.length ? { addresses: ready } : {}),
                ...(notReady.length ? { notReadyAddresses: notReady } : {}),
                ports,
              },
            ]
          : undefined;
      const want: KubeObject = {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: {
          name: svc.metadata.name,
          namespace: svc.metadata.namespace,
          ...(svc.metadata.labels ? { labels: svc.metadata.labels } : {}),
        },
        ...(subsets ? { subsets } : {}),
      };
      const current = this.ctx.store.peek(eprt, svc.metadata.namespace, svc.metadata.name);
      if (!current) {
        this.ctx.store.create(eprt, want, { manager: 'kube-controller-manager' });
      } else if (
        !deepEqual(current.subsets, want.subsets) ||
        !deepEqual(current.metadata.labels, want.metadata.labels)
      ) {
        const next = clone(current);
        if (subsets) next.subsets = subsets;
        else delete next.subsets;
        if (want.metadata.labels) next.metadata.labels = want.metadata.labels;
        delete next.metadata.resourceVersion;
        this.ctx.store.update(eprt, next, { wholeObject: true, manager: 'kube-controller-manager' });
      }
    }
  }
}
