// A canary window outlives the replica that started it: the window's state (the baseline scrape and the
// readings so far) is kept in the request at every look, so when replica A stops mid-window and releases
// the execution Lease, replica B's housekeeping takes the follow-up over and continues the same window:
// the same baseline, A's readings on the chart, one verdict and one chart in the thread.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import type { ApprovalsService } from '../../src/approvals/service.ts';
import type { WindowSeries } from '../../src/features/canary/step-kind.ts';
import { waitFor } from '../approvals/support.ts';
import {
  ALICE,
  BOB,
  type CanaryBot,
  approveButton,
  buttonIn,
  click,
  secondReplica,
  setWeights,
  slash,
  startCanaryBot,
  text,
  thread,
} from './bot.ts';

let bot: CanaryBot;
let b: ApprovalsService | undefined;

beforeAll(async () => {
  bot = await startCanaryBot();
}, 30_000);

afterAll(async () => {
  await b?.stop();
  await bot?.close();
});

const windowSchema = z.object({
  baseline: z.object({ at: z.number() }),
  points: z.array(z.object({ at: z.number(), version: z.string() })),
});

describe('a canary window resumed by another replica', () => {
  it('continues with the first replica baseline and readings, and posts one verdict with one chart', async () => {
    await setWeights(bot, 95, 5);
    const report = await slash(bot, 'canary orders -n canary --sample 300ms --window 4s');
    await click(bot, buttonIn(report.blocks, 'Next step: canary/orders v2 to 25%')!, report.ts, ALICE);
    const proposal = await bot.fake.waitFor(() =>
      thread(bot, report.ts).find((m) => text(m).includes('Proposed: Shift canary traffic')),
    );
    await click(bot, approveButton(proposal.blocks)!, proposal.ts, BOB);

    // Replica A looks a few times: its baseline and readings are in the request, not only in its memory.
    const before = await waitFor(
      async () => {
        const rec = (await bot.approvals.recent({ namespace: 'canary', limit: 20 })).find(
          (r) => r.kind === 'canary-step' && r.state === 'executing',
        );
        const w = windowSchema.safeParse(rec?.followUp?.window);
        return w.success && new Set(w.data.points.map((p) => p.at)).size >= 2 ? { rec: rec!, w: w.data } : undefined;
      },
      'replica A to keep two readings in the request',
      15_000,
    );
    await bot.approvals.stop();
    const handover = Date.now();

    let series: WindowSeries | undefined;
    let verdicts = 0;
    b = secondReplica(bot, (s) => {
      series = s;
      verdicts++;
    });
    await b.resume();
    const verdict = await bot.fake.waitFor(
      () => thread(bot, report.ts).find((m) => text(m).includes('passed its window')),
      20_000,
    );
    expect(text(verdict)).toContain('v2 at 25%');
    const done = await waitFor(
      async () =>
        (await b!.recent({ namespace: 'canary', limit: 20 })).find((r) => r.id === before.rec.id && r.state === 'done'),
      'replica B to finish the request',
      10_000,
    );
    expect(done.outcome?.summary).toMatch(/^Passed: v2 at 25%/);

    // The same window: B judged from A's baseline, and the chart carries A's readings and B's.
    expect(windowSchema.parse(done.followUp?.window).baseline.at).toBe(before.w.baseline.at);
    expect(verdicts).toBe(1);
    expect(series?.changeAt).toBe(Date.parse(before.rec.followUp!.since));
    const times = new Set(series!.points.map((p) => p.at));
    for (const p of before.w.points) expect(times.has(p.at)).toBe(true);
    expect(series!.points.some((p) => p.at > handover)).toBe(true);

    // One verdict and one chart in the thread.
    expect(thread(bot, report.ts).filter((m) => text(m).includes('passed its window'))).toHaveLength(1);
    const charts = bot.fake
      .calls('files.completeUploadExternal')
      .filter((c) => c.args.thread_ts === report.ts)
      .flatMap((c) => c.args.files as unknown[]);
    expect(charts).toHaveLength(1);
  }, 60_000);
});
