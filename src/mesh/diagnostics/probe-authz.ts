// Probes and AuthorizationPolicy: is an AuthorizationPolicy or STRICT mTLS failing the kubelet's probes?
// With probe rewrite on (Istio's default) the probes go to pilot-agent on the status port, which the
// sidecar does not capture, and pilot-agent calls the app from inside the pod: they never meet mTLS or
// AuthorizationPolicy, so there is nothing to flag. Only probes that reach the app through Envoy can be
// blocked: rewrite off (annotation or injector value), or a probe added after injection (a later webhook,
// a patched pod). For those the kubelet's request is plaintext without identity from the node: STRICT on
// the port refuses it, a matching DENY or ALLOW policies that do not match it answer 403 "RBAC: access
// denied" (istio#14332). A rewritten probe whose original pilot-agent lacks (a named port the container does
// not declare) fails with 400. Corroboration: readiness conditions, Unhealthy/Killing/Evicted events,
// rbac_access_denied in the sidecar's access log.
import type { KubeObject } from '../../kube/objects.ts';
import { evaluateAuthorization } from '../authz-eval.ts';
import type { AuthzVerdict } from '../authz-eval.ts';
import { effectivePeerAuthentication } from '../peer-authentication.ts';
import type { MeshSnapshot } from '../snapshot.ts';
import { findProxyContainer } from '../sidecar-proxy.ts';
import {
  eventText,
  eventsOf,
  statusOf,
  templateAnnotationPatch,
  workloadSelector,
  workloadTarget,
} from './pod-facts.ts';
import { REWRITE_ANNOTATION, probesOf, rewriteSetting, statusPort } from './probe-facts.ts';
import type { ProbeFact, RewriteSetting } from './probe-facts.ts';
import { couldNotCheck, isUnreadable, result } from './types.ts';
import type { Confidence, DiagnosticResult, Finding, Fix, Readable } from './types.ts';

export interface ProbeAuthzInput {
  pods: readonly KubeObject[];
  /** The owning Deployment (or StatefulSet, DaemonSet): fixes patch its template or select its pods. */
  workload?: KubeObject;
  /** AuthorizationPolicies and PeerAuthentications (and the root namespace) come from here. */
  snapshot: MeshSnapshot;
  /** The injector's sidecarInjectorWebhook.rewriteAppHTTPProbe, when the caller read it. */
  rewriteAppHTTPProbe?: boolean;
  events?: Readable<readonly KubeObject[]>;
  /** istio-proxy's access log by pod name. */
  accessLogs?: Readable<Record<string, string>>;
}

const AP = { group: 'security.istio.io', kind: 'AuthorizationPolicy' };
const PA = { group: 'security.istio.io', kind: 'PeerAuthentication' };
const ISTIO_LABELS = /^(security\.istio\.io\/|service\.istio\.io\/|pod-template-hash$|controller-revision-hash$)/;

interface Blocked {
  probe: ProbeFact;
  verdict: AuthzVerdict;
  pods: KubeObject[];
}

/** Words and evidence that back a failing probe of one container up: readiness, events, access log. */
function corroborate(pods: readonly KubeObject[], container: string, paths: string[], input: ProbeAuthzInput) {
  const evidence: string[] = [];
  for (const pod of pods) {
    const status = statusOf(pod);
    const cs = status?.containerStatuses?.find((c) => c.name === container);
    if (cs?.ready === false) evidence.push(`pod ${pod.metadata.name}: container ${container} is not ready`);
    if (status?.reason === 'Evicted') evidence.push(`pod ${pod.metadata.name} was evicted: ${status.message ?? ''}`);
    if (input.events && !isUnreadable(input.events)) {
      for (const e of eventsOf(input.events, pod)) {
        const aboutIt = !e.fieldPath || e.fieldPath.includes(`{${container}}`);
        const probeEvent = e.reason === 'Unhealthy' || (e.reason === 'Killing' && /probe/i.test(e.message));
        if ((probeEvent && aboutIt) || e.reason === 'Evicted') evidence.push(eventText(e, pod));
      }
    }
    const log = input.accessLogs && !isUnreadable(input.accessLogs) ? input.accessLogs[pod.metadata.name] : undefined;
    const denied = (log ?? '')
      .split('\n')
      .filter((l) => l.includes('rbac_access_denied') && paths.some((p) => l.includes(p)));
    if (denied.length)
      evidence.push(
        `pod ${pod.metadata.name}: ${denied.length} rbac_access_denied line${denied.length === 1 ? '' : 's'} for the probe path in istio-proxy's access log, e.g. ${denied[0]!.trim().slice(0, 200)}`,
      );
  }
  return evidence;
}

function verdictFor(snapshot: MeshSnapshot, pod: KubeObject, probe: ProbeFact): AuthzVerdict {
  const ns = pod.metadata.namespace ?? 'default';
  const labels = pod.metadata.labels;
  const port = probe.port as number;
  const pa = effectivePeerAuthentication(snapshot, ns, labels, [port]).ports.find((p) => p.port === port);
  const podIP = statusOf(pod)?.podIP;
  return evaluateAuthorization(snapshot, {
    destination: { namespace: ns, labels, hasSidecar: true },
    peer: { mode: pa?.mode ?? 'PERMISSIVE', decidedBy: pa?.decidedBy.text ?? "Istio's default" },
    source: { hasSidecar: false, label: 'the kubelet' },
    facts: {
      principal: undefined,
      plaintextWhy: 'the kubelet probes in plaintext, without a sidecar',
      sourceIps: [],
      destinationIps: podIP ? [podIP] : [],
      port,
      method: probe.type === 'grpc' ? 'POST' : 'GET',
      path: probe.path,
      ...(podIP ? { host: `${podIP}:${port}` } : {}),
      protocol: 'http',
    },
  });
}

function podSelector(input: ProbeAuthzInput, pod: KubeObject): Record<string, string> {
  const fromWorkload = input.workload ? workloadSelector(input.workload) : undefined;
  if (fromWorkload) return fromWorkload;
  return Object.fromEntries(Object.entries(pod.metadata.labels ?? {}).filter(([k]) => !ISTIO_LABELS.test(k)));
}

/** An ALLOW policy for exactly these probes (their ports, paths and methods), selecting this workload only. */
export function probeAllowPolicy(input: ProbeAuthzInput, pod: KubeObject, probes: readonly ProbeFact[]): Fix {
  const ns = pod.metadata.namespace ?? 'default';
  const base = input.workload?.metadata.name ?? pod.metadata.labels?.app ?? pod.metadata.name;
  const name = `${base}-allow-kubelet-probes`;
  const groups = new Map<string, { port: number; method: string; paths: Set<string> }>();
  for (const p of probes) {
    const method = p.type === 'grpc' ? 'POST' : 'GET';
    const key = `${p.port}/${method}`;
    const g = groups.get(key) ?? { port: p.port as number, method, paths: new Set<string>() };
    if (p.path) g.paths.add(p.path.split('?')[0]!);
    groups.set(key, g);
  }
  const rules = [...groups.values()].map((g) => ({
    to: [{ operation: { ports: [String(g.port)], methods: [g.method], paths: [...g.paths].sort() } }],
  }));
  const object: KubeObject = {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace: ns },
    spec: { selector: { matchLabels: podSelector(input, pod) }, action: 'ALLOW', rules },
  };
  const what = [...groups.values()].map((g) => `${g.method} ${[...g.paths].join(', ')} on port ${g.port}`).join('; ');
  return {
    kind: 'create',
    target: { kind: 'AuthorizationPolicy', namespace: ns, name },
    object,
    why: `allows exactly the kubelet's probes (${what}) from any source to this workload only, next to the ALLOW policies already there; it cannot override a DENY policy or STRICT mTLS`,
  };
}

function rewriteFix(input: ProbeAuthzInput): Fix | undefined {
  if (!input.workload) return undefined;
  return {
    kind: 'strategic-merge-patch',
    target: workloadTarget(input.workload),
    patch: templateAnnotationPatch({ [REWRITE_ANNOTATION]: 'true' }),
    why: "turns the probe rewrite back on for new pods: the kubelet's probes then go to pilot-agent on the status port, which bypasses mTLS and AuthorizationPolicy. Takes effect on the rollout the patch starts",
  };
}

function blockedFinding(b: Blocked, rewrite: RewriteSetting, input: ProbeAuthzInput, allow?: Fix): Finding {
  const { probe, verdict } = b;
  const pod = b.pods[0] as KubeObject;
  const why = rewrite.on
    ? `it was not rewritten although rewrite is on (${rewrite.from}): it was added after injection (a later webhook or a patched pod), or the pod was injected by another template`
    : `the probe rewrite is off (${rewrite.from})`;
  const support = corroborate(b.pods, probe.container, probe.path ? [probe.path] : [], input);
  const denied = verdict.decision === 'DENIED';
  const confidence: Confidence = denied ? (support.length ? 'high' : 'medium') : support.length ? 'medium' : 'low';
  const allowFix = verdict.stage === 'default-deny' ? allow : undefined;
  const reFix = rewrite.on ? undefined : rewriteFix(input);
  const fixes = [reFix, allowFix].filter((f): f is Fix => f !== undefined);
  const blockWords =
    verdict.stage === 'peer'
      ? 'STRICT mTLS refuses the plaintext connection (the kubelet has no certificate)'
      : verdict.stage === 'deny'
        ? 'a DENY policy matches it (403)'
        : verdict.stage === 'default-deny'
          ? 'ALLOW policies apply and none matches a plaintext request without identity (403 "RBAC: access denied")'
          : `whether a policy lets it through cannot be told: ${verdict.unknowns.join('; ')}`;
  return {
    check: 'probe-authz',
    title: `${probe.kind} probe ${denied ? 'blocked' : 'may be blocked'} by ${verdict.stage === 'peer' ? 'STRICT mTLS' : 'AuthorizationPolicy'}`,
    cause: `the kubelet's ${probe.text} goes to the app through the sidecar because ${why}; ${blockWords}`,
    evidence: [
      `${probe.text} on pod ${pod.metadata.name} is not rewritten to pilot-agent (:${statusPort(pod)}/app-health/${probe.container}/…)`,
      `${verdict.decision}: ${verdict.reason}`,
      ...support,
    ],
    confidence,
    pods: b.pods.map((p) => p.metadata.name),
    ...(fixes[0] ? { fix: fixes[0] } : {}),
    ...(fixes.length > 1 ? { alternatives: fixes.slice(1) } : {}),
  };
}

export function diagnoseProbeAuthz(input: ProbeAuthzInput): DiagnosticResult {
  const check = 'probe-authz' as const;
  const notes: string[] = [];
  const unread: string[] = [];
  if (input.pods.length === 0) return couldNotCheck(check, 'no pods were given to look at');
  const pods = input.pods.filter((p) => findProxyContainer(p) !== undefined);
  if (pods.length === 0)
    return couldNotCheck(
      check,
      `none of the ${input.pods.length} pods runs an istio-proxy container: no sidecar, so nothing can block its probes`,
    );
  const missingKinds: string[] = [];
  for (const ref of [AP, PA]) {
    const missing = input.snapshot.missing(ref);
    if (!missing) continue;
    missingKinds.push(ref.kind);
    unread.push(`${ref.kind} objects could not be listed (${missing.detail ?? missing.reason})`);
  }
  if (isUnreadable(input.events)) unread.push(`events: ${input.events.unreadable}`);
  if (isUnreadable(input.accessLogs)) unread.push(`istio-proxy access logs: ${input.accessLogs.unreadable}`);
  const rewrite = rewriteSetting(pods[0]!, input.rewriteAppHTTPProbe);
  const byProbe = new Map<string, { probe: ProbeFact; pods: KubeObject[] }>();
  for (const pod of pods) {
    for (const probe of probesOf(pod)) {
      const key = `${probe.container}/${probe.kind}/${probe.text}`;
      const entry = byProbe.get(key) ?? { probe, pods: [] };
      entry.pods.push(pod);
      byProbe.set(key, entry);
    }
  }
  if (byProbe.size === 0) {
    notes.push('the app containers have no HTTP, TCP or gRPC probes (exec probes run inside the container)');
    return result(check, [], notes, unread);
  }
  const findings: Finding[] = [];
  const rewritten: string[] = [];
  const blocked: Blocked[] = [];
  for (const { probe, pods: on } of byProbe.values()) {
    const pod = on[0] as KubeObject;
    if (probe.rewritten && probe.missingOriginal) {
      const support = corroborate(on, probe.container, [], input);
      findings.push({
        check,
        title: `${probe.kind} probe answered 400 by pilot-agent`,
        cause: `the probe was rewritten to pilot-agent, but istio-proxy's ISTIO_KUBE_APP_PROBERS has no original for ${probe.path}, so pilot-agent answers 400 "app prober config does not exists": the injector leaves a probe out when it names a port the container does not declare. Declare the named port in ${probe.container}'s ports (or use the number) and restart`,
        evidence: [`${probe.text} on pod ${pod.metadata.name}; ISTIO_KUBE_APP_PROBERS lacks ${probe.path}`, ...support],
        confidence: support.length ? 'high' : 'medium',
        pods: on.map((p) => p.metadata.name),
      });
      continue;
    }
    if (probe.rewritten) {
      rewritten.push(probe.text);
      continue;
    }
    if (probe.port === undefined) {
      notes.push(
        `${probe.text}: the port ${probe.portName} is not declared by the container, so the kubelet cannot probe it (not a mesh problem)`,
      );
      continue;
    }
    if (probe.type === 'tcp') {
      notes.push(
        `${probe.text} is not rewritten: Envoy accepts the connection, so it succeeds while the sidecar runs even if the app is down (it hides outages)`,
      );
      continue;
    }
    const verdict = verdictFor(input.snapshot, pod, probe);
    if (verdict.decision === 'ALLOWED' && missingKinds.length) {
      unread.push(
        `${probe.text} is not rewritten and goes through the sidecar; whether a policy blocks it is unknown without the ${missingKinds.join(' and ')} objects`,
      );
      continue;
    }
    if (verdict.decision === 'ALLOWED') {
      notes.push(
        `${probe.text} is not rewritten and goes through the sidecar; nothing blocks it today (${verdict.reason}), but STRICT mTLS or an ALLOW policy on port ${probe.port} would`,
      );
      continue;
    }
    blocked.push({ probe, verdict, pods: on });
  }
  // One ALLOW policy for every probe that only ALLOW policies block, so two findings never propose two objects.
  const allowOnly = blocked.filter((b) => b.verdict.stage === 'default-deny');
  const allow = allowOnly.length
    ? probeAllowPolicy(
        input,
        allowOnly[0]!.pods[0]!,
        allowOnly.map((b) => b.probe),
      )
    : undefined;
  for (const b of blocked) findings.push(blockedFinding(b, rewrite, input, allow));
  if (rewritten.length)
    notes.push(
      `${rewritten.length === 1 ? 'the probe is' : `${rewritten.length} probes are`} rewritten to pilot-agent on port ${statusPort(pods[0]!)} (${rewrite.from}): the kubelet's probes bypass mTLS and AuthorizationPolicy, so no policy can block them — ${rewritten.join('; ')}`,
    );
  return result(check, findings, notes, unread);
}
