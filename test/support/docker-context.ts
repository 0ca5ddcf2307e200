// What a `docker build .` would put in the image from the build context, without Docker: the
// Dockerfile's COPY/ADD lines that read the context (not `--from=` another stage), filtered by
// .dockerignore with Docker's rules (patterns relative to the context root, `*` within one path
// segment, `**` across segments, `!` re-includes, the last matching line wins, and a pattern that
// matches a directory covers everything under it).

export interface IgnoreRule {
  negate: boolean;
  regex: RegExp;
}

function globToRegex(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` (or a trailing `**`): any number of whole segments.
        re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
        i += glob[i + 2] === '/' ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split('\n')) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1).trim();
    line = line.replace(/^\/+/, '').replace(/\/+$/, '').replace(/^\.\//, '');
    if (line === '') continue;
    rules.push({ negate, regex: globToRegex(line) });
  }
  return rules;
}

/** Is a context-relative file path (src/demo/x.ts) left out of the context? */
export function isIgnored(path: string, rules: readonly IgnoreRule[]): boolean {
  const parts = path.split('/');
  const selfAndParents = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) if (selfAndParents.some((p) => rule.regex.test(p))) ignored = !rule.negate;
  return ignored;
}

export interface ContextCopy {
  sources: string[];
  dest: string;
  line: number;
}

/** COPY/ADD instructions that read the build context (the final stage's and every other's). */
export function contextCopies(dockerfile: string): ContextCopy[] {
  const out: ContextCopy[] = [];
  const lines = dockerfile.replace(/\\\n/g, ' ').split('\n');
  lines.forEach((text, i) => {
    const m = text.trim().match(/^(COPY|ADD)\s+(.*)$/i);
    if (!m) return;
    const words = m[2]!.trim().split(/\s+/);
    if (words.some((w) => /^--from=/i.test(w))) return;
    const args = words.filter((w) => !w.startsWith('--'));
    if (args.length < 2) return;
    out.push({
      sources: args.slice(0, -1).map((s) => s.replace(/^\.\//, '').replace(/\/+$/, '') || '.'),
      dest: args[args.length - 1]!,
      line: i + 1,
    });
  });
  return out;
}

/** The context files (from `files`, context-relative) that some COPY/ADD puts in an image. */
export function filesCopiedFromContext(dockerfile: string, dockerignore: string, files: readonly string[]): string[] {
  const rules = parseDockerignore(dockerignore);
  const copies = contextCopies(dockerfile);
  const sourceCovers = (source: string, file: string) =>
    source === '.' || file === source || file.startsWith(`${source}/`) || globToRegex(source).test(file);
  return files.filter((f) => !isIgnored(f, rules) && copies.some((c) => c.sources.some((s) => sourceCovers(s, f))));
}

/** The final stage's CMD as exec-form words. */
export function finalCmd(dockerfile: string): string[] {
  const cmds = dockerfile.split('\n').filter((l) => /^CMD\s+\[/i.test(l.trim()));
  const last = cmds[cmds.length - 1];
  return last ? (JSON.parse(last.trim().replace(/^CMD\s+/i, '')) as string[]) : [];
}
