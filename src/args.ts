// Turns the words a person typed into an args object for a command's zod schema. No shell is
// involved anywhere: this is the only parser, and it only splits words and recognises flags.
import type { ArgSpec } from './command.ts';
import { UserError } from './errors.ts';

export const MAX_TEXT = 2000;
export const MAX_WORD = 253;

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
  for (const w of words) {
    if (w.length > MAX_WORD)
      throw new UserError(
        `An argument is ${w.length} characters long (\`${w.slice(0, 24)}…\`); names in Kubernetes are at most ${MAX_WORD}.`,
        'Check what you pasted.',
      );
  }
  return words;
}

/** Maps words onto named fields per the command's ArgSpec; unknown flags and extra words are errors. */
export function parseWords(words: string[], spec: ArgSpec = {}, usage: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
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
      else out[field] = value;
      continue;
    }
    const name = positional[pos];
    if (name === undefined) throw new UserError(`Unexpected \`${word}\`.`, `Usage: \`${usage}\``);
    if (name.endsWith('...')) {
      const key = name.slice(0, -3);
      out[key] = [...((out[key] as string[] | undefined) ?? []), word];
    } else {
      out[name] = word;
      pos++;
    }
  }
  return out;
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
    .filter(({ c, d }) => d <= Math.max(2, Math.floor(c.length / 2)))
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, max)
    .map(({ c }) => c);
}
