// Everything /mesh stale and /mesh status read from the cluster, in a number of API requests that
// does not grow with the mesh: one list per kind (the snapshot), one syncz per ready istiod (a
// port-forward each) and, for the diagnosis, one bounded pods/log read per istiod.
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/objects.ts';
import { loadLiveSnapshot } from '../mesh/live-snapshot.ts';
import { hasSidecar, podSpec } from '../mesh/pods.ts';
import type { MeshSnapshot } from '../mesh/snapshot.ts';
import { type IstiodAnswer, readAllIstiods, readyIstiodPods, type ReadSynczOptions } from './istiod-sync.ts';
import { type MergedSyncStatus, mergeSyncStatus, type SidecarPodRef } from './merge.ts';

/** Kinds the diagnosis needs: owners for the restart button, config for suspects and obvious causes. */
export const STALE_KINDS = [
  'Namespace',
  'Pod',
  'Service',
  'Deployment',
  'ReplicaSet',
  'VirtualService',
  'DestinationRule',
  'Gateway',
  'ServiceEntry',
  'Sidecar',
  'EnvoyFilter',
] as const;
/** The plain status view needs pods (sidecars, istiods) and namespaces only. */
export const STATUS_KINDS = ['Namespace', 'Pod'] as const;

export interface MeshSyncReadOptions {
  namespace?: string;
  istiodNamespace?: string;
  kinds?: readonly string[];
  timeoutMs?: number;
  /** Replaces the port-forward GET (tests, benches). */
  get?: ReadSynczOptions['get'];
}

export interface MeshSyncRead {
  snapshot: MeshSnapshot;
  istiodNamespace: string;
  /** Every istiod pod (ready or not), for the health line. */
  istiodPods: KubeObject[];
  /** The ones asked for syncz. */
  readyIstiods: string[];
  answers: IstiodAnswer[];
  merged: MergedSyncStatus;
}

/** Pods whose proxy should hold an ADS connection: a sidecar (or gateway proxy), Running, not being deleted. */
export function proxyPods(pods: readonly KubeObject[]): SidecarPodRef[] {
  return pods
    .filter(
      (p) =>
        !p.metadata.deletionTimestamp &&
        (p.status as { phase?: string } | undefined)?.phase === 'Running' &&
        hasSidecar(p),
    )
    .map((p) => ({ namespace: p.metadata.namespace ?? '', name: p.metadata.name }));
}

export function istiodPodsOf(snapshot: MeshSnapshot, istiodNamespace: string): KubeObject[] {
  return snapshot.list('Pod', istiodNamespace).filter((p) => p.metadata.labels?.app === 'istiod');
}

/** The container istiod logs from: `discovery` in every Istio install; else the first. */
export function istiodContainer(pod: KubeObject): string | undefined {
  const containers = podSpec(pod).containers;
  return (containers.find((c) => c.name === 'discovery') ?? containers[0])?.name;
}

export async function readMeshSync(kube: KubeClient, opts: MeshSyncReadOptions = {}): Promise<MeshSyncRead> {
  const istiodNamespace = opts.istiodNamespace ?? 'istio-system';
  const snapshot = await loadLiveSnapshot(kube, { istioNamespace: istiodNamespace, kinds: opts.kinds ?? STALE_KINDS });
  const istiodPods = istiodPodsOf(snapshot, istiodNamespace);
  const readyIstiods = readyIstiodPods(istiodPods);
  const synczOpts: ReadSynczOptions = { istiodNamespace, timeoutMs: opts.timeoutMs ?? 10_000 };
  if (opts.namespace) synczOpts.proxyNamespace = opts.namespace;
  if (opts.get) synczOpts.get = opts.get;
  const answers = await readAllIstiods(kube, readyIstiods, synczOpts);
  const merged = mergeSyncStatus(
    answers,
    proxyPods(snapshot.list('Pod')),
    opts.namespace ? { namespace: opts.namespace } : {},
  );
  return { snapshot, istiodNamespace, istiodPods, readyIstiods, answers, merged };
}
