// The guarded window on its own, with a spec that counts looks: what one call returns as Progress.window
// is what the next call (on this replica or another) continues from; a state that does not parse starts
// again and says so; a state past the bound is compacted, or kept in memory when even that is too big.
import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import {
  type GuardedWindow,
  MAX_WINDOW_STATE_BYTES,
  boundedState,
  guardedFollowUp,
} from '../../src/approvals/guarded-window.ts';
import type { KubeClient } from '../../src/kube/client.ts';

const kube = {} as KubeClient;
const target = { kind: 'Thing', namespace: 'ns', name: 'one' };
const applied = new Date('2026-12-02T10:00:00Z');
const stateSchema = z.object({ looks: z.number(), pad: z.string() });
type S = z.infer<typeof stateSchema>;

function spec(opts: { pad?: number; windowMs?: number; verdicts?: string[] } = {}): GuardedWindow<unknown, S> {
  return {
    name: 'test',
    parsePlan: (p) => p,
    windowMs: () => opts.windowMs ?? 10_000,
    state: stateSchema,
    stands: async () => ({ since: applied, seen: undefined }),
    start: async () => ({ looks: 0, pad: 'x'.repeat(opts.pad ?? 0) }),
    async look(_k, ctx, s) {
      const looks = s.looks + 1;
      const final = ctx.elapsedMs >= ctx.windowMs;
      return {
        state: { ...s, looks },
        verdict: {
          kind: final ? 'pass' : 'pending',
          summary: `look ${looks}${ctx.resumed ? ' resumed' : ''}${ctx.restarted ? ' restarted' : ''}`,
        },
        detail: undefined,
      };
    },
    async onVerdict(_k, ctx, s, v) {
      opts.verdicts?.push(`${v.kind} after ${s.looks} looks at ${ctx.elapsedMs} ms`);
    },
    compact: (s) => ({ ...s, pad: s.pad.slice(0, Math.floor(s.pad.length / 4)) }),
  };
}

describe('guardedFollowUp', () => {
  it('continues from the state the last look returned, also on another replica, and judges at the end', async () => {
    let t = applied.getTime() + 1000;
    const now = () => new Date(t);
    const verdicts: string[] = [];
    const a = guardedFollowUp(spec({ verdicts }), now);
    const first = await a(kube, target, {}, applied, undefined);
    expect(first).toMatchObject({ done: false, summary: 'look 1', window: { looks: 1 } });
    t += 4000;
    const second = await a(kube, target, {}, applied, first.window);
    expect(second.summary).toBe('look 2 resumed');
    // Replica B: a new follow-up with no memory of A, handed the state from the request.
    const b = guardedFollowUp(spec({ verdicts }), now);
    t += 6000;
    const last = await b(kube, target, {}, applied, second.window);
    expect(last).toMatchObject({ done: true, ok: true, summary: 'look 3 resumed' });
    expect(last.window).toBeUndefined();
    expect(verdicts).toEqual(['pass after 3 looks at 11000 ms']);
  });

  it('a stored state that does not parse starts again, and the look says so', async () => {
    const f = guardedFollowUp(spec(), () => new Date(applied.getTime() + 1000));
    const p = await f(kube, target, {}, applied, { looks: 'many' });
    expect(p.summary).toBe('look 1 restarted');
  });

  it('a state past the bound is compacted; one that stays too big is kept in memory, and the window goes on', async () => {
    const big = spec({ pad: MAX_WINDOW_STATE_BYTES * 2 });
    const compacted = boundedState(big, { looks: 1, pad: 'x'.repeat(MAX_WINDOW_STATE_BYTES * 2) });
    expect(compacted?.pad.length).toBeLessThanOrEqual(MAX_WINDOW_STATE_BYTES);
    const never: GuardedWindow<unknown, S> = { ...big, compact: (s) => s };
    expect(boundedState(never, { looks: 1, pad: 'x'.repeat(MAX_WINDOW_STATE_BYTES * 2) })).toBeUndefined();
    const f = guardedFollowUp(never, () => new Date(applied.getTime() + 1000));
    const one = await f(kube, target, {}, applied, undefined);
    expect(one.window).toBeUndefined();
    const two = await f(kube, target, {}, applied, undefined);
    // Not started again: the second look continued from the first one kept in memory.
    expect(two.summary).toBe('look 2');
  });

  it('a change that no longer stands stops the watch with the reason', async () => {
    const f = guardedFollowUp({ ...spec(), stands: async () => ({ stopped: 'The weights changed.' }) });
    expect(await f(kube, target, {}, applied, undefined)).toEqual({
      done: true,
      ok: false,
      summary: 'The weights changed.',
      problems: [],
    });
  });
});
