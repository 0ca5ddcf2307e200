// `/mesh why`'s checks, run in parallel, each under its own timeout: a check that throws or runs out of time
// becomes "could not check: <reason>", never silence. The reads they share (snapshot, events, logs, metrics)
// start once, together; each check waits only for the reads it needs.
import type { KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/objects.ts';
import { diagnoseProbeAuthz } from '../../mesh/diagnostics/probe-authz.ts';
import { diagnoseSidecarResources } from '../../mesh/diagnostics/sidecar-resources.ts';
import { diagnoseStartupRace } from '../../mesh/diagnostics/startup-race.ts';
import { type CheckName, type DiagnosticResult, isUnreadable } from '../../mesh/diagnostics/types.ts';
import { loadLiveSnapshot } from '../../mesh/live-snapshot.ts';
import { controllerOf } from '../../mesh/pods.ts';
import type { MeshSnapshot } from '../../mesh/snapshot.ts';
import type { Suspect } from '../../istio/stale-diagnosis.ts';
import { staleReport } from '../stale/stale.ts';
import { analyzerOutcome, relatedResources } from './why-analyzers.ts';
import { findParty } from './can.ts';
import { WHY_BOUNDS, readAppLogs, readEvents, readPodMetrics, readProxyLogs, readSidecarMetrics } from './why-reads.ts';
import {
  type CheckOutcome,
  type CheckResult,
  type Symptom,
  type WhyCheckName,
  type WhyFinding,
  type WhyReport,
  type WhyTarget,
  assemble,
  outcomeOf,
} from './why-rank.ts';
import {
  checkEndpoints,
  checkMtls,
  destinationsToCheck,
  servicesOf,
  symptomsFromLogs,
  symptomsFromMetrics,
} from './why-traffic.ts';
import { accessLoggingState } from '../envoy/logs.ts';

/** Per check; the whole answer aims at under 5 s. */
export const CHECK_TIMEOUT_MS = 4000;
export const WHY_LOG_MINUTES = WHY_BOUNDS.logSinceSeconds / 60;

export interface WhyAsk {
  /** What the person named: `reviews`, `svc reviews`, `pod reviews-v1-abc`, `app=reviews`. */
  target: string;
  service: boolean;
  namespace?: string;
}

interface Group {
  owner?: KubeObject;
  ownerText: string;
  pods: KubeObject[];
}

/** The pods' owners (ReplicaSet → Deployment), so a fix patches the right template. */
export function groupByOwner(snapshot: MeshSnapshot, pods: readonly KubeObject[]): Group[] {
  const groups = new Map<string, Group>();
  for (const pod of pods) {
    const ns = pod.metadata.namespace ?? 'default';
    const ctl = controllerOf(pod);
    let owner: KubeObject | undefined;
    if (ctl?.kind === 'ReplicaSet') {
      const rs = snapshot.get('ReplicaSet', ns, ctl.name);
      const deploy = rs ? controllerOf(rs) : undefined;
      const name = deploy?.name ?? ctl.name.replace(/-[a-z0-9]{5,10}$/, '');
      owner = snapshot.get('Deployment', ns, name);
    } else if (ctl) owner = snapshot.get(ctl.kind, ns, ctl.name);
    const key = owner ? `${owner.kind}/${owner.metadata.name}` : `Pod/${pod.metadata.name}`;
    const g = groups.get(key) ?? { ...(owner ? { owner } : {}), ownerText: key, pods: [] };
    g.pods.push(pod);
    groups.set(key, g);
  }
  return [...groups.values()];
}

export async function timed(check: WhyCheckName, ms: number, run: () => Promise<CheckResult>): Promise<CheckOutcome> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    const within = ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`;
    timer = setTimeout(() => reject(new Error(`it did not answer within ${within}`)), ms);
  });
  try {
    const out = await Promise.race([run(), timeout]);
    return { ...out, ms: Math.round(performance.now() - started) } as CheckOutcome;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return {
      check,
      outcome: 'could-not-check',
      reason,
      notes: [],
      unread: [],
      ms: Math.round(performance.now() - started),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** The three diagnostics, once per owner, merged into one outcome per check. */
export function mergeDiagnostic(check: CheckName, results: readonly DiagnosticResult[]): CheckResult {
  const notes = [...new Set(results.flatMap((r) => r.notes))];
  const unread = [...new Set(results.flatMap((r) => r.unread))];
  const findings: WhyFinding[] = results.flatMap((r) =>
    r.outcome === 'found'
      ? r.findings.map((f) => ({
          check,
          title: f.title,
          cause: f.cause,
          evidence: f.evidence,
          confidence: f.confidence,
          pods: f.pods,
          // A diagnostic is high only on a failure it saw (OOM kill, cold-start restarts, readiness 403).
          explains: f.confidence === 'high' ? ['runtime'] : [],
          ...(f.fix ? { fix: f.fix } : {}),
          ...(f.alternatives ? { alternatives: f.alternatives } : {}),
          diagnostic: f,
        }))
      : [],
  );
  const couldNot = results.filter((r) => r.outcome === 'could-not-check');
  if (!findings.length && couldNot.length === results.length && couldNot[0]?.outcome === 'could-not-check')
    return { check, outcome: 'could-not-check', reason: couldNot[0].reason, notes, unread };
  for (const r of couldNot)
    if (r.outcome === 'could-not-check') notes.push(`some pods could not be checked: ${r.reason}`);
  return outcomeOf(check, findings, notes, unread);
}

/** The config change the rejection points at, in words. */
function suspectText(x: Suspect): string {
  const field = x.field ? `, ${x.field.path}${x.field.value !== undefined ? ` = ${x.field.value}` : ''}` : '';
  const by = x.manager ? ` by ${x.manager}` : '';
  const why =
    x.via === 'named' ? `it builds ${x.builds ?? 'what the NACK names'}` : 'only the type and the time point at it';
  return `the change before it: ${x.kind} ${x.namespace}/${x.name}${field}, changed ${x.changedAt}${by} (${why})`;
}

async function proxySyncOutcome(kube: KubeClient, target: WhyTarget, now: Date): Promise<CheckResult> {
  const r = await staleReport(kube, target.namespace, now);
  if (r.noIstiod)
    return { check: 'proxy-sync', outcome: 'could-not-check', reason: 'no ready istiod to ask', notes: [], unread: [] };
  if (r.debugDisabled)
    return {
      check: 'proxy-sync',
      outcome: 'could-not-check',
      reason: 'istiod runs with ENABLE_DEBUG_ON_HTTP=false',
      notes: [],
      unread: [],
    };
  const mine = r.affected.filter((a) => target.pods.includes(a.pod));
  const unread = r.failures.map((f) => `istiod ${f.istiod} could not be read (${f.kind}): ${f.message}`);
  const findings: WhyFinding[] = [];
  for (const a of mine) {
    if (a.finding === 'UNKNOWN') {
      unread.push(`pod ${a.pod}: its istiod could not be read, sync status unknown`);
      continue;
    }
    const nack = a.finding === 'ERROR';
    findings.push({
      check: 'proxy-sync',
      title: nack
        ? `proxy ${a.pod} rejected its config (NACK on ${a.errors.map((e) => e.type).join(', ')})`
        : `proxy ${a.pod} is ${a.finding}${a.types.length ? ` (${a.types.join(', ')})` : ''}`,
      cause: nack
        ? 'the sidecar runs on the last config it accepted, not the current one'
        : a.finding === 'STALE'
          ? 'istiod pushed config the sidecar has not acknowledged: it may still route by older config'
          : 'the sidecar is not connected to istiod and gets no new config',
      evidence: [...a.errors.map((e) => `${e.type}: ${e.message}`), ...(a.suspect ? [suspectText(a.suspect)] : [])],
      confidence: nack ? 'high' : 'medium',
      pods: [a.pod],
      explains: nack ? ['runtime'] : [],
      ...(a.suspect ? { objects: [`${a.suspect.kind}/${a.suspect.namespace}/${a.suspect.name}`] } : {}),
    });
  }
  const n = target.pods.length;
  const notes = findings.length ? [] : [`${n} ${n === 1 ? 'proxy' : 'proxies'} SYNCED with istiod`];
  return outcomeOf('proxy-sync', findings, notes, unread);
}

const diagnostic = (check: CheckName, groups: readonly Group[], run: (g: Group) => DiagnosticResult) =>
  mergeDiagnostic(check, groups.map(run));

/**
 * `why is reviews failing` names no namespace: when one namespace alone has a Service, Deployment or pod of that
 * name, it is that one (else `default`, as everywhere, whose not-found answer lists where the name is).
 */
export function onlyNamespaceWith(snapshot: MeshSnapshot, target: string): string | undefined {
  const name = target.split(' ').at(-1) ?? '';
  if (name.includes('.') || name.includes('=')) return undefined;
  const namespaces = new Set(
    ['Service', 'Deployment', 'Pod'].flatMap((kind) =>
      snapshot
        .list(kind)
        .flatMap((o) => (o.metadata.name === name && o.metadata.namespace ? [o.metadata.namespace] : [])),
    ),
  );
  return namespaces.size === 1 ? [...namespaces][0] : undefined;
}

/** Every check for the workload, in parallel; the report with the findings ranked. */
export async function runWhy(
  kube: KubeClient,
  asked: WhyAsk,
  now: Date,
  timeoutMs = CHECK_TIMEOUT_MS,
): Promise<WhyReport> {
  const started = performance.now();
  // Loaded on first use: the analyzers are memory an idle bot does not need.
  const { analysisInputs } = await import('../../mesh/analyzers/index.ts');
  const snapshot = await loadLiveSnapshot(kube, { inputs: analysisInputs() });
  const namespace = asked.namespace ?? onlyNamespaceWith(snapshot, asked.target);
  const found = findParty(snapshot, { text: asked.target, service: asked.service }, namespace, 'destination');
  const ns = found.namespace;
  const pods = found.pods;
  const groups = groupByOwner(snapshot, pods);
  const target: WhyTarget = {
    via: found.via,
    namespace: ns,
    pods: pods.map((p) => p.metadata.name),
    owners: groups.flatMap((g) => (g.owner ? [g.ownerText] : [])),
  };
  const svcs = servicesOf(snapshot, ns, pods);
  const events = readEvents(kube, ns);
  const proxyLogs = readProxyLogs(kube, pods);
  const appLogs = readAppLogs(kube, pods);
  const metrics = readPodMetrics(kube, ns);
  let symptoms: Symptom[] = [];
  const traffic = timed('traffic', timeoutMs, async () => {
    const { logs, failed } = await proxyLogs;
    if (isUnreadable(logs))
      return {
        check: 'traffic',
        outcome: 'could-not-check',
        reason: `istio-proxy logs: ${logs.unreadable}`,
        notes: [],
        unread: [],
      };
    const read = symptomsFromLogs(logs);
    symptoms = read.symptoms;
    const unread = failed.map((f) => `istio-proxy log of ${f}`);
    if (read.accessLines === 0) {
      const state = await accessLoggingState(kube, ns);
      if (state.on !== true) {
        // No access log: the 5xx the sidecars counted in istio_requests_total instead (since each proxy started).
        const { samples, failed: notScraped } = await readSidecarMetrics(kube, pods);
        const reason = `no access-log lines (${state.why})`;
        if (!samples.size)
          return {
            check: 'traffic',
            outcome: 'could-not-check',
            reason: `${reason} and the sidecars' metrics could not be read (${notScraped.join('; ')})`,
            notes: [],
            unread,
          };
        symptoms = symptomsFromMetrics(samples);
        const counted = symptoms.reduce((n, s) => n + s.count, 0);
        const note = `${reason}: ${counted} 5xx counted in istio_requests_total since the sidecars started`;
        return outcomeOf('traffic', [], [note], [...unread, ...notScraped.map((f) => `metrics of ${f}`)]);
      }
    }
    const total = symptoms.reduce((n, s) => n + s.count, 0);
    return outcomeOf(
      'traffic',
      [],
      [
        `${total} 5xx in ${read.accessLines} access-log line${read.accessLines === 1 ? '' : 's'} of the last ${WHY_LOG_MINUTES} minutes`,
      ],
      unread,
    );
  });
  // The destination checks use the symptoms to tie config to failures, so they start once the logs are in.
  const afterTraffic = traffic.then(() => destinationsToCheck(svcs, symptoms));
  const destinationCheck = (check: 'mtls' | 'endpoints') =>
    timed(check, timeoutMs, async () => {
      const dests = await afterTraffic;
      const parts = dests.map((d) =>
        check === 'mtls' ? checkMtls(snapshot, d.dest, symptoms) : checkEndpoints(snapshot, d.dest, symptoms, d.own),
      );
      const notes = parts.flatMap((p) => p.notes);
      if (!dests.length) notes.push('the workload has no Service and its sidecars logged no failing destination');
      return outcomeOf(
        check,
        parts.flatMap((p) => p.findings),
        notes,
        [],
      );
    });
  const checks = await Promise.all([
    traffic,
    timed('sidecar-resources', timeoutMs, async () => {
      const podMetrics = await metrics;
      return diagnostic('sidecar-resources', groups, (g) =>
        diagnoseSidecarResources({ pods: g.pods, ...(g.owner ? { workload: g.owner } : {}), podMetrics, snapshot }),
      );
    }),
    timed('startup-race', timeoutMs, async () => {
      const [ev, logs] = await Promise.all([events, appLogs]);
      return diagnostic('startup-race', groups, (g) =>
        diagnoseStartupRace({
          pods: g.pods,
          ...(g.owner ? { workload: g.owner } : {}),
          meshConfig: snapshot.meshConfig,
          istioNamespace: snapshot.istioNamespace,
          events: ev,
          appLogs: logs,
        }),
      );
    }),
    timed('probe-authz', timeoutMs, async () => {
      const [ev, { logs }] = await Promise.all([events, proxyLogs]);
      return diagnostic('probe-authz', groups, (g) =>
        diagnoseProbeAuthz({
          pods: g.pods,
          ...(g.owner ? { workload: g.owner } : {}),
          snapshot,
          events: ev,
          accessLogs: logs,
        }),
      );
    }),
    destinationCheck('mtls'),
    destinationCheck('endpoints'),
    timed('proxy-sync', timeoutMs, () => proxySyncOutcome(kube, target, now)),
    timed('analyzers', timeoutMs, async () =>
      analyzerOutcome(snapshot, relatedResources(snapshot, target, pods, svcs)),
    ),
  ]);
  // A traffic check that ran out of time may still finish in the background: what it saw late is not reported.
  const seen = checks[0]?.outcome === 'could-not-check' ? [] : symptoms;
  return assemble(asked.target, target, seen, checks, Math.round(performance.now() - started));
}
