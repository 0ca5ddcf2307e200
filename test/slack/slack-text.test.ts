import { describe, expect, it } from '@jest/globals';
import { slackTextToPlain, stripBotMention } from '../../src/slack/slack-text.ts';

describe('stripBotMention', () => {
  it('removes the bot mention wherever it appears, leaving other mentions', () => {
    expect(stripBotMention('<@UBOT0001> config bookinfo', 'UBOT0001')).toBe('config bookinfo');
    expect(stripBotMention('hey <@UBOT0001|meshops>  help', 'UBOT0001')).toBe('hey help');
    expect(stripBotMention('<@UOTHER01> help', 'UBOT0001')).toBe('<@UOTHER01> help');
  });

  it('removes a leading mention when the bot id is not known yet', () => {
    expect(stripBotMention('<@UBOT0001> help', undefined)).toBe('help');
  });
});

describe('slackTextToPlain', () => {
  it('turns auto-linked host names back into what was typed', () => {
    expect(slackTextToPlain('stale <http://reviews.bookinfo|reviews.bookinfo>')).toBe('stale reviews.bookinfo');
    expect(slackTextToPlain('route <http://reviews.bookinfo.svc.cluster.local>')).toBe(
      'route reviews.bookinfo.svc.cluster.local',
    );
  });

  it('unescapes Slack’s three escaped characters', () => {
    expect(slackTextToPlain('a &lt;b&gt; &amp; c')).toBe('a <b> & c');
  });
});
