// The STRICT migration's watch as a guarded window (approvals/guarded-window.ts): STRICT must still be the
// namespace-wide mode; each look reads the watched namespaces' sidecar and gateway access logs and the
// sidecars' 403/503 counters (migration-watch.ts); new failures past the threshold raise the alarm, a quiet
// window ends healthy only when every proxy has the config that carries STRICT (watch-verdict.ts). The
// baselines, what was read and the failures so far are the window's state, kept in the request, so a
// replica that resumes the watch neither forgets a failure nor counts one twice.
import { z } from 'zod';
import { count } from '../../blocks/block-kit.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/objects.ts';
import type { Target } from '../../approvals/request.ts';
import type { GuardedWindow } from '../../approvals/guarded-window.ts';
import { type FailureKind, type FailurePoint, failurePointSchema } from '../../charts/failure-chart.ts';
import { loadLiveSnapshot } from '../../mesh/live-snapshot.ts';
import { meshedNamespaces, rootNamespaceOf } from './readiness-check.ts';
import {
  type FailureGroup,
  failureLines,
  type WatchReport,
  newWatchState,
  watchOnce,
  watchStateFromJson,
  watchStateJsonSchema,
  watchStateToJson,
} from './migration-watch.ts';
import { checkEnforcement, enforcementWords } from './watch-verdict.ts';
import { modeOf, namespaceWidePolicy, STRICT_SINCE_ANNOTATION } from './namespace-policy.ts';

const stateSchema = z.object({
  /** The namespaces watched, fixed at the first look (mesh-wide STRICT: every meshed namespace then). */
  namespaces: z.record(z.string(), watchStateJsonSchema),
  points: z.array(failurePointSchema).max(5000),
});
export type StrictWindowState = z.infer<typeof stateSchema>;

/** The watch's readings for its chart: failures per kind since STRICT, at each look. */
export interface FailureSeries {
  changeAt: number;
  points: FailurePoint[];
  /** New failures that raise the alarm. */
  alarmAt: number;
}

export interface StrictWindowHooks {
  /** New failures after STRICT: post the alarm, its chart and a rollback button in the request's thread. */
  onAlarm?(kube: KubeClient, target: Target, report: WatchReport, since: Date, series: FailureSeries): Promise<void>;
  /** The watch window passed quietly: post the verdict, its chart, and suggest the next namespace. */
  onHealthy?(kube: KubeClient, target: Target, report: WatchReport, since: Date, series: FailureSeries): Promise<void>;
}

export interface StrictWindowOptions {
  watchMs: number;
  threshold: number;
  hooks?: StrictWindowHooks;
}

function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 100) / 10} s`;
  return `${Math.round(ms / 6000) / 10} min`;
}

function kindOf(f: FailureGroup): FailureKind {
  return f.what.startsWith('403') ? '403' : f.what.startsWith('503') ? '503' : 'connection failures';
}

/**
 * The chart's counts at one look. A 403 or 503 is seen twice, in the destination's access log and in its
 * istio_requests_total; per kind the larger of the two sources is drawn, so none is counted twice.
 */
export function failurePoints(report: WatchReport, at: number): FailurePoint[] {
  const logs = new Map<FailureKind, number>();
  const metrics = new Map<FailureKind, number>();
  for (const f of report.failures) {
    const into = f.where.startsWith('metrics ') ? metrics : logs;
    into.set(kindOf(f), (into.get(kindOf(f)) ?? 0) + f.count);
  }
  return (['403', '503', 'connection failures'] as const).map((kind) => ({
    at,
    kind,
    count: Math.max(logs.get(kind) ?? 0, metrics.get(kind) ?? 0),
  }));
}

const watchSchema = z.object({
  watchMs: z
    .number()
    .int()
    .min(10_000)
    .max(30 * 60_000),
});

/** The watch a request asked for (`/mesh mtls <ns> --watch 2m`, kept in its plan), if any. */
export function watchOfPlan(plan: unknown): number | undefined {
  return watchSchema.safeParse(plan).data?.watchMs;
}

type Detail = { report: WatchReport; series: FailureSeries; healthy: boolean };

export function strictWindow(
  options: StrictWindowOptions,
): GuardedWindow<unknown, StrictWindowState, KubeObject | undefined, Detail> {
  const { threshold } = options;
  return {
    name: 'mtls-strict',
    parsePlan: (raw) => raw,
    windowMs: (plan) => watchOfPlan(plan) ?? options.watchMs,
    state: stateSchema,

    async stands(kube, target, _plan, applied) {
      const ns = target.namespace;
      const pa = await namespaceWidePolicy(kube, ns);
      if (modeOf(pa) !== 'STRICT')
        return {
          stopped: `The namespace-wide policy in ${ns} is no longer STRICT (${modeOf(pa)}), so the watch stopped: it was rolled back or changed.`,
        };
      // The policy's own stamp of when it became STRICT, when it carries one.
      const stamped = Date.parse(pa?.metadata.annotations?.[STRICT_SINCE_ANNOTATION] ?? '');
      return { since: Number.isNaN(stamped) ? applied : new Date(stamped), seen: pa };
    },

    async start(kube, target) {
      const pods = await loadLiveSnapshot(kube, { kinds: ['Pod'] });
      const watched = target.namespace === rootNamespaceOf(pods) ? meshedNamespaces(pods) : [target.namespace];
      return {
        namespaces: Object.fromEntries(watched.map((n) => [n, watchStateToJson(newWatchState())])),
        points: [],
      };
    },

    async look(kube, ctx, before) {
      const ns = ctx.target.namespace;
      const states = Object.entries(before.namespaces).map(([n, j]) => [n, watchStateFromJson(j)] as const);
      const reports = await Promise.all(states.map(([n, st]) => watchOnce(kube, n, ctx.since, ctx.at, st)));
      const report: WatchReport = {
        failures: reports.flatMap((r) => r.failures),
        total: reports.reduce((s, r) => s + r.total, 0),
        unread: reports.flatMap((r) => r.unread),
        podsRead: reports.reduce((s, r) => s + r.podsRead, 0),
      };
      const state: StrictWindowState = {
        namespaces: Object.fromEntries(states.map(([n, st]) => [n, watchStateToJson(st)])),
        points: [...before.points, ...failurePoints(report, ctx.at.getTime())],
      };
      const series: FailureSeries = { changeAt: ctx.since.getTime(), points: state.points, alarmAt: threshold };
      const elapsed = ctx.elapsedMs;
      const restarted = ctx.restarted ? ' (the earlier readings could not be read back; counted from a new look)' : '';
      const detail = (healthy: boolean): Detail => ({ report, series, healthy });
      if (report.total >= threshold)
        return {
          state,
          detail: detail(false),
          // The failures go in the summary, not in `problems`: the engine labels those as pods failing to start.
          verdict: {
            kind: 'alarm',
            summary: `ALARM: ${count(report.total, 'new failure')} toward ${ns} in the ${duration(elapsed)} since STRICT (${failureLines(report, 3).join('; ')}). Roll back with the button in this thread, or type \`/mesh mtls ${ns} --rollback\`.${restarted}`,
          },
        };
      const watchMs = ctx.windowMs;
      if (elapsed < watchMs) {
        // Nothing read is not "no failures": say what could not be checked.
        const watching =
          report.podsRead === 0
            ? `could not check for failures yet: no sidecar or gateway access log could be read${report.unread.length ? ` (${report.unread.slice(0, 3).join('; ')})` : ' (no proxy to read from)'}`
            : `no new failures in ${duration(elapsed)} of ${duration(watchMs)} (${count(report.podsRead, 'proxy log')} read)`;
        return {
          state,
          detail: detail(false),
          verdict: { kind: 'pending', summary: `STRICT is on in ${ns}; watching: ${watching}.${restarted}` },
        };
      }
      const quiet = `no new 403/503 or connection failures toward ${ns} in ${duration(watchMs)} after STRICT (${count(report.podsRead, 'proxy log')} read)`;
      const notRead = report.unread.length ? ` Not read: ${report.unread.slice(0, 3).join('; ')}.` : '';
      // Declared is not enforced: a proxy that never got STRICT keeps the namespace from being called healthy.
      const enforced = await checkEnforcement(kube, Object.keys(state.namespaces), ctx.at).catch((err: unknown) => ({
        behind: [],
        unknown: err instanceof Error ? err.message.slice(0, 200) : String(err),
      }));
      const notEnforced = enforcementWords(enforced, ns);
      if (notEnforced)
        return {
          state,
          detail: detail(false),
          verdict: { kind: 'fail', summary: `Not healthy: ${notEnforced} Otherwise ${quiet}.${notRead}${restarted}` },
        };
      const blind = report.podsRead === 0 ? ' But no access log could be read, so this is not proof of health.' : '';
      const unknown = enforced.unknown
        ? ` Whether every proxy got STRICT is not known (${enforced.unknown}).`
        : ' Every proxy has the current config (istiod sync status).';
      return {
        state,
        detail: detail(true),
        verdict: {
          kind: report.podsRead > 0 ? 'pass' : 'fail',
          summary: `Healthy: ${quiet}.${blind}${unknown}${notRead}${restarted}`,
        },
      };
    },

    async onVerdict(kube, ctx, _state, verdict, detail) {
      if (verdict.kind === 'alarm')
        await options.hooks?.onAlarm?.(kube, ctx.target, detail.report, ctx.since, detail.series);
      else if (detail.healthy)
        await options.hooks?.onHealthy?.(kube, ctx.target, detail.report, ctx.since, detail.series);
    },

    // Past the bound: first the overlap hashes go (a resumed read may then count a few lines twice), then
    // every other reading of the chart.
    compact: (state) => {
      const hashes = Object.values(state.namespaces).some((n) => Object.values(n.lastRead).some((r) => r.lines.length));
      if (hashes)
        return {
          ...state,
          namespaces: Object.fromEntries(
            Object.entries(state.namespaces).map(([n, j]) => [
              n,
              {
                ...j,
                lastRead: Object.fromEntries(Object.entries(j.lastRead).map(([k, r]) => [k, { at: r.at, lines: [] }])),
              },
            ]),
          ),
        };
      const times = [...new Set(state.points.map((p) => p.at))];
      const keep = new Set(times.filter((_, i) => i % 2 === 0 || i === times.length - 1));
      return { ...state, points: state.points.filter((p) => keep.has(p.at)) };
    },
  };
}
