// Slack sends message text in its own markup: mentions as <@U123>, links as <http://x|x>, and
// &, <, > escaped. The router wants the words a person typed.

/** Removes mentions of the bot (any mention when its id is unknown) wherever they appear. */
export function stripBotMention(text: string, botUserId?: string): string {
  const pattern = botUserId
    ? new RegExp(`<@${escapeRegExp(botUserId)}(\\|[^>]*)?>`, 'g')
    : /^\s*<@[UW][A-Z0-9]+(\|[^>]*)?>/;
  return text.replace(pattern, ' ').replace(/\s+/g, ' ').trim();
}

/**
 * Turns Slack markup back into plain words: auto-linked host names (<http://reviews.bookinfo|reviews.bookinfo>)
 * become what was typed, and the three escaped characters come back.
 */
export function slackTextToPlain(text: string): string {
  return text
    .replace(/<(?:https?:\/\/|mailto:)[^|>]*\|([^>]*)>/g, '$1')
    .replace(/<(?:https?:\/\/)([^|>]*)>/g, '$1')
    .replace(/<#[A-Z0-9]+\|([^>]*)>/g, '#$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
