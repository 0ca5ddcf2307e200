// /mesh stale and /mesh status end to end: signed slash commands into the real Bolt app, the router,
// the sandbox API server with simulated istiods reached through pods/portforward, and the Slack fake.
// Three clusters: `demo` (startDemoSandbox: controllers on, demo faults), `lab` (hand-built mesh,
// scenarios swapped per test), `bare` (no istiod at all).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import helpCommand from '../../src/features/core/help.ts';
import restartCommand from '../../src/features/restart/restart.ts';
import staleCommand from '../../src/features/stale/stale.ts';
import statusCommand from '../../src/features/core/status.ts';
import { APPROVE_ACTION, OFFER_ACTION } from '../../src/approvals/messages.ts';
import { type ApprovalsSetup, setupApprovals } from '../../src/approvals/setup.ts';
import type { SlackSettings } from '../../src/config.ts';
import { type DemoSandbox, startDemoSandbox } from '../../src/demo/demo-mesh.ts';
import { createLogger } from '../../src/log.ts';
import { Router } from '../../src/router.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { type SlackApp, createSlackApp } from '../../src/slack/app.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { type SignKnobs, sendInteraction, sendSlashCommand } from '../support/slack-http.ts';
import { ALICE, GENERAL, blockActions, slashCommand } from '../support/slack-payloads.ts';
import { ISTIODS, kubeOf, meshSeed, namespace, proxyPodsOf, serveScenario } from './support.ts';
import { rolloutRestart } from '../../src/features/restart/rollout-restart.ts';

const SECRET = 'f00dfeedcafe0123456789abcdef0123';
const knobs: SignKnobs = { secret: SECRET };
const BOB = 'UBOB0001';

let demo: DemoSandbox;
let lab: Sandbox;
let bare: Sandbox;
let fake: SlackFake;
let slack: SlackApp;
let approvals: ApprovalsSetup;
let url: string;

/** The demo fleet does not write istiod's log by itself: hand it to pods/log as the fleet's sink would. */
function flushDemoLogs(): void {
  for (const s of demo.fleet.istiods())
    demo.setPodLogs('istio-system', s.podName, 'discovery', s.logLines({ kubeletTime: true }));
}

beforeAll(async () => {
  demo = await startDemoSandbox({ rolloutStepMs: 20 });
  demo.store.put(namespace('meshops'));
  flushDemoLogs();
  lab = await startSandbox({ controllers: false, seed: meshSeed() });
  bare = await startSandbox({
    controllers: false,
    seed: meshSeed().filter((o) => o.metadata.namespace !== 'istio-system'),
  });
  fake = await startSlackFake({ users: { [ALICE]: { name: 'alice' }, [BOB]: { name: 'bob' } } });
  const log = createLogger({ level: 'silent' });
  const clusters = [
    { name: 'demo', kube: kubeOf(demo) },
    { name: 'lab', kube: kubeOf(lab) },
    { name: 'bare', kube: kubeOf(bare) },
  ];
  // No policy file: the default lets anyone propose and approve, but never their own proposal.
  approvals = await setupApprovals({
    policyFile: undefined,
    clusters,
    stateKube: clusters[0]!.kube,
    namespace: 'meshops',
    log,
    kinds: [rolloutRestart],
    tuning: { pollMs: 30 },
  });
  const router = new Router({
    commands: [helpCommand, staleCommand, statusCommand, restartCommand],
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
});

afterAll(async () => {
  await slack?.stop();
  await approvals?.service.stop();
  await fake?.close();
  await demo?.close();
  await lab?.close();
  await bare?.close();
});

type Button = { action_id: string; value?: string; text: { text: string } };

function buttons(blocks: unknown[] | undefined): Button[] {
  return ((blocks ?? []) as Array<{ type: string; elements?: Button[] }>)
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements ?? []);
}

/** Sends a slash command through Bolt and returns the message once "working…" has been replaced by the answer. */
async function slash(text: string, user = ALICE) {
  const before = fake.messages(GENERAL).length;
  const res = await sendSlashCommand(url, slashCommand(text, { responseUrl: fake.responseUrl(), user }), knobs);
  expect(res.status).toBe(200);
  const msg = await fake.waitFor(
    () =>
      fake
        .messages(GENERAL)
        .slice(before)
        .find((m) => !m.threadTs && m.updates > 0 && !JSON.stringify(m.blocks).includes('Working')),
    15_000,
  );
  return { ...msg, body: JSON.stringify(msg.blocks), buttons: buttons(msg.blocks) };
}

const waitFor = async <T>(fn: () => Promise<T | undefined> | T | undefined, what: string, ms = 15_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 30));
  }
};

describe('/mesh stale through Bolt', () => {
  it('everything synced: one line with the counts', async () => {
    serveScenario(lab, { istiods: ISTIODS });
    const m = await slash('--cluster lab stale bookinfo');
    expect(m.text).toBe('All 6 proxies in bookinfo are SYNCED (CDS, LDS, EDS, RDS).');
    expect(m.buttons).toEqual([]);
  });

  it("the demo mesh: the STALE proxy, the NACK with its text, the disconnected proxy, and istiod's log line", async () => {
    const m = await slash('stale bookinfo');
    expect(m.text).toMatch(
      /^1 of 6 proxies in bookinfo is STALE \(LDS\) — since 4m\d*s? · 1 proxy rejected config \(NACK on CDS\) · 1 proxy DISCONNECTED from istiod$/,
    );
    expect(m.body).toMatch(/reviews-v2-\S+\s+STALE\s+LDS/);
    expect(m.body).toMatch(/ratings-v1-\S+\s+ERROR\s+CDS/);
    expect(m.body).toContain('The table size of maglev must be prime number');
    // The cause, followed from the cluster the NACK names to the DestinationRule and the field.
    expect(m.body).toContain(
      'Cause: DestinationRule `bookinfo/reviews-affinity` — `spec.subsets[0].trafficPolicy.loadBalancer.consistentHash.maglev.tableSize` = `65536`',
    );
    expect(m.body).toMatch(/details-v1-\S+\s+DISCONNECTED/);
    expect(m.body).toContain('a *VirtualService or Gateway* problem');
    expect(m.body).toMatch(/`1×` warn, last \S+ ago on istiod-\S+: `ads ADS:CDS: ACK ERROR ratings-v1-/);
    expect(m.buttons.map((b) => b.text.text)).toEqual([
      'Restart deployment bookinfo/reviews-v2',
      'Restart deployment bookinfo/details-v1',
    ]);
    expect(m.buttons.every((b) => b.action_id.startsWith(`${OFFER_ACTION}:`))).toBe(true);
  });

  it('LDS stale: the restart button, approved by a second user, rolls reviews-v2 and its new pod is SYNCED', async () => {
    const oldPods = proxyPodsOf(demo)
      .filter((p) => p.name.startsWith('reviews-v2-'))
      .map((p) => p.name);
    const m = await slash('stale bookinfo');
    const restart = m.buttons.find((b) => b.text.text === 'Restart deployment bookinfo/reviews-v2')!;
    await sendInteraction(
      url,
      blockActions({
        actionId: restart.action_id,
        value: restart.value!,
        responseUrl: fake.responseUrl(),
        messageTs: m.ts,
        user: ALICE,
      }),
      knobs,
    );
    const proposal = await fake.waitFor(
      () =>
        fake
          .messages(GENERAL)
          .find((x) => x.threadTs === m.ts && buttons(x.blocks).some((b) => b.action_id === APPROVE_ACTION)),
      15_000,
    );
    expect(JSON.stringify(proposal.blocks)).toContain('Restart deployment bookinfo/reviews-v2');
    const id = buttons(proposal.blocks).find((b) => b.action_id === APPROVE_ACTION)!.value!;
    await sendInteraction(
      url,
      blockActions({
        actionId: APPROVE_ACTION,
        value: id,
        responseUrl: fake.responseUrl(),
        messageTs: proposal.ts,
        user: BOB,
      }),
      knobs,
    );
    const rec = await waitFor(
      async () => {
        const r = (await approvals.service.store.read(id))?.record;
        return r?.state === 'done' || r?.state === 'failed' ? r : undefined;
      },
      'the restart to finish',
      30_000,
    );
    expect(rec.state).toBe('done');
    expect(rec.approvals.map((a) => a.userId)).toEqual([BOB]);
    await approvals.service.idle();

    flushDemoLogs();
    const after = await slash('status bookinfo');
    const newPods = proxyPodsOf(demo)
      .filter((p) => p.name.startsWith('reviews-v2-'))
      .map((p) => p.name);
    expect(newPods.length).toBeGreaterThan(0);
    expect(newPods.filter((n) => oldPods.includes(n))).toEqual([]);
    for (const pod of newPods)
      expect(after.body).toMatch(
        new RegExp(
          `${pod}\\s+Kubernetes\\s+istiod-\\S+\\s+1\\.24\\.2\\s+SYNCED \\(\\d+s\\)\\s+SYNCED \\(\\d+s\\)\\s+SYNCED \\(\\d+s\\)\\s+SYNCED \\(\\d+s\\)`,
        ),
      );
    const again = await slash('stale bookinfo');
    expect(again.body).not.toContain('reviews-v2-');
    expect(again.text).not.toContain('STALE');
  });

  it('two istiod replicas split the proxies: both are read and their stale proxies merged into one answer', async () => {
    const plain = serveScenario(lab, { istiods: ISTIODS });
    const picks = [
      plain[0]!.connected().find((id) => id.endsWith('.bookinfo'))!,
      plain[1]!.connected().find((id) => id.endsWith('.bookinfo'))!,
    ];
    const sims = serveScenario(lab, { istiods: ISTIODS, staleLds: picks });
    const m = await slash('--cluster lab stale bookinfo');
    expect(m.text).toMatch(/^2 of 6 proxies in bookinfo are STALE \(LDS\)/);
    for (const id of picks)
      expect(m.body).toMatch(
        // 4m, or 4m1s on a loaded machine: the scenario was backdated 4 minutes before the answer was read.
        new RegExp(`${id.split('.')[0]}\\s+STALE\\s+LDS\\s+4m(?:\\ds)?\\s+${sims.find((s) => s.proxy(id))!.podName}`),
      );
    expect(m.body).toContain(
      `syncz: ${ISTIODS[0]} ${sims[0]!.connected().filter((x) => x.endsWith('.bookinfo')).length} proxies, ${ISTIODS[1]} ${sims[1]!.connected().filter((x) => x.endsWith('.bookinfo')).length} proxies`,
    );
  });

  it('one istiod unreachable: its proxies are UNKNOWN, the answer names it, and Restart istiod is offered', async () => {
    const sims = serveScenario(lab, { istiods: ISTIODS });
    lab.podEndpoints.unregister('istio-system', ISTIODS[1]);
    const lost = sims[1]!.connected().filter((id) => id.endsWith('.bookinfo'));
    const m = await slash('--cluster lab stale bookinfo');
    expect(m.text).toBe(
      `${lost.length} of 6 proxies in bookinfo: ${lost.length} proxies UNKNOWN (an istiod could not be read)`,
    );
    expect(m.body).toContain(`Could not read istiod \`${ISTIODS[1]}\`* (unreachable)`);
    for (const id of lost) expect(m.body).toMatch(new RegExp(`${id.split('.')[0]}\\s+UNKNOWN`));
    expect(m.buttons.map((b) => b.text.text)).toEqual(['Restart istiod (istio-system/istiod)']);
  });

  it('no istiod at all: a clear message, not a crash', async () => {
    const m = await slash('--cluster bare stale');
    expect(m.text).toBe(
      'No istiod to ask about sync status: There is no istiod pod (label app=istiod) in istio-system.',
    );
    expect(m.body).toContain('kubectl -n istio-system get deploy,pods -l app=istiod');
  });
});
