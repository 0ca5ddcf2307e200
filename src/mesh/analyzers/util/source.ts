// Where an object came from (file, document, line), kept beside the object rather than inside it so
// live-cluster objects and YAML objects have the same shape and analyzers never see parser state.
import type { KubeObject } from '../../../kube/objects.ts';

export interface SourceInfo {
  file: string;
  /** 1-based line of the object's document (its first key). */
  line?: number;
  /** 1-based line of a field inside the object, if that field is present in the YAML. */
  lineOf(path: readonly (string | number)[]): number | undefined;
}

const sources = new WeakMap<KubeObject, SourceInfo>();

export function setSource(obj: KubeObject, info: SourceInfo): void {
  sources.set(obj, info);
}

export function sourceOf(obj: KubeObject): SourceInfo | undefined {
  return sources.get(obj);
}
