// `/mesh audit [namespace]`: the recent proposed changes, who asked, who approved, and what came of it.
// Reads the persisted approval requests; the same steps are also pino audit lines and Kubernetes Events.
import { defineCommand, optionalNamespace } from '../../command.ts';
import { type Block, context, esc, header, section } from '../../blocks/block-kit.ts';
import { UserError } from '../../errors.ts';
import type { ApprovalRequest } from '../../approvals/request.ts';
import { when } from '../../approvals/messages.ts';

export interface AuditRow {
  id: string;
  what: string;
  cluster: string;
  requester: string;
  approvers: string[];
  deniedBy?: string;
  state: string;
  outcome?: string;
  at: string;
}

export interface AuditReport {
  namespace?: string;
  rows: AuditRow[];
  now: string;
}

const ICON: Record<string, string> = {
  pending: ':hourglass_flowing_sand:',
  approved: ':white_check_mark:',
  executing: ':arrows_counterclockwise:',
  done: ':white_check_mark:',
  failed: ':x:',
  denied: ':no_entry_sign:',
  expired: ':hourglass:',
  superseded: ':leftwards_arrow_with_hook:',
};

export function auditRow(rec: ApprovalRequest, title: string): AuditRow {
  return {
    id: rec.id,
    what: title,
    cluster: rec.cluster,
    requester: rec.requester.userId,
    approvers: rec.approvals.map((a) => a.userId),
    deniedBy: rec.denial?.userId,
    state: rec.state,
    outcome: rec.outcome?.summary,
    at: rec.history.at(-1)?.at ?? rec.createdAt,
  };
}

export default defineCommand({
  name: 'audit',
  summary: 'Recent proposed changes: what, who asked, who approved, outcome, when',
  usage: '/mesh audit [namespace]',
  examples: ['/mesh audit', '/mesh audit bookinfo'],
  ...optionalNamespace,
  permission: 'read',
  touchesCluster: true,
  async run({ args, services, now }): Promise<AuditReport> {
    const approvals = services.approvals;
    if (!approvals) throw new UserError('There is no audit trail: approvals are switched off in this meshops.');
    const recs = await approvals.recent({ namespace: args.namespace, limit: 20 });
    return {
      namespace: args.namespace,
      rows: recs.map((r) => auditRow(r, approvals.title(r))),
      now: now().toISOString(),
    };
  },
  render(r) {
    const where = r.namespace ? `namespace ${r.namespace}` : 'all namespaces';
    const blocks: Block[] = [header(`Recent meshops actions · ${where}`)];
    if (r.rows.length === 0) {
      blocks.push(
        section(
          '_Nothing proposed yet._ Changes proposed with `/mesh restart` or from a diagnosis button show up here.',
        ),
      );
      return { text: `No meshops actions in ${where}`, blocks };
    }
    const now = new Date(r.now);
    const lines = r.rows.map((x) => {
      const decided = x.approvers.length
        ? ` · approved by ${x.approvers.map((u) => `<@${u}>`).join(', ')}`
        : x.deniedBy
          ? ` · denied by <@${x.deniedBy}>`
          : '';
      const outcome = x.outcome ? `: ${esc(x.outcome)}` : '';
      return `${ICON[x.state] ?? ''} *${esc(x.what)}* (${esc(x.cluster)}) · asked by <@${x.requester}>${decided} · *${x.state}*${outcome} · ${when(x.at, now)}`;
    });
    // One section per few rows keeps each under Slack's 3000-character limit.
    for (let i = 0; i < lines.length; i += 5) blocks.push(section(lines.slice(i, i + 5).join('\n')));
    blocks.push(
      context(
        "Also recorded as Kubernetes Events on each target (reason Meshops*) and as `audit` lines in the bot's log.",
      ),
    );
    return { text: `${r.rows.length} recent meshops action${r.rows.length === 1 ? '' : 's'} in ${where}`, blocks };
  },
});
