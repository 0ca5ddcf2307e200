// Block Kit as plain data, with builders that respect Slack's limits. Commands build their answers
// here without knowing anything about Bolt or the Web API; src/slack/ sends them, the console prints them.

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

/** A file that goes into the thread when the full output does not fit a message. */
export interface Attachment {
  filename: string;
  title: string;
  content: string;
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

export function truncate(text: string, max: number, marker = '…'): string {
  if (text.length <= max) return text;
  return text.slice(0, Math.max(0, max - marker.length)) + marker;
}

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export const mrkdwn = (text: string): TextObject => ({ type: 'mrkdwn', text: truncate(text, LIMITS.sectionText) });
export const plain = (text: string): TextObject => ({ type: 'plain_text', text, emoji: true });

export function header(text: string): Block {
  return { type: 'header', text: plain(truncate(text, LIMITS.headerText)) };
}

export function section(text: string): Block {
  return { type: 'section', text: mrkdwn(text) };
}

export function fields(pairs: Array<[string, string]>): Block {
  return {
    type: 'section',
    fields: pairs.slice(0, LIMITS.fieldsPerSection).map(([k, v]) => mrkdwn(truncate(`*${k}*\n${v}`, LIMITS.fieldText))),
  };
}

export function context(...texts: string[]): Block {
  return { type: 'context', elements: texts.slice(0, LIMITS.contextElements).map((t) => mrkdwn(t)) };
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
 */
export function tableBlock(
  headers: string[],
  rows: string[][],
  filename: string,
): { block: Block; overflow?: Attachment } {
  const full = formatTable(headers, rows);
  const budget = LIMITS.sectionText - 80;
  if (full.length + 8 <= budget) return { block: section('```\n' + full + '\n```') };
  const lines = full.split('\n');
  let shown = '';
  let count = 0;
  for (const l of lines) {
    if (shown.length + l.length + 1 > budget - 60) break;
    shown += (shown ? '\n' : '') + l;
    count++;
  }
  const more = lines.length - count;
  return {
    block: section(
      '```\n' +
        shown +
        '\n```\n' +
        `_…and ${more} more row${more === 1 ? '' : 's'}: the full table is in the thread as \`${filename}\`._`,
    ),
    overflow: { filename, title: filename, content: full + '\n' },
  };
}

/** Serialized size of blocks, the measure Slack's ~12k limit applies to. */
export function blockChars(blocks: Block[]): number {
  return JSON.stringify(blocks).length;
}

/**
 * Makes any rendered message fit Slack: at most 50 blocks and about 12k characters of blocks. Blocks
 * that do not fit are turned into text and moved into a file for the thread, and the message says so.
 * Action blocks (buttons) are kept whenever possible because they are what the reader acts on, and a
 * `footer` (the router's cluster line) always stays last in the message, never in the file.
 */
export function fitToSlack(rendered: Rendered, filename = 'meshops-output.txt', footer?: Block): Rendered {
  const text = truncate(rendered.text || 'meshops', 3000);
  const tail = footer ? [footer] : [];
  const blocks = [...rendered.blocks, ...tail];
  if (blocks.length <= LIMITS.blocksPerMessage && blockChars(blocks) <= LIMITS.totalBlockChars)
    return { ...rendered, text, blocks };
  const actionsBlocks = rendered.blocks.filter((b) => b.type === 'actions').slice(0, 2);
  const note = context(`_Output was too long for one message: the rest is in the thread as \`${filename}\`._`);
  const reserve = blockChars([...actionsBlocks, note, ...tail]) + 2;
  const kept: Block[] = [];
  const moved: Block[] = [];
  for (const b of rendered.blocks) {
    if (b.type === 'actions') continue;
    const fits =
      kept.length + actionsBlocks.length + 1 + tail.length < LIMITS.blocksPerMessage &&
      blockChars([...kept, b]) + reserve <= LIMITS.totalBlockChars;
    if (fits && moved.length === 0) kept.push(b);
    else moved.push(b);
  }
  const overflow: Attachment = { filename, title: filename, content: moved.map(blockToText).join('\n') + '\n' };
  return { text, blocks: [...kept, note, ...actionsBlocks, ...tail], files: [...(rendered.files ?? []), overflow] };
}

/** A readable text rendering of one block (console output and overflow files). */
export function blockToText(block: Block): string {
  switch (block.type) {
    case 'header':
      return `== ${block.text.text} ==`;
    case 'section': {
      const parts = [block.text?.text ?? '', ...(block.fields ?? []).map((f) => f.text.replace(/\n/, ': '))].filter(
        Boolean,
      );
      return parts.map(unMrkdwn).join('\n');
    }
    case 'context':
      return block.elements.map((e) => unMrkdwn(e.text)).join('  ·  ');
    case 'divider':
      return '----';
    case 'actions':
      return block.elements.map((e) => `[ ${e.text.text} ]`).join('  ');
  }
}

const EMOJI: Record<string, string> = {
  warning: '⚠️',
  white_check_mark: '✅',
  x: '❌',
  no_entry: '⛔',
  red_circle: '🔴',
  large_yellow_circle: '🟡',
  large_blue_circle: '🔵',
  hourglass_flowing_sand: '⏳',
  rotating_light: '🚨',
  arrows_counterclockwise: '🔄',
  information_source: 'ℹ️',
  large_green_circle: '🟢',
};

function unMrkdwn(text: string): string {
  return text
    .replace(/:([a-z_]+):/g, (m, name: string) => EMOJI[name] ?? m)
    .replace(/```\n?/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/<(https?:[^|>]+)\|([^>]+)>/g, '$2 ($1)');
}

export function renderedToText(rendered: Rendered): string {
  const body = rendered.blocks.length ? rendered.blocks.map(blockToText).join('\n') : rendered.text;
  const files = (rendered.files ?? []).map((f) => `\n--- ${f.title} ---\n${f.content}`);
  return body + files.join('');
}
