import { describe, expect, it } from '@jest/globals';
import {
  AccessPolicy,
  DEFAULT_POLICY,
  DEFAULT_POLICY_WARNING,
  PolicyError,
  loadPolicyFile,
  parseDuration,
  parsePolicy,
} from '../../src/approvals/policy.ts';
import { globMatch } from '../../src/approvals/glob.ts';
import type { AnyCommand, ClusterTarget } from '../../src/command.ts';

const VALID = `# the platform team's policy
channels: [C0OPS, C0TEAM]
directMessages: false
clusters:
  C0OPS: prod-eu
roles:
  viewer:
    commands: ["*"]
  sre:
    commands: ["*"]
    remediations: ["rollout-restart", "mtls-*"]
    namespaces: ["team-*", "bookinfo"]
  oncall:
    commands: ["restart"]
    remediations: ["rollout-restart"]
    namespaces: ["bookinfo"]
    clusters: ["prod-*"]
bindings:
  - role: viewer
    users: ["*"]
  - role: sre
    users: [U0ALICE]
    groups: [S0SRE]
  - role: oncall
    users: [U0CAROL]
approvals:
  rollout-restart:
    approvers: 1
    allowSelfApproval: false
    ttl: 15m
  "mtls-*":
    approvers: 2
    ttl: 1h
impersonation:
  enabled: true
  users:
    U0ALICE: { user: alice@example.com, groups: [sre] }
`;

const cmd = (name: string) => ({ name }) as AnyCommand;
const cluster = (name: string) => ({ name }) as ClusterTarget;

function errorOf(text: string): PolicyError {
  try {
    parsePolicy(text, 'policy.yaml');
  } catch (err) {
    if (err instanceof PolicyError) return err;
    throw err;
  }
  throw new Error('expected a PolicyError');
}

describe('parsePolicy', () => {
  it('reads a valid file with defaults filled in', () => {
    const doc = parsePolicy(VALID);
    expect(doc.channels).toEqual(['C0OPS', 'C0TEAM']);
    expect(doc.roles.viewer?.namespaces).toEqual(['*']);
    expect(doc.roles.viewer?.remediations).toEqual([]);
    expect(doc.approvals['mtls-*']?.allowSelfApproval).toBe(false);
    expect(doc.impersonation.users.U0ALICE).toEqual({ user: 'alice@example.com', groups: ['sre'] });
  });

  it('names the line and path of a bad namespace glob', () => {
    const text = VALID.replace('namespaces: ["team-*", "bookinfo"]', 'namespaces:\n      - "Team_*"');
    const err = errorOf(text);
    expect(err.message).toBe('policy.yaml:13: roles.sre.namespaces[0]: expected a glob such as "team-*"');
    expect(err.line).toBe(13);
  });

  it('names the line of an unknown key', () => {
    const err = errorOf('roles:\n  sre:\n    commands: ["*"]\n    namespace: ["x"]\n');
    expect(err.message).toBe('policy.yaml:4: roles.sre: unknown key "namespace"');
  });

  it('names the line of a YAML syntax error', () => {
    const err = errorOf('roles:\n  sre:\n    commands: ["*"\nbindings: []\n');
    expect(err.message).toMatch(/^policy\.yaml:\d+: /);
    expect(err.line).toBeGreaterThanOrEqual(3);
  });

  it('refuses a binding to a role that does not exist, on its line', () => {
    const err = errorOf('roles:\n  sre: {}\nbindings:\n  - role: sre\n  - role: sres\n    users: [U0X]\n');
    expect(err.message).toBe('policy.yaml:5: bindings[1].role: expected one of the roles defined under roles: (sre)');
  });

  it('refuses a bad ttl, a bad user id and a bad channel key', () => {
    expect(errorOf('approvals:\n  rollout-restart:\n    ttl: 15 minutes\n').message).toBe(
      'policy.yaml:3: approvals.rollout-restart.ttl: expected a duration such as "15m", "90s" or "2h"',
    );
    expect(errorOf('roles: {sre: {}}\nbindings:\n  - role: sre\n    users: [alice]\n').message).toMatch(
      /^policy\.yaml:4: bindings\[0\]\.users\[0\]: expected a Slack user id/,
    );
    expect(errorOf('clusters:\n  general: prod\n').message).toMatch(
      /^policy\.yaml:2: clusters\.general: expected a Slack channel id/,
    );
  });

  it('refuses approvers that are not a whole number of at least 1', () => {
    expect(errorOf('approvals:\n  x:\n    approvers: 0\n').message).toBe(
      'policy.yaml:3: approvals.x.approvers: expected at least 1 approver',
    );
  });

  it('treats an empty file as an empty policy (nobody may do anything)', async () => {
    const policy = new AccessPolicy(parsePolicy(''));
    expect(await policy.mayRun('U0ANY', 'stale', undefined, 'c')).toMatch(/no meshops role/);
    expect(await policy.mayRun('U0ANY', 'help', undefined, 'c')).toBeUndefined();
  });

  it('parses durations', () => {
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('2h')).toBe(7_200_000);
  });

  it('loadPolicyFile without a path gives the default with its warning; a missing file is an error', async () => {
    const d = await loadPolicyFile(undefined);
    expect(d.doc).toBe(DEFAULT_POLICY);
    expect(d.warning).toBe(DEFAULT_POLICY_WARNING);
    await expect(loadPolicyFile('/nonexistent/policy.yaml')).rejects.toThrow(
      /\/nonexistent\/policy\.yaml: cannot read the policy file \(ENOENT\)/,
    );
  });
});

describe('globs', () => {
  it('matches * and ? and nothing else', () => {
    expect(globMatch('team-*', 'team-a')).toBe(true);
    expect(globMatch('team-*', 'teams')).toBe(false);
    expect(globMatch('v?', 'v1')).toBe(true);
    expect(globMatch('v?', 'v10')).toBe(false);
    expect(globMatch('a.b', 'axb')).toBe(false);
  });
});

describe('AccessPolicy', () => {
  const policy = () => new AccessPolicy(parsePolicy(VALID), { members: async (g) => (g === 'S0SRE' ? ['U0BOB'] : []) });

  it('grants remediations by kind, namespace glob and cluster', async () => {
    const p = policy();
    expect(await p.mayAct('U0ALICE', 'rollout-restart', 'team-payments', 'prod-eu')).toBeUndefined();
    expect(await p.mayAct('U0ALICE', 'mtls-strict', 'bookinfo', 'prod-eu')).toBeUndefined();
    expect(await p.mayAct('U0ALICE', 'rollout-restart', 'kube-system', 'prod-eu')).toMatch(
      /allow `rollout-restart` but not in namespace `kube-system`/,
    );
    expect(await p.mayAct('U0CAROL', 'rollout-restart', 'bookinfo', 'prod-eu')).toBeUndefined();
    expect(await p.mayAct('U0CAROL', 'rollout-restart', 'bookinfo', 'staging')).toMatch(/no meshops role/);
    expect(await p.mayAct('U0DAVE', 'rollout-restart', 'bookinfo', 'prod-eu')).toBe(
      'You have no meshops role that may act on `rollout-restart` in namespace `bookinfo`. Roles that allow it: `sre`, `oncall`; ask a policy admin to bind you.',
    );
  });

  it('grants roles through Slack user groups', async () => {
    const p = policy();
    expect(await p.rolesOf('U0BOB')).toEqual(['viewer', 'sre']);
    expect(await p.mayAct('U0BOB', 'rollout-restart', 'bookinfo', 'x')).toBeUndefined();
  });

  it('caches group membership for the TTL, then asks again', async () => {
    let calls = 0;
    let members = ['U0BOB'];
    let now = 1_000;
    const p = new AccessPolicy(parsePolicy(VALID), {
      members: async () => {
        calls++;
        return members;
      },
      groupCacheMs: 60_000,
      now: () => now,
    });
    expect(await p.rolesOf('U0BOB')).toContain('sre');
    members = [];
    now += 30_000;
    expect(await p.rolesOf('U0BOB')).toContain('sre');
    expect(calls).toBe(1);
    now += 31_000;
    expect(await p.rolesOf('U0BOB')).not.toContain('sre');
    expect(calls).toBe(2);
  });

  it('does not cache a failed group lookup and grants nothing from it', async () => {
    let fail = true;
    const p = new AccessPolicy(parsePolicy(VALID), {
      members: async () => {
        if (fail) throw new Error('slack down');
        return ['U0BOB'];
      },
    });
    expect(await p.rolesOf('U0BOB')).toEqual(['viewer']);
    fail = false;
    expect(await p.rolesOf('U0BOB')).toEqual(['viewer', 'sre']);
  });

  it('authorize: channels, DMs, verbs and namespaces', async () => {
    const p = policy();
    const slack = (userId: string, channelId: string) => ({ userId, channelId, source: 'slack' as const });
    expect(
      await p.authorize(slack('U0DAVE', 'C0OPS'), cmd('config'), { namespace: 'bookinfo' }, cluster('prod-eu')),
    ).toBeUndefined();
    expect(await p.authorize(slack('U0DAVE', 'C0RANDOM'), cmd('config'), {}, cluster('prod-eu'))).toBe(
      'meshops does not take commands in this channel. Ask in <#C0OPS>, <#C0TEAM>.',
    );
    expect(await p.authorize(slack('U0DAVE', 'D0DM'), cmd('config'), {}, cluster('prod-eu'))).toMatch(
      /not take commands/,
    );
    expect(
      await p.authorize(slack('U0CAROL', 'C0OPS'), cmd('restart'), { namespace: 'bookinfo' }, cluster('prod-eu')),
    ).toBeUndefined();
    // viewer allows every verb, so restart is allowed for Dave to *ask*; the remediation check is separate.
    expect(
      await p.authorize(slack('U0DAVE', 'C0OPS'), cmd('restart'), { namespace: 'bookinfo' }, cluster('prod-eu')),
    ).toBeUndefined();
    expect(p.channelCluster('C0OPS')).toBe('prod-eu');
    expect(p.channelCluster('C0TEAM')).toBeUndefined();
  });

  it('picks the approval rule by exact kind, then glob, then the default', () => {
    const p = policy();
    expect(p.rule('rollout-restart')).toEqual({ approvers: 1, allowSelfApproval: false, ttlMs: 900_000 });
    expect(p.rule('mtls-strict')).toEqual({ approvers: 2, allowSelfApproval: false, ttlMs: 3_600_000 });
    expect(p.rule('something-else')).toEqual({ approvers: 1, allowSelfApproval: false, ttlMs: 900_000 });
  });

  it('maps Slack users to Kubernetes identities when impersonation is on', () => {
    const p = policy();
    expect(p.identityFor('U0ALICE')).toEqual({ identity: { user: 'alice@example.com', groups: ['sre'] } });
    expect(p.identityFor('U0BOB')).toEqual({ missing: expect.stringContaining('<@U0BOB> has no Kubernetes identity') });
    expect(new AccessPolicy(DEFAULT_POLICY).identityFor('U0BOB')).toBeUndefined();
  });

  it('default policy: everyone may run and act anywhere, but self-approval is refused', async () => {
    const p = new AccessPolicy(DEFAULT_POLICY);
    expect(await p.mayRun('U0ANY', 'stale', 'bookinfo', 'c')).toBeUndefined();
    expect(await p.mayAct('U0ANY', 'rollout-restart', 'kube-system', 'c')).toBeUndefined();
    expect(p.rule('rollout-restart')).toEqual({ approvers: 1, allowSelfApproval: false, ttlMs: 900_000 });
    expect(p.answersIn('C0ANY')).toBe(true);
    expect(p.answersIn('D0ANY')).toBe(true);
  });
});

describe('policy YAML with an alias bomb', () => {
  it('is refused with a line that says what to do, not expanded', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
      'roles: {}',
    ].join('\n');
    expect(() => parsePolicy(bomb, 'policy.yaml')).toThrow(
      /^policy\.yaml: the YAML uses too many aliases .*write the repeated parts out in full/,
    );
  });
});
