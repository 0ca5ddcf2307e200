// /mesh stats through Bolt against the demo mesh: the sandbox's Envoy admin fleet serves each sidecar's
// counters from the traffic model, read twice through the port-forward and shown as rates.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { type DemoSandbox, startDemoSandbox } from '../../src/demo/demo-mesh.ts';
import statsCommand from '../../src/features/envoy/stats.ts';
import { KubeClient } from '../../src/kube/client.ts';
import type { SlackApp } from '../../src/slack/app.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { sendSlashCommand } from '../support/slack-http.ts';
import { slashCommand } from '../support/slack-payloads.ts';
import { SIGNING_SECRET, blockText, startApp } from '../slack/harness.ts';

let sandbox: DemoSandbox;
let fake: SlackFake;
let slack: SlackApp;
let eventsUrl: string;

beforeAll(async () => {
  sandbox = await startDemoSandbox({ faults: false });
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  fake = await startSlackFake();
  const h = await startApp(fake, 'http', { kube: new KubeClient(kc), commands: [statsCommand] });
  slack = h.slack;
  eventsUrl = h.eventsUrl;
});

afterAll(async () => {
  await slack?.stop();
  await fake?.close();
  await sandbox?.close();
});

async function ask(text: string): Promise<string> {
  fake.clear();
  const res = await sendSlashCommand(eventsUrl, slashCommand(text, { responseUrl: fake.responseUrl() }), {
    secret: SIGNING_SECRET,
  });
  expect(res.status).toBe(200);
  const update = await fake.waitFor(() => fake.calls('chat.update')[0], 20_000);
  await slack.idle();
  return blockText(update.args) + String(update.args.text);
}

describe('/mesh stats on the demo', () => {
  it("productpage's clusters as rates from its Envoy, inbound and outbound labelled, with totals since start", async () => {
    // The traffic model ticks once a second: a 1.5 s sample always holds a tick.
    const answer = await ask('stats app=productpage -n bookinfo --sample 1.5');
    expect(answer).toContain('Envoy stats: bookinfo/productpage-v1-');
    expect(answer).toMatch(/\*inbound 9080\* · inbound \(to this pod\) — [\d.]+ req\/s/);
    expect(answer).toMatch(/\*details \(9080\)\* · outbound — [\d.]+ req\/s/);
    expect(answer).toMatch(/since start: \d+ requests?/);
    expect(answer).not.toContain('Could not read');
  });

  it('a filter that matches no cluster says so, with the count it looked at', async () => {
    const answer = await ask('stats app=productpage -n bookinfo cart --sample 0.2');
    expect(answer).toMatch(/No cluster of this proxy \(\d+ clusters?\) has `cart` in its name/);
  });
});
