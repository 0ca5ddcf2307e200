// Cutting text to Slack's limits without breaking it. A cut never lands inside what Slack reads as one thing:
// a code fence marker (```), an HTML escape (&amp; &lt; &gt;, numeric ones), anything in angle brackets (links
// <https://x|label>, mentions <@U123>, <#C123|name>, <!here>), an emoji shortcode (:lock:), a short `code span`,
// or a user-perceived character (surrogate pairs, emoji sequences with ZWJ and skin tones, combining marks).
// A cut inside a code block or a long code span closes it, so the rest of the message is not swallowed by it.

interface Atom {
  start: number;
  end: number;
}

interface Region extends Atom {
  /** What closes the region when a cut falls inside it. */
  closer: string;
  /** Length of the opening marker: a cut right after it keeps an empty region, so it cuts before it instead. */
  opener: number;
}

const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d{1,7}|#x[0-9a-fA-F]{1,6});/y;
const ANGLE = /<[^<>\n]+>/y;
const SHORTCODE = /:[a-z0-9_+'-]+:/y;
/** Code spans up to this long move whole; longer ones may be cut and are closed with a backtick. */
const SHORT_SPAN = 80;
/** Longest closer a cut may need to append (a newline and a fence). */
const MAX_CLOSER = 4;

function matchAt(re: RegExp, text: string, at: number): number {
  re.lastIndex = at;
  return RegExp.prototype.exec.call(re, text) ? re.lastIndex : -1;
}

/** The atoms and regions of text that start before `limit`. */
function scan(text: string, limit: number): { atoms: Atom[]; regions: Region[] } {
  const atoms: Atom[] = [];
  const regions: Region[] = [];
  let fence = -1;
  let span = -1;
  let i = 0;
  while (i < text.length && i < limit) {
    if (text.startsWith('```', i)) {
      atoms.push({ start: i, end: i + 3 });
      if (fence < 0) {
        fence = i;
        span = -1;
      } else {
        regions.push({ start: fence, end: i + 3, closer: '```', opener: 3 });
        fence = -1;
      }
      i += 3;
      continue;
    }
    const ch = text[i];
    const end =
      ch === '&'
        ? matchAt(ENTITY, text, i)
        : ch === '<'
          ? matchAt(ANGLE, text, i)
          : ch === ':'
            ? matchAt(SHORTCODE, text, i)
            : -1;
    if (end > 0) {
      atoms.push({ start: i, end });
      i = end;
      continue;
    }
    if (ch === '`' && fence < 0) {
      if (span < 0) span = i;
      else {
        if (i + 1 - span <= SHORT_SPAN) atoms.push({ start: span, end: i + 1 });
        else regions.push({ start: span, end: i + 1, closer: '`', opener: 1 });
        span = -1;
      }
    } else if (ch === '\n' && span >= 0) span = -1; // a backtick without its pair on the line is only a backtick
    i++;
  }
  // Still open where the scan stopped: the cut falls inside them.
  if (fence >= 0) regions.push({ start: fence, end: Number.POSITIVE_INFINITY, closer: '```', opener: 3 });
  if (span >= 0) {
    const close = text.indexOf('`', i);
    const nl = text.indexOf('\n', i);
    if (close >= 0 && (nl < 0 || close < nl)) {
      if (close + 1 - span <= SHORT_SPAN) atoms.push({ start: span, end: close + 1 });
      else regions.push({ start: span, end: close + 1, closer: '`', opener: 1 });
    }
  }
  return { atoms, regions };
}

let segmenter: Intl.Segmenter | undefined;

/** Grapheme boundaries of text up to `limit` (and a little past it, so that a boundary at `limit` is real). */
function graphemeBoundaries(text: string, limit: number): number[] {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  const head = text.slice(0, Math.min(text.length, limit + 64));
  const out: number[] = [];
  for (const s of segmenter.segment(head)) out.push(s.index);
  out.push(head.length);
  return out;
}

function lastAtMost(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  let best = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = sorted[mid] as number;
    if (v <= x) {
      best = v;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

export interface Cut {
  /** Keep text.slice(0, at). */
  at: number;
  /** What must follow the kept text (after any marker) to close a code block or span the cut falls inside. */
  closer: string;
}

/**
 * Where to cut `text` so that at most `budget` characters are kept, closers included, and nothing is split.
 * `prefer` chooses an earlier whitespace or line end within that many characters, when there is one.
 */
export function safeCut(text: string, budget: number, prefer: 'any' | 'word' | 'line' = 'any'): Cut {
  if (text.length <= budget) return { at: text.length, closer: '' };
  if (budget <= 0) return { at: 0, closer: '' };
  const { atoms, regions } = scan(text, budget + 1);
  const bounds = graphemeBoundaries(text, budget);
  const settle = (c: number): number => {
    for (;;) {
      let next = lastAtMost(bounds, c);
      for (const a of atoms) if (a.start < next && next < a.end) next = a.start;
      if (next === c) return c;
      c = next;
    }
  };
  const inside = (c: number): Region | undefined => regions.find((r) => r.start < c && c < r.end);
  const place = (limit: number): Cut => {
    let at = settle(limit);
    if (prefer !== 'any') {
      const window = prefer === 'line' ? Math.max(200, Math.floor(limit / 3)) : 32;
      const re = prefer === 'line' ? '\n' : /\s/;
      for (let c = at; c > 0 && c > at - window; c--) {
        const ch = text[c - 1] as string;
        if (typeof re === 'string' ? ch === re : re.test(ch)) {
          at = settle(c);
          break;
        }
      }
    }
    let region = inside(at);
    while (region && at - region.start <= region.opener + 1) {
      // Only the opener (and a newline) would be kept: cut before the region.
      at = settle(region.start);
      region = inside(at);
    }
    if (!region) return { at, closer: '' };
    const closer = region.closer === '```' && text[at - 1] !== '\n' ? '\n```' : region.closer;
    return { at, closer };
  };
  const first = place(budget);
  // A closer needs room: cut again, leaving it (at most MAX_CLOSER characters).
  return first.closer === '' ? first : place(Math.max(0, budget - MAX_CLOSER));
}

/**
 * Shortens text to at most `max` characters, ending with `marker` when it had to cut. Never splits an escape, a
 * link, a mention, a shortcode, a code fence or a character; a code block or span the cut falls inside is closed.
 */
export function truncate(text: string, max: number, marker = '…'): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  const mark = marker.length <= max ? marker : '';
  const cut = safeCut(text, max - mark.length, mark ? 'word' : 'any');
  const kept = mark ? text.slice(0, cut.at).replace(/[ \t]+$/, '') : text.slice(0, cut.at);
  // Inside a code block the marker goes before the closing fence, so that it reads as part of the cut line.
  return kept + mark + cut.closer;
}

/**
 * Shortens text of several lines to at most `max` characters at a line end where one is near, and says what was
 * left out: `note(n)` is appended on its own line (unless empty), n being the number of lines not shown (blank lines
 * and a fence's closing line not counted); 0 means only the last line shown was cut.
 */
export function truncateLines(text: string, max: number, note: (more: number) => string): string {
  if (text.length <= max) return text;
  // The note's length depends on the count, which depends on the cut: leave room for the longest it can be,
  // its newline, a '…' for a cut line and a fence's newline.
  const budget = max - Math.max(note(0).length, note(text.split('\n').length).length) - 3;
  if (budget <= 0) return truncate(text, max);
  const cut = safeCut(text, budget, 'line');
  const kept = text.slice(0, cut.at).replace(/[ \t\n]+$/, '');
  if (!kept) return truncate(text, max);
  const closer = cut.closer.endsWith('```') ? '\n```' : cut.closer;
  const wholeLines = text[cut.at] === '\n' || text[cut.at - 1] === '\n';
  // Lines left out, not counting blank ones or a fence's closing line (the closer stands in for it).
  const tail = text.slice(cut.at).replace(/^\n/, '');
  const counted = (l: string, i: number) => (wholeLines || i > 0) && l.trim() !== '' && l.trim() !== '```';
  const more = tail ? tail.split('\n').filter(counted).length : 0;
  const body = wholeLines ? kept + closer : kept + '…' + closer;
  const said = note(more);
  const out = said ? `${body}\n${said}` : body;
  return out.length <= max ? out : truncate(text, max);
}
