// The App Home tab: on `app_home_opened` the bot publishes, for that person, the cluster(s) it serves, its
// health as this replica sees it (Slack connected, each cluster's API answering, which replica answered, the
// follow-ups in progress and who holds them), and the recent actions from the approvals audit.
import type { App } from '@slack/bolt';
import { z } from 'zod';
import { type Block, context, divider, esc, header, section } from '../blocks/block-kit.ts';
import type { ClusterTarget } from '../command.ts';
import { when } from '../approvals/messages.ts';
import type { ApprovalRequest } from '../approvals/request.ts';
import type { ApprovalsService } from '../approvals/service.ts';
import { LeaseLock } from '../kube/lease.ts';
import { objectName } from '../approvals/request-store.ts';
import type { Logger } from '../log.ts';

const homeOpenedSchema = z.looseObject({
  type: z.literal('app_home_opened'),
  user: z.string().regex(/^[UW][A-Z0-9]{2,}$/),
  tab: z.string().optional(),
});

export interface HomeClusterStatus {
  name: string;
  reachable: boolean;
  isDefault: boolean;
}

export interface HomeFollowUp {
  title: string;
  cluster: string;
  /** The replica holding the follow-up's Lease; undefined while it is free or lapsed (being taken over). */
  holder?: string;
}

export interface HomeStatus {
  clusters: HomeClusterStatus[];
  slackConnected: boolean;
  replica: string;
  readOnly: boolean;
  /** undefined: the approvals state could not be read (said so on the tab). */
  followUps?: HomeFollowUp[];
  recent?: Array<{ rec: ApprovalRequest; title: string }>;
  now: Date;
}

export interface AppHomeDeps {
  clusters: readonly ClusterTarget[];
  defaultCluster: string;
  /** This replica's Slack connection (SlackApp.connected). */
  slackConnected: () => boolean;
  approvals?: ApprovalsService;
  /** Shown when there is no approvals service (read-only installs). */
  replicaName?: string;
  readOnly?: boolean;
  log: Logger;
  now?: () => Date;
  /** Per-person minimum gap between two publishes: the tab is re-read on every open. */
  minIntervalMs?: number;
}

const STATE_ICON: Record<string, string> = {
  pending: ':hourglass:',
  approved: ':white_check_mark:',
  executing: ':arrows_counterclockwise:',
  done: ':white_check_mark:',
  failed: ':x:',
  denied: ':no_entry:',
  expired: ':clock3:',
  superseded: ':leftwards_arrow_with_hook:',
};

/** What the tab shows, read now. Failures become "unknown" on the tab rather than no tab. */
export async function gatherHome(deps: AppHomeDeps): Promise<HomeStatus> {
  const now = (deps.now ?? (() => new Date()))();
  const clusters = await Promise.all(
    deps.clusters.map(async (c) => ({
      name: c.name,
      reachable: await c.kube.ping(),
      isDefault: c.name === deps.defaultCluster,
    })),
  );
  const status: HomeStatus = {
    clusters,
    slackConnected: deps.slackConnected(),
    replica: deps.approvals?.replicaId ?? deps.replicaName ?? 'this replica',
    readOnly: deps.readOnly ?? !deps.approvals,
    now,
  };
  const approvals = deps.approvals;
  if (!approvals) return status;
  try {
    const recent = await approvals.recent({ limit: 10 });
    status.recent = recent.map((rec) => ({ rec, title: approvals.title(rec) }));
    const executing = (await approvals.store.list({ type: 'proposal', state: 'executing' })).map((s) => s.record);
    const stateKube = deps.clusters.find((c) => c.name === deps.defaultCluster)?.kube;
    status.followUps = await Promise.all(
      executing.map(async (rec) => {
        const lease = stateKube
          ? await new LeaseLock(stateKube, approvals.store.namespace, objectName(rec.id), status.replica)
              .holderNow()
              .catch(() => undefined)
          : undefined;
        return {
          title: approvals.title(rec),
          cluster: rec.cluster,
          holder: lease && !lease.expired ? lease.holder : undefined,
        };
      }),
    );
  } catch (err) {
    deps.log.warn({ err }, 'App Home: could not read the approvals state');
  }
  return status;
}

/** The Home tab view, pure: a test can pin it without Slack. */
export function renderHome(s: HomeStatus): { type: 'home'; blocks: Block[] } {
  const blocks: Block[] = [header('meshops')];
  const clusterLines = s.clusters.map(
    (c) =>
      `${c.reachable ? ':large_green_circle:' : ':red_circle:'} *${esc(c.name)}*${c.isDefault ? ' (default)' : ''}: ${c.reachable ? 'API server answering' : 'API server not answering'}`,
  );
  blocks.push(
    section(
      `*Cluster${s.clusters.length > 1 ? 's' : ''}*\n${clusterLines.join('\n')}${s.clusters.length > 1 ? '\nPick one with `--cluster <name>`; a channel may have its own default.' : ''}`,
    ),
  );
  const healthy = s.slackConnected && s.clusters.every((c) => c.reachable);
  const health = [
    `${s.slackConnected ? ':large_green_circle:' : ':red_circle:'} Slack ${s.slackConnected ? 'connected' : 'not connected'}`,
    `Answered by replica \`${esc(s.replica)}\``,
    s.readOnly ? ':lock: Read-only installation: diagnoses only, no fixes' : 'Fixes run after approval, exactly once',
  ];
  blocks.push(section(`*Health* ${healthy ? ':white_check_mark:' : ':warning:'}\n${health.join('\n')}`));
  if (s.followUps !== undefined && !s.readOnly) {
    const lines = s.followUps
      .slice(0, 10)
      .map(
        (f) =>
          `:arrows_counterclockwise: ${esc(f.title)} on *${esc(f.cluster)}*: ${f.holder ? `followed by \`${esc(f.holder)}\`` : 'waiting for a replica to take it over'}`,
      );
    blocks.push(section(`*Follow-ups in progress*\n${lines.length ? lines.join('\n') : 'None.'}`));
  }
  blocks.push(divider());
  if (s.recent === undefined) {
    blocks.push(
      section(
        s.readOnly
          ? '*Recent actions*\nNone: this installation does not act.'
          : '*Recent actions*\n:warning: The approvals state could not be read just now; `/mesh audit` retries.',
      ),
    );
  } else if (s.recent.length === 0) {
    blocks.push(
      section(
        '*Recent actions*\nNone yet. Fixes offered by a diagnosis, or `/mesh restart`, appear here once proposed.',
      ),
    );
  } else {
    blocks.push(section('*Recent actions*'));
    // Two blocks a row; forty rows keep the tab under Slack's 100 blocks with room for the rest.
    for (const { rec, title } of s.recent.slice(0, 40)) {
      const approvers = rec.approvals.map((a) => `<@${a.userId}>`).join(', ');
      const outcome = rec.outcome?.summary ? `: ${esc(rec.outcome.summary.slice(0, 200))}` : '';
      blocks.push(
        section(
          `${STATE_ICON[rec.state] ?? ':grey_question:'} *${esc(title)}* on *${esc(rec.cluster)}*: ${rec.state}${outcome}`,
        ),
        context(
          `asked by <@${rec.requester.userId}> ${when(rec.createdAt, s.now)}${approvers ? ` · approved by ${approvers}` : ''}${rec.denial ? ` · denied by <@${rec.denial.userId}>` : ''}`,
        ),
      );
    }
  }
  blocks.push(
    context(
      `Updated ${when(s.now.toISOString(), s.now)}; open the tab again to refresh. \`/mesh help\` lists the commands, \`/mesh audit\` the full history.`,
    ),
  );
  return { type: 'home', blocks };
}

/** Registers the app_home_opened listener on a Bolt app (before or after start). */
export function registerAppHome(app: App, deps: AppHomeDeps): void {
  const log = deps.log.child({ component: 'app-home' });
  const lastPublished = new Map<string, number>();
  app.event('app_home_opened', async ({ event, client }) => {
    const parsed = homeOpenedSchema.safeParse(event);
    if (!parsed.success) {
      log.warn({ issues: parsed.error.issues.slice(0, 3) }, 'app_home_opened payload refused');
      return;
    }
    // The Messages tab sends this event too; only the Home tab has something to draw.
    if (parsed.data.tab && parsed.data.tab !== 'home') return;
    const user = parsed.data.user;
    const now = Date.now();
    if (now - (lastPublished.get(user) ?? 0) < (deps.minIntervalMs ?? 3000)) return;
    lastPublished.set(user, now);
    if (lastPublished.size > 5000) lastPublished.delete(lastPublished.keys().next().value as string);
    try {
      const view = renderHome(await gatherHome(deps));
      await client.views.publish({ user_id: user, view: view as never });
    } catch (err) {
      lastPublished.delete(user);
      log.warn({ err, user }, 'could not publish the App Home tab');
    }
  });
}
