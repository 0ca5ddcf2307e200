// What the watch says in the migration's thread beyond the engine's own outcome line: the alarm with
// the failures and a "Roll back to PERMISSIVE" button, or the healthy verdict with the next
// namespaces to migrate, ranked by readiness. The engine gives a follow-up no message, so the
// request is found by its target among the executing proposals.
import { type Attachment, type Offer, type Rendered, context, count, esc, section } from '../../blocks/block-kit.ts';
import type { KubeClient } from '../../kube/client.ts';
import type { Logger } from '../../log.ts';
import type { Messenger } from '../../messenger.ts';
import type { ApprovalsPort } from '../../approvals/port.ts';
import type { ApprovalRequest, Target } from '../../approvals/request.ts';
import { chartAttachment, executingRequest, fileSafe, postInThread } from '../../approvals/thread-notices.ts';
import type { FailureSeries } from './strict-window.ts';
import type { ScanOptions } from './plaintext-scan.ts';
import { rankNamespaces } from './readiness-check.ts';
import {
  type MigrationHooks,
  MTLS_ROLLBACK,
  MTLS_STRICT,
  MTLS_STRICT_OVERRIDE,
  strictTarget,
} from './strict-migration.ts';
import { type WatchReport, failureLines } from './migration-watch.ts';

export interface NoticeDeps {
  approvals: () => ApprovalsPort | undefined;
  messenger: () => Messenger | undefined;
  log: Logger;
  scan?: ScanOptions;
}

export function rollbackOffer(namespace: string, why: string): Offer {
  return {
    label: 'Roll back to PERMISSIVE',
    remediation: {
      kind: MTLS_ROLLBACK,
      target: strictTarget(namespace),
      why,
      risk: 'Plaintext callers are accepted again.',
    },
  };
}

/** Hooks for mtlsRemediationKinds({ hooks }); the getters let the kinds exist before the service does. */
export function migrationNotices(deps: NoticeDeps): MigrationHooks {
  // One post per request and verdict in this process, whatever the engine retries.
  const posted = new Set<string>();

  const find = async (target: Target): Promise<ApprovalRequest | undefined> => {
    const approvals = deps.approvals();
    return approvals ? executingRequest(approvals, target, [MTLS_STRICT, MTLS_STRICT_OVERRIDE], false) : undefined;
  };

  const post = async (
    rec: ApprovalRequest,
    verdict: string,
    rendered: Rendered,
    offers: Offer[],
    chart: { file: Attachment } | { reason: string },
  ): Promise<void> => {
    const approvals = deps.approvals();
    const messenger = deps.messenger();
    const key = `${rec.id}:${verdict}`;
    if (!approvals || !messenger || !rec.message || posted.has(key)) return;
    posted.add(key);
    if ('file' in chart) rendered.files = [chart.file];
    else rendered.blocks.push(context(`_chart could not be drawn: ${esc(chart.reason)}_`));
    await postInThread(approvals, messenger, rec, rendered, offers);
  };

  return {
    async onAlarm(_kube: KubeClient, target: Target, report: WatchReport, since: Date, series: FailureSeries) {
      try {
        const rec = await find(target);
        if (!rec) return;
        const lines = failureLines(report);
        const rendered: Rendered = {
          text: `ALARM after STRICT in ${target.namespace}: ${count(report.total, 'new failure')}`,
          blocks: [
            section(
              `:rotating_light: *STRICT in \`${esc(target.namespace)}\` is breaking callers:* ${count(report.total, 'new failure')} since ${since.toISOString().slice(11, 19)} UTC.\n${lines.map((l) => `• ${esc(l)}`).join('\n')}`,
            ),
            context(
              'Callers without a sidecar are refused (the destination sidecar logs NR filter_chain_not_found, the caller sees a connection reset). Roll back, then give them a sidecar or a port exclusion.',
            ),
          ],
        };
        await post(
          rec,
          'alarm',
          rendered,
          [rollbackOffer(target.namespace, `Alarm after STRICT: ${count(report.total, 'new failure')}`)],
          await strictChart(target, series),
        );
      } catch (err) {
        deps.log.warn({ err, namespace: target.namespace }, 'could not post the mTLS migration alarm');
      }
    },

    async onHealthy(kube: KubeClient, target: Target, report: WatchReport, _since: Date, series: FailureSeries) {
      try {
        const rec = await find(target);
        if (!rec) return;
        const next = (await rankNamespaces(kube, deps.scan, [target.namespace])).slice(0, 3);
        const lines = next.map(
          (n) => `• \`${esc(n.namespace)}\`: ${n.ready ? 'ready' : `not ready (${esc(n.reasons[0] ?? '')})`}`,
        );
        const rendered: Rendered = {
          text: `STRICT in ${target.namespace} looks healthy; next namespaces ranked by readiness`,
          blocks: [
            section(
              `:white_check_mark: *STRICT in \`${esc(target.namespace)}\` stayed healthy* (${count(report.podsRead, 'proxy log')} read, no new 403/503 or connection failures).`,
            ),
            section(
              next.length
                ? `*Next, ranked by readiness:*\n${lines.join('\n')}`
                : '_No other meshed namespace is left to migrate._',
            ),
          ],
        };
        const offers: Offer[] = next
          .filter((n) => n.ready)
          .slice(0, 2)
          .map((n) => ({
            label: `Enable STRICT for ${n.namespace}`,
            remediation: {
              kind: MTLS_STRICT,
              target: strictTarget(n.namespace),
              why: `next after ${target.namespace}`,
              params: { windowMs: deps.scan?.windowMs },
            },
          }));
        await post(
          rec,
          'healthy',
          rendered,
          [...offers, rollbackOffer(target.namespace, `Roll back ${target.namespace} after a healthy watch`)],
          await strictChart(target, series),
        );
      } catch (err) {
        deps.log.warn({ err, namespace: target.namespace }, 'could not post the mTLS migration verdict');
      }
    },
  };
}

/** The watch's PNG chart: 403, 503 and connection failures since STRICT. vega is loaded only here. */
async function strictChart(target: Target, series: FailureSeries): Promise<{ file: Attachment } | { reason: string }> {
  const filename = `mtls-${fileSafe(target.namespace)}-strict-watch.png`;
  return chartAttachment(
    async () => {
      const { renderFailureChart } = await import('../../charts/failure-chart.ts');
      return renderFailureChart({
        title: `${target.namespace}: new failures since STRICT`,
        changeAt: series.changeAt,
        points: series.points,
        alarmAt: series.alarmAt,
      });
    },
    filename,
    `${target.namespace}: 403, 503 and connection failures since STRICT`,
  );
}
