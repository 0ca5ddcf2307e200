// Text in, rendered answer out. The router finds the verb, parses and validates its arguments, picks
// the cluster, checks permission, runs the command and renders it, and turns every failure into
// words for people. It knows nothing about Slack: Bolt, the console and the CLI all call it.
import { closest, describeZodError, parseWords, tokenize } from './args.ts';
import type { AnyCommand, CommandContext } from './command.ts';
import type { ClusterTarget, Requester } from './shared-types.ts';
import { UserError, explain } from './errors.ts';
import type { Logger } from './log.ts';
import { type Rendered, esc, fitToSlack, footerBlock, section } from './blocks/block-kit.ts';
import type { CommandServices } from './services.ts';
import { KubeApiError } from './kube/api-errors.ts';
import { unknownNamespace } from './mesh/namespaces.ts';
import { SingleFlight, stableJson } from './single-flight.ts';
import { type CacheReads, cacheOnlyList, freshReads, withCacheScope } from './kube/watch-cache.ts';

/** Kept for importers from before the words moved to args.ts. */
export { describeZodError } from './args.ts';

/** What a front door passes along with one request: its logger, and where to show progress. */
export interface HandleOptions {
  /** The delivery's child logger (its delivery id on every line of this request, down to the command). */
  log?: Logger;
  /** Notes from a long-running command ("sampling…"), for the front door to show while it waits. */
  progress?: (note: string) => void;
  /** The command waits for a free slot (`ahead` others before it): the front door may say "queued". */
  queued?: (ahead: number) => void;
  /** The command that waited has its slot and runs now: the front door may take "queued" back. */
  started?: () => void;
}

export type Outcome = 'ok' | 'user_error' | 'refused' | 'error';

export interface Reply {
  outcome: Outcome;
  command?: string;
  cluster?: string;
  rendered: Rendered;
}

export interface Prepared {
  command: AnyCommand;
  args: unknown;
  cluster: ClusterTarget;
  touchesCluster: boolean;
  execute(): Promise<Reply>;
}

export interface RouterOptions {
  commands: readonly AnyCommand[];
  clusters: readonly ClusterTarget[];
  defaultCluster?: string;
  log: Logger;
  now?: () => Date;
  services?: CommandServices;
  /** Permission check (the policy). Returns a refusal in words, or undefined to allow. */
  authorize?: (
    requester: Requester,
    command: AnyCommand,
    args: unknown,
    cluster: ClusterTarget,
  ) => Promise<string | undefined> | string | undefined;
  /** The cluster a channel uses when no --cluster is given. */
  channelCluster?: (channelId: string | undefined) => string | undefined;
  /** Called with each finished command (metrics). */
  onCommand?: (verb: string, outcome: Outcome, seconds: number) => void;
  /**
   * Cluster commands run through this: a bounded number at once, identical read-only questions sharing one
   * run. Default: 8 at once, answers shared while they run (none reused after).
   */
  flights?: SingleFlight;
}

/** Builds the verb table; a name or alias used twice is a programming error caught at start-up. */
export function commandTable(commands: readonly AnyCommand[]): Map<string, AnyCommand> {
  const table = new Map<string, AnyCommand>();
  for (const cmd of commands) {
    for (const name of [cmd.name, ...(cmd.aliases ?? [])]) {
      const existing = table.get(name);
      if (existing)
        throw new Error(`command name collision: "${name}" is declared by both ${existing.name} and ${cmd.name}`);
      table.set(name, cmd);
    }
  }
  return table;
}

export class Router {
  readonly commands: readonly AnyCommand[];
  private readonly table: Map<string, AnyCommand>;
  private readonly clusters: Map<string, ClusterTarget>;
  private readonly options: RouterOptions;
  private readonly now: () => Date;
  readonly flights: SingleFlight;

  constructor(options: RouterOptions) {
    if (options.clusters.length === 0) throw new Error('the router needs at least one cluster');
    this.options = options;
    this.commands = options.commands;
    this.table = commandTable(options.commands);
    this.clusters = new Map(options.clusters.map((c) => [c.name, c]));
    this.now = options.now ?? (() => new Date());
    this.flights = options.flights ?? new SingleFlight({ maxConcurrent: 8 });
  }

  /** What commands may use; a proposal's preview inside a read command reads the cluster fresh, never the cache. */
  private get services(): CommandServices {
    const services = this.options.services ?? {};
    const approvals = services.approvals;
    if (!approvals) return services;
    const propose: typeof approvals.propose = (input) => freshReads(() => approvals.propose(input));
    const wrapped = new Proxy(approvals, {
      get: (target, prop) => {
        if (prop === 'propose') return propose;
        const v = Reflect.get(target, prop);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    return { ...services, approvals: wrapped };
  }

  get clusterNames(): string[] {
    return [...this.clusters.keys()];
  }

  /**
   * Parse and validate without running: the front door learns whether to show "working…". `log` is the
   * delivery's child logger (its delivery id on every line of this request, down to the command).
   */
  async prepare(text: string, requester: Requester, options: HandleOptions = {}): Promise<Prepared | Reply> {
    const log = options.log ?? this.options.log;
    try {
      let words = tokenize(text.trim());
      const clusterFlag = extractCluster(words);
      words = istioctlHabits(clusterFlag.words);
      const cluster = this.pickCluster(clusterFlag.name, requester);
      const verb = (words[0] ?? 'help').toLowerCase();
      const command = this.table.get(verb);
      if (!command) {
        const names = [...this.table.keys()];
        const near = closest(verb, names);
        throw new UserError(
          `\`${esc(verb)}\` is not a meshops command.` +
            (near.length ? ` Did you mean ${near.map((n) => `\`${n}\``).join(', ')}?` : ''),
          'Type `/mesh help` for the list of commands.',
        );
      }
      const raw = parseWords(words.slice(1), command.argSpec, command.usage);
      const parsed = command.args.safeParse(raw);
      if (!parsed.success) throw new UserError(describeZodError(parsed.error, raw), `Usage: \`${command.usage}\``);
      const args = parsed.data;
      const refusal = await this.options.authorize?.(requester, command, args, cluster);
      if (refusal) return this.reply('refused', section(`:no_entry: ${refusal}`), command.name, cluster.name);
      return {
        command,
        args,
        cluster,
        touchesCluster:
          typeof command.touchesCluster === 'function' ? command.touchesCluster(args) : command.touchesCluster,
        execute: () => this.execute(command, args, cluster, requester, log, options),
      };
    } catch (err) {
      return this.failure(err, log, 'reading a command');
    }
  }

  /** Parse, validate, authorize, run and render. Never throws. */
  async handle(text: string, requester: Requester, options: HandleOptions = {}): Promise<Reply> {
    const prepared = await this.prepare(text, requester, options);
    if ('rendered' in prepared) return prepared;
    return prepared.execute();
  }

  private async execute(
    command: AnyCommand,
    args: unknown,
    cluster: ClusterTarget,
    requester: Requester,
    parent: Logger,
    { progress, queued, started: unqueued }: HandleOptions,
  ): Promise<Reply> {
    const started = performance.now();
    const log = parent.child({ verb: command.name, cluster: cluster.name, user: requester.userId });
    let reply: Reply;
    try {
      const touches =
        typeof command.touchesCluster === 'function' ? command.touchesCluster(args) : command.touchesCluster;
      const ctx: CommandContext<unknown> = {
        args,
        cluster,
        kube: cluster.kube,
        requester,
        log,
        now: this.now,
        services: this.services,
        commands: this.commands,
        ...(progress ? { progress } : {}),
      };
      // A read command's snapshot may come from the cluster's watch cache (when MESHOPS_WATCH_CACHE is on); what it
      // read travels with its result, so a shared answer carries its freshness too.
      const work = async (): Promise<{ result: unknown; reads: CacheReads }> => {
        const { value, reads } = await withCacheScope(command.permission === 'read', async () => {
          if (touches && command.namespaceMustExist !== false) await requireNamespace(cluster, args);
          return command.run(ctx);
        });
        return { result: value, reads };
      };
      // Rendering and offers stay per asker: only the reading of the cluster is shared.
      const flight = touches
        ? await this.flights.run(shareKey(command, args, cluster, requester), work, {
            onQueued: queued,
            onStarted: unqueued,
          })
        : { value: await work(), shared: false, ageMs: 0 };
      const { result, reads } = flight.value;
      let rendered = command.render(result, { cluster: cluster.name, now: this.now(), requester });
      const offers = rendered.offers ?? [];
      const approvals = this.options.services?.approvals;
      if (offers.length && approvals)
        rendered = await approvals.attachOffers(rendered, offers, requester, cluster.name);
      const seconds = (performance.now() - started) / 1000;
      const age = Math.round(flight.ageMs / 1000);
      const footer = footerBlock(
        `cluster *${esc(cluster.name)}* · ${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)}s` +
          (age >= 1 ? ` · shared answer, read from the cluster ${age}s ago` : '') +
          cacheWords(reads),
      );
      reply = {
        outcome: 'ok',
        command: command.name,
        cluster: cluster.name,
        rendered: fitToSlack(rendered, `${command.name}-output.txt`, footer),
      };
    } catch (err) {
      reply = { ...this.failure(err, log, `answering ${command.name}`), command: command.name, cluster: cluster.name };
    }
    this.options.onCommand?.(command.name, reply.outcome, (performance.now() - started) / 1000);
    return reply;
  }

  private pickCluster(name: string | undefined, requester: Requester): ClusterTarget {
    const wanted =
      name ?? this.options.channelCluster?.(requester.channelId) ?? this.options.defaultCluster ?? this.clusterNames[0];
    const cluster = wanted ? this.clusters.get(wanted) : undefined;
    if (!cluster) {
      throw new UserError(
        `There is no cluster named \`${esc(wanted ?? '')}\`.`,
        `Known clusters: ${this.clusterNames.map((n) => `\`${n}\``).join(', ')}. Use \`--cluster <name>\`.`,
      );
    }
    return cluster;
  }

  private failure(err: unknown, log: Logger = this.options.log, what = 'answering a command'): Reply {
    const e = explain(err, log, what);
    return this.reply(e.outcome, section(e.text));
  }

  private reply(outcome: Outcome, block: ReturnType<typeof section>, command?: string, cluster?: string): Reply {
    const text = block.type === 'section' ? (block.text?.text ?? '') : '';
    return { outcome, command, cluster, rendered: { text: text.replace(/[*_`]/g, '').slice(0, 300), blocks: [block] } };
  }
}

/**
 * The question a read-only command answers: cluster, verb, normalized arguments and who may see it (where
 * it is asked: the channel's restrictions; a refused ask never gets here). Undefined: never shared.
 */
function shareKey(command: AnyCommand, args: unknown, cluster: ClusterTarget, requester: Requester) {
  const readOnly = typeof command.readOnly === 'function' ? command.readOnly(args) : command.readOnly === true;
  if (!readOnly) return undefined;
  return [cluster.name, command.name, stableJson(args), requester.source, requester.channelId ?? ''].join('\u0000');
}

/**
 * The footer's words for an answer whose snapshot came from the watch cache: how long ago the least recently
 * synced kind it read last heard from the API server (the informers' clock, wall time).
 */
function cacheWords(reads: CacheReads): string {
  if (reads.oldestSyncAt === undefined) return '';
  const ago = Math.max(0, Math.round((Date.now() - reads.oldestSyncAt) / 1000));
  return ` · cluster view from meshops' watch cache, in sync as of ${ago}s ago`;
}

function extractCluster(words: string[]): { words: string[]; name?: string } {
  const out: string[] = [];
  let name: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (w === '--cluster') {
      name = words[++i];
      if (!name)
        throw new UserError('`--cluster` needs a cluster name.', 'Example: `/mesh --cluster prod-eu stale bookinfo`.');
    } else if (w.startsWith('--cluster=')) name = w.slice('--cluster='.length);
    else out.push(w);
  }
  return { words: out, name };
}

/**
 * istioctl's habits: `istioctl proxy-status`, `x describe …`, `experimental describe …` mean what meshops calls
 * `status` and `describe` (the verb aliases do the rest). A prefix alone is left for the unknown-verb answer.
 */
function istioctlHabits(words: string[]): string[] {
  let out = words;
  if (out[0]?.toLowerCase() === 'istioctl' && out.length > 1) out = out.slice(1);
  if (['x', 'experimental', 'exp'].includes(out[0]?.toLowerCase() ?? '') && out.length > 1) out = out.slice(1);
  return out;
}

/**
 * A namespace that is not in the cluster is said so, with the ones there are, for every verb that reads the
 * cluster, before the command runs (so no verb answers "no pod x in nope" or proposes a change there). Where
 * the bot may not read Namespaces, the command runs and answers for itself.
 */
async function requireNamespace(cluster: ClusterTarget, args: unknown): Promise<void> {
  const namespace = (args as { namespace?: unknown } | undefined)?.namespace;
  if (typeof namespace !== 'string' || namespace === '') return;
  try {
    // Known to the watch cache: no GET. Not there (it may be newer than the cache's view): asked of the API server.
    if ((await cacheOnlyList(cluster.kube, 'Namespace'))?.some((n) => n.metadata.name === namespace)) return;
    if (await cluster.kube.get('Namespace', undefined, namespace)) return;
    const known = (await cluster.kube.list('Namespace')).map((n) => n.metadata.name);
    throw unknownNamespace(namespace, known);
  } catch (err) {
    if (err instanceof KubeApiError && (err.status === 403 || err.status === 401)) return;
    throw err;
  }
}
