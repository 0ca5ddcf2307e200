// Safe text (issue 14, item 5): a cut never splits a code fence, an escape, a link, a mention, a shortcode or a
// character, and what Slack gets stays within its limits. Property-based over text built from those pieces.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  type Block,
  LIMITS,
  type Rendered,
  blockChars,
  button,
  context,
  fields,
  fitToSlack,
  header,
  section,
  tableBlock,
} from '../../src/blocks/block-kit.ts';
import { safeCut, truncate, truncateLines } from '../../src/blocks/safe-text.ts';

// The pieces Slack reads as one thing; the property checks that each survives whole or not at all.
const ATOMS = [
  '&amp;',
  '&lt;',
  '&gt;',
  '&#39;',
  '<https://example.com/a?b=1&amp;c=2|the label>',
  '<https://istio.io>',
  '<@U0123ABC>',
  '<#C0456DEF|incidents>',
  '<!here>',
  '<!subteam^S012|@sre>',
  ':lock:',
  ':white_check_mark:',
  '`reviews-v2`',
  '👍🏽',
  '👨‍👩‍👧',
  '🇩🇪',
  'é', // e + combining acute
  '𝔸',
];

const piece = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...ATOMS) },
  { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 12 }).map((s) => s.replace(/[&<>`:]/g, 'x')) },
  { weight: 2, arbitrary: fc.constantFrom(' ', '\n', '• ', '*bold*', '_it_', '\n\n') },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.constantFrom('row one', 'x &amp; y', '<@U1>', 'two  cols', '👍'), { maxLength: 8 })
      .map((lines) => '```\n' + lines.join('\n') + '\n```'),
  },
  {
    weight: 1,
    arbitrary: fc.string({ minLength: 81, maxLength: 140 }).map((s) => '`' + s.replace(/[`\n&<>:]/g, 'c') + '`'),
  },
);
const slackText = fc.array(piece, { maxLength: 120 }).map((p) => p.join(''));

/** Every place in `text` where an atom occurs, as [start, end]. */
function atomSpans(text: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  const re =
    /```|&(?:amp|lt|gt|quot|apos|#\d{1,7});|<[^<>\n]+>|:[a-z_]+:|\p{RI}\p{RI}|\p{Extended_Pictographic}(?:\p{EMod}|\u200d\p{Extended_Pictographic}|\ufe0f)*|e\u0301|[\ud800-\udbff][\udc00-\udfff]/gu;
  for (const m of text.matchAll(re)) spans.push([m.index, m.index + m[0].length]);
  return spans;
}

function expectNoSplit(original: string, kept: string): void {
  // The kept text is a prefix of the original (before any marker) that ends between atoms.
  expect(original.startsWith(kept)).toBe(true);
  for (const [start, end] of atomSpans(original)) expect(start < kept.length && kept.length < end).toBe(false);
}

function expectValidMrkdwn(text: string): void {
  // No lone surrogate.
  expect(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text)).toBe(false);
  // Fences are balanced.
  expect((text.match(/```/g) ?? []).length % 2).toBe(0);
  // Every & starts an escape, every < is closed on its line (what esc() and Slack's own markup produce).
  expect(/&(?!(?:amp|lt|gt|quot|apos|#\d{1,7});)/.test(text)).toBe(false);
  expect(/<[^<>\n]*(?:$|\n|<)/.test(text)).toBe(false);
  expect(/(?<!<[^<>\n]*)>/.test(text)).toBe(false);
}

/** Whether `out` reads as a prefix of `text` that splits nothing, then the marker, then a closer (any of them). */
function isSafeCut(text: string, out: string, marker: string): boolean {
  for (const closer of ['', '`', '```', '\n```']) {
    if (!out.endsWith(closer)) continue;
    let kept = out.slice(0, out.length - closer.length);
    if (marker) {
      if (!kept.endsWith(marker)) continue;
      kept = kept.slice(0, -marker.length);
    }
    if (!text.startsWith(kept)) continue;
    if (atomSpans(text).every(([start, end]) => !(start < kept.length && kept.length < end))) return true;
  }
  return false;
}

describe('truncate (property)', () => {
  it('keeps to the limit, splits no atom, and leaves valid mrkdwn', () => {
    fc.assert(
      fc.property(slackText, fc.integer({ min: 0, max: 400 }), fc.constantFrom('…', '', ' (cut)'), (text, max, m) => {
        const out = truncate(text, max, m);
        expect(out.length).toBeLessThanOrEqual(max);
        if (text.length <= max) {
          expect(out).toBe(text);
          return;
        }
        expectValidMrkdwn(out);
        expect(isSafeCut(text, out, m.length <= max ? m : '')).toBe(true);
      }),
      { numRuns: 400, seed: 20261202 },
    );
  });

  it('safeCut: what is kept plus the closer fits, ends between atoms, and closes what it opened', () => {
    fc.assert(
      fc.property(
        slackText,
        fc.integer({ min: 0, max: 500 }),
        fc.constantFrom('any', 'word', 'line'),
        (text, budget, p) => {
          const cut = safeCut(text, budget, p as 'any' | 'word' | 'line');
          expect(cut.at + cut.closer.length).toBeLessThanOrEqual(
            Math.max(budget, text.length <= budget ? text.length : 0),
          );
          const kept = text.slice(0, cut.at);
          expectNoSplit(text, kept);
          const fences = (kept.match(/```/g) ?? []).length;
          expect(cut.closer.endsWith('```')).toBe(fences % 2 === 1);
        },
      ),
      { numRuns: 400, seed: 20261202 },
    );
  });

  it('truncateLines ends on whole lines where it can and says how many are left out', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...ATOMS, 'a line of text', '• item &amp; more'), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 40, max: 600 }),
        (lines, max) => {
          const text = lines.join('\n');
          const out = truncateLines(text, max, (n) => `_…and ${n} more lines_`);
          expect(out.length).toBeLessThanOrEqual(max);
          expectValidMrkdwn(out);
          const m = out.match(/\n_…and (\d+) more lines_$/);
          if (m) {
            const body = out.slice(0, m.index);
            const whole = text.startsWith(body);
            const shown = whole ? body : body.replace(/…$/, '');
            expect(text.startsWith(shown)).toBe(true);
            const rest = text
              .slice(shown.length)
              .replace(/^\n/, '')
              .split('\n')
              .filter((l, i) => (whole || i > 0) && l.trim() !== '' && l.trim() !== '```').length;
            expect(rest).toBe(Number(m[1]));
          }
        },
      ),
      { numRuns: 400, seed: 20261202 },
    );
  });
});

describe('truncate (examples)', () => {
  it('cuts before an escape, a link or a mention rather than through it', () => {
    expect(truncate('a &amp; b', 4)).toBe('a…');
    expect(truncate('see <https://istio.io/latest/docs|the docs> now', 12)).toBe('see…');
    expect(truncate('ping <@U0123ABC> please', 10)).toBe('ping…');
    expect(truncate('to <#C0456DEF|incidents> now', 8)).toBe('to…');
    expect(truncate('hey <!here> look', 7)).toBe('hey…');
  });

  it('never splits an emoji or a surrogate pair', () => {
    expect(truncate('ok 👍🏽 done', 5)).toBe('ok…');
    expect(truncate('𝔸𝔸𝔸𝔸', 4)).toBe('𝔸…');
    expect(truncate('family 👨‍👩‍👧 x', 10)).toBe('family…');
  });

  it('closes a code block it cuts, and drops one it would leave empty', () => {
    const out = truncate('*Log*\n```\nline one\nline two\nline three\n```', 30);
    expect(out).toBe('*Log*\n```\nline one\nline…\n```');
    expect(truncate('*Log* ```\nline one```', 12)).toBe('*Log*…');
  });

  it('closes a long code span it cuts', () => {
    const out = truncate(`error: \`${'x'.repeat(200)}\` end`, 60);
    expect(out.length).toBeLessThanOrEqual(60);
    expect(out.endsWith('…`')).toBe(true);
  });
});

describe('builders and fitToSlack', () => {
  const limitsHold = (r: Rendered) => {
    expect(r.blocks.length).toBeLessThanOrEqual(LIMITS.blocksPerMessage);
    expect(blockChars(r.blocks)).toBeLessThanOrEqual(LIMITS.totalBlockChars);
    expect(r.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
    for (const b of r.blocks as Block[]) {
      if (b.type === 'section') {
        if (b.text) {
          expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
          expectValidMrkdwn(b.text.text);
        }
        for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(LIMITS.fieldText);
      }
      if (b.type === 'header') expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.headerText);
      if (b.type === 'context') for (const e of b.elements) expectValidMrkdwn(e.text);
      if (b.type === 'actions')
        for (const e of b.elements) expect(e.text.text.length).toBeLessThanOrEqual(LIMITS.buttonText);
    }
  };

  it('any message fits Slack after fitToSlack, and what is cut or moved is in the file (property)', () => {
    const block = fc.oneof(
      slackText.map((t) => section(t.repeat(1 + (t.length % 40)))),
      slackText.map((t) => header(t.replace(/\n/g, ' ').repeat(3))),
      fc.array(slackText, { maxLength: 12 }).map((ts) => context(...ts)),
      fc.array(fc.tuple(slackText, slackText), { maxLength: 12 }).map((ps) => fields(ps)),
      slackText.map((t) => ({ type: 'actions' as const, elements: [button(t.repeat(5) || 'b', 'act', 'v')] })),
    );
    fc.assert(
      fc.property(fc.array(block, { maxLength: 70 }), slackText, (blocks, text) => {
        const fitted = fitToSlack({ text: text.repeat(40), blocks }, 'out.txt');
        limitsHold(fitted);
        const file = fitted.files?.find((f) => f.filename === 'out.txt');
        const said = JSON.stringify(fitted.blocks).includes('out.txt');
        expect(Boolean(file)).toBe(said);
        // No button is lost: each one is in the message or, as text, in the file.
        const content = file?.content ?? '';
        for (const b of blocks)
          if (b.type === 'actions')
            for (const e of b.elements) {
              const inMessage = fitted.blocks.some((k) => k.type === 'actions' && k.elements.includes(e));
              expect(inMessage || content.includes(`[ ${e.text.text.slice(0, 20)}`)).toBe(true);
            }
        // Fitting again changes nothing more: no second file, the same blocks.
        const again = fitToSlack(fitted, 'out.txt');
        expect(again.blocks).toEqual(fitted.blocks);
        expect(again.files?.length ?? 0).toBe(fitted.files?.length ?? 0);
      }),
      { numRuns: 300, seed: 20261202 },
    );
  });

  it('fitting a fitted message again keeps its note where it was, before the buttons', () => {
    const blocks: Block[] = [
      section('x'.repeat(2900)),
      ...Array.from({ length: 6 }, (_, i) => section(`part ${i} ${'y'.repeat(2500)}`)),
      { type: 'actions', elements: [button('Restart reviews-v2', 'act', 'v')] },
    ];
    const fitted = fitToSlack({ text: 't', blocks }, 'out.txt');
    const types = fitted.blocks.map((b) => b.type);
    expect(types.at(-1)).toBe('actions');
    expect(types.at(-2)).toBe('context');
    expect(fitToSlack(fitted, 'out.txt').blocks).toEqual(fitted.blocks);
  });

  it('a long section says how many lines are left out and the file has them all', () => {
    const lines = Array.from({ length: 400 }, (_, i) => `• pod \`reviews-v${i}\` &amp; more`);
    const fitted = fitToSlack({ text: 'long', blocks: [section(lines.join('\n'))] }, 'describe-output.txt');
    const shown = (fitted.blocks[0] as { text: { text: string } }).text.text;
    const m = shown.match(/_…and (\d+) more lines: all of it is in the thread as `describe-output.txt`_$/);
    expect(m).not.toBeNull();
    const visible = shown.split('\n').length - 1;
    expect(visible + Number(m?.[1])).toBe(400);
    const file = fitted.files?.[0]?.content ?? '';
    expect(file).toContain('• pod `reviews-v399` & more');
    expect(file).toContain('• pod `reviews-v0` & more');
  });

  it('without fitToSlack a cut section still says what is left out', () => {
    const b = section(Array.from({ length: 400 }, (_, i) => `line ${i}`).join('\n')) as { text: { text: string } };
    expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
    expect(b.text.text).toMatch(/\n_…and \d+ more lines_$/);
  });

  it('many blocks: the note says how many parts moved to the file', () => {
    const blocks = Array.from({ length: 80 }, (_, i) => section(`part ${i} ${'x'.repeat(200)}`));
    const fitted = fitToSlack({ text: 't', blocks }, 'x.txt');
    limitsHold(fitted);
    const note = JSON.stringify(fitted.blocks.at(-1));
    const n = Number(note.match(/…and (\d+) more parts/)?.[1]);
    expect(fitted.blocks.length - 1 + n).toBe(80);
    expect(fitted.files?.[0]?.content).toContain('part 79');
  });

  it('tables escape cells for Slack, keep columns aligned, and keep the file plain', () => {
    const t = tableBlock(
      ['NAME', 'NOTE'],
      [
        ['a<b', 'x & y'],
        ['long-name', '<@U1>'],
      ],
      'x.txt',
    );
    const text = (t.block as { text: { text: string } }).text.text;
    expect(text).toContain('a&lt;b         x &amp; y');
    expect(text).toContain('&lt;@U1&gt;');
    const big = tableBlock(
      ['N'],
      Array.from({ length: 500 }, (_, i) => [`row-${i} & co`]),
      'big.txt',
    );
    expect(big.overflow?.content).toContain('row-499 & co');
    expect((big.block as { text: { text: string } }).text.text).toMatch(/…and \d+ more rows: /);
    expect(tableBlock(['N'], [['a'], ['b']], 'y.txt').overflow).toBeUndefined();
  });

  it('one more row reads as a row', () => {
    const rows = Array.from({ length: 200 }, (_, i) => [`${'r'.repeat(13)}${i}`]);
    const t = tableBlock(['NAME'], rows, 'r.txt');
    expect((t.block as { text: { text: string } }).text.text).toMatch(/and \d+ more rows/);
  });
});
