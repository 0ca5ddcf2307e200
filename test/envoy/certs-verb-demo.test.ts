// /mesh certs through Bolt against the demo mesh: a bookinfo sidecar's workload certificate from the
// sandbox's mesh CA (fresh, root = istiod's istio-ca-root-cert). The gateway credential cases (loaded
// and expiring, warming, missing) run against a plain sandbox in certs-verb-bolt.test.ts.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { type DemoSandbox, startDemoSandbox } from '../../src/demo/demo-mesh.ts';
import certsCommand from '../../src/features/envoy/certs.ts';
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
  const h = await startApp(fake, 'http', { kube: new KubeClient(kc), commands: [certsCommand] });
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

describe('/mesh certs on the demo', () => {
  it("a sidecar: fresh workload certificate with its SPIFFE id, the root is istiod's", async () => {
    const answer = await ask('certs app=productpage -n bookinfo');
    expect(answer).toContain(':white_check_mark: Certificates are fine');
    expect(answer).toContain('spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage');
    expect(answer).toContain("root CA is istiod's");
    expect(answer).toMatch(/renewal due \d{4}-\d\d-\d\dT/);
  });
});
