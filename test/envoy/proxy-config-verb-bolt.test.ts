// /mesh proxy-config and /mesh pc through Bolt's HTTP receiver and the Slack fake, against the sandbox
// API server whose pods answer Envoy's admin on :15000 with istioctl's real dumps (the demo's own Envoy
// admin fleet is not wired into startDemoSandbox yet). What an SRE sees in the channel: the summary,
// what needs attention, istioctl's table in a code block, and -o json as a file in the thread.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { ENVOY_ADMIN_PORT } from '../../src/envoy/admin.ts';
import proxyConfig from '../../src/features/envoy/proxy-config.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import type { SlackApp } from '../../src/slack/app.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { sendSlashCommand } from '../support/slack-http.ts';
import { slashCommand } from '../support/slack-payloads.ts';
import { describeWithShared } from '../support/shared.ts';
import { SIGNING_SECRET, blockText, startApp } from '../slack/harness.ts';
import { NS, adminHandler, brokenAnswers, realAnswers, seed } from './proxy-config-fixtures.ts';

let fake: SlackFake;
let sb: Sandbox;
let slack: SlackApp;
let eventsUrl: string;

async function ask(text: string): Promise<{ answer: string; blocks: unknown[] }> {
  fake.clear();
  const res = await sendSlashCommand(eventsUrl, slashCommand(text, { responseUrl: fake.responseUrl() }), {
    secret: SIGNING_SECRET,
  });
  expect(res.status).toBe(200);
  const update = await fake.waitFor(() => fake.calls('chat.update')[0], 15_000);
  await slack.idle();
  return { answer: blockText(update.args) + String(update.args.text), blocks: update.args.blocks as unknown[] };
}

describeWithShared('/mesh proxy-config through Bolt', () => {
  beforeAll(async () => {
    sb = await startSandbox({ controllers: false, seed: seed() });
    sb.podEndpoints.register(NS, 'productpage-v1-abc', ENVOY_ADMIN_PORT, adminHandler(realAnswers()));
    sb.podEndpoints.register(NS, 'reviews-v1-aaa', ENVOY_ADMIN_PORT, adminHandler(brokenAnswers()));
    const kc = new KubeConfig();
    kc.loadFromString(sb.kubeconfig());
    fake = await startSlackFake();
    const h = await startApp(fake, 'http', { kube: new KubeClient(kc), commands: [proxyConfig] });
    slack = h.slack;
    eventsUrl = h.eventsUrl;
  });

  afterAll(async () => {
    await slack?.stop();
    await fake?.close();
    await sb?.close();
  });

  it('pc clusters of a Deployment: the pod picked and named, what needs attention, the table in a code block', async () => {
    const { answer, blocks } = await ask('pc clusters reviews-v1 -n bookinfo');
    expect(answer).toContain('proxy-config clusters · bookinfo/reviews-v1-aaa');
    expect(answer).toContain('one of 2 pods of Deployment bookinfo/reviews-v1');
    expect(answer).toContain('*Needs attention*');
    expect(answer).toContain('has *no endpoints*');
    expect(answer).toContain('a DestinationRule subset that selects no pod');
    // blockText is the blocks' JSON: the code block's newline is written `\\n` there.
    expect(answer).toMatch(/```\\nSERVICE FQDN\s+PORT\s+SUBSET\s+DIRECTION\s+TYPE\s+DESTINATION RULE/);
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(fake.uploads).toHaveLength(0);
  });

  it('proxy-config endpoints -o json: the answer names the file, and the file is in the thread', async () => {
    const { answer } = await ask('proxy-config endpoints productpage-v1-abc.bookinfo -o json --port 9080');
    expect(answer).toContain('in the thread as `productpage-v1-abc-endpoints.json`');
    const upload = await fake.waitFor(() =>
      fake.uploads.find((u) => u.filename === 'productpage-v1-abc-endpoints.json'),
    );
    const clusters = JSON.parse(upload.content) as Array<{ name: string }>;
    expect(clusters.map((c) => c.name)).toContain('outbound|9080||reviews.default.svc.cluster.local');
    expect(clusters.map((c) => c.name)).not.toContain('outbound|53||kube-dns.kube-system.svc.cluster.local');
  });
});
