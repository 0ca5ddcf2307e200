// Socket Mode end to end through Bolt: the fake hands out a WebSocket URL from apps.connections.open,
// says hello, sends envelopes, records acks, and drops the connection to test redelivery.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { ButtonClick } from '../../src/messenger.ts';
import { MemoryDedupStore } from '../../src/slack/dedup.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import {
  ALICE,
  GENERAL,
  blockActions,
  directMessageEvent,
  mentionEvent,
  newTs,
  slashCommand,
} from '../support/slack-payloads.ts';
import { APP_TOKEN, type Harness, blockText, startApp } from './harness.ts';

let fake: SlackFake;
let h: Harness;
const clicks: ButtonClick[] = [];
const ackTimes: number[] = [];

beforeAll(async () => {
  fake = await startSlackFake();
  h = await startApp(fake, 'socket', {
    clickHandlers: {
      'approve:': async (click) => {
        clicks.push(click);
        return { ephemeral: { text: `approved ${click.value}`, blocks: [] } };
      },
    },
  });
});

afterAll(async () => {
  await h?.slack.stop();
  await fake?.close();
  if (ackTimes.length) {
    const sorted = [...ackTimes].sort((a, b) => a - b);
    console.log(
      `Socket Mode ack latency over ${sorted.length} envelopes: median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted[sorted.length - 1]} ms`,
    );
  }
});

beforeEach(async () => {
  await h.slack.idle(5000);
  fake.clear();
  clicks.length = 0;
});

async function deliver(
  type: 'slash_commands' | 'events_api' | 'interactive',
  payload: unknown,
  options?: { retryAttempt?: number },
) {
  const sent = Date.now();
  const envelopeId = fake.socket.send(type, payload, options);
  const ack = await fake.socket.waitForAck(envelopeId);
  ackTimes.push(ack.at - sent);
  return { envelopeId, ack, ms: ack.at - sent };
}

describe('Socket Mode', () => {
  it('opened the connection with the app-level token through the configured API URL', () => {
    expect(fake.socket.connectionCount).toBeGreaterThanOrEqual(1);
    expect(fake.socket.openConnections).toBe(1);
  });

  it('acks a /mesh help envelope at once and posts the answer', async () => {
    const { ms } = await deliver('slash_commands', slashCommand('help', { responseUrl: fake.responseUrl() }));
    expect(ms).toBeLessThan(2500); // under Slack's 3 s ack limit
    const post = await fake.waitFor(() => fake.calls('chat.postMessage')[0]);
    expect(post.args).toMatchObject({ channel: GENERAL });
    expect(post.args.text).toMatch(/^meshops commands/);
    expect(blockText(post.args)).toContain(`<@${ALICE}> ran`);
  });

  it('answers a mention in its thread', async () => {
    const ts = newTs();
    await deliver('events_api', mentionEvent('help config', { ts }));
    const post = await fake.waitFor(() => fake.calls('chat.postMessage')[0]);
    expect(post.args).toMatchObject({ channel: GENERAL, thread_ts: ts });
    expect(post.args.text).toMatch(/^config: \/mesh config/);
  });

  it('answers a direct message in the DM', async () => {
    await deliver('events_api', directMessageEvent('help'));
    const post = await fake.waitFor(() => fake.calls('chat.postMessage')[0]);
    expect(post.args.channel).toBe('DALICE001');
  });

  it('shows "working…" then updates in place for a cluster command', async () => {
    await deliver('slash_commands', slashCommand('probe', { responseUrl: fake.responseUrl() }));
    const update = await fake.waitFor(() => fake.calls('chat.update')[0]);
    expect(fake.calls('chat.postMessage')[0]?.args.text).toMatch(/^Working on/);
    expect(update.args.text).toBe('probe of default: all good');
  });

  it('dispatches a button click', async () => {
    await deliver(
      'interactive',
      blockActions({ actionId: 'approve:p-9', value: 'p-9', responseUrl: fake.responseUrl(), messageTs: newTs() }),
    );
    const eph = await fake.waitFor(() => fake.calls('chat.postEphemeral')[0]);
    expect(eph.args.text).toBe('approved p-9');
    expect(clicks.map((c) => c.value)).toEqual(['p-9']);
  });

  it('answers once when Slack redelivers an event after the connection is replaced', async () => {
    const mention = mentionEvent('help', { eventId: 'EvREDELIVER1' });
    await deliver('events_api', mention);
    await fake.waitFor(() => fake.calls('chat.postMessage')[0]);
    const before = fake.socket.connectionCount;
    fake.socket.disconnect('refresh');
    await fake.socket.waitForConnections(before + 1, 15_000);
    expect(fake.calls('apps.connections.open').length).toBeGreaterThanOrEqual(1);
    expect(fake.calls('apps.connections.open').every((c) => c.token === APP_TOKEN)).toBe(true);
    // The same event on the new connection, as a retry: acked again (else Slack keeps retrying), answered once.
    await deliver('events_api', mention, { retryAttempt: 1 });
    await h.slack.idle();
    expect(fake.calls('chat.postMessage')).toHaveLength(1);
  }, 30_000);

  it('works on after the connection drops without a goodbye', async () => {
    const before = fake.socket.connectionCount;
    fake.socket.disconnect('drop');
    await fake.socket.waitForConnections(before + 1, 15_000);
    await deliver('slash_commands', slashCommand('help', { responseUrl: fake.responseUrl() }));
    await fake.waitFor(() => fake.calls('chat.postMessage')[0]);
  }, 30_000);
});

describe('two replicas on one Slack app', () => {
  it('answer a redelivered event once when they share a dedup store, whichever connection gets it', async () => {
    const shared = new MemoryDedupStore();
    const twoFake = await startSlackFake();
    const a = await startApp(twoFake, 'socket', { dedup: shared });
    const b = await startApp(twoFake, 'socket', { dedup: shared });
    try {
      expect(twoFake.socket.openConnections).toBe(2);
      const mention = mentionEvent('help', { eventId: 'EvTWOREPLICAS' });
      // Slack sends the event to one connection, misses the ack window, and retries on the other.
      const first = twoFake.socket.send('events_api', mention, { connection: 0 });
      const retry = twoFake.socket.send('events_api', mention, {
        connection: 1,
        retryAttempt: 1,
        retryReason: 'timeout',
      });
      await twoFake.socket.waitForAck(first);
      await twoFake.socket.waitForAck(retry);
      await twoFake.waitFor(() => twoFake.calls('chat.postMessage')[0]);
      await Promise.all([a.slack.idle(), b.slack.idle()]);
      expect(twoFake.calls('chat.postMessage')).toHaveLength(1);
    } finally {
      await a.slack.stop();
      await b.slack.stop();
      await twoFake.close();
    }
  });
});
