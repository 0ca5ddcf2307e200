// Block Kit as plain data, with builders that respect Slack's limits. Commands build their answers
// here without knowing anything about Bolt or the Web API; src/slack/ sends them, the console prints them.
// Text is cut safely (safe-text.ts); what a builder had to cut is remembered, so that fitToSlack can put the whole
// of it into a file in the thread and say so.
import { count } from './count.ts';
import { emojify, unMrkdwn } from './emoji.ts';
import { truncate, truncateLines } from './safe-text.ts';

export { andMore, count, countRequests, plural, verb } from './count.ts';
export { safeCut, truncate, truncateLines } from './safe-text.ts';

export const LIMITS = {
  blocksPerMessage: 50,
  sectionText: 3000,
  headerText: 150,
  contextElements: 10,
  fieldText: 2000,
  fieldsPerSection: 10,
  buttonText: 75,
  buttonValue: 2000,
  actionId: 255,
  actionsElements: 25,
  /** Slack rejects messages much over this many characters of serialized blocks. */
  totalBlockChars: 12_000,
} as const;

export interface TextObject {
  type: 'mrkdwn' | 'plain_text';
  text: string;
  emoji?: boolean;
}

export interface ConfirmDialog {
  title: TextObject;
  text: TextObject;
  confirm: TextObject;
  deny: TextObject;
  style?: 'primary' | 'danger';
}

export interface ButtonElement {
  type: 'button';
  text: TextObject;
  action_id: string;
  value?: string;
  style?: 'primary' | 'danger';
  confirm?: ConfirmDialog;
}

export type Block =
  | { type: 'header'; text: TextObject; block_id?: string }
  | { type: 'section'; text?: TextObject; fields?: TextObject[]; block_id?: string; accessory?: ButtonElement }
  | { type: 'context'; elements: TextObject[]; block_id?: string }
  | { type: 'divider'; block_id?: string }
  | { type: 'actions'; elements: ButtonElement[]; block_id?: string };

/** A file that goes into the thread when the full output does not fit a message, or a chart. */
export interface Attachment {
  filename: string;
  title: string;
  /** The text; for a binary file (bytes set), what a console prints instead, e.g. `[chart: x.png, 123 bytes]`. */
  content: string;
  /** A binary file's bytes (a PNG chart): Slack uploads these instead of content. */
  bytes?: Uint8Array;
}

/**
 * A fix a diagnostic suggests. render() stays pure, so it only names the fix; the approvals service
 * turns offers into buttons with opaque ids when the message goes out (see Router).
 */
export interface Offer {
  label: string;
  remediation: {
    kind: string;
    target: { kind: string; namespace: string; name: string };
    why: string;
    risk?: string;
    params?: Record<string, unknown>;
  };
}

/** What a command's render() returns: Slack-ready blocks, fallback text, and optional long output. */
export interface Rendered {
  text: string;
  blocks: Block[];
  files?: Attachment[];
  offers?: Offer[];
  /** Asks the front door to open a modal (Slack: views.open with the command's trigger_id). */
  modal?: { callbackId: string; params?: Record<string, string> };
}

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Text objects a builder had to cut, with the whole text and the limit they were cut to. */
const cutTexts = new WeakMap<TextObject, { full: string; max: number }>();
/** Blocks that lost something when built (cut text, fields or elements over the limit): the block uncut. */
const uncutBlocks = new WeakMap<Block, Block>();

/** Footers (footerBlock): kept last in the message by every fitToSlack, however often an answer is refitted. */
const pinnedFooters = new WeakSet<Block>();
/** Overflow files fitToSlack wrote, and its notes pointing at them (with how many parts they stand for). */
const overflowFiles = new WeakSet<Attachment>();
const overflowNotes = new WeakMap<Block, number>();

/**
 * The router's footer line (`cluster *prod* · 0.4s`): a context block that fitToSlack always keeps, last,
 * in the message, never in the overflow file, including when a front door refits the answer (adding the
 * "ran /mesh …" line on top).
 */
export function footerBlock(text: string): Block {
  const b = context(text);
  pinnedFooters.add(b);
  return b;
}

/** What a cut text says when there is no file to point to: how many lines are not shown. */
const linesLeftOut = (more: number) => (more > 0 ? `_…and ${count(more, 'more line')}_` : '');

function cutMrkdwn(text: string, max: number, note = linesLeftOut): TextObject {
  if (text.length <= max) return { type: 'mrkdwn', text };
  const t: TextObject = { type: 'mrkdwn', text: truncateLines(text, max, note) };
  cutTexts.set(t, { full: text, max });
  return t;
}

function remember<B extends Block>(block: B, uncut: () => Block, cut: boolean): B {
  if (cut) uncutBlocks.set(block, uncut());
  return block;
}

const wasCut = (t: TextObject | undefined) => t !== undefined && cutTexts.has(t);

export const mrkdwn = (text: string): TextObject => cutMrkdwn(text, LIMITS.sectionText);
export const plain = (text: string): TextObject => ({ type: 'plain_text', text, emoji: true });

export function header(text: string): Block {
  return { type: 'header', text: plain(truncate(text, LIMITS.headerText)) };
}

export function section(text: string): Block {
  const t = mrkdwn(text);
  return remember({ type: 'section', text: t }, () => ({ type: 'section', text: { type: 'mrkdwn', text } }), wasCut(t));
}

export function fields(pairs: Array<[string, string]>): Block {
  const texts = pairs.slice(0, LIMITS.fieldsPerSection).map(([k, v]) => cutMrkdwn(`*${k}*\n${v}`, LIMITS.fieldText));
  const whole = () => ({
    type: 'section' as const,
    fields: pairs.map(([k, v]): TextObject => ({ type: 'mrkdwn', text: `*${k}*\n${v}` })),
  });
  return remember({ type: 'section', fields: texts }, whole, pairs.length > texts.length || texts.some(wasCut));
}

export function context(...texts: string[]): Block {
  const elements = texts.slice(0, LIMITS.contextElements).map((t) => mrkdwn(t));
  const whole = () => ({
    type: 'context' as const,
    elements: texts.map((text): TextObject => ({ type: 'mrkdwn', text })),
  });
  return remember({ type: 'context', elements }, whole, texts.length > elements.length || elements.some(wasCut));
}

export function divider(): Block {
  return { type: 'divider' };
}

export function button(
  label: string,
  actionId: string,
  value: string,
  options: { style?: 'primary' | 'danger'; confirm?: ConfirmDialog } = {},
): ButtonElement {
  return {
    type: 'button',
    text: plain(truncate(label, LIMITS.buttonText)),
    action_id: truncate(actionId, LIMITS.actionId, ''),
    value: truncate(value, LIMITS.buttonValue, ''),
    ...(options.style ? { style: options.style } : {}),
    ...(options.confirm ? { confirm: options.confirm } : {}),
  };
}

export function actions(buttons: ButtonElement[], blockId?: string): Block {
  return {
    type: 'actions',
    elements: buttons.slice(0, LIMITS.actionsElements),
    ...(blockId ? { block_id: blockId } : {}),
  };
}

/** Plain-text columns, padded; Slack shows them in a code block. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/**
 * A table as a code-block section. When it does not fit one section, the section shows the rows that
 * fit and says how many more there are; the caller gets the full table back to attach as a file.
 * Cells are plain text: they are escaped for the message (columns line up as in the file), not in the file.
 */
export function tableBlock(
  headers: string[],
  rows: string[][],
  filename: string,
): { block: Block; overflow?: Attachment } {
  const full = formatTable(headers, rows);
  const lines = full.split('\n').map(esc);
  const budget = LIMITS.sectionText - 80;
  const whole = lines.join('\n');
  if (whole.length + 8 <= budget) return { block: section('```\n' + whole + '\n```') };
  let shown = '';
  let n = 0;
  for (const l of lines) {
    if (shown.length + l.length + 1 > budget - 60) break;
    shown += (shown ? '\n' : '') + l;
    n++;
  }
  const more = lines.length - n;
  return {
    block: section(
      '```\n' +
        shown +
        '\n```\n' +
        `_…and ${count(more, 'more row')}: the full table is in the thread as \`${filename}\`._`,
    ),
    overflow: { filename, title: filename, content: full + '\n' },
  };
}

/** Serialized size of blocks, the measure Slack's ~12k limit applies to. */
export function blockChars(blocks: Block[]): number {
  return JSON.stringify(blocks).length;
}

/** A block whose cut texts now point to the file in the thread that holds them whole. */
function pointingToFile(block: Block, filename: string): Block {
  const note = (more: number) =>
    more > 0
      ? `_…and ${count(more, 'more line')}: all of it is in the thread as \`${filename}\`_`
      : `_(cut: all of it is in the thread as \`${filename}\`)_`;
  const fix = (t: TextObject): TextObject => {
    const cut = cutTexts.get(t);
    return cut ? { type: 'mrkdwn', text: truncateLines(cut.full, cut.max, note) } : t;
  };
  if (block.type === 'section')
    return {
      ...block,
      ...(block.text ? { text: fix(block.text) } : {}),
      ...(block.fields ? { fields: block.fields.map(fix) } : {}),
    };
  if (block.type === 'context') return { ...block, elements: block.elements.map(fix) };
  return block;
}

/**
 * Makes any rendered message fit Slack: at most 50 blocks and about 12k characters of blocks. Blocks
 * that do not fit are turned into text and moved into a file for the thread, and the message says how many.
 * What a builder had to cut (a long section, fields or context elements over the limit) goes into the same
 * file whole, and the cut text says so. Action blocks (buttons) are kept whenever possible because they
 * are what the reader acts on, and a `footer` (the router's cluster line, see footerBlock) always stays
 * last in the message, never in the file.
 */
export function fitToSlack(rendered: Rendered, filename = 'meshops-output.txt', footer?: Block): Rendered {
  // Fitted before (the router fits, then a front door adds a line and fits again): keep one overflow file
  // and one note, the parts moved now going in front of the ones moved before.
  const earlier = rendered.files?.find((f) => overflowFiles.has(f));
  const name = earlier?.filename ?? filename;
  const earlierCount = rendered.blocks.reduce((n, b) => n + (overflowNotes.get(b) ?? 0), 0);
  const text = truncate(rendered.text || 'meshops', LIMITS.sectionText);
  const pinned = rendered.blocks.filter((b) => pinnedFooters.has(b));
  const tail = footer && !pinned.includes(footer) ? [...pinned, footer] : pinned;
  // The blocks in their order, an earlier note where it was (so that fitting again changes nothing).
  const body = rendered.blocks.filter((b) => !pinnedFooters.has(b));
  const original = body.filter((b) => !overflowNotes.has(b));
  const cut = original.map((b) => uncutBlocks.get(b));
  const blocks = original.map((b, i) => (cut[i] ? pointingToFile(b, name) : b));
  const inOrder = body.map((b) => (overflowNotes.has(b) ? b : (blocks[original.indexOf(b)] as Block)));
  const fits =
    inOrder.length + tail.length <= LIMITS.blocksPerMessage &&
    blockChars([...inOrder, ...tail]) <= LIMITS.totalBlockChars;
  if (fits && !cut.some(Boolean)) return { ...rendered, text, blocks: [...body, ...tail] };
  const fileParts: string[] = [];
  const kept: Block[] = [];
  let movedCount = 0;
  const noteFor = (n: number) => {
    const note = context(
      `_…and ${count(n, 'more part')} of this answer in the thread as \`${name}\`: it was too long for one message._`,
    );
    overflowNotes.set(note, n);
    return note;
  };
  if (fits) {
    kept.push(...inOrder);
    cut.forEach((whole) => whole && fileParts.push(blockToText(whole)));
  } else {
    const actionsBlocks = blocks.filter((b) => b.type === 'actions').slice(0, 2);
    const reserve = blockChars([...actionsBlocks, noteFor(LIMITS.blocksPerMessage * 10), ...tail]) + 2;
    let moving = false;
    blocks.forEach((b, i) => {
      if ((actionsBlocks as Block[]).includes(b)) return;
      const whole = cut[i];
      moving ||=
        kept.length + actionsBlocks.length + 1 + tail.length >= LIMITS.blocksPerMessage ||
        blockChars([...kept, b]) + reserve > LIMITS.totalBlockChars;
      if (moving) {
        fileParts.push(blockToText(whole ?? (original[i] as Block)));
        if (b.type !== 'divider') movedCount++;
      } else {
        kept.push(b);
        if (whole) fileParts.push(blockToText(whole));
      }
    });
    kept.push(noteFor(movedCount + earlierCount), ...actionsBlocks);
  }
  const content = fileParts.join('\n') + '\n' + (earlier ? earlier.content : '');
  const overflow: Attachment = { filename: name, title: name, content };
  overflowFiles.add(overflow);
  const others = (rendered.files ?? []).filter((f) => f !== earlier);
  return { ...rendered, text, blocks: [...kept, ...tail], files: [...others, overflow] };
}

/** A readable text rendering of one block (console output and overflow files). */
export function blockToText(block: Block): string {
  switch (block.type) {
    case 'header':
      return `== ${emojify(block.text.text)} ==`;
    case 'section': {
      const parts = [block.text?.text ?? '', ...(block.fields ?? []).map((f) => f.text.replace(/\n/, ': '))].filter(
        Boolean,
      );
      return parts.map(unMrkdwn).join('\n');
    }
    case 'context':
      return block.elements.map((e) => (e.type === 'mrkdwn' ? unMrkdwn(e.text) : emojify(e.text))).join('  ·  ');
    case 'divider':
      return '----';
    case 'actions':
      return block.elements.map((e) => `[ ${emojify(e.text.text)} ]`).join('  ');
  }
}

export function renderedToText(rendered: Rendered): string {
  const body = rendered.blocks.length ? rendered.blocks.map(blockToText).join('\n') : unMrkdwn(rendered.text);
  const files = (rendered.files ?? []).map((f) => `\n--- ${f.title} ---\n${f.content}`);
  return body + files.join('');
}
