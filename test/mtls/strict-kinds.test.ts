// The mtls kinds inside the approvals engine, without Slack: the namespace-wide policy that decides
// today is the one changed, a policy that moved after the preview is not changed blind, and a
// rollback restores PERMISSIVE. The cluster's side is read from the sandbox store.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { APPROVE_ACTION } from '../../src/approvals/messages.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import {
  MTLS_ROLLBACK,
  MTLS_STRICT,
  STRICT_SINCE_ANNOTATION,
  strictTarget,
} from '../../src/features/mtls/strict-migration.ts';
import { parseWatch } from '../../src/features/mtls/mtls.ts';
import { click, waitFor } from '../approvals/support.ts';
import { ALICE, BOB, type MtlsBot, startMtlsBot } from './bot.ts';

let bot: MtlsBot;

beforeAll(async () => {
  bot = await startMtlsBot({ watchMs: 600 });
});

afterAll(async () => {
  await bot?.close();
});

const requester = { userId: ALICE, userName: 'alice', channelId: 'C0OPS', source: 'slack' as const };

function pa(namespace: string, name: string): (KubeObject & { spec?: { mtls?: { mode?: string } } }) | undefined {
  return bot.sb.store.get('PeerAuthentication', namespace, name) as never;
}

function putPolicy(namespace: string, name: string, mode: string, createdAt: string): void {
  bot.sb.store.put({
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: { name, namespace, creationTimestamp: createdAt },
    spec: { mtls: { mode } },
  });
}

async function finished(id: string): Promise<string> {
  return waitFor(
    async () => {
      const r = (await bot.approvals.store.read(id))?.record;
      return r && ['done', 'failed', 'superseded'].includes(r.state) ? r.state : undefined;
    },
    `request ${id} to finish`,
    15_000,
  );
}

describe('mtls kinds in the approvals engine', () => {
  it('patches the namespace-wide policy that decides today (the oldest), and creates no second one', async () => {
    putPolicy('bookinfo', 'mesh-team-policy', 'PERMISSIVE', '2024-01-01T00:00:00Z');
    putPolicy('bookinfo', 'zz-later', 'PERMISSIVE', '2025-01-01T00:00:00Z');
    const proposed = await bot.approvals.propose({
      kind: MTLS_STRICT,
      target: strictTarget('bookinfo'),
      params: { windowMs: 200 },
      requester,
      cluster: 'sandbox',
    });
    expect(proposed.ok).toBe(true);
    if (!proposed.ok) return;
    const facts = Object.fromEntries(proposed.record.preview!.facts);
    expect(facts.PeerAuthentication).toBe('security.istio.io/v1 bookinfo/mesh-team-policy');
    expect(facts.Change).toBe('mtls.mode PERMISSIVE → STRICT, namespace-wide');
    expect(proposed.record.preview!.affected).toEqual(
      expect.arrayContaining(['productpage-v1', 'reviews-v1', 'ratings-v1', 'details-v1']),
    );
    await bot.approvals.clickHandlers[APPROVE_ACTION]!(click(APPROVE_ACTION, proposed.record.id, BOB));
    expect(await finished(proposed.record.id)).toBe('done');
    expect(pa('bookinfo', 'mesh-team-policy')?.spec?.mtls?.mode).toBe('STRICT');
    expect(pa('bookinfo', 'mesh-team-policy')?.metadata.annotations?.[STRICT_SINCE_ANNOTATION]).toMatch(
      /^\d{4}-\d\d-\d\dT/,
    );
    expect(pa('bookinfo', 'zz-later')?.spec?.mtls?.mode).toBe('PERMISSIVE');
    expect(pa('bookinfo', 'default')).toBeUndefined();

    const rb = await bot.approvals.propose({
      kind: MTLS_ROLLBACK,
      target: strictTarget('bookinfo'),
      requester,
      cluster: 'sandbox',
    });
    expect(rb.ok).toBe(true);
    if (!rb.ok) return;
    // The test policy lets the requester approve a rollback alone.
    await bot.approvals.clickHandlers[APPROVE_ACTION]!(click(APPROVE_ACTION, rb.record.id, ALICE));
    expect(await finished(rb.record.id)).toBe('done');
    expect(pa('bookinfo', 'mesh-team-policy')?.spec?.mtls?.mode).toBe('PERMISSIVE');
  });

  it('a request may ask for its own watch (--watch): the preview says it, and the window lasts that long', async () => {
    const proposed = await bot.approvals.propose({
      kind: MTLS_STRICT,
      target: strictTarget('shop'),
      params: { windowMs: 200, watchMs: 10_000 },
      requester,
      cluster: 'sandbox',
    });
    expect(proposed.ok).toBe(true);
    if (!proposed.ok) return;
    expect(Object.fromEntries(proposed.record.preview!.facts).Watch).toMatch(
      /^10 s of sidecar and gateway access logs/,
    );
    const approvedAt = Date.now();
    await bot.approvals.clickHandlers[APPROVE_ACTION]!(click(APPROVE_ACTION, proposed.record.id, BOB));
    expect(await finished(proposed.record.id)).toBe('done');
    // The bot's default watch is 600 ms: this one lasted the 10 s it asked for.
    expect(Date.now() - approvedAt).toBeGreaterThanOrEqual(10_000);
    const rec = (await bot.approvals.store.read(proposed.record.id))!.record;
    expect(rec.outcome?.summary).toContain('in 10 s after STRICT');
    expect(rec.execution?.summary).toContain('watching for 10 s');
    // Back as it was for the tests after this one (shop had no namespace-wide policy).
    bot.sb.store.delete('PeerAuthentication', 'shop', 'default');
  }, 30_000);

  it('--watch out of range or malformed says what to type', () => {
    expect(() => parseWatch('5s')).toThrow(/out of range/);
    expect(() => parseWatch('1h')).toThrow(/not a duration/);
    expect(parseWatch('2m')).toBe(120_000);
  });

  it('a policy changed between preview and approval is not overwritten: the engine previews again', async () => {
    const proposed = await bot.approvals.propose({
      kind: MTLS_STRICT,
      target: strictTarget('shop'),
      params: { windowMs: 200 },
      requester,
      cluster: 'sandbox',
    });
    expect(proposed.ok).toBe(true);
    if (!proposed.ok) return;
    expect(proposed.record.preview!.fingerprint).toBe('absent');
    // Someone else creates the namespace-wide policy first.
    putPolicy('shop', 'default', 'DISABLE', new Date().toISOString());
    await bot.approvals.clickHandlers[APPROVE_ACTION]!(click(APPROVE_ACTION, proposed.record.id, BOB));
    expect(await finished(proposed.record.id)).toBe('superseded');
    expect(pa('shop', 'default')?.spec?.mtls?.mode).toBe('DISABLE');
  });

  it('refuses a no-op and says why', async () => {
    putPolicy('legacy', 'default', 'PERMISSIVE', new Date().toISOString());
    const rb = await bot.approvals.propose({
      kind: MTLS_ROLLBACK,
      target: strictTarget('legacy'),
      requester,
      cluster: 'sandbox',
    });
    expect(rb.ok).toBe(false);
    if (rb.ok) return;
    expect(rb.reason).toContain('already PERMISSIVE');
  });
});

describe('mesh-wide STRICT', () => {
  it('once every meshed namespace is ready, is proposed in the root namespace, names the namespaces that keep their own mode, and is watched everywhere', async () => {
    // legacy becomes ready: its sidecar-less caller goes, and a fresh inventory pod forgets old plaintext counts.
    bot.sb.store.delete('Deployment', 'legacy', 'batch-report');
    for (const p of bot.sb.store.list('Pod', 'legacy')) bot.sb.store.delete('Pod', 'legacy', p.metadata.name);
    await waitFor(
      () =>
        bot.sb.store
          .list('Pod', 'legacy')
          .some(
            (p) =>
              p.metadata.labels?.app === 'inventory' &&
              (p.status as { phase?: string } | undefined)?.phase === 'Running',
          ) && !bot.sb.store.list('Pod', 'legacy').some((p) => p.metadata.labels?.app === 'batch-report'),
      'legacy without batch-report',
    );
    const proposed = await bot.approvals.propose({
      kind: MTLS_STRICT,
      target: strictTarget('istio-system'),
      params: { windowMs: 200 },
      requester,
      cluster: 'sandbox',
    });
    if (!proposed.ok) throw new Error(proposed.reason);
    const facts = Object.fromEntries(proposed.record.preview!.facts);
    expect(facts.Readiness).toContain('every meshed namespace is ready');
    expect(facts.Readiness).toContain('shop (DISABLE)');
    expect(proposed.record.preview!.affectedLabel).toBe('Namespaces that will require mTLS');
    expect(proposed.record.preview!.affected).toEqual(expect.arrayContaining(['bookinfo', 'legacy', 'shop']));
    await bot.approvals.clickHandlers[APPROVE_ACTION]!(click(APPROVE_ACTION, proposed.record.id, BOB));
    expect(await finished(proposed.record.id)).toBe('done');
    expect(pa('istio-system', 'default')?.spec?.mtls?.mode).toBe('STRICT');
    // Every sidecar in bookinfo (6), shop (3) and legacy (1) was read, not only the root namespace's.
    const summary = (await bot.approvals.store.read(proposed.record.id))?.record.outcome?.summary ?? '';
    expect(Number(/\((\d+) proxy log/.exec(summary)?.[1])).toBeGreaterThanOrEqual(10);
  });
});
