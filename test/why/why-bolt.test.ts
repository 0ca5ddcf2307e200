// /mesh why through Bolt's HTTP receiver against the demo mesh on the sandbox API server, as a slash command and
// as a mention: in each namespace with a planted cause (media: istio-proxy OOM-killed; billing: the app starts
// before its sidecar; accounts: the readiness probe is not rewritten and the ALLOW policy denies it; checkout:
// ISTIO_MUTUAL toward a pod without a sidecar and a subset with no pod) the planted cause is ranked first, with
// its evidence and confidence, and bookinfo's ratings-v1 NACK is its cause; catalog, healthy with look-alikes,
// answers "nothing wrong found".
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { type DemoSandbox, startDemoSandbox } from '../../src/demo/demo-mesh.ts';
import whyCommand from '../../src/features/why/why.ts';
import { KubeClient } from '../../src/kube/client.ts';
import type { SlackApp } from '../../src/slack/app.ts';
import { SIGNING_SECRET, blockText, startApp } from '../slack/harness.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { sendEvent, sendSlashCommand } from '../support/slack-http.ts';
import { GENERAL, mentionEvent, newTs, slashCommand } from '../support/slack-payloads.ts';

let fake: SlackFake;
let sandbox: DemoSandbox;
let slack: SlackApp;
let eventsUrl: string;

beforeAll(async () => {
  // The demo's own istiod faults too: bookinfo's ratings-v1 NACKs CDS.
  sandbox = await startDemoSandbox();
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  fake = await startSlackFake();
  const h = await startApp(fake, 'http', { kube: new KubeClient(kc), commands: [whyCommand] });
  slack = h.slack;
  eventsUrl = h.eventsUrl;
  // The demo's traffic until storefront's sidecar has logged both planted failures (503 UH and 503 URX,UF).
  const kube = new KubeClient(kc);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const [pod] = await kube.list('Pod', { namespace: 'checkout', labelSelector: 'app=storefront' });
    const log = pod ? await kube.podLogs('checkout', pod.metadata.name, { container: 'istio-proxy' }) : '';
    if (/ 503 UH /.test(log) && / 503 URX,UF /.test(log)) break;
    if (Date.now() > deadline) throw new Error("storefront's sidecar logged no 503 UH and URX,UF within 30 s");
    await new Promise((r) => setTimeout(r, 250));
  }
}, 60_000);

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
  const answer = await fake.waitFor(() => {
    const update = fake.calls('chat.update')[0];
    if (update) return blockText(update.args) + String(update.args.text);
    const reply = fake.responses()[0];
    return reply ? JSON.stringify(reply.body) : undefined;
  }, 20_000);
  await slack.idle();
  return answer;
}

/** The line naming the first finding, and everything after it. */
function cause(answer: string): string {
  const at = answer.indexOf('Most likely cause:');
  expect(at).toBeGreaterThanOrEqual(0);
  return answer.slice(at);
}

const firstLine = (s: string) => s.split('\n')[0] ?? '';

describe('/mesh why through Bolt on the demo', () => {
  it('media: the OOM-killed istio-proxy first, with its evidence, confidence and the resources fix', async () => {
    const answer = await ask('why transcoder -n media');
    const c = cause(answer);
    expect(firstLine(c)).toContain('istio-proxy is OOM-killed');
    expect(c).toContain('high confidence · explains a failure seen');
    expect(c).toMatch(/istio-proxy last terminated OOMKilled, exit 137 .*restarted 4 times/);
    expect(c).toContain('*Fix:* patch Deployment media/transcoder');
    // MSH0001 says the same thing: folded into the diagnostic's evidence, not a second finding.
    expect(c).toContain('the analyzers agree: MSH0001 SidecarOOMKilled');
    expect(answer).not.toContain('Nothing wrong found');
  });

  it('billing: the startup race first, with the cold-start restarts and the connection-refused line', async () => {
    const c = cause(await ask('why invoices -n billing'));
    expect(firstLine(c)).toContain('the app starts before its sidecar is ready');
    expect(c).toContain('container invoices restarted 2 times');
    expect(c).toMatch(/connection refused/);
    expect(c).toContain('holdApplicationUntilProxyStarts');
  });

  it('accounts: the readiness probe blocked by the ALLOW policy first, before its consequence (no ready endpoint)', async () => {
    const answer = await ask('why profile -n accounts');
    const c = cause(answer);
    expect(firstLine(c)).toContain('readiness probe blocked by AuthorizationPolicy');
    expect(c).toContain('statuscode: 403');
    const consequence = answer.indexOf('Service profile.accounts has no ready endpoint');
    expect(consequence).toBeGreaterThan(answer.indexOf('Most likely cause:'));
    expect(answer.slice(consequence)).toContain('a consequence of: readiness probe blocked by AuthorizationPolicy');
  });

  it('checkout (storefront): the planted mTLS and subset causes explain its 503s, ranked above everything else', async () => {
    const answer = await ask('why storefront -n checkout');
    expect(answer).toMatch(/Failures seen in its sidecars' access logs: .*503 URX,UF toward ledger\.checkout/);
    const c = cause(answer);
    const planted = [
      'DestinationRule checkout/ledger sends ISTIO_MUTUAL to ledger.checkout, whose pods have no sidecar',
      'subset v2 of DestinationRule checkout/payments selects no pod',
    ];
    expect(planted.some((p) => firstLine(c).includes(p))).toBe(true);
    // Both planted causes are there, each tied to the failures it explains, as findings 1 and 2.
    for (const p of planted) expect(c).toContain(p);
    expect(c).toContain('*2.* :red_circle:');
    expect(c).not.toContain('*3.*');
    expect(c).not.toContain('Failures no check explains');
  });

  it('bookinfo: a proxy that rejected its config (NACK) is the cause, with Envoy’s rejection and the change before it', async () => {
    const c = cause(await ask('why ratings-v1 -n bookinfo'));
    expect(firstLine(c)).toMatch(/proxy ratings-v1-\S+ rejected its config \(NACK on CDS\)/);
    expect(c).toContain('high confidence · explains a failure seen · proxy sync status and NACKs');
    expect(c).toContain('The table size of maglev must be prime number');
    expect(c).toContain('the change before it: DestinationRule bookinfo/reviews-affinity');
    // IST0106 on that DestinationRule backs the NACK up instead of standing as a second finding.
    expect(c).toContain(
      'the analyzers agree: IST0106 SchemaValidationError on DestinationRule bookinfo/reviews-affinity',
    );
    expect(c).not.toContain('*2.*');
  });

  it('catalog: nothing wrong found, the look-alikes named as checked and fine', async () => {
    const answer = await ask('why products -n catalog');
    expect(answer).toContain('*Nothing wrong found* for Service catalog/products');
    expect(answer).not.toContain('Most likely cause');
    expect(answer).toContain('the app is held until Envoy is ready');
    expect(answer).toContain('the probe is rewritten to pilot-agent');
    expect(answer).not.toContain('Could not check');
  });

  it('a workload without a sidecar: the sidecar checks say they could not run and why', async () => {
    const answer = await ask('why batch-report -n legacy');
    expect(answer).toContain('*Could not check:*');
    expect(answer).toContain('none of the 1 pods runs an istio-proxy container');
    expect(answer).toContain('so this is not a clean bill of health');
  });

  it('an unknown name is answered with what there is', async () => {
    const answer = await ask('why nothere -n shop');
    expect(answer).toContain('No workload named nothere in namespace shop');
    expect(answer).toContain('frontend.shop');
  });

  it('a mention in words: "why is storefront failing in checkout?" answers in the thread', async () => {
    fake.clear();
    const ts = newTs();
    const res = await sendEvent(eventsUrl, mentionEvent('why is storefront failing in checkout?', { ts }), {
      secret: SIGNING_SECRET,
    });
    expect(res.status).toBe(200);
    const update = await fake.waitFor(() => fake.calls('chat.update')[0], 20_000);
    await slack.idle();
    const post = fake.calls('chat.postMessage')[0];
    expect(post?.args).toMatchObject({ channel: GENERAL, thread_ts: ts });
    const answer = blockText(update.args);
    expect(answer).toContain('*Why Service checkout/storefront (1 pod)?*');
    expect(answer).toContain('Most likely cause:');
  });

  it('a mention without a namespace: the one namespace that has the name is the one looked at', async () => {
    fake.clear();
    const ts = newTs();
    await sendEvent(eventsUrl, mentionEvent('why is ratings-v1 failing', { ts }), { secret: SIGNING_SECRET });
    const update = await fake.waitFor(() => fake.calls('chat.update')[0], 20_000);
    await slack.idle();
    const answer = blockText(update.args);
    expect(answer).toContain('*Why Deployment bookinfo/ratings-v1 (1 pod)?*');
    expect(answer).toMatch(/Most likely cause:\* proxy ratings-v1-\S+ rejected its config/);
  });
});
