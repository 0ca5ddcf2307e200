// A canary step's verification window, as a guarded window (approvals/guarded-window.ts): the weights
// must stay what the step set; each look reads the subsets' traffic (Prometheus when configured, else
// the destination sidecars' counters since a baseline scrape) and records a reading for the chart; the
// judge (judge.ts) decides pending, an early alarm, pass or fail. The baseline and the readings are the
// window's state, kept in the request, so a replica that resumes the window keeps both.
import { z } from 'zod';
import type { KubeClient } from '../../kube/client.ts';
import type { Target } from '../../approvals/request.ts';
import type { GuardedWindow, WindowLook } from '../../approvals/guarded-window.ts';
import { chartPointSchema } from '../../charts/window-chart.ts';
import { sampleSchema } from '../../envoy/istio-metrics.ts';
import { judgeWindow, type Thresholds, type Verdict } from './judge.ts';
import { type CanaryView, readCanary, weightsText } from './routes.ts';
import { record, type WindowSeries } from './series.ts';
import { type Observed, observePrometheus, podSource, scrapeSubsets, statsBetween } from './traffic.ts';
import { duration } from './words.ts';

const stateSchema = z.object({
  /** The first scrape of the subsets' pods (compacted counters), from which the window's numbers grow. */
  baseline: z.object({ at: z.number(), pods: z.record(z.string(), z.array(sampleSchema)) }).optional(),
  points: z.array(chartPointSchema).max(5000),
});
export type StepWindowState = z.infer<typeof stateSchema>;

/** What the window reads of a step's plan (step-kind.ts's StepPlan). */
export interface StepWindowPlan {
  service: string;
  canary: string;
  stable: string;
  weight: number;
  windowMs: number;
  thresholds: Thresholds;
}

export interface StepWindowDetail {
  verdict: Verdict;
  observed: Observed;
  series: WindowSeries;
}

export interface StepWindowOptions<P extends StepWindowPlan> {
  prometheusUrl?: string;
  parsePlan(raw: unknown): P;
  onVerdict?(target: Target, plan: P, verdict: Verdict, observed: Observed, series: WindowSeries): Promise<void>;
}

async function observe(
  kube: KubeClient,
  ctx: WindowLook<StepWindowPlan, CanaryView>,
  state: StepWindowState,
  prometheusUrl: string | undefined,
): Promise<{ observed: Observed; state: StepWindowState; baselineOnly: boolean }> {
  const { plan, seen: view, target } = ctx;
  const at = ctx.at.getTime();
  if (prometheusUrl) {
    const seconds = Math.max(1, (at - ctx.since.getTime()) / 1000);
    const observed = await observePrometheus(prometheusUrl, plan.service, target.namespace, view.subsets, seconds);
    return { observed, state, baselineOnly: false };
  }
  const { scrape, unread } = await scrapeSubsets(kube, target.namespace, plan.service, view.subsets);
  if (!state.baseline)
    return {
      observed: { bySubset: new Map(), source: podSource, unread },
      state: { ...state, baseline: { at, pods: Object.fromEntries(scrape) } },
      baselineOnly: true,
    };
  // A pod first read now (unreadable at the baseline, or new) starts its own baseline here: its earlier
  // counts may be from before the step.
  const pods = { ...state.baseline.pods };
  for (const [pod, samples] of scrape) pods[pod] ??= samples;
  const seconds = (at - state.baseline.at) / 1000;
  const bySubset = statsBetween(new Map(Object.entries(pods)), scrape, view.subsets, seconds);
  return {
    observed: { bySubset, source: podSource, unread },
    state: { ...state, baseline: { at: state.baseline.at, pods } },
    baselineOnly: false,
  };
}

export function stepWindow<P extends StepWindowPlan>(
  options: StepWindowOptions<P>,
): GuardedWindow<P, StepWindowState, CanaryView, StepWindowDetail> {
  return {
    name: 'canary-step',
    parsePlan: options.parsePlan,
    windowMs: (plan) => plan.windowMs,
    state: stateSchema,

    async stands(kube, target, plan, applied) {
      const view = await readCanary(kube, target.namespace, plan.service, plan.canary);
      if (!view?.virtualService || view.canaryWeight !== plan.weight)
        return {
          stopped: `The weights changed during the window (${view ? weightsText(view.routes) : 'the Service is gone'}), so the watch stopped.`,
        };
      return { since: applied, seen: view };
    },

    start: async () => ({ points: [] }),

    async look(kube, ctx, before) {
      const { plan, target } = ctx;
      const { observed, state, baselineOnly } = await observe(kube, ctx, before, options.prometheusUrl);
      const points = [...state.points];
      record(points, ctx.at.getTime(), observed, [plan.stable, plan.canary]);
      const next = { ...state, points };
      // The first scrape is only the baseline: a window is never judged on it.
      const final = ctx.elapsedMs >= ctx.windowMs && !baselineOnly;
      const verdict = judgeWindow(observed.bySubset.get(plan.canary), plan.thresholds, final, observed.unread);
      const series: WindowSeries = { changeAt: ctx.since.getTime(), points };
      const lines = verdict.lines.join('; ');
      const restarted = ctx.restarted
        ? ' (the earlier readings could not be read back; counted from a new baseline)'
        : '';
      if (verdict.kind === 'pending')
        return {
          state: next,
          verdict: {
            kind: 'pending',
            summary: `${plan.canary} at ${plan.weight}%: ${duration(ctx.elapsedMs)} of ${duration(ctx.windowMs)}: ${lines}${restarted}.`,
          },
          detail: { verdict, observed, series },
        };
      const head = verdict.kind === 'pass' ? 'Passed' : verdict.kind === 'alarm' ? 'ALARM' : 'Failed';
      return {
        state: next,
        verdict: {
          kind: verdict.kind,
          summary: `${head}: ${plan.canary} at ${plan.weight}% of ${plan.service}.${target.namespace} after ${duration(ctx.elapsedMs)}: ${lines}${restarted}. From ${observed.source}.`,
        },
        detail: { verdict, observed, series },
      };
    },

    async onVerdict(_kube, ctx, _state, _verdict, detail) {
      await options.onVerdict?.(ctx.target, ctx.plan, detail.verdict, detail.observed, detail.series);
    },

    // Past the bound, thin the readings (the chart keeps its shape); the baseline stays.
    compact: (state) => {
      const times = [...new Set(state.points.map((p) => p.at))];
      const keep = new Set(times.filter((_, i) => i % 2 === 0 || i === times.length - 1));
      return { ...state, points: state.points.filter((p) => keep.has(p.at)) };
    },
  };
}
