// /mesh dump through Bolt's HTTP receiver and the Slack fake, against the sandbox API server whose pod
// answers Envoy's admin with istioctl's real waypoint dump: the summary in the channel, the whole dump
// (redacted) uploaded into the thread.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { ENVOY_ADMIN_PORT } from '../../src/envoy/admin.ts';
import dump from '../../src/features/envoy/dump.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import type { SlackApp } from '../../src/slack/app.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { sendSlashCommand } from '../support/slack-http.ts';
import { slashCommand } from '../support/slack-payloads.ts';
import { describeWithShared } from '../support/shared.ts';
import { SIGNING_SECRET, blockText, startApp } from '../slack/harness.ts';
import { NS, adminHandler, brokenAnswers, seed } from './proxy-config-fixtures.ts';

let fake: SlackFake;
let sb: Sandbox;
let slack: SlackApp;
let eventsUrl: string;

describeWithShared('/mesh dump through Bolt', () => {
  beforeAll(async () => {
    sb = await startSandbox({ controllers: false, seed: seed() });
    sb.podEndpoints.register(NS, 'reviews-v1-aaa', ENVOY_ADMIN_PORT, adminHandler(brokenAnswers()));
    const kc = new KubeConfig();
    kc.loadFromString(sb.kubeconfig());
    fake = await startSlackFake();
    const h = await startApp(fake, 'http', { kube: new KubeClient(kc), commands: [dump] });
    slack = h.slack;
    eventsUrl = h.eventsUrl;
  });

  afterAll(async () => {
    await slack?.stop();
    await fake?.close();
    await sb?.close();
  });

  it('the summary in the channel and the whole dump, keys redacted, as a file in the thread', async () => {
    const res = await sendSlashCommand(
      eventsUrl,
      slashCommand('dump reviews-v1-aaa.bookinfo', { responseUrl: fake.responseUrl() }),
      {
        secret: SIGNING_SECRET,
      },
    );
    expect(res.status).toBe(200);
    const update = await fake.waitFor(() => fake.calls('chat.update')[0], 15_000);
    const answer = blockText(update.args) + String(update.args.text);
    expect(answer).toContain('Config dump · bookinfo/reviews-v1-aaa');
    expect(answer).toContain('Envoy 0.0.0 · Istio 1.21.0-1226');
    expect(answer).toContain('came from Envoy *in clear*');
    const upload = await fake.waitFor(() =>
      fake.uploads.find((u) => u.filename === 'reviews-v1-aaa.bookinfo-config_dump.json'),
    );
    await slack.idle();
    expect(upload.content).not.toContain('BEGIN PRIVATE KEY');
    expect(JSON.parse(upload.content).configs).toHaveLength(7);
  });
});
