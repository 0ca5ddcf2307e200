// /mesh why's fix buttons through Bolt with the approvals service on the demo mesh: the cause's fix is the first
// button (offersFor over the diagnostics' findings in ranked order), each button an offer of one of the why
// feature's remediation kinds; the healthy namespace gets no button. Approving and applying the fixes is
// covered with the kinds themselves.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { OFFER_ACTION } from '../../src/approvals/messages.ts';
import { type ApprovalsSetup, setupApprovals } from '../../src/approvals/setup.ts';
import type { SlackSettings } from '../../src/config.ts';
import { type DemoSandbox, startDemoSandbox } from '../../src/demo/demo-mesh.ts';
import whyFeature from '../../src/features/why/index.ts';
import whyCommand from '../../src/features/why/why.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { createLogger } from '../../src/log.ts';
import { Router } from '../../src/router.ts';
import { type SlackApp, createSlackApp } from '../../src/slack/app.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { type SignKnobs, sendSlashCommand } from '../support/slack-http.ts';
import { ALICE, GENERAL, slashCommand } from '../support/slack-payloads.ts';

const SECRET = 'f00dfeedcafe0123456789abcdef0456';
const knobs: SignKnobs = { secret: SECRET };

let demo: DemoSandbox;
let fake: SlackFake;
let slack: SlackApp;
let approvals: ApprovalsSetup;
let url: string;

beforeAll(async () => {
  demo = await startDemoSandbox({ faults: false });
  const kc = new KubeConfig();
  kc.loadFromString(demo.kubeconfig());
  const kube = new KubeClient(kc);
  fake = await startSlackFake({ users: { [ALICE]: { name: 'alice' } } });
  const log = createLogger({ level: 'silent' });
  const clusters = [{ name: 'demo', kube }];
  // The feature's own registration, as src/meshops.ts assembles it (its setup reads nothing of the context).
  const parts = whyFeature.setup?.({} as never);
  approvals = await setupApprovals({
    policyFile: undefined,
    clusters,
    stateKube: kube,
    namespace: 'meshops',
    log,
    kinds: [...(parts?.remediations ?? [])],
    tuning: { pollMs: 30 },
  });
  const router = new Router({
    commands: [whyCommand],
    clusters,
    defaultCluster: 'demo',
    log,
    services: { approvals: approvals.service },
  });
  const settings: SlackSettings = {
    mode: 'http',
    botToken: 'xoxb-1111-2222-testtoken',
    signingSecret: SECRET,
    port: 0,
    apiUrl: fake.apiUrl,
  };
  slack = createSlackApp({
    slack: settings,
    router,
    log,
    clickHandlers: approvals.service.clickHandlers,
    listen: { host: '127.0.0.1', port: 0 },
    retryConfig: { retries: 0 },
  });
  approvals.service.attachMessenger(slack.messenger);
  await slack.start();
  url = `http://127.0.0.1:${slack.port}/slack/events`;
}, 60_000);

afterAll(async () => {
  await slack?.stop();
  await approvals?.service.stop();
  await fake?.close();
  await demo?.close();
});

type Button = { action_id: string; value?: string; text: { text: string } };

function buttons(blocks: unknown[] | undefined): Button[] {
  return ((blocks ?? []) as Array<{ type: string; elements?: Button[] }>)
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements ?? []);
}

async function slash(text: string) {
  const before = fake.messages(GENERAL).length;
  const res = await sendSlashCommand(url, slashCommand(text, { responseUrl: fake.responseUrl() }), knobs);
  expect(res.status).toBe(200);
  const msg = await fake.waitFor(
    () =>
      fake
        .messages(GENERAL)
        .slice(before)
        .find((m) => !m.threadTs && m.updates > 0 && !JSON.stringify(m.blocks).includes('Working')),
    20_000,
  );
  return { body: JSON.stringify(msg.blocks), buttons: buttons(msg.blocks) };
}

describe('/mesh why: the fix buttons', () => {
  it('the registered kinds are the why feature’s remediations', () => {
    const kinds = whyFeature.setup?.({} as never)?.remediations?.map((k) => k.kind);
    expect(kinds).toEqual(expect.arrayContaining(['pod-template-annotations', 'create-authorization-policy']));
  });

  it.each([
    ['why transcoder -n media', 'Set proxy CPU/memory: media/transcoder'],
    ['why invoices -n billing', 'Hold app until proxy starts: billing/invoices'],
  ])('%s: the first button fixes the cause (%s)', async (ask, label) => {
    const m = await slash(ask);
    expect(m.body).toContain('Most likely cause');
    expect(m.buttons.length).toBeGreaterThan(0);
    expect(m.buttons[0]?.text.text).toBe(label);
    expect(m.buttons.every((b) => b.action_id.startsWith(`${OFFER_ACTION}:`))).toBe(true);
  });

  it('accounts: a button for the probe fix on profile', async () => {
    const m = await slash('why profile -n accounts');
    expect(m.buttons.map((b) => b.text.text).some((t) => t.includes('accounts/profile'))).toBe(true);
  });

  it('catalog: nothing wrong, no button', async () => {
    const m = await slash('why products -n catalog');
    expect(m.body).toContain('Nothing wrong found');
    expect(m.buttons).toEqual([]);
  });
});
