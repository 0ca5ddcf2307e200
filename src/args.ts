// Turns the words a person typed into an args object for a command's zod schema. No shell is
// involved anywhere: this is the only parser, and it only splits words and recognises flags.
import type { ArgSpec } from './command.ts';
import { UserError } from './errors.ts';

export const MAX_TEXT = 2000;
export const MAX_WORD = 253;

/**
 * Dashes that autocorrect (macOS, iOS, Slack clients) puts where a person typed `-` or `--`: hyphen, non-breaking
 * hyphen, figure dash, en dash, em dash, horizontal bar, minus sign, small and full-width hyphen-minus.
 */
const UNICODE_DASHES = /^[-\u2010-\u2015\u2212\ufe58\ufe63\uff0d]+/;

/** `—all` → `--all`, `–n` → `-n`: a word that starts with typographic dashes starts with a flag's dashes. */
export function normalizeDashes(word: string): string {
  const lead = word.match(UNICODE_DASHES)?.[0];
  if (!lead || /^-+$/.test(lead)) return word;
  const rest = word.slice(lead.length);
  if (!/^[A-Za-z]/.test(rest)) return word;
  // One letter is a short flag (`-n`); longer is a long one (`--all`); the parser reads `-all` as `--all` too.
  const flagEnd = rest.search(/[=\s]/);
  const name = flagEnd >= 0 ? rest.slice(0, flagEnd) : rest;
  return `${name.length === 1 ? '-' : '--'}${rest}`;
}

/** Splits on white space; "double" or 'single' quotes keep spaces inside a word. */
export function tokenize(text: string): string[] {
  if (text.length > MAX_TEXT)
    throw new UserError(
      `That command is ${text.length} characters long; meshops reads at most ${MAX_TEXT}.`,
      'Shorten it, e.g. `/mesh config bookinfo`.',
    );
  const words: string[] = [];
  let current = '';
  let quote: string | undefined;
  let inWord = false;
  // Slack turns quotes into curly quotes on some clients; treat them as plain ones.
  const normalized = text.replace(/[\u201c\u201d]/g, '"').replace(/[\u2018\u2019]/g, "'");
  for (const ch of normalized) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quote) throw new UserError(`A quote (${quote}) is not closed.`, 'Close the quote, or leave quotes out.');
  if (inWord) words.push(current);
  for (let i = 0; i < words.length; i++) words[i] = normalizeDashes(words[i] as string);
  for (const w of words) {
    if (w.length > MAX_WORD)
      throw new UserError(
        `An argument is ${w.length} characters long (\`${w.slice(0, 24)}…\`); names in Kubernetes are at most ${MAX_WORD}.`,
        'Check what you pasted.',
      );
  }
  return words;
}

/** Maps words onto named fields per the command's ArgSpec; unknown flags, extra words and conflicts are errors. */
export function parseWords(words: string[], spec: ArgSpec = {}, usage: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  /** How each single-valued field was given (`bookinfo`, `-n shop`), to name both sides of a conflict. */
  const givenAs = new Map<string, string>();
  const set = (field: string, value: string, as: string) => {
    const before = givenAs.get(field);
    if (before !== undefined && out[field] !== value)
      throw new UserError(
        `\`${before}\` and \`${as}\` both give the ${fieldWords(field)}, and they differ.`,
        `Give it once. Usage: \`${usage}\``,
      );
    out[field] = value;
    givenAs.set(field, as);
  };
  const positional = spec.positional ?? [];
  let pos = 0;
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (word.startsWith('-') && word.length > 1 && !/^-\d/.test(word)) {
      const eq = word.indexOf('=');
      const flag = word.replace(/^--?/, '').slice(0, eq > 0 ? eq - (word.startsWith('--') ? 2 : 1) : undefined);
      const inline = eq > 0 ? word.slice(eq + 1) : undefined;
      if (spec.switches?.[flag]) {
        out[spec.switches[flag]] = true;
        continue;
      }
      const field = spec.options?.[flag] ?? spec.repeated?.[flag];
      if (!field) throw new UserError(`\`${word}\` is not an option here.`, `Usage: \`${usage}\``);
      const value = inline ?? words[++i];
      if (value === undefined) throw new UserError(`\`${word}\` needs a value.`, `Usage: \`${usage}\``);
      if (spec.repeated?.[flag]) out[field] = [...((out[field] as string[] | undefined) ?? []), value];
      else set(field, value, inline === undefined ? `${word} ${value}` : word);
      continue;
    }
    const name = positional[pos];
    if (name === undefined) throw new UserError(`Unexpected \`${word}\`.`, `Usage: \`${usage}\``);
    if (name.endsWith('...')) {
      const key = name.slice(0, -3);
      out[key] = [...((out[key] as string[] | undefined) ?? []), word];
    } else {
      set(name, word, word);
      pos++;
    }
  }
  return out;
}

/** The words for an argument's field name in messages: `namespace`, `words` → "thing to describe", … */
const FIELD_WORDS: Record<string, string> = {
  namespace: 'namespace',
  command: 'command name',
  words: 'thing to describe',
  target: 'target',
  why: 'reason',
  window: 'sampling window',
};

export function fieldWords(field: string): string {
  return FIELD_WORDS[field] ?? field;
}

/** Edit distance, for "did you mean". Small inputs only (verb names). */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] as number;
      prev[j] = Math.min(up + 1, (prev[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length] as number;
}

export function closest(word: string, candidates: string[], max = 3): string[] {
  const w = word.toLowerCase();
  return candidates
    .map((c) => ({ c, d: c.startsWith(w) || w.startsWith(c) ? 0.5 : editDistance(w, c) }))
    .filter(({ c, d }) => d <= Math.max(2, Math.floor(Math.min(w.length, c.length) / 3)))
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, max)
    .map(({ c }) => c);
}

/** zod's own sentences ("Too big: expected string to have <=40 characters"): never shown to people. */
const ZOD_DEFAULT = /^(Invalid|Too (big|small)|Unrecognized|Expected)\b/;

interface IssueLike {
  code: string;
  path: PropertyKey[];
  message: string;
  origin?: string;
  maximum?: number | bigint;
  minimum?: number | bigint;
  values?: unknown[];
}

const shown = (v: unknown): string => {
  if (typeof v !== 'string') return '';
  return ` \`${(v.length > 40 ? `${v.slice(0, 40)}…` : v).replace(/[`<>&]/g, '')}\``;
};

/**
 * One sentence in our words for the first problem zod found: which argument, what was given, what it takes.
 * zod's default messages never get through; a message a schema wrote for people (`.regex(re, 'use …')`) does.
 * `words` names fields the table below does not (`{ pod: 'pod name' }`).
 */
export function describeZodError(
  error: { issues: readonly IssueLike[] },
  raw: Record<string, unknown>,
  words: Record<string, string> = {},
): string {
  const issue = error.issues[0];
  if (!issue) return 'Those arguments are not valid.';
  // A schema of one value (no path): the one field `raw` names.
  const field = String(issue.path[0] ?? Object.keys(raw)[0] ?? 'argument');
  const what = words[field] ?? fieldWords(field);
  const given = raw[field];
  const ours = issue.message && !ZOD_DEFAULT.test(issue.message) ? issue.message : undefined;
  const max = Number(issue.maximum);
  const min = Number(issue.minimum);
  switch (issue.code) {
    case 'invalid_type':
      if (given === undefined) return `The ${what} is missing.`;
      return `The ${what}${shown(given)} is not something meshops can read here.`;
    case 'too_big':
      if (issue.origin === 'string')
        return `The ${what}${shown(given)} is ${typeof given === 'string' ? given.length : 'too many'} characters long; a ${what} is at most ${max} characters.`;
      if (issue.origin === 'array') return `That is too many words for the ${what}: at most ${max}.`;
      return `The ${what} is at most ${max}.`;
    case 'too_small':
      if (issue.origin === 'string')
        return min <= 1 ? `The ${what} is empty.` : `The ${what}${shown(given)} is at least ${min} characters.`;
      if (issue.origin === 'array') return `The ${what} needs at least ${min} word${min === 1 ? '' : 's'}.`;
      return `The ${what} is at least ${min}.`;
    case 'invalid_format':
      return `The ${what}${shown(given)} is not valid${ours ? `: ${ours}` : ''}.`;
    case 'invalid_value':
      return `The ${what}${shown(given)} is not one of ${(issue.values ?? []).map((v) => `\`${String(v)}\``).join(', ')}.`;
    default:
      return `The ${what}${shown(given)} is not valid${ours ? `: ${ours}` : ''}.`;
  }
}
