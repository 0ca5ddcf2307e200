// The chart a canary window ends with, through Slack (the real Bolt app, the recording fake, the sandbox's
// traffic): one passing window uploads exactly one PNG into the step's thread, decoded here; a window
// with nothing to draw says so in its verdict instead of blocking it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { kubeFor, waitFor } from '../approvals/support.ts';
import { decodePng, inkedPixels, pixelsNear } from '../charts/png.ts';
import {
  ALICE,
  BOB,
  type CanaryBot,
  approveButton,
  buttonIn,
  click,
  slash,
  setWeights as setCanaryWeights,
  startCanaryBot,
  text,
  thread,
} from './bot.ts';

let bot: CanaryBot;
const NS = 'canary';

beforeAll(async () => {
  bot = await startCanaryBot();
}, 30_000);
afterAll(async () => {
  await bot?.close();
});

type Vs = KubeObject & {
  spec: { http: Array<{ route: Array<{ destination: { subset: string }; weight?: number }> }> };
};
const weightOf = (subset: string) =>
  (bot.sb.store.get('VirtualService', NS, 'orders') as Vs).spec.http[0]!.route.find(
    (d) => d.destination.subset === subset,
  )?.weight;

/** Sets the weights as another hand would (through the API server, so resourceVersion moves). */
const setWeights = (v1: number, v2: number) => setCanaryWeights(bot, v1, v2);

async function scaleWeb(replicas: number): Promise<void> {
  await kubeFor(bot.sb).patch('Deployment', NS, 'web', { spec: { replicas } }, 'merge');
  await waitFor(
    () =>
      bot.sb.store.list('Pod', NS).filter((p) => p.metadata.labels?.app === 'web' && !p.metadata.deletionTimestamp)
        .length === replicas,
    `web at ${replicas} pods`,
    15_000,
  );
}

const inThread = (ts: string, needle: string) =>
  bot.fake.waitFor(() => thread(bot, ts).find((m) => text(m).includes(needle)), 20_000);

/** The completeUploadExternal calls that shared a file into `threadTs`, with the files' ids. */
function sharedInto(threadTs: string): string[] {
  return bot.fake
    .calls('files.completeUploadExternal')
    .filter((c) => c.args.thread_ts === threadTs)
    .flatMap((c) => (c.args.files as Array<{ id: string }>).map((f) => f.id));
}

describe('the canary window chart through Slack', () => {
  it('a passing window 5 → 25 uploads exactly one PNG into the thread, 800 px wide and drawn on', async () => {
    await setWeights(95, 5);
    const report = await slash(bot, 'canary orders -n canary --sample 300ms --window 1500ms');
    await click(bot, buttonIn(report.blocks, 'Next step: canary/orders v2 to 25%')!, report.ts, ALICE);
    const proposal = await inThread(report.ts, 'Proposed: Shift canary traffic');
    const uploadsBefore = bot.fake.uploads.length;
    await click(bot, approveButton(proposal.blocks)!, proposal.ts, BOB);
    await waitFor(() => weightOf('v2') === 25, 'weights 75/25', 10_000);
    const verdict = await inThread(report.ts, 'passed its window');
    expect(text(verdict)).not.toContain('chart could not be drawn');
    const ids = await bot.fake.waitFor(() => {
      const shared = sharedInto(report.ts);
      return shared.length ? shared : undefined;
    }, 10_000);
    // Give a second upload the chance to show up before counting.
    await new Promise((r) => setTimeout(r, 500));
    const pngs = bot.fake.uploads.slice(uploadsBefore).filter((u) => u.filename?.endsWith('.png'));
    expect(pngs).toHaveLength(1);
    expect(sharedInto(report.ts)).toEqual(ids);
    expect(ids).toEqual([pngs[0]!.fileId]);
    expect(pngs[0]!.filename).toBe('canary-canary-orders-step-2.png');
    const png = decodePng(pngs[0]!.bytes);
    expect(png.width).toBe(800);
    expect(png.height).toBeGreaterThan(200);
    expect(inkedPixels(png)).toBeGreaterThan(2000);
    // Both versions drew lines: v1 and v2 in vega's first two category colours.
    expect(pixelsNear(png, [0x4c, 0x78, 0xa8])).toBeGreaterThan(100);
    expect(pixelsNear(png, [0xf5, 0x85, 0x18])).toBeGreaterThan(100);
  }, 60_000);

  it('a window with nothing to draw still posts its verdict, saying why there is no chart', async () => {
    await setWeights(95, 5);
    const report = await slash(bot, 'canary orders -n canary --sample 300ms --window 1500ms');
    await click(bot, buttonIn(report.blocks, 'Next step: canary/orders v2 to 25%')!, report.ts, ALICE);
    const proposal = await inThread(report.ts, 'Proposed: Shift canary traffic');
    await scaleWeb(0);
    try {
      await click(bot, approveButton(proposal.blocks)!, proposal.ts, BOB);
      const verdict = await inThread(report.ts, 'failed its window');
      expect(text(verdict)).toContain('chart could not be drawn: no reading in the window had requests or a p99');
      expect(sharedInto(report.ts)).toEqual([]);
    } finally {
      await scaleWeb(1);
    }
  }, 60_000);
});
