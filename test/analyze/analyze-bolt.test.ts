// /mesh analyze through Bolt's HTTP receiver against the demo mesh on the sandbox API server: findings,
// a clean namespace, and --istioctl with a stand-in binary on PATH and with none.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import analyzeCommand from '../../src/features/analyze/analyze.ts';
import { startDemoSandbox, type DemoSandbox } from '../../src/demo/demo-mesh.ts';
import { KubeClient } from '../../src/kube/client.ts';
import type { SlackApp } from '../../src/slack/app.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { sendSlashCommand } from '../support/slack-http.ts';
import { slashCommand } from '../support/slack-payloads.ts';
import { SIGNING_SECRET, blockText, startApp } from '../slack/harness.ts';

let fake: SlackFake;
let sandbox: DemoSandbox;
let slack: SlackApp;
let eventsUrl: string;
let binDir: string;
const originalPath = process.env.PATH;

beforeAll(async () => {
  sandbox = await startDemoSandbox({ faults: false });
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  fake = await startSlackFake();
  const h = await startApp(fake, 'http', { kube: new KubeClient(kc), commands: [analyzeCommand] });
  slack = h.slack;
  eventsUrl = h.eventsUrl;
  binDir = await mkdtemp(join(tmpdir(), 'meshops-istioctl-bin-'));
  const recorded = [
    // The same finding meshops makes: merged, marked as found by both.
    {
      code: 'IST0112',
      level: 'Error',
      message: 'This VirtualService routes to a service "cart" that exposes multiple ports [8080 9090].',
      origin: 'VirtualService shop/cart',
      documentationUrl: 'https://istio.io/v1.24/docs/reference/config/analysis/ist0112/',
    },
    // One only istioctl makes here: shown, marked as istioctl's.
    {
      code: 'IST0108',
      level: 'Warning',
      message: 'Unknown annotation: example.com/owner',
      origin: 'Service shop/frontend',
      documentationUrl: 'https://istio.io/v1.24/docs/reference/config/analysis/ist0108/',
    },
  ];
  await writeFile(join(binDir, 'recorded.json'), JSON.stringify(recorded));
  await writeFile(join(binDir, 'istioctl'), `#!/bin/sh\ncat "${join(binDir, 'recorded.json')}"\nexit 79\n`);
  await chmod(join(binDir, 'istioctl'), 0o755);
});

afterAll(async () => {
  process.env.PATH = originalPath;
  await slack?.stop();
  await fake?.close();
  await sandbox?.close();
  await rm(binDir, { recursive: true, force: true });
});

async function ask(text: string): Promise<string> {
  fake.clear();
  const res = await sendSlashCommand(eventsUrl, slashCommand(text, { responseUrl: fake.responseUrl() }), {
    secret: SIGNING_SECRET,
  });
  expect(res.status).toBe(200);
  const update = await fake.waitFor(() => fake.calls('chat.update')[0], 15_000);
  await slack.idle();
  return blockText(update.args) + String(update.args.text);
}

describe('/mesh analyze through Bolt', () => {
  it("reports findings in a live namespace, errors first, each linked to Istio's page for its code", async () => {
    const answer = await ask('analyze shop');
    expect(answer).toContain('IST0112');
    expect(answer).toContain('VirtualService shop/cart');
    expect(answer).toContain('https://istio.io/latest/docs/reference/config/analysis/ist0112/');
    expect(answer).toMatch(/1 error/);
  });

  it('says so in one line, with the object count, when a namespace is clean', async () => {
    const answer = await ask('analyze bookinfo');
    expect(answer).toMatch(/No issues found in namespace bookinfo: \d+ objects analyzed/);
    // ...and what it could not check: meshops reads no Secrets (gateway credentials are read from the gateway's
    // Envoy instead: analyze-gateway-credentials.test.ts).
    expect(answer).toContain('meshnetworks.MeshNetworksAnalyzer needs Secrets, which meshops does not read');
    expect(answer).not.toContain('gateway.SecretAnalyzer needs Secrets');
  });

  it("merges istioctl's messages when it is on PATH, marking where each came from", async () => {
    process.env.PATH = `${binDir}${delimiter}${originalPath}`;
    const answer = await ask('analyze shop --istioctl');
    expect(answer).toContain('IST0112');
    expect(answer).toContain('(meshops + istioctl)');
    expect(answer).toContain('IST0108');
    expect(answer).toMatch(/IST0108[^"]*\(istioctl\)/);
    expect(answer).toMatch(/istioctl: ran, 2 messages merged/);
  });

  it('says istioctl was not used when there is none, and still answers', async () => {
    process.env.PATH = '/nonexistent-bin';
    const answer = await ask('analyze shop --istioctl');
    process.env.PATH = originalPath;
    expect(answer).toContain('IST0112');
    expect(answer).toMatch(/istioctl: not used \(no istioctl on PATH/);
    expect(answer).not.toContain('(istioctl)');
  });

  it('refuses a namespace that does not exist, listing how to find one', async () => {
    const answer = await ask('analyze nosuchns');
    expect(answer).toContain('There is no namespace `nosuchns`');
  });
});
