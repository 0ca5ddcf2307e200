// The guarded STRICT migration end to end: Slack (the real Bolt app, signed requests, the recording
// fake), the approvals engine, the sandbox API server and its traffic model. What happened is read
// from the cluster's side (the PeerAuthentication in the store, the sidecars' access logs), not from
// our own bookkeeping.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { parseAccessLog } from '../../src/envoy/access-log.ts';
import { kubeFor, waitFor } from '../approvals/support.ts';
import { decodePng, inkedPixels, pixelsNear } from '../charts/png.ts';
import {
  ALICE,
  BOB,
  CAROL,
  GENERAL,
  type MtlsBot,
  approveButton,
  buttonIn,
  click,
  ephemeralsFor,
  slash,
  startMtlsBot,
  text,
  thread,
} from './bot.ts';

let bot: MtlsBot;

beforeAll(async () => {
  bot = await startMtlsBot({ watchMs: 1500 });
});

afterAll(async () => {
  await bot?.close();
});

function mode(namespace: string): string | undefined {
  const pa = bot.sb.store.get('PeerAuthentication', namespace, 'default') as
    | (KubeObject & { spec?: { mtls?: { mode?: string } } })
    | undefined;
  return pa?.spec?.mtls?.mode;
}

async function destinationLog(namespace: string, app: string): Promise<ReturnType<typeof parseAccessLog>> {
  const kube = kubeFor(bot.sb);
  const pod = bot.sb.store.list('Pod', namespace).find((p) => p.metadata.labels?.app === app);
  if (!pod) throw new Error(`no ${app} pod in ${namespace}`);
  return parseAccessLog(await kube.podLogs(namespace, pod.metadata.name, { container: 'istio-proxy' }));
}

/** The PNGs uploaded under `name` since upload number `from`. */
function pngs(from: number, name: string) {
  return bot.fake.uploads.slice(from).filter((u) => u.filename === name);
}

/** Waits for a thread message whose blocks contain `needle`. */
function inThread(ts: string, needle: string, timeoutMs = 20_000) {
  return bot.fake.waitFor(() => thread(bot, ts).find((m) => text(m).includes(needle)), timeoutMs);
}

describe('STRICT migration through Slack', () => {
  it('refuses a mesh-wide STRICT while a namespace is not ready', async () => {
    const msg = await slash(bot, 'mtls istio-system --strict --window 300ms');
    expect(text(msg)).toContain('Cannot propose');
    expect(text(msg)).toContain('A mesh-wide STRICT is refused');
    expect(text(msg)).toContain('`legacy`');
    expect(bot.sb.store.list('PeerAuthentication', 'istio-system')).toHaveLength(0);
  });

  it('refuses STRICT for a namespace that is not ready unless overridden', async () => {
    const msg = await slash(bot, 'mtls legacy --strict --window 300ms');
    expect(text(msg)).toContain('is not ready for STRICT');
    expect(text(msg)).toContain('--strict --override');
    expect(mode('legacy')).toBeUndefined();
  });

  it('an approved migration of a ready namespace stays healthy, then suggests the next namespace', async () => {
    const report = await slash(bot, 'mtls shop --window 300ms');
    expect(text(report)).toContain('Ready for STRICT');
    const offer = buttonIn(report.blocks, 'Enable STRICT for shop');
    expect(offer).toBeDefined();

    await click(bot, offer!, report.ts, ALICE);
    const proposal = await inThread(report.ts, 'Proposed: Enable STRICT mTLS in namespace shop');
    expect(text(proposal)).toContain('security.istio.io/v1');
    expect(text(proposal)).toContain('dryRun=All');
    expect(text(proposal)).toContain('mode: STRICT');
    expect(text(proposal)).toContain('cart-v1');
    expect(mode('shop')).toBeUndefined();

    const approve = approveButton(proposal.blocks)!;
    await click(bot, approve, proposal.ts, ALICE);
    await bot.fake.waitFor(() => ephemeralsFor(bot, ALICE).find((t) => t.includes('someone else must approve')));
    expect(mode('shop')).toBeUndefined();

    const uploadsBefore = bot.fake.uploads.length;
    await click(bot, approve, proposal.ts, BOB);
    await waitFor(() => mode('shop') === 'STRICT', 'STRICT in shop', 10_000);
    const healthy = await inThread(report.ts, 'stayed healthy');
    expect(text(healthy)).not.toContain('chart could not be drawn');
    // The watch's chart: one PNG, 800 px wide, three flat lines at 0 (the 403 line in the first colour).
    const healthyChart = await bot.fake.waitFor(() => pngs(uploadsBefore, 'mtls-shop-strict-watch.png')[0], 10_000);
    expect(pngs(uploadsBefore, 'mtls-shop-strict-watch.png')).toHaveLength(1);
    const hp = decodePng(healthyChart.bytes);
    expect(hp.width).toBe(800);
    expect(inkedPixels(hp)).toBeGreaterThan(2000);
    expect(text(healthy)).toContain('Next, ranked by readiness');
    // bookinfo is ready, legacy is not: bookinfo comes first and gets a button.
    expect(text(healthy).indexOf('bookinfo')).toBeLessThan(text(healthy).indexOf('legacy'));
    expect(buttonIn(healthy.blocks, 'Enable STRICT for bookinfo')).toBeDefined();
    expect(buttonIn(healthy.blocks, 'Roll back to PERMISSIVE')).toBeDefined();
    const rec = await waitFor(async () => {
      const all = await bot.approvals.recent({ namespace: 'shop' });
      return all.find((r) => r.kind === 'mtls-strict' && r.state === 'done');
    }, 'the migration request to be done');
    expect(rec.outcome?.summary).toMatch(/^Healthy: no new 403\/503/);
    // The meshed caller kept working under STRICT: no refused connection at cart.
    const cartLog = await destinationLog('shop', 'cart');
    const after = cartLog.filter(
      (e) => e.startTime && e.startTime.getTime() >= Date.parse(rec.execution?.appliedAt ?? ''),
    );
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((e) => e.responseCode === 200)).toBe(true);
    // Asked again, the namespace offers the way back instead of STRICT.
    const again = await slash(bot, 'mtls shop --window 200ms');
    expect(text(again)).toContain('already sets STRICT for the whole namespace');
    expect(buttonIn(again.blocks, 'Roll back to PERMISSIVE')).toBeDefined();
    expect(buttonIn(again.blocks, 'Enable STRICT')).toBeUndefined();
  });

  it('a migration that breaks a plaintext caller raises the alarm, then rolls back with the requester alone', async () => {
    const report = await slash(bot, 'mtls legacy --window 300ms', CAROL);
    expect(text(report)).toContain('Not ready for STRICT');
    expect(text(report)).toContain('no sidecar');
    expect(text(report)).toContain('called inventory in plaintext');
    const override = buttonIn(report.blocks, 'Enable STRICT anyway (override) for legacy')!;
    expect(override).toBeDefined();

    // Alice may migrate ready namespaces but not override.
    await click(bot, override, report.ts, ALICE);
    await bot.fake.waitFor(() => ephemeralsFor(bot, ALICE).find((t) => t.includes('mtls-strict-override')));

    await click(bot, override, report.ts, CAROL);
    const proposal = await inThread(report.ts, 'Proposed: Enable STRICT mTLS (override) in namespace legacy');
    expect(text(proposal)).toContain('NOT ready, overridden');
    const uploadsBefore = bot.fake.uploads.length;
    await click(bot, approveButton(proposal.blocks)!, proposal.ts, BOB);
    await waitFor(() => mode('legacy') === 'STRICT', 'STRICT in legacy', 10_000);

    const alarm = await inThread(report.ts, 'is breaking callers');
    expect(text(alarm)).toContain('NR filter_chain_not_found');
    // The alarm's chart: connection failures drawn in their colour (#e45756), above the dashed alarm line.
    const alarmChart = await bot.fake.waitFor(() => pngs(uploadsBefore, 'mtls-legacy-strict-watch.png')[0], 10_000);
    const ap = decodePng(alarmChart.bytes);
    expect(ap.width).toBe(800);
    expect(pixelsNear(ap, [0xe4, 0x57, 0x56])).toBeGreaterThan(50);
    const rollback = buttonIn(alarm.blocks, 'Roll back to PERMISSIVE')!;
    expect(rollback).toBeDefined();
    const failed = await waitFor(
      async () =>
        (await bot.approvals.recent({ namespace: 'legacy' })).find(
          (r) => r.kind === 'mtls-strict-override' && r.state === 'failed',
        ),
      'the migration to fail',
    );
    expect(failed.outcome?.summary).toMatch(/^ALARM: \d+ new failure/);
    expect(failed.outcome?.summary).toContain('NR filter_chain_not_found at sidecar legacy/inventory-');
    // The traffic really broke: the inventory sidecar refused plaintext connections.
    expect(
      (await destinationLog('legacy', 'inventory')).some(
        (e) => e.responseFlags.includes('NR') && e.responseCodeDetails === 'filter_chain_not_found',
      ),
    ).toBe(true);

    await click(bot, rollback, alarm.ts, CAROL);
    // The fake's click carries no thread_ts, so the proposal threads under the alarm message itself.
    const rbProposal = await inThread(alarm.ts, 'Proposed: Roll back mTLS to PERMISSIVE in namespace legacy');
    // The policy lets the requester approve a rollback alone.
    await click(bot, approveButton(rbProposal.blocks)!, rbProposal.ts, CAROL);
    await waitFor(() => mode('legacy') === 'PERMISSIVE', 'PERMISSIVE in legacy', 10_000);
    const rolledBackAt = Date.now();
    // Plaintext is accepted again.
    await waitFor(
      async () =>
        (await destinationLog('legacy', 'inventory')).some(
          (e) => e.responseCode === 200 && (e.startTime?.getTime() ?? 0) > rolledBackAt,
        ),
      'a 200 after the rollback',
      10_000,
    );
    expect(bot.fake.messages(GENERAL).length).toBeGreaterThan(0);
  });
});
