// How a finding names the Kubernetes object it is about: kind, namespace and name, and those in words.
import type { KubeObject } from '../kube/objects.ts';

export interface ObjectRef {
  kind: string;
  namespace: string;
  name: string;
}

export function refOf(obj: KubeObject): ObjectRef {
  return { kind: obj.kind, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name };
}

export function refText(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}
