// Startup race: does the app start before its sidecar can carry traffic? Without native sidecars, Istio
// holds the app only when holdApplicationUntilProxyStarts is on (ProxyConfig, default false: mesh-wide in
// meshConfig.defaultConfig, per pod in the proxy.istio.io/config annotation): the injector then puts
// istio-proxy first in spec.containers with a postStart `pilot-agent wait`, which polls Envoy's readiness
// (localhost:15021/healthz/ready) and so keeps the kubelet from starting the next container. With native
// sidecars (istio-proxy an init container with restartPolicy Always and a startup probe) the app is held
// anyway and the flag is ignored. Evidence of the race: app containers restarted while istio-proxy was not,
// connection-refused lines early in the app's log (outbound traffic is redirected to an Envoy that is not
// listening yet). A FailedPostStartHook event on istio-proxy means the hold itself timed out.
import { parseDocument } from 'yaml';
import { z } from 'zod';
import type { KubeObject } from '../../kube/objects.ts';
import type { MeshConfig } from '../snapshot.ts';
import { MAX_YAML_ALIASES } from '../yaml-limits.ts';
import { findProxyContainer, proxyContainerName, proxySettings } from '../sidecar-proxy.ts';
import type { ProxySetting } from '../sidecar-proxy.ts';
import {
  containerStatus,
  eventText,
  eventsOf,
  statusOf,
  templateAnnotationPatch,
  templateAnnotations,
  terminationText,
  workloadTarget,
} from './pod-facts.ts';
import { couldNotCheck, isUnreadable, result } from './types.ts';
import type { DiagnosticResult, Finding, Fix, Readable } from './types.ts';

export const PROXY_CONFIG_ANNOTATION = 'proxy.istio.io/config';
const HOLD = 'holdApplicationUntilProxyStarts';
/** Lines from the start of an app log that count as "early". */
export const EARLY_LOG_LINES = 30;
const refused = /connection refused|ECONNREFUSED/i;

export interface StartupRaceInput {
  pods: readonly KubeObject[];
  /** The owning Deployment (or StatefulSet, DaemonSet): its pod template's annotation is what the fix patches. */
  workload?: KubeObject;
  /** The mesh config in effect (Istio's defaults merged with the istio ConfigMap), for defaultConfig. */
  meshConfig?: MeshConfig;
  istioNamespace?: string;
  events?: Readable<readonly KubeObject[]>;
  /** App logs by pod name, then container name (the previous run's log is the one that shows a cold start). */
  appLogs?: Readable<Record<string, Record<string, string>>>;
}

export type HoldState = 'native' | 'held' | 'not-held';

const lifecycleSchema = z.looseObject({
  lifecycle: z
    .looseObject({
      postStart: z
        .looseObject({ exec: z.looseObject({ command: z.array(z.string()).optional() }).optional() })
        .optional(),
    })
    .optional(),
});

/** How this pod was injected: native sidecar, istio-proxy first with `pilot-agent wait`, or neither. */
export function holdState(pod: KubeObject): HoldState | undefined {
  const proxy = findProxyContainer(pod);
  if (!proxy) return undefined;
  if (proxy.native) return proxy.container.restartPolicy === 'Always' ? 'native' : 'not-held';
  const first = (pod.spec as { containers?: { name?: string }[] } | undefined)?.containers?.[0];
  if (first?.name !== proxyContainerName) return 'not-held';
  const parsed = lifecycleSchema.safeParse(proxy.container);
  const command = parsed.success ? (parsed.data.lifecycle?.postStart?.exec?.command ?? []) : [];
  return command.includes('pilot-agent') && command.includes('wait') ? 'held' : 'not-held';
}

interface PodRace {
  pod: KubeObject;
  state: HoldState;
  evidence: string[];
  appRestarted: boolean;
  proxyRestarted: boolean;
  refusedEarly: boolean;
  hookFailed: string[];
  /** App restarts whose last termination was OOMKilled: said as notes, never counted as the race. */
  oomKilled: string[];
}

function examine(pod: KubeObject, state: HoldState, input: StartupRaceInput, unread: string[]): PodRace {
  const name = pod.metadata.name;
  const race: PodRace = {
    pod,
    state,
    evidence: [],
    appRestarted: false,
    proxyRestarted: false,
    refusedEarly: false,
    hookFailed: [],
    oomKilled: [],
  };
  const proxyStatus = containerStatus(pod, proxyContainerName, state === 'native');
  race.proxyRestarted = (proxyStatus?.restartCount ?? 0) > 0;
  for (const c of statusOf(pod)?.containerStatuses ?? []) {
    if (c.name === proxyContainerName || (c.restartCount ?? 0) === 0) continue;
    const t = c.lastState?.terminated;
    // Killed for its own memory (OOMKilled, exit 137): the container's limit, not a call to an Envoy not yet up.
    if (t?.reason === 'OOMKilled') {
      race.oomKilled.push(
        `pod ${name}: container ${c.name} restarted ${c.restartCount} times, last ${terminationText(t)}: its own memory limit, not the startup race`,
      );
      continue;
    }
    race.appRestarted = true;
    race.evidence.push(
      `pod ${name}: container ${c.name} restarted ${c.restartCount} times${t ? ` (last ${terminationText(t)})` : ''}, istio-proxy ${race.proxyRestarted ? `${proxyStatus?.restartCount} times` : 'never'}`,
    );
  }
  const logs = input.appLogs && !isUnreadable(input.appLogs) ? input.appLogs[name] : undefined;
  for (const [container, text] of Object.entries(logs ?? {})) {
    if (container === proxyContainerName) continue;
    const lines = text.split('\n').slice(0, EARLY_LOG_LINES);
    const hit = lines.findIndex((l) => refused.test(l));
    if (hit < 0) continue;
    race.refusedEarly = true;
    race.evidence.push(`pod ${name}: ${container}'s log, line ${hit + 1}: ${(lines[hit] ?? '').trim().slice(0, 200)}`);
  }
  if (input.events && !isUnreadable(input.events)) {
    for (const e of eventsOf(input.events, pod)) {
      if (e.reason !== 'FailedPostStartHook') continue;
      const aboutProxy = (e.fieldPath ?? '').includes(proxyContainerName) || /envoy|pilot-agent/i.test(e.message);
      if (aboutProxy) race.hookFailed.push(eventText(e, pod));
    }
  }
  if (!statusOf(pod)) unread.push(`pod ${name} has no status: its restarts are unknown`);
  return race;
}

/** The proxy.istio.io/config annotation with the hold merged in, in the format it had (JSON or YAML). */
export function mergeHold(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === '') return JSON.stringify({ [HOLD]: true });
  const doc = parseDocument(raw);
  if (doc.errors.length > 0) return undefined;
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  if (raw.trim().startsWith('{')) return JSON.stringify({ ...value, [HOLD]: true });
  doc.set(HOLD, true);
  return doc.toString().trimEnd();
}

function fixes(input: StartupRaceInput, unread: string[]): { fix?: Fix; alternatives: Fix[] } {
  const istioNamespace = input.istioNamespace ?? 'istio-system';
  const mesh: Fix = {
    kind: 'mesh-config',
    target: { kind: 'ConfigMap', namespace: istioNamespace, name: 'istio' },
    patch: { defaultConfig: { [HOLD]: true } },
    why: `mesh-wide: meshConfig.defaultConfig.${HOLD}: true holds the app of every pod injected from then on (existing pods keep their order until restarted)`,
  };
  if (!input.workload) return { fix: mesh, alternatives: [] };
  const raw = templateAnnotations(input.workload)[PROXY_CONFIG_ANNOTATION];
  const merged = mergeHold(raw);
  if (merged === undefined) {
    unread.push(
      `the pod template's ${PROXY_CONFIG_ANNOTATION} annotation does not parse, so no merge into it is proposed`,
    );
    return { fix: mesh, alternatives: [] };
  }
  const annotation: Fix = {
    kind: 'strategic-merge-patch',
    target: workloadTarget(input.workload),
    patch: templateAnnotationPatch({ [PROXY_CONFIG_ANNOTATION]: merged }),
    why: `${raw === undefined ? 'adds' : 'merges'} ${HOLD}: true ${raw === undefined ? 'as' : 'into'} the pod template's ${PROXY_CONFIG_ANNOTATION} annotation${raw === undefined ? '' : ', keeping what is there'}: the injector then puts istio-proxy first with a postStart \`pilot-agent wait\`, so the app starts once Envoy is ready. Takes effect on the rollout the patch starts`,
  };
  return { fix: annotation, alternatives: [mesh] };
}

function configuredHold(pod: KubeObject, input: StartupRaceInput): ProxySetting<boolean> & { problems: string[] } {
  const annotations = input.workload ? templateAnnotations(input.workload) : (pod.metadata.annotations ?? {});
  const asInjected = { ...pod, metadata: { ...pod.metadata, annotations } };
  const settings = proxySettings(asInjected, input.meshConfig?.defaultConfig);
  return { ...settings.holdApplicationUntilProxyStarts, problems: settings.problems };
}

export function diagnoseStartupRace(input: StartupRaceInput): DiagnosticResult {
  const check = 'startup-race' as const;
  const unread: string[] = [];
  const notes: string[] = [];
  if (input.pods.length === 0) return couldNotCheck(check, 'no pods were given to look at');
  const withProxy = input.pods
    .map((pod) => ({ pod, state: holdState(pod) }))
    .filter((x): x is { pod: KubeObject; state: HoldState } => x.state !== undefined);
  if (withProxy.length === 0)
    return couldNotCheck(check, `none of the ${input.pods.length} pods runs an istio-proxy container`);
  if (!input.meshConfig) unread.push('the mesh config was not given: a mesh-wide hold setting is unknown');
  if (isUnreadable(input.events)) unread.push(`events: ${input.events.unreadable}`);
  else if (!input.events) unread.push('events were not read: FailedPostStartHook is unknown');
  if (isUnreadable(input.appLogs)) unread.push(`app logs: ${input.appLogs.unreadable}`);
  else if (!input.appLogs) unread.push('app logs were not read: early connection-refused lines are unknown');
  const races = withProxy.map(({ pod, state }) => examine(pod, state, input, unread));
  if (races.every((r) => !statusOf(r.pod)))
    return couldNotCheck(check, 'no pod reports container statuses, so restarts cannot be compared', notes, unread);
  const configured = configuredHold(withProxy[0]!.pod, input);
  unread.push(...configured.problems);
  const names = (list: readonly PodRace[]) => list.map((r) => r.pod.metadata.name);
  const findings: Finding[] = [];

  const hookFailed = races.filter((r) => r.hookFailed.length > 0);
  if (hookFailed.length) {
    findings.push({
      check,
      title: 'the sidecar did not become ready within the hold',
      cause:
        "the app is held until Envoy is ready, and istio-proxy's postStart `pilot-agent wait` gave up: Envoy got no configuration from istiod in time (istiod unreachable or slow, a NetworkPolicy, a bad config push), so the pod does not start",
      evidence: hookFailed.flatMap((r) => r.hookFailed),
      confidence: 'medium',
      pods: names(hookFailed),
    });
  }
  for (const r of races) notes.push(...r.oomKilled);
  const unheld = races.filter((r) => r.state === 'not-held');
  const raced = unheld.filter((r) => (r.appRestarted && !r.proxyRestarted) || r.refusedEarly);
  const bothRestarted = unheld.filter((r) => r.appRestarted && r.proxyRestarted && !r.refusedEarly);
  for (const r of bothRestarted)
    notes.push(
      `pod ${r.pod.metadata.name}: the app and istio-proxy both restarted, which is not the startup race's pattern (the proxy restarting takes the app's traffic with it)`,
    );
  if (raced.length) {
    const strong = raced.some((r) => r.appRestarted && r.refusedEarly);
    const heldConfigured = configured.value;
    const { fix, alternatives } = heldConfigured ? { fix: undefined, alternatives: [] } : fixes(input, unread);
    findings.push({
      check,
      title: 'the app starts before its sidecar is ready',
      cause: heldConfigured
        ? `${HOLD} is on (${configured.from}) but these pods were injected without it — created before it was set: restart them to get istio-proxy first with the \`pilot-agent wait\` hold`
        : `the app is not held until the proxy is ready (${HOLD} is ${configured.value} from ${configured.from}): its first calls go to an Envoy that is not listening yet and are refused, and an app that exits on that restarts until Envoy is up`,
      evidence: [
        ...raced.flatMap((r) => r.evidence),
        `istio-proxy is not first in spec.containers with a postStart \`pilot-agent wait\`, and not a native sidecar, in ${names(raced).join(', ')}`,
      ],
      confidence: strong ? 'high' : 'medium',
      pods: names(raced),
      ...(fix ? { fix } : {}),
      ...(alternatives.length ? { alternatives } : {}),
    });
  } else if (unheld.length) {
    notes.push(
      `the app is not held until the proxy is ready in ${unheld.length} of ${races.length} pods (${HOLD} is ${configured.value} from ${configured.from}), but no cold-start failure was seen`,
    );
  }
  const held = races.filter((r) => r.state !== 'not-held');
  const heldRestarts = held.filter((r) => r.appRestarted && r.hookFailed.length === 0);
  if (heldRestarts.length) {
    findings.push({
      check,
      title: 'app restarts, but not from the startup race',
      cause:
        'the app is already held until the proxy is ready, so its restarts have another cause: read its previous log (kubectl logs --previous), its probes and its exit code',
      evidence: heldRestarts.flatMap((r) => r.evidence),
      confidence: 'low',
      pods: names(heldRestarts),
    });
  }
  for (const r of held)
    notes.push(
      r.state === 'native'
        ? `pod ${r.pod.metadata.name}: istio-proxy is a native sidecar (init container, restartPolicy Always): the app starts after it is ready; ${HOLD} is not needed`
        : `pod ${r.pod.metadata.name}: istio-proxy is first with a postStart \`pilot-agent wait\`: the app is held until Envoy is ready`,
    );
  return result(check, findings, notes, unread);
}
