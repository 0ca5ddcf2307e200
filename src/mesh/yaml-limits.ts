// One limit for YAML that people hand us (the paste form, `analyze -f`, `--mesh-config`): aliases.
// An alias (`*name`) repeats an anchored node (`&name`) wherever it appears, so a few lines of nested
// aliases ("billion laughs") expand into gigabytes. The yaml package counts aliases, nested ones
// weighted by their size, and stops past `maxAliasCount`; this turns that stop into words.
import { z } from 'zod';

/** As the yaml package's own default for parse(): far above what hand-written manifests use. */
export const MAX_YAML_ALIASES = 100;

export const TOO_MANY_ALIASES =
  `the YAML uses too many aliases (more than ${MAX_YAML_ALIASES} *alias references to &anchors, nested ones counted as often as they expand): ` +
  'write the repeated parts out in full instead of anchors and aliases, or split the YAML into smaller pieces';

const yamlError = z.object({ name: z.literal('ReferenceError'), message: z.string().regex(/alias count/i) });

/** True for the yaml package's "excessive alias count" stop. */
export function isAliasLimitError(err: unknown): boolean {
  // By name and words, not instanceof: the error may come from another realm (a worker, a test VM).
  return yamlError.safeParse(err).success;
}
