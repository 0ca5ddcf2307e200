// The effective PeerAuthentication for a workload, resolved the way istiod composes it
// (pilot/pkg/security/authn ComposePeerAuthentication):
//   * candidates: policies in the root namespace without selector (mesh level), policies in the
//     workload's namespace without selector (namespace level), and policies in the workload's
//     namespace whose selector matches (workload level). Root-namespace policies with a selector
//     are ignored for sidecars.
//   * per level, the oldest policy wins (creationTimestamp, then name).
//   * mesh → namespace → workload, each level overriding the one above unless its mode is UNSET;
//     no policy at all means PERMISSIVE.
//   * portLevelMtls only counts on the workload-level policy; its keys are the workload's target
//     ports; an UNSET port inherits the workload's mode.
import type { KubeObject } from '../kube/objects.ts';
import { matchesLabels } from '../kube/objects.ts';
import type { MeshSnapshot } from './snapshot.ts';
import { parseField, peerAuthenticationSpecSchema } from './istio-specs.ts';
import type { PeerAuthenticationSpec, SpecProblem } from './istio-specs.ts';
import { refOf, refText } from './traffic-routing.ts';
import type { ObjectRef } from './traffic-routing.ts';

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';
export type PaLevel = 'default' | 'mesh' | 'namespace' | 'workload' | 'port';

export interface MtlsDecider {
  level: PaLevel;
  /** The PeerAuthentication that set the mode; absent for Istio's default. */
  policy?: ObjectRef;
  /** For people: "PeerAuthentication istio-system/default (mesh-wide)". */
  text: string;
}

export interface PortMtls {
  port: number;
  mode: MtlsMode;
  decidedBy: MtlsDecider;
}

export interface EffectivePeerAuthentication {
  workloadMode: MtlsMode;
  decidedBy: MtlsDecider;
  /** One entry per port asked about plus every port named in portLevelMtls. */
  ports: PortMtls[];
  /** The policies selected per level (the winners), mesh first. */
  applied: { level: 'mesh' | 'namespace' | 'workload'; policy: ObjectRef; mode: string }[];
  /** Policies that match but lose or do not count, and why. */
  ignored: { policy: ObjectRef; why: string }[];
}

interface Candidate {
  obj: KubeObject;
  spec: PeerAuthenticationSpec;
}

const levelWords: Record<PaLevel, string> = {
  default: "Istio's default (no PeerAuthentication applies)",
  mesh: 'mesh-wide',
  namespace: 'namespace-wide',
  workload: 'workload selector',
  port: 'port-level',
};

function decider(level: PaLevel, obj?: KubeObject, extra = ''): MtlsDecider {
  if (!obj) return { level, text: levelWords[level] };
  const policy = refOf(obj);
  return { level, policy, text: `${refText(policy)} (${levelWords[level]}${extra})` };
}

function olderFirst(a: KubeObject, b: KubeObject): number {
  const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
  if (ta !== tb) return ta - tb;
  return a.metadata.name.localeCompare(b.metadata.name);
}

function modeOf(mode: string | undefined): MtlsMode | undefined {
  if (mode === 'STRICT' || mode === 'PERMISSIVE' || mode === 'DISABLE') return mode;
  return undefined; // UNSET or absent: inherit
}

function hasSelector(spec: PeerAuthenticationSpec): boolean {
  return Object.keys(spec.selector?.matchLabels ?? {}).length > 0;
}

/**
 * Resolve the effective mTLS mode for a workload in `namespace` with `labels`, for `ports` (the
 * workload's target ports). `rootNamespace` is meshConfig.rootNamespace (istio-system by default).
 */
export function effectivePeerAuthentication(
  snapshot: MeshSnapshot,
  namespace: string,
  labels: Record<string, string> | undefined,
  ports: readonly number[],
  problems: SpecProblem[] = [],
): EffectivePeerAuthentication {
  const rootNamespace = snapshot.meshConfig.rootNamespace ?? 'istio-system';
  const ignored: EffectivePeerAuthentication['ignored'] = [];
  const levels: Record<'mesh' | 'namespace' | 'workload', Candidate[]> = { mesh: [], namespace: [], workload: [] };

  const namespaces = namespace === rootNamespace ? [rootNamespace] : [rootNamespace, namespace];
  for (const ns of namespaces) {
    for (const obj of snapshot.list('PeerAuthentication', ns)) {
      const spec = parseField(obj, peerAuthenticationSpecSchema, problems);
      if (!spec) continue;
      if (!hasSelector(spec)) {
        levels[ns === rootNamespace ? 'mesh' : 'namespace'].push({ obj, spec });
      } else if (ns === rootNamespace) {
        // istiod ignores selector policies in the root namespace for sidecars (they are not mesh-wide).
        if (matchesLabels(spec.selector?.matchLabels, labels)) {
          ignored.push({
            policy: refOf(obj),
            why: 'has a selector in the root namespace; Istio ignores such policies',
          });
        }
      } else if (matchesLabels(spec.selector?.matchLabels, labels)) {
        levels.workload.push({ obj, spec });
      }
    }
  }

  const winners: Partial<Record<'mesh' | 'namespace' | 'workload', Candidate>> = {};
  for (const level of ['mesh', 'namespace', 'workload'] as const) {
    const sorted = [...levels[level]].sort((a, b) => olderFirst(a.obj, b.obj));
    winners[level] = sorted[0];
    for (const loser of sorted.slice(1)) {
      ignored.push({
        policy: refOf(loser.obj),
        why: `another ${levelWords[level]} policy, ${sorted[0]!.obj.metadata.name}, is older and wins`,
      });
    }
  }
  // portLevelMtls outside a workload-level policy does nothing (Istio's validation rejects it, too).
  for (const level of ['mesh', 'namespace'] as const) {
    const w = winners[level];
    if (w && Object.keys(w.spec.portLevelMtls ?? {}).length > 0) {
      ignored.push({
        policy: refOf(w.obj),
        why: 'portLevelMtls is only honoured on a policy with a workload selector',
      });
    }
  }

  let workloadMode: MtlsMode = 'PERMISSIVE';
  let decidedBy = decider('default');
  const applied: EffectivePeerAuthentication['applied'] = [];
  for (const level of ['mesh', 'namespace', 'workload'] as const) {
    const w = winners[level];
    if (!w) continue;
    const mode = modeOf(w.spec.mtls?.mode);
    applied.push({ level, policy: refOf(w.obj), mode: mode ?? 'UNSET' });
    if (mode) {
      workloadMode = mode;
      decidedBy = decider(level, w.obj);
    }
  }

  const portMap = new Map<number, PortMtls>();
  for (const p of ports) portMap.set(p, { port: p, mode: workloadMode, decidedBy });
  const workload = winners.workload;
  for (const [key, value] of Object.entries(workload?.spec.portLevelMtls ?? {})) {
    const port = Number(key);
    if (!Number.isInteger(port)) continue;
    const mode = modeOf(value.mode);
    portMap.set(
      port,
      mode
        ? { port, mode, decidedBy: decider('port', workload!.obj) }
        : {
            port,
            mode: workloadMode,
            decidedBy: {
              ...decidedBy,
              text: `${decidedBy.text}; port ${port} is UNSET in ${workload!.obj.metadata.name} and inherits`,
            },
          },
    );
  }
  return {
    workloadMode,
    decidedBy,
    ports: [...portMap.values()].sort((a, b) => a.port - b.port),
    applied,
    ignored,
  };
}
