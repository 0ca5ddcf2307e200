// /mesh pc and /mesh dump through Bolt against the demo mesh, whose sidecars serve the sandbox's own
// Envoy admin on :15000 (src/sandbox/envoy-admin.ts, built from the store as istiod would): the checkout
// scenario's canary subset payments v2 selects no pod, so storefront's cluster for it has no endpoint, and
// the answer says why from the DestinationRule and the pods; the dump of the same proxy as a file.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { type DemoSandbox, startDemoSandbox } from '../../src/demo/demo-mesh.ts';
import dump from '../../src/features/envoy/dump.ts';
import proxyConfig from '../../src/features/envoy/proxy-config.ts';
import { KubeClient } from '../../src/kube/client.ts';
import type { SlackApp } from '../../src/slack/app.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { sendSlashCommand } from '../support/slack-http.ts';
import { slashCommand } from '../support/slack-payloads.ts';
import { SIGNING_SECRET, blockText, startApp } from '../slack/harness.ts';

let fake: SlackFake;
let sb: DemoSandbox;
let slack: SlackApp;
let eventsUrl: string;

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

beforeAll(async () => {
  sb = await startDemoSandbox({ faults: false });
  const kc = new KubeConfig();
  kc.loadFromString(sb.kubeconfig());
  fake = await startSlackFake();
  const h = await startApp(fake, 'http', { kube: new KubeClient(kc), commands: [proxyConfig, dump] });
  slack = h.slack;
  eventsUrl = h.eventsUrl;
});

afterAll(async () => {
  await slack?.stop();
  await fake?.close();
  await sb?.close();
});

describe('the Envoy views against the demo', () => {
  it('pc clusters storefront: the canary subset payments v2 has no endpoint, because its DestinationRule selects no pod', async () => {
    const pod = sb.store.list('Pod', 'checkout').find((p) => p.metadata.labels?.app === 'storefront')!;
    const answer = await ask('pc clusters storefront -n checkout');
    expect(answer).toContain(`proxy-config clusters · checkout/${pod.metadata.name}`);
    expect(answer).toContain('`outbound|8080|v2|payments.checkout.svc.cluster.local` has *no endpoints*');
    expect(answer).toContain(
      'DestinationRule checkout/payments subset `v2` (version=v2) selects 0 of the 1 pod of Service checkout/payments: *a DestinationRule subset that selects no pod*',
    );
    // The subset the VirtualService's other 80% go to has its pod: not flagged.
    expect(answer).not.toContain('`outbound|8080|v1|payments.checkout.svc.cluster.local` has');
    expect(answer).toMatch(/\*\d+ clusters\* — by direction: \d+ outbound/);
    expect(answer).toMatch(/in the thread as `storefront-[a-z0-9-]+-clusters.txt`/);
    const upload = await fake.waitFor(() => fake.uploads.find((u) => u.filename?.endsWith('-clusters.txt')));
    expect(upload.content).toMatch(/^SERVICE FQDN\s+PORT\s+SUBSET\s+DIRECTION\s+TYPE\s+DESTINATION RULE\n/);
    expect(upload.content).toMatch(
      /payments\.checkout\.svc\.cluster\.local\s+8080\s+v2\s+outbound\s+EDS\s+payments\.checkout/,
    );
  });

  it('a filter scopes what needs attention to what it asked about, and counts the rest', async () => {
    const all = await ask('pc clusters storefront -n checkout');
    const others = (all.match(/:red_circle: `outbound\|[^`]+`/g) ?? []).filter((l) => !l.includes('payments.checkout'));
    expect(others.length).toBeGreaterThan(0);
    const scoped = await ask('pc clusters storefront -n checkout --fqdn payments');
    expect(scoped).toContain('`outbound|8080|v2|payments.checkout.svc.cluster.local` has *no endpoints*');
    for (const o of others) expect(scoped).not.toContain(o);
    expect(scoped).toContain(
      `${others.length === 1 ? '1 more thing needs' : `${others.length} more things need`} attention in this proxy outside the filter`,
    );
  });

  it('pc endpoints storefront --envoy-cluster for payments v1: the one healthy endpoint, from /clusters', async () => {
    const answer = await ask(
      'pc ep storefront -n checkout --envoy-cluster outbound|8080|v1|payments.checkout.svc.cluster.local',
    );
    const payments = sb.store.list('Pod', 'checkout').find((p) => p.metadata.labels?.app === 'payments')!;
    const ip = (payments.status as { podIP?: string }).podIP;
    expect(answer).toMatch(
      new RegExp(`${ip?.replace(/\./g, '\\.')}:8080\\s+HEALTHY\\s+OK\\s+outbound\\|8080\\|v1\\|payments`),
    );
  });

  it('dump storefront: versions and contents in the channel, the whole dump in the thread', async () => {
    const answer = await ask('dump storefront -n checkout');
    expect(answer).toMatch(/Envoy \d+\.\d+\.\d+[^ ]* · Istio \d+\.\d+\.\d+/);
    expect(answer).toMatch(/\*Clusters\*: \d+ static clusters, \d+ dynamic active clusters/);
    expect(answer).toContain('redacted by Envoy as \\"[redacted]\\"');
    const upload = await fake.waitFor(() =>
      fake.uploads.find((u) => u.filename?.endsWith('.checkout-config_dump.json')),
    );
    const json = JSON.parse(upload.content) as { configs: Array<Record<string, unknown>> };
    expect(json.configs.map((c) => String(c['@type']).split('.').pop())).toContain('EndpointsConfigDump');
  });
});
