// Start-up and shutdown: a bad token stops start-up with Slack's reason; stop() finishes the answers
// in flight before it resolves (graceful shutdown on SIGTERM builds on this).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { sendSlashCommand } from '../support/slack-http.ts';
import { slashCommand } from '../support/slack-payloads.ts';
import { SIGNING_SECRET, startApp } from './harness.ts';

let fake: SlackFake;

beforeAll(async () => {
  fake = await startSlackFake();
});

afterAll(async () => {
  await fake?.close();
});

describe('Slack app lifecycle', () => {
  it('refuses to start when Slack rejects the bot token', async () => {
    fake.failNext('auth.test', 'invalid_auth');
    await expect(startApp(fake, 'http')).rejects.toThrow(/invalid_auth/);
  });

  it('refuses to start in Socket Mode when apps.connections.open refuses the app token', async () => {
    fake.failNext('apps.connections.open', 'invalid_auth');
    await expect(startApp(fake, 'socket')).rejects.toThrow(/invalid_auth/);
  });

  it('reports rate limits and apologises when a reply cannot be posted', async () => {
    const limited: Array<[string, number]> = [];
    const h = await startApp(fake, 'http', { onRateLimited: (method, seconds) => limited.push([method, seconds]) });
    try {
      fake.clear();
      fake.rateLimitNext('chat.postMessage', 0);
      const responseUrl = fake.responseUrl();
      await sendSlashCommand(h.eventsUrl, slashCommand('help', { responseUrl }), { secret: SIGNING_SECRET });
      const apology = await fake.waitFor(() => fake.responses(responseUrl)[0]);
      expect(apology.body).toMatchObject({ response_type: 'ephemeral' });
      expect(String(apology.body.text)).toMatch(
        /^Sorry, something went wrong on our side\. The details are in the bot.s log under ref [0-9a-f]{8}/,
      );
      expect(limited).toEqual([['chat.postMessage', 0]]);
    } finally {
      await h.slack.stop();
    }
  });

  it('says whether it is connected, for readiness', async () => {
    const h = await startApp(fake, 'socket');
    expect(h.slack.connected).toBe(true);
    await h.slack.stop();
    expect(h.slack.connected).toBe(false);
    const web = await startApp(fake, 'http');
    expect(web.slack.connected).toBe(true);
    await web.slack.stop();
    expect(web.slack.connected).toBe(false);
  });

  it('finishes a command in flight before stop() resolves', async () => {
    const h = await startApp(fake, 'http');
    fake.clear();
    const res = await sendSlashCommand(h.eventsUrl, slashCommand('slow', { responseUrl: fake.responseUrl() }), {
      secret: SIGNING_SECRET,
    });
    expect(res.status).toBe(200);
    await fake.waitFor(() => fake.calls('chat.postMessage')[0]);
    expect(h.slack.inFlight).toBe(1);
    await h.slack.stop(10_000);
    expect(fake.calls('chat.update')[0]?.args.text).toBe('slow: done');
    expect(h.slack.inFlight).toBe(0);
    // Stopped: nothing listens any more.
    await expect(
      sendSlashCommand(h.eventsUrl, slashCommand('help', { responseUrl: fake.responseUrl() }), {
        secret: SIGNING_SECRET,
      }),
    ).rejects.toThrow();
  }, 20_000);
});
