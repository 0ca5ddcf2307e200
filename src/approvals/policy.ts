// Who may do what: the policy file (YAML, mounted from a ConfigMap), validated with zod, with errors
// that name the offending line. Without a file the built-in default applies: everyone may run
// diagnostics, propose and approve, but a remediation always needs someone other than the requester.
import { readFile } from 'node:fs/promises';
import { LineCounter, isMap, isSeq, parseDocument, type Document } from 'yaml';
import { MAX_YAML_ALIASES, TOO_MANY_ALIASES, isAliasLimitError } from '../mesh/yaml-limits.ts';
import { z } from 'zod';
import type { AnyCommand } from '../command.ts';
import type { ClusterTarget, Requester } from '../shared-types.ts';
import type { Identity } from '../kube/client.ts';
import type { Logger } from '../log.ts';
import { globMatches } from './glob.ts';

export const DEFAULT_POLICY_WARNING =
  'No approval policy is set (MESHOPS_POLICY_FILE): anyone in the channel may propose and approve fixes; only self-approval is refused. Set a policy before production (see docs/approvals.md).';

const DURATION = /^([1-9][0-9]*)(s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `15m` → 900000. */
export function parseDuration(text: string): number {
  const m = text.match(DURATION);
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}

const glob = (chars: RegExp, example: string) => z.string().regex(chars, `expected a glob such as "${example}"`);
const namespaceGlob = glob(/^[a-z0-9*?]([-a-z0-9*?]{0,62})$/, 'team-*');
const commandGlob = glob(/^[a-z*?][-a-z0-9*?]{0,39}$/, 'stale');
const remediationGlob = glob(/^[a-z*?][-a-z0-9*?]{0,62}$/, 'rollout-restart');
const clusterGlob = glob(/^[A-Za-z0-9*?][-A-Za-z0-9_.*?]{0,63}$/, 'prod-*');
const slackUser = z
  .string()
  .regex(/^([UW][A-Z0-9]{2,}|\*)$/, 'expected a Slack user id such as "U012ABCDEF" (or "*" for everyone)');
const slackGroup = z.string().regex(/^S[A-Z0-9]{2,}$/, 'expected a Slack user group id such as "S012ABCDEF"');
const slackChannel = z.string().regex(/^[CGD][A-Z0-9]{2,}$/, 'expected a Slack channel id such as "C012ABCDEF"');
const duration = z
  .string()
  .regex(DURATION, 'expected a duration such as "15m", "90s" or "2h"')
  .refine(
    (s) => !DURATION.test(s) || (parseDuration(s) >= 30_000 && parseDuration(s) <= 7 * 86_400_000),
    'expected a duration between 30s and 7d',
  );

const roleSchema = z.strictObject({
  /** /mesh verbs this role may run. */
  commands: z.array(commandGlob).default([]),
  /** Remediation kinds this role may propose, approve and deny. */
  remediations: z.array(remediationGlob).default([]),
  namespaces: z.array(namespaceGlob).default(['*']),
  clusters: z.array(clusterGlob).default(['*']),
});

const ruleSchema = z.strictObject({
  approvers: z
    .number()
    .int('expected a whole number of approvers')
    .min(1, 'expected at least 1 approver')
    .max(5, 'expected at most 5 approvers')
    .default(1),
  allowSelfApproval: z.boolean().default(false),
  ttl: duration.default('15m'),
});

const identitySchema = z.strictObject({
  user: z.string().min(1, 'expected a Kubernetes user name').max(253),
  groups: z.array(z.string().min(1).max(253)).default([]),
});

export const policySchema = z
  .strictObject({
    /** Channels where the bot answers; absent = every channel it is in. */
    channels: z.array(slackChannel).optional(),
    directMessages: z.boolean().default(true),
    /** Channel → default cluster (several clusters from one bot). */
    clusters: z.record(slackChannel, z.string().min(1).max(64)).default({}),
    roles: z
      .record(z.string().regex(/^[a-z][-a-z0-9_]{0,39}$/, 'expected a role name such as "sre"'), roleSchema)
      .default({}),
    bindings: z
      .array(
        z.strictObject({
          role: z.string(),
          users: z.array(slackUser).default([]),
          groups: z.array(slackGroup).default([]),
        }),
      )
      .default([]),
    approvals: z.record(remediationGlob, ruleSchema).default({}),
    impersonation: z
      .strictObject({
        enabled: z.boolean().default(false),
        users: z.record(slackUser, identitySchema).default({}),
      })
      .default({ enabled: false, users: {} }),
  })
  .superRefine((doc, ctx) => {
    doc.bindings.forEach((b, i) => {
      if (!doc.roles[b.role])
        ctx.addIssue({
          code: 'custom',
          path: ['bindings', i, 'role'],
          message: `expected one of the roles defined under roles: (${Object.keys(doc.roles).join(', ') || 'none defined'})`,
        });
    });
  });

export type PolicyDoc = z.infer<typeof policySchema>;
export type Role = z.infer<typeof roleSchema>;
export interface ApprovalRule {
  approvers: number;
  allowSelfApproval: boolean;
  ttlMs: number;
}

/** The built-in policy when no file is set. */
export const DEFAULT_POLICY: PolicyDoc = policySchema.parse({
  roles: { everyone: { commands: ['*'], remediations: ['*'], namespaces: ['*'] } },
  bindings: [{ role: 'everyone', users: ['*'] }],
  approvals: { '*': { approvers: 1, allowSelfApproval: false, ttl: '15m' } },
});

export class PolicyError extends Error {
  readonly line?: number;
  constructor(message: string, line?: number) {
    super(message);
    this.name = 'PolicyError';
    this.line = line;
  }
}

/** Parses and validates policy YAML; throws PolicyError like `policy.yaml:12: roles.sre.namespaces[0]: expected ...`. */
export function parsePolicy(text: string, filename = 'policy.yaml'): PolicyDoc {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = syntax.linePos?.[0].line;
    throw new PolicyError(`${filename}:${line ?? '?'}: ${syntax.message.split('\n')[0]}`, line);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    if (isAliasLimitError(err)) throw new PolicyError(`${filename}: ${TOO_MANY_ALIASES}`);
    throw err;
  }
  const parsed = policySchema.safeParse(data ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0] as z.core.$ZodIssue;
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const line = lineOf(doc, lineCounter, path, issue);
  const where = path.length ? `${formatPath(path)}: ` : '';
  throw new PolicyError(`${filename}:${line}: ${where}${describeIssue(issue)}`, line);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys')
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_type') return `expected ${issue.expected}`;
  if (issue.code === 'invalid_key') return issue.issues[0]?.message ?? issue.message;
  return issue.message;
}

function formatPath(path: Array<string | number>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** The line of the deepest node along the path that exists (a missing key points at its parent). */
function lineOf(doc: Document, lc: LineCounter, path: Array<string | number>, issue: z.core.$ZodIssue): number {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (!range) continue;
    // An unknown key: point at the key itself rather than the start of its map.
    if (issue.code === 'unrecognized_keys' && n === path.length && isMap(node)) {
      const pair = node.items.find((p) => issue.keys.includes(String((p.key as { value?: unknown })?.value)));
      const keyRange = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
      if (keyRange) return lc.linePos(keyRange[0]).line;
    }
    // A record key that fails validation: the key's own line.
    if (issue.code === 'invalid_key' && n === path.length - 1 && isMap(node)) {
      const pair = node.items.find((p) => String((p.key as { value?: unknown })?.value) === String(path[n]));
      const keyRange = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
      if (keyRange) return lc.linePos(keyRange[0]).line;
    }
    if (isSeq(node) || isMap(node) || range) return lc.linePos(range[0]).line;
  }
  return 1;
}

/** Reads the policy file; no path means the built-in default (with its warning). */
export async function loadPolicyFile(path: string | undefined): Promise<{ doc: PolicyDoc; warning?: string }> {
  if (!path) return { doc: DEFAULT_POLICY, warning: DEFAULT_POLICY_WARNING };
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new PolicyError(
      `${path}: cannot read the policy file (${(err as NodeJS.ErrnoException).code ?? String(err)}); set MESHOPS_POLICY_FILE to a readable YAML file or unset it`,
    );
  }
  return { doc: parsePolicy(text, path) };
}

export interface AccessPolicyOptions {
  /** Slack user group → member user ids (usergroups.users.list). */
  members?: (groupId: string) => Promise<string[]>;
  groupCacheMs?: number;
  now?: () => number;
  log?: Logger;
  warning?: string;
}

/** The policy, evaluated. One instance per process; group membership is cached here. */
export class AccessPolicy {
  readonly doc: PolicyDoc;
  readonly warning?: string;
  private readonly options: AccessPolicyOptions;
  private readonly groupCache = new Map<string, { at: number; members: Promise<string[]> }>();

  constructor(doc: PolicyDoc, options: AccessPolicyOptions = {}) {
    this.doc = doc;
    this.options = options;
    this.warning = options.warning;
  }

  /** Does the bot answer in this channel? DMs (D…) follow directMessages. */
  answersIn(channelId: string | undefined): boolean {
    if (!channelId) return true;
    if (channelId.startsWith('D')) return this.doc.directMessages;
    return !this.doc.channels || this.doc.channels.includes(channelId);
  }

  channelCluster(channelId: string | undefined): string | undefined {
    return channelId ? this.doc.clusters[channelId] : undefined;
  }

  private async members(groupId: string): Promise<string[]> {
    const now = (this.options.now ?? Date.now)();
    const ttl = this.options.groupCacheMs ?? 60_000;
    const hit = this.groupCache.get(groupId);
    if (hit && now - hit.at < ttl) return hit.members;
    const fetcher = this.options.members;
    if (!fetcher) return [];
    const members = fetcher(groupId).catch((err: unknown) => {
      // A failed lookup grants nothing and is not cached, so the next check asks again.
      this.groupCache.delete(groupId);
      this.options.log?.warn({ err, groupId }, 'could not read Slack user group members');
      return [] as string[];
    });
    this.groupCache.set(groupId, { at: now, members });
    return members;
  }

  /** The names of the roles bound to a Slack user, directly or through a user group. */
  async rolesOf(userId: string): Promise<string[]> {
    const roles = new Set<string>();
    for (const b of this.doc.bindings) {
      if (roles.has(b.role)) continue;
      if (b.users.includes('*') || b.users.includes(userId)) {
        roles.add(b.role);
        continue;
      }
      for (const g of b.groups) {
        if ((await this.members(g)).includes(userId)) {
          roles.add(b.role);
          break;
        }
      }
    }
    return [...roles];
  }

  private rolesWhere(test: (role: Role) => boolean): string[] {
    return Object.entries(this.doc.roles)
      .filter(([, r]) => test(r))
      .map(([n]) => n);
  }

  /** May this user run this verb (in this namespace and cluster)? A refusal in words, or undefined. */
  async mayRun(
    userId: string,
    verb: string,
    namespace: string | undefined,
    cluster: string,
  ): Promise<string | undefined> {
    if (verb === 'help') return undefined;
    const fits = (r: Role) =>
      globMatches(r.commands, verb) &&
      globMatches(r.clusters, cluster) &&
      (namespace === undefined || globMatches(r.namespaces, namespace));
    const mine = await this.rolesOf(userId);
    if (mine.some((n) => this.doc.roles[n] && fits(this.doc.roles[n]))) return undefined;
    return refusal(
      `run \`${verb}\`${namespace ? ` in namespace \`${namespace}\`` : ''} on cluster \`${cluster}\``,
      this.rolesWhere(fits),
    );
  }

  /** May this user propose, approve or deny this remediation kind on this namespace? */
  async mayAct(userId: string, kind: string, namespace: string, cluster: string): Promise<string | undefined> {
    const fits = (r: Role) =>
      globMatches(r.remediations, kind) && globMatches(r.namespaces, namespace) && globMatches(r.clusters, cluster);
    const mine = await this.rolesOf(userId);
    if (mine.some((n) => this.doc.roles[n] && fits(this.doc.roles[n]))) return undefined;
    const forKind = (r: Role) => globMatches(r.remediations, kind) && globMatches(r.clusters, cluster);
    if (mine.some((n) => this.doc.roles[n] && forKind(this.doc.roles[n]))) {
      return (
        `Your meshops roles (${mine.join(', ')}) allow \`${kind}\` but not in namespace \`${namespace}\`.` +
        rolesHint(this.rolesWhere(fits))
      );
    }
    return refusal(`act on \`${kind}\` in namespace \`${namespace}\``, this.rolesWhere(fits));
  }

  /** The approval rule for a remediation kind: its own entry, else the first matching glob, else the default. */
  rule(kind: string): ApprovalRule {
    const entries = Object.entries(this.doc.approvals);
    const found = this.doc.approvals[kind] ?? entries.find(([k]) => globMatches([k], kind))?.[1];
    const r = found ?? { approvers: 1, allowSelfApproval: false, ttl: '15m' };
    return { approvers: r.approvers, allowSelfApproval: r.allowSelfApproval, ttlMs: parseDuration(r.ttl) };
  }

  /** Impersonation: undefined when off; `{ identity }` when mapped; `{ missing }` when on but unmapped. */
  identityFor(userId: string): { identity: Identity } | { missing: string } | undefined {
    const imp = this.doc.impersonation;
    if (!imp.enabled) return undefined;
    const mapped = imp.users[userId] ?? imp.users['*'];
    if (!mapped)
      return {
        missing: `meshops acts as the approver in this cluster, and <@${userId}> has no Kubernetes identity in the policy (impersonation.users).`,
      };
    return { identity: { user: mapped.user, groups: mapped.groups } };
  }

  /** The router's authorize option. */
  authorize = async (
    requester: Requester,
    command: AnyCommand,
    args: unknown,
    cluster: ClusterTarget,
  ): Promise<string | undefined> => {
    if (requester.source === 'slack' && !this.answersIn(requester.channelId)) {
      const where = this.doc.channels?.length ? ` Ask in ${this.doc.channels.map((c) => `<#${c}>`).join(', ')}.` : '';
      return `meshops does not take commands in this channel.${where}`;
    }
    const ns = (args as { namespace?: unknown } | undefined)?.namespace;
    return this.mayRun(requester.userId, command.name, typeof ns === 'string' ? ns : undefined, cluster.name);
  };
}

function rolesHint(roles: string[]): string {
  return roles.length
    ? ` Roles that allow it: ${roles.map((r) => `\`${r}\``).join(', ')}; ask a policy admin to bind you.`
    : ' No role in the policy allows it.';
}

function refusal(what: string, roles: string[]): string {
  return `You have no meshops role that may ${what}.` + rolesHint(roles);
}
