// Kinds that share a name across API groups (Istio's Gateway and the Kubernetes Gateway API's Gateway)
// must not be mixed up; the snapshot indexes by kind alone, so these views split by group.
import type { KubeObject } from '../../../kube/objects.ts';
import { groupOf } from '../../../kube/objects.ts';
import type { MeshSnapshot } from '../../snapshot.ts';
import { memo } from './fields.ts';

export const ISTIO_NETWORKING = 'networking.istio.io';
export const GATEWAY_API = 'gateway.networking.k8s.io';

export interface KindView {
  list: readonly KubeObject[];
  get(namespace: string, name: string): KubeObject | undefined;
}

export function kindInGroup(snapshot: MeshSnapshot, kind: string, group: string): KindView {
  return memo(snapshot, `kinds.${group}/${kind}`, () => {
    const list = snapshot.list(kind).filter((o) => groupOf(o.apiVersion) === group);
    const byName = new Map<string, KubeObject>();
    for (const o of list) byName.set(`${o.metadata.namespace ?? ''}/${o.metadata.name}`, o);
    return { list, get: (namespace: string, name: string) => byName.get(`${namespace}/${name}`) };
  });
}

/** Istio networking Gateways (not Gateway API ones). */
export function istioGateways(snapshot: MeshSnapshot): KindView {
  return kindInGroup(snapshot, 'Gateway', ISTIO_NETWORKING);
}

export function gatewayApiGateways(snapshot: MeshSnapshot): KindView {
  return kindInGroup(snapshot, 'Gateway', GATEWAY_API);
}
