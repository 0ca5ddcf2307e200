// Shell-style globs for policy entries: `*` any run of characters, `?` one character. Nothing else is special.

const cache = new Map<string, RegExp>();

function toRegExp(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (!re) {
    const body = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    re = new RegExp(`^${body}$`);
    cache.set(pattern, re);
  }
  return re;
}

export function globMatch(pattern: string, value: string): boolean {
  return toRegExp(pattern).test(value);
}

/** True when any of the patterns matches the value. */
export function globMatches(patterns: readonly string[], value: string): boolean {
  return patterns.some((p) => globMatch(p, value));
}
