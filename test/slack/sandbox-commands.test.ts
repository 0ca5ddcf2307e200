// Real commands against the sandbox API server, asked through Slack: /mesh config reads the cluster,
// so the bot shows "working…" and updates it in place with what the cluster holds.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { sendSlashCommand } from '../support/slack-http.ts';
import { GENERAL, slashCommand } from '../support/slack-payloads.ts';
import { type Harness, SIGNING_SECRET, blockText, startApp } from './harness.ts';

const seed: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'istio-injection': 'enabled' } } },
  {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'cart', namespace: 'shop' },
    spec: { hosts: ['cart'], http: [{ route: [{ destination: { host: 'cart', subset: 'v2' } }] }] },
  },
  {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: 'cart', namespace: 'shop' },
    spec: {
      host: 'cart',
      subsets: [
        { name: 'v1', labels: { version: 'v1' } },
        { name: 'v2', labels: { version: 'v2' } },
      ],
    },
  },
];

let sandbox: Sandbox;
let fake: SlackFake;
let h: Harness;

beforeAll(async () => {
  sandbox = await startSandbox({ seed, controllers: false });
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  fake = await startSlackFake();
  h = await startApp(fake, 'http', { kube: new KubeClient(kc) });
});

afterAll(async () => {
  await h?.slack.stop();
  await fake?.close();
  await sandbox?.close();
});

beforeEach(() => fake.clear());

describe('cluster commands through Slack, against the sandbox', () => {
  it('answers /mesh config shop: "working…", then the config from the cluster in place', async () => {
    const res = await sendSlashCommand(h.eventsUrl, slashCommand('config shop', { responseUrl: fake.responseUrl() }), {
      secret: SIGNING_SECRET,
    });
    expect(res.status).toBe(200);
    const update = await fake.waitFor(() => fake.calls('chat.update')[0], 10_000);
    const working = fake.calls('chat.postMessage')[0];
    expect(working?.args.text).toMatch(/^Working on \/mesh config shop/);
    expect(update.args).toMatchObject({ channel: GENERAL, ts: fake.messages(GENERAL)[0]?.ts });
    expect(update.args.text).toMatch(/^Istio config in namespace shop: 1 VirtualService, 1 DestinationRule/);
    expect(blockText(update.args)).toContain('subsets v1, v2');
    expect(blockText(update.args)).toContain('istio-injection=enabled');
  });

  it('answers a namespace the cluster does not have with the ones it has', async () => {
    await sendSlashCommand(h.eventsUrl, slashCommand('config nowhere', { responseUrl: fake.responseUrl() }), {
      secret: SIGNING_SECRET,
    });
    const update = await fake.waitFor(() => fake.calls('chat.update')[0], 10_000);
    expect(blockText(update.args)).toContain('There is no namespace `nowhere`');
    expect(blockText(update.args)).toContain('`shop`');
  });
});
