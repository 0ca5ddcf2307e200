// /mesh can through Bolt's HTTP receiver against the demo mesh on the sandbox API server: shop's cart has an
// ALLOW policy for frontend's identity and GET/POST (src/sandbox/demo/mtls-demo.yaml), its port 9090 is STRICT,
// and legacy's batch-report has no sidecar. An allowed request, a denied one with the nearest rule, a plaintext
// caller, a refused connection, and a mistake answered with what to type.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import canCommand from '../../src/features/why/can.ts';
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

beforeAll(async () => {
  sandbox = await startDemoSandbox({ faults: false });
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  fake = await startSlackFake();
  const h = await startApp(fake, 'http', { kube: new KubeClient(kc), commands: [canCommand] });
  slack = h.slack;
  eventsUrl = h.eventsUrl;
});

afterAll(async () => {
  await slack?.stop();
  await fake?.close();
  await sandbox?.close();
});

/** The answer: the update of the "working…" message, or (a mistake caught before any cluster read) the reply. */
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
  }, 15_000);
  await slack.idle();
  return answer;
}

describe('/mesh can through Bolt', () => {
  it('allows frontend GET to cart and names the ALLOW rule that matches', async () => {
    const answer = await ask('can frontend.shop cart.shop 8080 GET /items');
    expect(answer).toContain('*ALLOWED*');
    expect(answer).toContain('ALLOW policy shop/cart-from-frontend, rule 1');
    expect(answer).toContain('cluster.local/ns/shop/sa/frontend');
  });

  it('denies frontend DELETE to cart: no ALLOW matches, the nearest rule wants GET or POST', async () => {
    const answer = await ask('can from frontend.shop to svc/cart.shop 8080 DELETE /items/1');
    expect(answer).toContain('*DENIED*');
    expect(answer).toContain('The nearest was ALLOW policy shop/cart-from-frontend, rule 1');
    expect(answer).toContain('methods [GET, POST]: method DELETE');
    expect(answer).not.toContain('*ALLOWED*');
  });

  it('denies a caller without a sidecar: plaintext carries no principal', async () => {
    const answer = await ask('can app=batch-report -n legacy cart.shop 8080 GET /');
    expect(answer).toContain('*DENIED*');
    expect(answer).toContain('no peer identity');
  });

  it('a STRICT port refuses a caller without a sidecar before authorization', async () => {
    const answer = await ask('can app=batch-report -n legacy cart.shop 9090');
    expect(answer).toContain('*DENIED*');
    expect(answer).toContain('refused before any AuthorizationPolicy is evaluated');
    expect(answer).toContain('PeerAuthentication shop/cart-admin-port');
  });

  it('a destination missing says what to type instead', async () => {
    const answer = await ask('can frontend.shop');
    expect(answer).toContain('Which destination?');
    expect(answer).toContain('/mesh can productpage.bookinfo reviews.bookinfo 9080 GET /reviews/0');
  });
});
