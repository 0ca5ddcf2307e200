// /mesh logs through Bolt's HTTP receiver against the demo mesh (startDemoSandbox), whose traffic model writes
// Istio-format access logs: every response flag the demo's proxies log has an explanation, a STRICT namespace's
// refused plaintext caller is explained as such, and the upstream clusters are told apart by subset and version.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import logsCommand from '../../src/features/envoy/logs.ts';
import { type DemoSandbox, startDemoSandbox } from '../../src/demo/demo-mesh.ts';
import { parseAccessLogLine } from '../../src/envoy/access-log.ts';
import { responseFlag } from '../../src/envoy/response-flags.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { findProxyContainer } from '../../src/mesh/sidecar-proxy.ts';
import type { SlackApp } from '../../src/slack/app.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { sendSlashCommand } from '../support/slack-http.ts';
import { slashCommand } from '../support/slack-payloads.ts';
import { SIGNING_SECRET, blockText, startApp } from '../slack/harness.ts';

let fake: SlackFake;
let sandbox: DemoSandbox;
let slack: SlackApp;
let eventsUrl: string;
let kube: KubeClient;

beforeAll(async () => {
  sandbox = await startDemoSandbox({ faults: false });
  // legacy's caller has no sidecar: under STRICT its plaintext is refused at inventory's inbound listener.
  sandbox.store.put({
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: { name: 'default', namespace: 'legacy' },
    spec: { mtls: { mode: 'STRICT' } },
  });
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  kube = new KubeClient(kc);
  fake = await startSlackFake();
  const h = await startApp(fake, 'http', { kube, commands: [logsCommand] });
  slack = h.slack;
  eventsUrl = h.eventsUrl;
  // The traffic model ticks every second: let it send a few requests under STRICT.
  await new Promise((r) => setTimeout(r, 2500));
});

afterAll(async () => {
  await slack?.stop();
  await fake?.close();
  await sandbox?.close();
});

async function ask(text: string): Promise<{ message: string; text: string }> {
  fake.clear();
  const res = await sendSlashCommand(eventsUrl, slashCommand(text, { responseUrl: fake.responseUrl() }), {
    secret: SIGNING_SECRET,
  });
  expect(res.status).toBe(200);
  const update = await fake.waitFor(() => fake.calls('chat.update')[0], 15_000);
  await slack.idle();
  return { message: blockText(update.args), text: String(update.args.text) };
}

describe('/mesh logs against the demo mesh', () => {
  it('has an explanation for every response flag the demo proxies log', async () => {
    const seen = new Set<string>();
    for (const pod of await kube.list('Pod')) {
      if (!findProxyContainer(pod)) continue;
      const text = await kube.podLogs(pod.metadata.namespace as string, pod.metadata.name, {
        container: 'istio-proxy',
      });
      for (const line of text.split('\n')) for (const f of parseAccessLogLine(line)?.responseFlags ?? []) seen.add(f);
    }
    // The STRICT namespace makes at least NR; the demo's other scenarios add theirs.
    expect(seen).toContain('NR');
    for (const f of seen) {
      const known = responseFlag(f);
      expect({ flag: f, explained: !!known?.istio && !!known.envoy }).toEqual({ flag: f, explained: true });
    }
  });

  it('explains the refused plaintext caller at a STRICT destination, through Bolt', async () => {
    const r = await ask('logs inventory -n legacy');
    expect(r.text).toMatch(
      /^\d+ of \d+ requests from Deployment legacy\/inventory \(1 pod\), last 10m failed: \d+ × NR/,
    );
    expect(r.message).toContain('filter_chain_not_found');
    expect(r.message).toContain('a plaintext caller (no sidecar) into a STRICT PeerAuthentication');
  });

  it('tells upstream clusters apart by subset and version, through Bolt', async () => {
    const r = await ask('logs productpage-v1 -n bookinfo');
    expect(r.text).toMatch(/^No failures in \d+ requests \(all 200\) from Deployment bookinfo\/productpage-v1/);
    // productpage → reviews goes to subset v1 (bookinfo's VirtualService), reaching the reviews v1 pod.
    expect(r.message).toMatch(/outbound reviews\.bookinfo\.svc\.cluster\.local:9080 +v1 +v1 +\d+ +0/);
    expect(r.message).toContain('SLOWEST PATHS');
  });

  it("reads istiod's log through Bolt and never calls an empty read healthy", async () => {
    const r = await ask('logs istiod --since 5m');
    expect(r.text).toMatch(/^istiod logged (no errors or warnings in the last 5m \(2 istiods read\)|\d+ error)/);
    expect(r.message).toContain('Read: the last 5m of 2 istiods');
  });
});
