// Builds a MeshSnapshot from the live cluster: one list per kind, cluster-wide, in parallel. Requests
// do not grow with the number of pods or namespaces. Secrets are never read: least privilege (see
// docs/security.md), so analyzers that need them say what they could not check.
import { z } from 'zod';
import type { KubeClient } from '../kube/client.ts';
import { ISTIO_CONFIG_KINDS } from '../kube/kinds.ts';
import type { KubeObject } from '../kube/objects.ts';
import { type MeshConfig, MeshSnapshot } from './snapshot.ts';
import { ISTIO_DEFAULT_MESH_CONFIG, meshConfigFrom } from './mesh-config.ts';

export const SNAPSHOT_KINDS = ['Namespace', 'Pod', 'Service', 'Deployment', 'ReplicaSet', ...ISTIO_CONFIG_KINDS] as const;

export interface LiveSnapshotOptions {
  istioNamespace?: string;
  /** Extra objects layered on top (e.g. pasted YAML "as if applied"): same kind/namespace/name replaces. */
  overlay?: readonly KubeObject[];
  kinds?: readonly string[];
}

const meshConfigMapSchema = z.looseObject({ data: z.record(z.string(), z.string()).optional() });

/** The mesh config istiod uses: ConfigMap `istio` (key `mesh`) in the Istio namespace, over Istio's defaults. */
export async function readMeshConfig(kube: KubeClient, istioNamespace = 'istio-system'): Promise<{ meshConfig: MeshConfig; source: string }> {
  const cm = await kube.get('ConfigMap', istioNamespace, 'istio');
  const text = cm ? meshConfigMapSchema.parse(cm).data?.mesh : undefined;
  if (!text) return { meshConfig: { ...ISTIO_DEFAULT_MESH_CONFIG }, source: "Istio's defaults (no istio ConfigMap)" };
  const source = `ConfigMap ${istioNamespace}/istio`;
  return { meshConfig: meshConfigFrom(text, source), source };
}

export async function loadLiveSnapshot(kube: KubeClient, options: LiveSnapshotOptions = {}): Promise<MeshSnapshot> {
  const istioNamespace = options.istioNamespace ?? 'istio-system';
  const kinds = options.kinds ?? SNAPSHOT_KINDS;
  const [lists, mesh] = await Promise.all([Promise.all(kinds.map((k) => kube.list(k))), readMeshConfig(kube, istioNamespace)]);
  let objects = lists.flat();
  if (options.overlay?.length) {
    const key = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const replaced = new Set(options.overlay.map(key));
    objects = [...objects.filter((o) => !replaced.has(key(o))), ...options.overlay];
  }
  return new MeshSnapshot(objects, { meshConfig: mesh.meshConfig, istioNamespace });
}
