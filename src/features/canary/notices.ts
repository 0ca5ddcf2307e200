// What the verification window says in the step's thread beyond the engine's outcome line: the
// verdict with the canary's numbers, then the next step (after a pass only) and a one-click rollback.
// The engine gives a follow-up no message, so the request is found by its target among the executing
// proposals (approvals/thread-notices.ts, as the mTLS watch does).
import { type Attachment, type Offer, type Rendered, context, esc, section } from '../../blocks/block-kit.ts';
import type { ApprovalsPort } from '../../approvals/port.ts';
import type { Target } from '../../approvals/request.ts';
import { chartAttachment, executingRequest, fileSafe, postInThread } from '../../approvals/thread-notices.ts';
import type { Logger } from '../../log.ts';
import type { Messenger } from '../../messenger.ts';
import type { Verdict } from './judge.ts';
import { nextStep, type OfferBase, rollbackOffer, stepOffer } from './offers.ts';
import type { WindowSeries } from './series.ts';
import { CANARY_STEP, type CanaryHooks, type StepPlan } from './step-kind.ts';
import type { Observed } from './traffic.ts';

export interface CanaryNoticeDeps {
  approvals: () => ApprovalsPort | undefined;
  messenger: () => Messenger | undefined;
  log: Logger;
}

export function canaryNotices(deps: CanaryNoticeDeps): CanaryHooks {
  const posted = new Set<string>();
  return {
    async onVerdict(target: Target, plan: StepPlan, verdict: Verdict, observed: Observed, series?: WindowSeries) {
      try {
        const approvals = deps.approvals();
        const messenger = deps.messenger();
        const rec = approvals ? await executingRequest(approvals, target, [CANARY_STEP]) : undefined;
        if (!rec?.message || !approvals || !messenger) return;
        const key = `${rec.id}:${verdict.kind}`;
        if (posted.has(key)) return;
        posted.add(key);
        const base: OfferBase = {
          namespace: target.namespace,
          virtualService: target.name,
          service: plan.service,
          canary: plan.canary,
          carry: {
            windowMs: plan.windowMs,
            minSuccessRate: plan.thresholds.minSuccessRate,
            maxP99Ms: plan.thresholds.maxP99Ms,
            steps: plan.steps,
          },
        };
        const where = `${plan.canary} at ${plan.weight}% of ${target.namespace}/${plan.service}`;
        const icon =
          verdict.kind === 'pass' ? ':white_check_mark:' : verdict.kind === 'alarm' ? ':rotating_light:' : ':x:';
        const head =
          verdict.kind === 'pass'
            ? 'passed its window'
            : verdict.kind === 'alarm'
              ? 'ALARM: clear regression, window stopped early'
              : 'failed its window';
        const offers: Offer[] = [];
        const next = verdict.kind === 'pass' ? nextStep(plan.steps, plan.weight) : undefined;
        if (next !== undefined) offers.push(stepOffer(base, next, `next step after ${plan.weight}% passed`));
        offers.push(
          rollbackOffer(
            base,
            `${verdict.kind === 'pass' ? 'Roll back' : `Rollback after a ${verdict.kind}`} at ${plan.weight}%`,
          ),
        );
        const others = [...observed.bySubset.entries()]
          .filter(([s]) => s !== plan.canary)
          .map(([s, st]) => `${s}: ${st.requests} requests, ${st.errors} 5xx`);
        const rendered: Rendered = {
          text: `Canary ${where} ${head}`,
          blocks: [
            section(`${icon} *${esc(where)} ${head}.*\n${verdict.lines.map((l) => `• ${esc(l)}`).join('\n')}`),
            context(
              `From ${esc(observed.source)}.${others.length ? ` Others: ${esc(others.join('; '))}.` : ''}${observed.unread.length ? ` Not read: ${esc(observed.unread.slice(0, 3).join('; '))}.` : ''}${
                verdict.kind === 'pass' && next === undefined
                  ? ` ${plan.canary} takes all traffic; the VirtualService stays (see the proposal for what deleting it would do).`
                  : ''
              }${verdict.kind === 'pass' ? '' : ' The next step is offered only after a passing window.'}`,
            ),
          ],
        };
        const chart = await windowChart(target, plan, series);
        if ('file' in chart) rendered.files = [chart.file];
        else rendered.blocks.push(context(`_chart could not be drawn: ${esc(chart.reason)}_`));
        await postInThread(approvals, messenger, rec, rendered, offers);
      } catch (err) {
        deps.log.warn({ err, namespace: target.namespace }, 'could not post the canary verdict');
      }
    },
  };
}

/** The window's PNG chart for the thread, or why there is none. vega is loaded only here, when a window ends. */
async function windowChart(
  target: Target,
  plan: StepPlan,
  series: WindowSeries | undefined,
): Promise<{ file: Attachment } | { reason: string }> {
  if (!series) return { reason: 'the window kept no readings' };
  const index = plan.steps.indexOf(plan.weight);
  const n = index >= 0 ? index + 1 : plan.weight;
  const filename = `canary-${fileSafe(target.namespace)}-${fileSafe(plan.service)}-step-${n}.png`;
  return chartAttachment(
    async () => {
      const { renderWindowChart } = await import('../../charts/window-chart.ts');
      return renderWindowChart({
        namespace: target.namespace,
        service: plan.service,
        step: `${plan.canary} ${plan.from}% → ${plan.weight}%`,
        changeAt: series.changeAt,
        points: series.points,
        minSuccessRate: plan.thresholds.minSuccessRate,
        maxP99Ms: plan.thresholds.maxP99Ms,
      });
    },
    filename,
    `${target.namespace}/${plan.service}: ${plan.canary} at ${plan.weight}%, success rate and p99 over the window`,
  );
}
