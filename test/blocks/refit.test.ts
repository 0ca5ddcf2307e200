// A front door adds a line and fits an answer the router already fitted: one overflow file, one note,
// the parts moved the second time in front of those moved the first time, nothing lost.
import { describe, expect, it } from '@jest/globals';
import { context, fitToSlack, section } from '../../src/blocks/block-kit.ts';

describe('fitting twice', () => {
  it('keeps one file and one note, under its first name, with every line once', () => {
    const lines = Array.from({ length: 30 }, (_, i) => section(`line ${i} ${'x'.repeat(900)}`));
    const first = fitToSlack({ text: 'long', blocks: lines }, 'long-output.txt');
    expect(first.files?.map((f) => f.filename)).toEqual(['long-output.txt']);
    const second = fitToSlack({ ...first, blocks: [context('<@U1> ran `/mesh long`'), ...first.blocks] });
    expect(second.files?.map((f) => f.filename)).toEqual(['long-output.txt']);
    const notes = second.blocks.filter((b) => JSON.stringify(b).includes('of this answer in the thread'));
    expect(notes).toHaveLength(1);
    const shown = second.blocks
      .map((b) => JSON.stringify(b).match(/line (\d+) /)?.[1])
      .filter(Boolean)
      .map(Number);
    const filed = [...(second.files?.[0]?.content ?? '').matchAll(/line (\d+) /g)].map((m) => Number(m[1]));
    expect([...shown, ...filed].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(JSON.stringify(notes[0])).toContain(`${filed.length} more parts`);
    expect(JSON.stringify(second.blocks).length).toBeLessThanOrEqual(12_000);
  });
});
