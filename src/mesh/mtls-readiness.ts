// Is a namespace ready for a STRICT PeerAuthentication? The model behind `/mesh mtls <namespace>`:
// effective mode per workload and port, DestinationRules whose TLS settings override auto-mTLS
// toward the namespace's hosts, pods without a sidecar, plaintext callers seen in metrics, and a
// verdict with its reasons.
import { count, countRequests, verb } from '../blocks/count.ts';
import type { KubeObject } from '../kube/objects.ts';
import type { MeshSnapshot } from './snapshot.ts';
import { exportScope, hostCovers, resolveHost, serviceFqdn } from './hosts.ts';
import { destinationRuleSpecSchema, parseField, podSpecSchema } from './istio-specs.ts';
import type { SpecProblem, TrafficPolicy } from './istio-specs.ts';
import type { PlaintextCaller } from '../envoy/istio-metrics.ts';
import { effectivePeerAuthentication } from './peer-authentication.ts';
import type { MtlsDecider, MtlsMode, PortMtls } from './peer-authentication.ts';
import { findProxyContainer, proxyContainerName } from './sidecar-proxy.ts';
import { podPhase, refOf } from './traffic-routing.ts';
import {
  type ConfigDelivery,
  configDelivery,
  behindLines,
  type ProxyDelivery,
  type ProxySync,
  unknownWhy,
} from './workload-sync.ts';
import type { ObjectRef } from './traffic-routing.ts';

export interface WorkloadMtls {
  /** The Deployment-ish name: owner ReplicaSet without its hash, else the `app` label, else the pod name. */
  workload: string;
  pods: ObjectRef[];
  hasSidecar: boolean;
  mode: MtlsMode;
  decidedBy: MtlsDecider;
  ports: PortMtls[];
  /** A workload-level or port-level policy that a namespace-wide STRICT would not override. */
  keepsOwnPolicy?: string;
  /**
   * Its pods' proxies by whether they have the config istiod computed (absent when sync status was not read):
   * `behind` are STALE, NACKing or DISCONNECTED, so the mode shown is declared for them, not enforced.
   */
  proxies?: { total: number; behind: ProxyDelivery[]; unknown: number };
}

export interface DestinationRuleTlsOverride {
  rule: ObjectRef;
  host: string;
  tlsMode: string;
  /** Where in the rule: top level, `port 9080`, `subset v1`, `subset v1 port 9080`. */
  at: string;
  visibleTo: string;
  effect: string;
}

export interface MtlsReadiness {
  namespace: string;
  workloads: WorkloadMtls[];
  destinationRuleOverrides: DestinationRuleTlsOverride[];
  podsWithoutSidecar: ObjectRef[];
  /** Plaintext callers into this namespace; undefined when no metrics were available. */
  plaintextCallers?: PlaintextCaller[];
  /** Whether the namespace's proxies have the current config; absent when sync status was not read. */
  delivery?: ConfigDelivery;
  ready: boolean;
  verdict: 'ready' | 'not ready';
  /** Why not ready (empty when ready). */
  reasons: string[];
  /** Worth knowing, not blocking. */
  notes: string[];
}

export function workloadNameOf(pod: KubeObject): string {
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller !== false);
  if (owner?.kind === 'ReplicaSet') return owner.name.replace(/-[a-z0-9]{5,10}$/, '');
  if (owner) return owner.name;
  return pod.metadata.labels?.app ?? pod.metadata.labels?.['app.kubernetes.io/name'] ?? pod.metadata.name;
}

function tlsOverridesIn(tp: TrafficPolicy | undefined, at: string): { mode: string; at: string }[] {
  if (!tp) return [];
  const out: { mode: string; at: string }[] = [];
  if (tp.tls) out.push({ mode: tp.tls.mode ?? 'DISABLE', at });
  for (const p of tp.portLevelSettings ?? []) {
    if (p.tls)
      out.push({
        mode: p.tls.mode ?? 'DISABLE',
        at: `${at === 'top level' ? '' : `${at} `}port ${p.port?.number ?? '?'}`,
      });
  }
  return out;
}

const overrideEffect: Record<string, string> = {
  DISABLE: 'callers using this rule send plaintext; under STRICT their requests fail',
  SIMPLE: 'callers using this rule originate their own TLS instead of Istio mTLS; under STRICT their requests fail',
  MUTUAL:
    'callers using this rule present their own client certificates instead of Istio mTLS; under STRICT their requests fail',
};

/**
 * `plaintextCallers`: callers seen by the namespace's sidecars without mTLS (see istio-metrics.ts),
 * or undefined when no metrics could be read, which keeps the verdict at "not ready".
 */
export function meshTlsReadiness(
  snapshot: MeshSnapshot,
  namespace: string,
  plaintextCallers: readonly PlaintextCaller[] | undefined,
  /** Why no metrics were read, when `plaintextCallers` is undefined (said in the reason). */
  uncheckedWhy?: string,
  /** Proxy sync status (workload-sync.ts): proxies without the current config keep the verdict at not ready. */
  sync?: ProxySync,
): MtlsReadiness {
  const problems: SpecProblem[] = [];
  const reasons: string[] = [];
  const notes: string[] = [];

  const groups = new Map<string, KubeObject[]>();
  for (const pod of snapshot.list('Pod', namespace)) {
    const phase = podPhase(pod);
    if (phase === 'Succeeded' || phase === 'Failed') continue;
    const name = workloadNameOf(pod);
    groups.set(name, [...(groups.get(name) ?? []), pod]);
  }

  const workloads: WorkloadMtls[] = [];
  const podsWithoutSidecar: ObjectRef[] = [];
  for (const [workload, pods] of [...groups.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const first = pods[0]!;
    const ports = new Set<number>();
    for (const pod of pods) {
      const spec = parseField(pod, podSpecSchema);
      for (const c of spec?.containers ?? [])
        if (c.name !== proxyContainerName) for (const p of c.ports ?? []) ports.add(p.containerPort);
    }
    const pa = effectivePeerAuthentication(snapshot, namespace, first.metadata.labels, [...ports], problems);
    const withoutSidecar = pods.filter((p) => !findProxyContainer(p));
    podsWithoutSidecar.push(...withoutSidecar.map(refOf));
    const workloadPolicy = pa.applied.find((a) => a.level === 'workload');
    let keepsOwnPolicy: string | undefined;
    const portOverrides = pa.ports.filter((p) => p.decidedBy.level === 'port' && p.mode !== 'STRICT');
    if (workloadPolicy && workloadPolicy.mode !== 'STRICT' && workloadPolicy.mode !== 'UNSET') {
      keepsOwnPolicy = `PeerAuthentication ${workloadPolicy.policy.namespace}/${workloadPolicy.policy.name} sets ${workloadPolicy.mode} for this workload and would stay in force under a namespace-wide STRICT`;
    } else if (portOverrides.length) {
      keepsOwnPolicy = `port-level ${portOverrides.map((p) => `${p.port}: ${p.mode}`).join(', ')} would stay in force under a namespace-wide STRICT`;
    }
    if (keepsOwnPolicy) notes.push(`${workload}: ${keepsOwnPolicy}.`);
    const delivered = sync ? configDelivery(sync, pods) : undefined;
    workloads.push({
      workload,
      pods: pods.map(refOf),
      hasSidecar: withoutSidecar.length === 0,
      mode: pa.workloadMode,
      decidedBy: pa.decidedBy,
      ports: pa.ports,
      keepsOwnPolicy,
      ...(delivered
        ? {
            proxies: {
              total: delivered.proxies.length,
              behind: delivered.behind,
              unknown: delivered.unknown.length,
            },
          }
        : {}),
    });
  }
  if (podsWithoutSidecar.length) {
    reasons.push(
      `${count(podsWithoutSidecar.length, 'pod')} ${verb(podsWithoutSidecar.length, 'has')} no sidecar (${podsWithoutSidecar.map((p) => p.name).join(', ')}): ${podsWithoutSidecar.length === 1 ? 'it sends' : 'they send'} plaintext, which STRICT rejects, and cannot present a mesh identity.`,
    );
  }

  // DestinationRules anywhere that steer callers away from Istio mTLS for this namespace's hosts.
  const destinationRuleOverrides: DestinationRuleTlsOverride[] = [];
  const hosts = snapshot.list('Service', namespace).map((s) => serviceFqdn(s.metadata.name, namespace));
  for (const dr of snapshot.list('DestinationRule')) {
    const spec = parseField(dr, destinationRuleSpecSchema, problems);
    if (!spec) continue;
    const drNs = dr.metadata.namespace ?? '';
    const host = resolveHost(spec.host, drNs);
    const covered = hosts.filter((h) => hostCovers(host, h));
    if (covered.length === 0) continue;
    const found = [
      ...tlsOverridesIn(spec.trafficPolicy, 'top level'),
      ...(spec.subsets ?? []).flatMap((s) => tlsOverridesIn(s.trafficPolicy, `subset ${s.name}`)),
    ].filter((o) => o.mode !== 'ISTIO_MUTUAL');
    for (const o of found) {
      destinationRuleOverrides.push({
        rule: refOf(dr),
        host: spec.host,
        tlsMode: o.mode,
        at: o.at,
        visibleTo: exportScope(spec.exportTo, drNs).text,
        effect: overrideEffect[o.mode] ?? `tls.mode ${o.mode} replaces Istio mTLS`,
      });
    }
  }
  for (const o of destinationRuleOverrides) {
    reasons.push(
      `DestinationRule ${o.rule.namespace}/${o.rule.name} sets tls.mode ${o.tlsMode} for ${o.host} (${o.at}): ${o.effect}.`,
    );
  }

  // Declared is not enforced: a proxy that never got the current config would not get STRICT either.
  const delivery = sync ? configDelivery(sync, [...groups.values()].flat()) : undefined;
  if (delivery?.behind.length) {
    reasons.push(
      `${count(delivery.behind.length, 'proxy')} ${verb(delivery.behind.length, 'does')} not have the current config, so the modes below are declared, not enforced, for ${delivery.behind.length === 1 ? 'it' : 'them'}, and STRICT would not reach ${delivery.behind.length === 1 ? 'it' : 'them'} until ${delivery.behind.length === 1 ? 'it resyncs' : 'they resync'} (\`/mesh stale ${namespace}\` says why): ${behindLines(delivery).join('; ')}.`,
    );
  }
  const unknown = delivery ? unknownWhy(delivery) : undefined;
  if (delivery && unknown)
    notes.push(
      `Whether ${count(delivery.unknown.length, 'proxy')} ${verb(delivery.unknown.length, 'has')} the current config is not known: ${unknown}.`,
    );

  let callers: PlaintextCaller[] | undefined;
  if (plaintextCallers === undefined) {
    reasons.push(
      `${uncheckedWhy ? `Plaintext callers could not be checked: ${uncheckedWhy}` : 'No metrics were read'}, so plaintext callers cannot be ruled out.`,
    );
  } else {
    callers = plaintextCallers.filter((c) => c.destinationNamespace === namespace);
    for (const c of callers) {
      const volume = [
        c.requests ? countRequests(c.requests, c.byResponseCode) : '',
        c.tcpConnections ? count(c.tcpConnections, 'TCP connection') : '',
      ]
        .filter(Boolean)
        .join(', ');
      reasons.push(
        `${c.source} called ${c.destinationWorkload} in plaintext, ${volume}${c.hasSidecar ? ', although it has a sidecar: check its DestinationRule or port exclusions' : ': it has no sidecar'}.`,
      );
    }
  }
  if (workloads.length === 0) notes.push(`Namespace ${namespace} has no pods.`);
  if (
    workloads.length > 0 &&
    workloads.every((w) => w.mode === 'STRICT' && w.ports.every((p) => p.mode === 'STRICT'))
  ) {
    notes.push('Every workload already runs STRICT.');
  }
  for (const p of problems) notes.push(`${p.object}: ${p.problem}`);
  const ready = reasons.length === 0;
  return {
    namespace,
    workloads,
    destinationRuleOverrides,
    podsWithoutSidecar,
    plaintextCallers: callers,
    ...(delivery ? { delivery } : {}),
    ready,
    verdict: ready ? 'ready' : 'not ready',
    reasons,
    notes: [...new Set(notes)],
  };
}
