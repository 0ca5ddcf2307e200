// Builds a MeshSnapshot from the live cluster: one list per kind, cluster-wide, in parallel. Requests
// do not grow with the number of pods or namespaces. Given analyzer inputs, it lists exactly those kinds
// and records which it could not (not served, not permitted, or never read: Secrets, for least privilege,
// see docs/security.md), so that analyzers needing them are skipped and the answer says why.
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type KubeClient, KubeApiError } from '../kube/client.ts';
import { ISTIO_CONFIG_KINDS, KINDS } from '../kube/kinds.ts';
import { cachedGet, cachedList } from '../kube/watch-cache.ts';
import type { KubeObject } from '../kube/objects.ts';
import { type KindRef, type MeshConfig, MeshSnapshot, type MissingKind, kindRefKey } from './snapshot.ts';
import { ISTIO_DEFAULT_MESH_CONFIG, meshConfigFrom } from './mesh-config.ts';

export const SNAPSHOT_KINDS = [
  'Namespace',
  'Pod',
  'Service',
  'Deployment',
  'ReplicaSet',
  ...ISTIO_CONFIG_KINDS,
] as const;

export interface LiveSnapshotOptions {
  istioNamespace?: string;
  /** Extra objects layered on top (e.g. pasted YAML "as if applied"): same kind/namespace/name replaces. */
  overlay?: readonly KubeObject[];
  kinds?: readonly string[];
  /**
   * The kinds analyzers read (see analysisInputs()): listed instead of `kinds`, each by its group; what could
   * not be listed is recorded in the snapshot's coverage rather than thrown.
   */
  inputs?: readonly KindRef[];
}

/** Kinds meshops never reads, whoever asks: its RBAC grants no Secrets anywhere. */
export const NEVER_READ: readonly KindRef[] = [{ group: '', kind: 'Secret' }];
const MESH_SETTINGS_GROUP = 'mesh.istio.io';

const meshConfigMapSchema = z.looseObject({ data: z.record(z.string(), z.string()).optional() });

/** The mesh config istiod uses: ConfigMap `istio` (key `mesh`) in the Istio namespace, over Istio's defaults. */
export async function readMeshConfig(
  kube: KubeClient,
  istioNamespace = 'istio-system',
): Promise<{ meshConfig: MeshConfig; source: string }> {
  return meshConfigOf(await cachedGet(kube, 'ConfigMap', istioNamespace, 'istio'), istioNamespace);
}

function meshConfigOf(cm: KubeObject | undefined, istioNamespace: string): { meshConfig: MeshConfig; source: string } {
  const text = cm ? meshConfigMapSchema.parse(cm).data?.mesh : undefined;
  if (!text) return { meshConfig: { ...ISTIO_DEFAULT_MESH_CONFIG }, source: "Istio's defaults (no istio ConfigMap)" };
  const source = `ConfigMap ${istioNamespace}/istio`;
  return { meshConfig: meshConfigFrom(text, source), source };
}

export async function loadLiveSnapshot(kube: KubeClient, options: LiveSnapshotOptions = {}): Promise<MeshSnapshot> {
  const istioNamespace = options.istioNamespace ?? 'istio-system';
  if (options.inputs) return loadForInputs(kube, options.inputs, istioNamespace, options.overlay);
  const kinds = options.kinds ?? SNAPSHOT_KINDS;
  const [lists, mesh] = await Promise.all([
    Promise.all(kinds.map((k) => cachedList(kube, k))),
    readMeshConfig(kube, istioNamespace),
  ]);
  return new MeshSnapshot(layer(lists.flat(), options.overlay), { meshConfig: mesh.meshConfig, istioNamespace });
}

type Listed = { ref: KindRef; objects: KubeObject[] } | { ref: KindRef; missing: MissingKind };

async function loadForInputs(
  kube: KubeClient,
  inputs: readonly KindRef[],
  istioNamespace: string,
  overlay?: readonly KubeObject[],
): Promise<MeshSnapshot> {
  const objectKinds = inputs.filter((r) => r.group !== MESH_SETTINGS_GROUP);
  const [listed, mesh] = await Promise.all([
    Promise.all(objectKinds.map((r) => listInput(kube, r))),
    readMeshSettings(kube, istioNamespace),
  ]);
  const loaded: KindRef[] = [];
  const missing: MissingKind[] = [];
  for (const l of listed) {
    if ('missing' in l) missing.push(l.missing);
    else loaded.push(l.ref);
  }
  // Mesh config is always known (Istio's defaults at worst); mesh networks are the same ConfigMap's other key.
  loaded.push({ group: MESH_SETTINGS_GROUP, kind: 'MeshConfig' }, { group: MESH_SETTINGS_GROUP, kind: 'MeshNetworks' });
  const objects = listed.flatMap((l) => ('objects' in l ? l.objects : []));
  return new MeshSnapshot(layer(objects, overlay), {
    meshConfig: mesh.meshConfig,
    istioNamespace,
    ...(mesh.meshNetworks ? { meshNetworks: mesh.meshNetworks } : {}),
    coverage: { loaded, missing },
  });
}

/** One kind, cluster-wide; or why not. Errors other than a refusal (403) are the cluster's problem and are thrown. */
async function listInput(kube: KubeClient, ref: KindRef): Promise<Listed> {
  const key = kindRefKey(ref);
  if (NEVER_READ.some((r) => kindRefKey(r) === key)) return { ref, missing: { ref, reason: 'not-read' } };
  if (!KINDS.some((k) => k.kind === ref.kind && k.group === ref.group))
    return { ref, missing: { ref, reason: 'unsupported' } };
  if (!(await kube.servedApiVersion(ref.kind))) return { ref, missing: { ref, reason: 'not-served' } };
  try {
    return { ref, objects: await cachedList(kube, ref.kind) };
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 403)
      return { ref, missing: { ref, reason: 'forbidden', detail: err.message } };
    throw err;
  }
}

/** Mesh config and, when the istio ConfigMap has them, mesh networks (its `meshNetworks` key): one GET. */
async function readMeshSettings(
  kube: KubeClient,
  istioNamespace: string,
): Promise<{ meshConfig: MeshConfig; meshNetworks?: Record<string, unknown> }> {
  const cm = await cachedGet(kube, 'ConfigMap', istioNamespace, 'istio');
  const { meshConfig } = meshConfigOf(cm, istioNamespace);
  const text = cm ? meshConfigMapSchema.parse(cm).data?.meshNetworks : undefined;
  const parsed: unknown = text ? parseYaml(text) : undefined;
  const meshNetworks =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  return meshNetworks ? { meshConfig, meshNetworks } : { meshConfig };
}

/** Extra objects on top (e.g. pasted YAML "as if applied"): the same kind/namespace/name replaces. */
function layer(objects: KubeObject[], overlay?: readonly KubeObject[]): KubeObject[] {
  if (!overlay?.length) return objects;
  const key = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  const replaced = new Set(overlay.map(key));
  return [...objects.filter((o) => !replaced.has(key(o))), ...overlay];
}
