// The console's own words, typed where Slack would have a person and a button: `as <user>` (who is typing)
// and `click N` (press a button shown above). Each explains itself when typed bare or wrong.
import type { ButtonElement } from '../blocks/block-kit.ts';
import { emojify } from '../blocks/emoji.ts';

/** Whether `as <user>` may switch who is typing. Off on a real cluster unless a setting allows it. */
export interface Impersonation {
  allowed: boolean;
  /** Why not, and what would allow it (shown when `as` is refused). */
  refusal?: string;
}

export const IMPERSONATION_OFF =
  '`as` is off on a real cluster: switching who you are would let one person both ask for and approve a fix, ' +
  'which the two-person rule exists to prevent. Approve in Slack as yourself, or, for a test cluster, start the ' +
  'console with MESHOPS_CONSOLE_IMPERSONATION=true.';

/**
 * `as` on the demo always; on a real cluster only when MESHOPS_CONSOLE_IMPERSONATION=true, since it makes the
 * two-person rule one typed line.
 */
export function impersonationFor(
  source: 'demo' | 'kubeconfig' | 'in-cluster',
  enabledBySetting: boolean,
): Impersonation {
  return source === 'demo' || enabledBySetting ? { allowed: true } : { allowed: false, refusal: IMPERSONATION_OFF };
}

const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export type AsResult = { user: string; text: string } | { text: string };

/** `as`, `as <user>`, `whoami`; undefined when the line is none of them. */
export function asCommand(line: string, user: string, impersonation: Impersonation): AsResult | undefined {
  const words = line.split(/\s+/);
  const head = words[0]?.toLowerCase();
  if (head === 'whoami' && words.length === 1) return { text: `You are ${user}.` };
  if (head !== 'as') return undefined;
  const how =
    'Fixes need a second person: `as <name>` switches who you are, e.g. `as bob`, so that someone other than the ' +
    'requester can approve.';
  if (words.length === 1)
    return {
      text: `You are ${user}. ${how}${impersonation.allowed ? '' : `\n${impersonation.refusal ?? IMPERSONATION_OFF}`}`,
    };
  if (!impersonation.allowed) return { text: impersonation.refusal ?? IMPERSONATION_OFF };
  const name = words[1] as string;
  if (words.length > 2 || !USER_NAME.test(name))
    return { text: `\`as\` takes one user name (letters, digits, '.', '_', '@' or '-'), e.g. \`as bob\`.` };
  return { user: name, text: `You are now ${name}.` };
}

export interface ShownButton {
  button: ButtonElement;
}

/** `click N` → N; `click` bare or with anything else → the words that explain it, with the buttons so far. */
export function clickCommand(line: string, buttons: readonly ShownButton[]): number | { text: string } | undefined {
  const words = line.split(/\s+/);
  if (words[0]?.toLowerCase() !== 'click') return undefined;
  if (words.length === 2 && /^\[?\d+\]?$/.test(words[1] as string))
    return Number((words[1] as string).replace(/[[\]]/g, ''));
  const intro =
    words.length === 1
      ? '`click N` presses button [N], as a click in Slack would.'
      : `\`click\` takes the number of one button, e.g. \`click 2\`, not \`${words.slice(1).join(' ')}\`.`;
  if (buttons.length === 0)
    return {
      text: `${intro} No answer has shown a button yet: \`stale bookinfo\` on the demo offers a fix, for one.`,
    };
  const first = Math.max(0, buttons.length - 8);
  const listed = buttons
    .slice(first)
    .map(({ button }, i) => `[${first + i + 1}] ${emojify(button.text.text)}`)
    .join('   ');
  return { text: `${intro} The latest buttons: ${listed}` };
}
