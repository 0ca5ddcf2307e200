// Slack's mrkdwn read as plain text, for the console, the CLI and the files in a thread: emoji shortcodes become
// the emoji, links and mentions become words, escapes are undone. What is not one of Slack's shortcodes that
// meshops writes (a time like 10:30:00, an identity like system:serviceaccount:ns:name) stays as it is.

/** Every shortcode meshops writes (test/blocks/emoji.test.ts checks the sources), and a few common others. */
export const EMOJI: Readonly<Record<string, string>> = {
  warning: '⚠️',
  white_check_mark: '✅',
  heavy_check_mark: '✔️',
  x: '❌',
  no_entry: '⛔',
  no_entry_sign: '🚫',
  red_circle: '🔴',
  large_yellow_circle: '🟡',
  large_blue_circle: '🔵',
  large_green_circle: '🟢',
  large_orange_circle: '🟠',
  white_circle: '⚪',
  black_circle: '⚫',
  hourglass: '⌛',
  hourglass_flowing_sand: '⏳',
  rotating_light: '🚨',
  arrows_counterclockwise: '🔄',
  leftwards_arrow_with_hook: '↩️',
  information_source: 'ℹ️',
  grey_question: '❔',
  question: '❓',
  grey_exclamation: '❕',
  exclamation: '❗',
  lock: '🔒',
  unlock: '🔓',
  closed_lock_with_key: '🔐',
  key: '🔑',
  shield: '🛡️',
  clock3: '🕒',
  stopwatch: '⏱️',
  mag: '🔍',
  bulb: '💡',
  gear: '⚙️',
  wrench: '🔧',
  hammer_and_wrench: '🛠️',
  link: '🔗',
  memo: '📝',
  pushpin: '📌',
  package: '📦',
  rocket: '🚀',
  tada: '🎉',
  eyes: '👀',
  fire: '🔥',
  zap: '⚡',
  bell: '🔔',
  construction: '🚧',
  arrow_right: '➡️',
  repeat: '🔁',
  thumbsup: '👍',
  '+1': '👍',
  heavy_minus_sign: '➖',
  heavy_plus_sign: '➕',
};

/** Shortcodes as emoji; unknown ones are left alone (they may be data, not emoji). */
export function emojify(text: string): string {
  return text.replace(/:([a-z0-9_+-]+):/g, (m, name: string) => EMOJI[name] ?? m);
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** What Slack shows for what it writes in angle brackets: a link, a mention, a special mention, a date. */
function angle(whole: string, inner: string): string {
  const bar = inner.indexOf('|');
  const target = bar < 0 ? inner : inner.slice(0, bar);
  const label = bar < 0 ? undefined : inner.slice(bar + 1);
  if (target.startsWith('@')) return label ? `@${label.replace(/^@/, '')}` : target;
  if (target.startsWith('#')) return label ? `#${label.replace(/^#/, '')}` : target;
  if (target.startsWith('!subteam^')) return label ?? '@group';
  if (target.startsWith('!date^')) return label ?? target;
  if (target.startsWith('!')) return `@${target.slice(1)}`;
  if (/^(https?|mailto|slack):/i.test(target)) {
    const shown = target.replace(/^mailto:/i, '');
    return label && label !== shown ? `${label} (${shown})` : shown;
  }
  return whole;
}

/** Slack mrkdwn as plain text: no fences, links and mentions as words, emoji, escapes undone (last). */
export function unMrkdwn(text: string): string {
  return emojify(text.replace(/```\n?/g, '').replace(/<([^<>\n]+)>/g, angle)).replace(
    /&(amp|lt|gt|quot|apos|#\d{1,7}|#x[0-9a-fA-F]{1,6});/g,
    (m, name: string) => {
      if (name.startsWith('#')) {
        const code = name[1] === 'x' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
        return code <= 0x10ffff ? String.fromCodePoint(code) : m;
      }
      return ENTITIES[name] ?? m;
    },
  );
}
