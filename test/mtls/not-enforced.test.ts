// Issue 14, item 3, through Slack (the real Bolt app, the approvals engine, the sandbox with simulated istiods):
// declared is not enforced. A proxy that is STALE, NACKing or DISCONNECTED has not received the config an answer
// describes, so `mtls` does not call its namespace ready for STRICT, the STRICT watch does not call a namespace
// healthy while one of its proxies never got STRICT, and a rollback with nothing to roll back proposes nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { waitFor } from '../approvals/support.ts';
import { ALICE, BOB, type MtlsBot, approveButton, buttonIn, click, slash, startMtlsBot, text, thread } from './bot.ts';

let bot: MtlsBot;

beforeAll(async () => {
  bot = await startMtlsBot({ watchMs: 1500 });
});

afterAll(async () => {
  await bot?.close();
});

const podOf = (namespace: string, prefix: string) =>
  bot.sb.store.list('Pod', namespace).find((p) => p.metadata.name.startsWith(prefix))!.metadata.name;

function mode(namespace: string): string | undefined {
  const pa = bot.sb.store.get('PeerAuthentication', namespace, 'default') as
    | (KubeObject & { spec?: { mtls?: { mode?: string } } })
    | undefined;
  return pa?.spec?.mtls?.mode;
}

describe('declared is not enforced (item 3)', () => {
  it('`mtls` is not "ready for STRICT" while a proxy does not have the current config, and names it', async () => {
    const before = await slash(bot, 'mtls bookinfo --window 300ms');
    expect(text(before)).toContain('Ready for STRICT');
    expect(text(before)).toContain('PROXY CONFIG');

    bot.fleet.inject({ staleLds: ['bookinfo/reviews-v2-'] });
    const after = await slash(bot, 'mtls bookinfo --window 300ms');
    const t = text(after);
    expect(t).toContain('Not ready for STRICT');
    expect(t).toContain('1 proxy does not have the current config, so the modes below are declared, not enforced');
    expect(t).toContain(`${podOf('bookinfo', 'reviews-v2-')}: STALE on LDS (not acknowledged)`);
    // The workload table says which workload's proxy it is.
    expect(t).toMatch(/reviews-v2 +yes +PERMISSIVE .* 1 of 1 STALE/);
    expect(t).toMatch(/reviews-v1 +yes +PERMISSIVE .* current/);
    // Ready no more: the offer is the override, not STRICT.
    expect(buttonIn(after.blocks, 'Enable STRICT anyway (override) for bookinfo')).toBeDefined();
    expect(buttonIn(after.blocks, 'Enable STRICT for bookinfo')).toBeUndefined();
  });

  it('a rollback with no PeerAuthentication to roll back says so and proposes nothing', async () => {
    expect(bot.sb.store.list('PeerAuthentication', 'shop').map((p) => p.metadata.name)).toEqual(['cart-admin-port']);
    const msg = await slash(bot, 'mtls shop --rollback');
    expect(text(msg)).toContain('Cannot propose');
    expect(text(msg)).toContain('There is no namespace-wide PeerAuthentication in `shop` to roll back');
    expect(text(msg)).toContain('nothing is proposed');
    expect(approveButton(msg.blocks)).toBeUndefined();
    expect(bot.sb.store.list('PeerAuthentication', 'shop').map((p) => p.metadata.name)).toEqual(['cart-admin-port']);
    expect((await bot.approvals.recent({ namespace: 'shop' })).filter((r) => r.kind === 'mtls-rollback')).toEqual([]);
  });

  it('the STRICT watch does not call a namespace healthy while one of its proxies never got STRICT', async () => {
    const report = await slash(bot, 'mtls shop --window 300ms');
    expect(text(report)).toContain('Ready for STRICT');
    await click(bot, buttonIn(report.blocks, 'Enable STRICT for shop')!, report.ts, ALICE);
    const proposal = await bot.fake.waitFor(() =>
      thread(bot, report.ts).find((m) => text(m).includes('Proposed: Enable STRICT mTLS in namespace shop')),
    );
    await click(bot, approveButton(proposal.blocks)!, proposal.ts, BOB);
    await waitFor(() => mode('shop') === 'STRICT', 'STRICT in shop', 10_000);
    // The cart proxy drops its ADS connection as STRICT lands: it keeps the config it had, without STRICT.
    const cart = podOf('shop', 'cart-v1-');
    expect(bot.fleet.inject({ disconnected: ['shop/cart-v1-'] })).toEqual([`${cart}.shop`]);

    const rec = await waitFor(
      async () =>
        (await bot.approvals.recent({ namespace: 'shop' })).find(
          (r) => r.kind === 'mtls-strict' && (r.state === 'done' || r.state === 'failed'),
        ),
      'the migration request to finish',
      15_000,
    );
    expect(rec.state).toBe('failed');
    const summary = rec.outcome?.summary ?? '';
    expect(summary).toMatch(/^Not healthy: STRICT is declared in shop but not enforced everywhere: 1 proxy does not/);
    expect(summary).toContain(`${cart}: DISCONNECTED from istiod`);
    expect(summary).toContain('never got STRICT');
    expect(summary).not.toMatch(/^Healthy/);
    // No "stayed healthy" notice, and no next namespace suggested.
    expect(thread(bot, report.ts).some((m) => text(m).includes('stayed healthy'))).toBe(false);
  });
});
