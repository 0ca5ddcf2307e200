// A demo mesh's istiods built in one call: every proxy connected, SYNCED, to one of them
// (round-robin by proxy ID), then the scenario's faults applied (STALE LDS pushes, NACKs, proxies
// connected to no istiod).
import { cmp, type ConnectOptions, DEMO_NACK_MESSAGES, type IstiodSimOptions, TYPE_URL } from './istiod-model.ts';
import { IstiodSim } from './istiod-pod.ts';

export interface ProxyPodRef {
  namespace: string;
  name: string;
  proxyType?: 'sidecar' | 'router';
  istioVersion?: string;
}

export interface MeshSyncScenario {
  /** Istiod pod names; proxies are dealt round-robin across them (sorted by proxy ID). */
  istiods: readonly string[];
  /** Pods that run an Istio proxy. */
  pods: readonly ProxyPodRef[];
  /** Proxy IDs (`<pod>.<namespace>`) left STALE on LDS: pushed, never acknowledged. */
  staleLds?: readonly string[];
  /** Proxy IDs that NACKed a type, with Envoy's message (default: DEMO_NACK_MESSAGES for that type). */
  nack?: readonly { proxyId: string; type: 'CDS' | 'LDS'; message?: string }[];
  /** Proxy IDs with a sidecar but connected to no istiod. */
  disconnected?: readonly string[];
  /** How long ago the unacknowledged pushes went out (default 4 minutes). */
  staleForMs?: number;
  istiodOptions?: Omit<IstiodSimOptions, 'podName'>;
}

/** Builds the istiods of a demo mesh: everything synced, then the scenario's faults applied. */
export function buildMeshSync(s: MeshSyncScenario): IstiodSim[] {
  if (s.istiods.length === 0) throw new Error('a mesh needs at least one istiod');
  const sims = s.istiods.map((podName) => new IstiodSim({ ...s.istiodOptions, podName }));
  const now = s.istiodOptions?.now ?? (() => new Date());
  const disconnected = new Set(s.disconnected ?? []);
  const ids = s.pods.map((p) => ({ id: `${p.name}.${p.namespace}`, p })).sort((a, b) => cmp(a.id, b.id));
  const owner = new Map<string, IstiodSim>();
  let i = 0;
  for (const { id, p } of ids) {
    if (disconnected.has(id)) continue;
    const sim = sims[i++ % sims.length]!;
    const opts: ConnectOptions = {};
    if (p.proxyType) opts.proxyType = p.proxyType;
    if (p.istioVersion) opts.istioVersion = p.istioVersion;
    sim.connect(id, opts);
    owner.set(id, sim);
  }
  const pushedAt = new Date(now().getTime() - (s.staleForMs ?? 4 * 60_000));
  const ownerOf = (id: string): IstiodSim => {
    const sim = owner.get(id);
    if (!sim) throw new Error(`scenario names ${id}, which is not a connected proxy of this mesh`);
    return sim;
  };
  for (const id of s.staleLds ?? []) ownerOf(id).push(id, TYPE_URL.LDS, pushedAt);
  for (const n of s.nack ?? []) {
    const sim = ownerOf(n.proxyId);
    sim.push(n.proxyId, TYPE_URL[n.type], pushedAt);
    sim.nack(n.proxyId, TYPE_URL[n.type], n.message ?? DEMO_NACK_MESSAGES[n.type]);
  }
  return sims;
}
