// /mesh restart and /mesh audit: argument forms, rendering, and the router with the policy's authorize.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import auditCommand, { type AuditReport } from '../../src/features/core/audit.ts';
import helpCommand from '../../src/features/core/help.ts';
import restartCommand, { parseRestartTarget } from '../../src/features/restart/restart.ts';
import { AccessPolicy, DEFAULT_POLICY, DEFAULT_POLICY_WARNING, parsePolicy } from '../../src/approvals/policy.ts';
import type { Requester } from '../../src/command.ts';
import { UserError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { Router } from '../../src/router.ts';
import type { Sandbox } from '../../src/sandbox/server.ts';
import { kubeFor, sandboxWithDemo, service, textOf } from './support.ts';

describe('parseRestartTarget', () => {
  it('accepts deployment/x, deploy/x and x.ns', () => {
    expect(parseRestartTarget('deployment/reviews-v2', 'bookinfo')).toEqual({
      name: 'reviews-v2',
      namespace: 'bookinfo',
    });
    expect(parseRestartTarget('deploy/reviews-v2', 'bookinfo')).toEqual({ name: 'reviews-v2', namespace: 'bookinfo' });
    expect(parseRestartTarget('deployments.apps/reviews-v2', 'bookinfo')).toEqual({
      name: 'reviews-v2',
      namespace: 'bookinfo',
    });
    expect(parseRestartTarget('reviews-v2.bookinfo', undefined)).toEqual({ name: 'reviews-v2', namespace: 'bookinfo' });
    // With -n, a dotted name stays whole.
    expect(parseRestartTarget('api.v1', 'payments')).toEqual({ name: 'api.v1', namespace: 'payments' });
  });

  it('says what to type for other kinds, a missing namespace and bad names', () => {
    expect(() => parseRestartTarget('statefulset/db', 'x')).toThrow(
      'meshops restarts Deployments only, not `statefulset`.',
    );
    const noNs = (() => {
      try {
        parseRestartTarget('deployment/reviews', undefined);
      } catch (err) {
        return err as UserError;
      }
    })();
    expect(noNs).toBeInstanceOf(UserError);
    expect(noNs?.hint).toContain('/mesh restart deployment/reviews -n bookinfo');
    expect(() => parseRestartTarget('deployment/Reviews', 'x')).toThrow('is not a valid Deployment name');
    expect(() => parseRestartTarget('reviews.Book_Info', undefined)).toThrow('is not a valid namespace name');
  });
});

describe('audit render', () => {
  it('lists what, who asked, who approved, outcome and when', () => {
    const report: AuditReport = {
      namespace: 'bookinfo',
      now: '2026-11-25T18:00:00.000Z',
      rows: [
        {
          id: 'a',
          what: 'Restart deployment bookinfo/reviews',
          cluster: 'prod',
          requester: 'U0A',
          approvers: ['U0B'],
          state: 'done',
          outcome: 'Rollout complete: 3/3 updated',
          at: '2026-11-25T17:41:00.000Z',
        },
        {
          id: 'b',
          what: 'Restart deployment bookinfo/ratings',
          cluster: 'prod',
          requester: 'U0A',
          approvers: [],
          deniedBy: 'U0C',
          state: 'denied',
          at: '2026-11-24T09:05:00.000Z',
        },
      ],
    };
    const r = auditCommand.render(report, {
      cluster: 'prod',
      now: new Date(report.now),
      requester: { userId: 'U0A', source: 'slack' },
    });
    const t = textOf(r);
    expect(t).toContain(
      '*Restart deployment bookinfo/reviews* (prod) · asked by <@U0A> · approved by <@U0B> · *done*: Rollout complete: 3/3 updated · 17:41 UTC',
    );
    expect(t).toContain('denied by <@U0C> · *denied* · 2026-11-24 09:05 UTC');
    expect(r.text).toBe('2 recent meshops actions in namespace bookinfo');
  });

  it('says so when nothing was proposed', () => {
    const r = auditCommand.render(
      { rows: [], now: new Date().toISOString() },
      { cluster: 'c', now: new Date(), requester: { userId: 'U', source: 'slack' } },
    );
    expect(textOf(r)).toContain('Nothing proposed yet');
  });
});

describe('through the router', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await sandboxWithDemo();
  });
  afterAll(async () => {
    await sb.close();
  });

  function router(policy: AccessPolicy, warning?: string) {
    const svc = service(sb, { policy });
    return new Router({
      commands: [helpCommand, restartCommand, auditCommand],
      clusters: [{ name: 'sandbox', kube: kubeFor(sb) }],
      log: createLogger({ level: 'silent' }),
      services: { approvals: svc, policyWarning: warning },
      authorize: policy.authorize,
    });
  }
  const carol: Requester = { userId: 'U0CAROL', channelId: 'C0OPS', source: 'slack' };

  it('/mesh restart proposes with buttons; /mesh help shows the default-policy warning', async () => {
    const r = router(new AccessPolicy(DEFAULT_POLICY), DEFAULT_POLICY_WARNING);
    const reply = await r.handle('restart deploy/reviews -n bookinfo', carol);
    expect(reply.outcome).toBe('ok');
    expect(textOf(reply.rendered)).toContain('meshops:approve');
    const help = await r.handle('help', carol);
    expect(textOf(help.rendered)).toContain('No approval policy is set');
    expect(textOf(help.rendered)).toContain('/mesh restart deployment/&lt;name&gt; -n &lt;namespace&gt;');
  });

  it('refuses a user whose roles do not include the verb, and a channel outside the policy', async () => {
    const policy = new AccessPolicy(
      parsePolicy(
        'channels: [C0OPS]\nroles:\n  viewer: { commands: ["audit", "help"] }\nbindings:\n  - { role: viewer, users: ["*"] }\n',
      ),
    );
    const r = router(policy);
    const refused = await r.handle('restart deploy/reviews -n bookinfo', carol);
    expect(refused.outcome).toBe('refused');
    expect(textOf(refused.rendered)).toContain(
      'You have no meshops role that may run `restart` in namespace `bookinfo`',
    );
    const elsewhere = await r.handle('audit', { ...carol, channelId: 'C0RANDOM' });
    expect(elsewhere.outcome).toBe('refused');
    expect(textOf(elsewhere.rendered)).toContain('<#C0OPS>');
    const audit = await r.handle('audit bookinfo', carol);
    expect(audit.outcome).toBe('ok');
  });

  it('a bad target gets a clear message with what to type', async () => {
    const r = router(new AccessPolicy(DEFAULT_POLICY));
    const reply = await r.handle('restart reviews', carol);
    expect(reply.outcome).toBe('user_error');
    expect(textOf(reply.rendered)).toContain('Which namespace is `reviews` in?');
  });
});
