// Counts that read naturally: "1 pod", "2 pods", "1 AuthorizationPolicy", "3 AuthorizationPolicies",
// "2 HTTP routes", "252 requests (all 200)". One place for the English, instead of "pod(s)" in every renderer.

/** Nouns whose plural does not follow the rule (lower case; an all-capitals word gets an all-capitals plural). */
const IRREGULAR_NOUNS: Record<string, string> = {
  person: 'people',
  child: 'children',
  analysis: 'analyses',
  // Uncountable or already plural.
  data: 'data',
  metadata: 'metadata',
  info: 'info',
};

const IRREGULAR_VERBS: Record<string, string> = { is: 'are', was: 'were', has: 'have', does: 'do' };

function pluralWord(word: string): string {
  const lower = word.toLowerCase();
  const irregular = IRREGULAR_NOUNS[lower];
  if (irregular !== undefined)
    return word === word.toUpperCase() && word.length > 1 ? irregular.toUpperCase() : irregular;
  if (/[^aeiou]y$/i.test(word)) return word.slice(0, -1) + (word.endsWith('Y') ? 'IES' : 'ies');
  if (/(s|x|z|ch|sh)$/i.test(word)) return word + (word === word.toUpperCase() ? 'ES' : 'es');
  // An acronym (SNI, URL, CRD) takes a lower-case s.
  return word + 's';
}

/**
 * The form of `noun` for n of it: plural('pod', 2) = 'pods', plural('proxy', 2) = 'proxies',
 * plural('HTTP route', 2) = 'HTTP routes' (the last word changes). `many` overrides the rule.
 */
export function plural(n: number, noun: string, many?: string): string {
  if (n === 1) return noun;
  if (many !== undefined) return many;
  const m = noun.match(/^(.*?)([A-Za-z]+)([^A-Za-z]*)$/);
  if (!m) return noun;
  return `${m[1]}${pluralWord(m[2] as string)}${m[3]}`;
}

/** "1 pod", "2 pods", "0 pods"; the number, a space and the right form of the noun. */
export function count(n: number, noun: string, many?: string): string {
  return `${n} ${plural(n, noun, many)}`;
}

/** Agreement for a verb after a count: verb(1, 'is') = 'is', verb(2, 'is') = 'are', verb(2, 'keeps') = 'keep'. */
export function verb(n: number, singular: string, pluralForm?: string): string {
  if (n === 1) return singular;
  if (pluralForm !== undefined) return pluralForm;
  const irregular = IRREGULAR_VERBS[singular];
  if (irregular !== undefined) return irregular;
  if (/[^aeiou]ies$/.test(singular)) return singular.slice(0, -3) + 'y';
  if (/(ss|x|z|ch|sh)es$/.test(singular)) return singular.slice(0, -2);
  return singular.endsWith('s') && !singular.endsWith('ss') ? singular.slice(0, -1) : singular;
}

/**
 * Requests with their response codes: "1 request (200)", "252 requests (all 200)",
 * "300 requests (250 × 200, 50 × 503)". Codes are sorted by how many, then by code.
 */
export function countRequests(n: number, byCode: Record<string, number> = {}, noun = 'request'): string {
  const codes = Object.entries(byCode)
    .filter(([, k]) => k > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  const head = count(n, noun);
  if (codes.length === 0) return head;
  const [only] = codes;
  if (codes.length === 1 && only && only[1] === n) return n === 1 ? `${head} (${only[0]})` : `${head} (all ${only[0]})`;
  return `${head} (${codes.map(([code, k]) => `${k} × ${code}`).join(', ')})`;
}

/**
 * A list cut to `max` items, saying how many more there are: andMore(['a','b','c'], 2) = 'a, b and 1 more'.
 * Put the whole list in a file (an Attachment) when the reader may need it, and say so in `where`.
 */
export function andMore(items: readonly string[], max: number, options: { sep?: string; where?: string } = {}): string {
  const sep = options.sep ?? ', ';
  if (items.length <= max) return items.join(sep);
  const shown = items.slice(0, Math.max(0, max));
  const rest = items.length - shown.length;
  const tail = `${shown.length ? ' and ' : ''}${rest} more${options.where ? ` ${options.where}` : ''}`;
  return shown.join(sep) + tail;
}
