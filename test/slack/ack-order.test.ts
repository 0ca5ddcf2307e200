// The ack goes out before any cluster work starts: one sequence counter is shared by the HTTP receiver's
// response (wrapped at res.end, the moment the ack is written to the socket) and the sandbox API server
// (each request recorded as it arrives). Ordering, not wall-clock: for a slash command, a mention and a
// button click through Bolt's HTTP receiver, a burst of slash commands arriving together (all acked before
// any of them asks the cluster: src/slack/ack-gate.ts), and a slash command over Socket Mode.
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { HTTPReceiver, SocketModeReceiver } from '@slack/bolt';
import configCommand from '../../src/features/core/config.ts';
import type { KubeClient } from '../../src/kube/client.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { kubeOf, meshSeed } from '../stale/support.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { type SignKnobs, sendEvent, sendInteraction, sendSlashCommand } from '../support/slack-http.ts';
import { blockActions, mentionEvent, newTs, slashCommand } from '../support/slack-payloads.ts';
import { type Harness, SIGNING_SECRET, startApp } from './harness.ts';

const knobs: SignKnobs = { secret: SIGNING_SECRET };

/** What happened, in the order it happened: 'ack' or 'api <path>'. */
const order: string[] = [];

let sandbox: Sandbox;
let kube: KubeClient;
let fake: SlackFake;
let http: Harness;
let socket: Harness;

function recordApiArrivals(sb: Sandbox): void {
  const requests = sb.requests;
  const push = requests.push.bind(requests);
  requests.push = (...records: typeof requests) => {
    for (const r of records) order.push(`api ${r.path}`);
    return push(...records);
  };
}

function recordHttpAcks(h: Harness): void {
  const receiver = (h.slack.app as unknown as { receiver: HTTPReceiver }).receiver;
  const inner = receiver.requestListener;
  receiver.requestListener = (req, res: ServerResponse) => {
    const end = res.end.bind(res) as (...a: unknown[]) => ServerResponse;
    (res as unknown as { end: (...a: unknown[]) => ServerResponse }).end = (...a: unknown[]) => {
      order.push('ack');
      return end(...a);
    };
    inner(req, res);
  };
}

function recordSocketAcks(h: Harness): void {
  // SocketModeClient.send is how every envelope ack leaves (private in its types, public at run time).
  const client = (h.slack.app as unknown as { receiver: SocketModeReceiver }).receiver.client as unknown as {
    send(id: string, body?: Record<string, unknown>): Promise<void>;
  };
  const send = client.send.bind(client);
  client.send = (id, body) => {
    order.push('ack');
    return send(id, body);
  };
}

/** The first API request of this delivery came after its ack, and there was one. */
function expectAckBeforeApi(): void {
  const firstApi = order.findIndex((e) => e.startsWith('api '));
  const ack = order.indexOf('ack');
  expect(firstApi).toBeGreaterThanOrEqual(0); // the cluster was asked: otherwise the ordering proves nothing
  expect(ack).toBeGreaterThanOrEqual(0);
  expect(ack).toBeLessThan(firstApi);
}

beforeAll(async () => {
  sandbox = await startSandbox({ seed: meshSeed(), controllers: false });
  recordApiArrivals(sandbox);
  kube = kubeOf(sandbox);
  fake = await startSlackFake();
  const clickHandlers = {
    'probe:': async () => {
      const pods = await kube.list('Pod', { namespace: 'bookinfo' });
      return { ephemeral: { text: `${pods.length} pods`, blocks: [] } };
    },
  };
  // A wider quiet window than the app's 40 ms, so that a slow CI machine opening the burst's connections does not
  // look like the end of the burst; the ordering asserted is the same.
  http = await startApp(fake, 'http', { commands: [configCommand], kube, clickHandlers, ackGate: { quietMs: 150 } });
  socket = await startApp(fake, 'socket', { commands: [configCommand], kube });
  recordHttpAcks(http);
  recordSocketAcks(socket);
});

afterAll(async () => {
  await http?.slack.stop();
  await socket?.slack.stop();
  await fake?.close();
  await sandbox?.close();
});

beforeEach(async () => {
  await http.slack.idle(5000);
  await socket.slack.idle(5000);
  fake.clear();
  order.length = 0;
});

describe('the ack is sent before the cluster is asked', () => {
  it('a slash command over HTTP: ack, then the API server, then the answer', async () => {
    const res = await sendSlashCommand(
      http.eventsUrl,
      slashCommand('config bookinfo', { responseUrl: fake.responseUrl() }),
      knobs,
    );
    expect(res.status).toBe(200);
    const update = await fake.waitFor(() => fake.calls('chat.update')[0], 10_000);
    expect(update.args.text).toMatch(/Istio config in namespace bookinfo/);
    expectAckBeforeApi();
  });

  it('a burst of 20 slash commands over HTTP: every ack of the burst before the first API request', async () => {
    const users = Array.from({ length: 20 }, (_, i) => `UBURST${String(i).padStart(3, '0')}`);
    const results = await Promise.all(
      users.map((user, i) =>
        sendSlashCommand(
          http.eventsUrl,
          slashCommand(i % 2 ? 'config bookinfo' : 'config', { responseUrl: fake.responseUrl(), user }),
          knobs,
        ),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    await fake.waitFor(() => (fake.calls('chat.update').length >= 20 ? true : undefined), 20_000);
    const acks = order.flatMap((e, i) => (e === 'ack' ? [i] : []));
    expect(acks).toHaveLength(20);
    const firstApi = order.findIndex((e) => e.startsWith('api '));
    expect(firstApi).toBeGreaterThan(0);
    expect(Math.max(...acks)).toBeLessThan(firstApi);
  });

  it('a mention over HTTP (Bolt acks the event before our listener runs)', async () => {
    const res = await sendEvent(http.eventsUrl, mentionEvent('config bookinfo'), knobs);
    expect(res.status).toBe(200);
    await fake.waitFor(() => fake.calls('chat.update')[0], 10_000);
    expectAckBeforeApi();
  });

  it('a button click over HTTP whose handler reads the cluster', async () => {
    const res = await sendInteraction(
      http.eventsUrl,
      blockActions({ actionId: 'probe:pods', value: 'x', responseUrl: fake.responseUrl(), messageTs: newTs() }),
      knobs,
    );
    expect(res.status).toBe(200);
    const eph = await fake.waitFor(() => fake.calls('chat.postEphemeral')[0], 10_000);
    expect(eph.args.text).toMatch(/^\d+ pods$/);
    expectAckBeforeApi();
  });

  it('a slash command over Socket Mode: the envelope ack is sent before the API server is asked', async () => {
    await fake.socket.waitForConnections(1);
    const envelopeId = fake.socket.send(
      'slash_commands',
      slashCommand('config bookinfo', { responseUrl: fake.responseUrl() }),
    );
    await fake.socket.waitForAck(envelopeId);
    await fake.waitFor(() => fake.calls('chat.update')[0], 10_000);
    expectAckBeforeApi();
  });
});
