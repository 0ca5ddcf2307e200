// A meshops bot for the mTLS and describe tests: the sandbox API server seeded with the demo mesh and
// the mTLS scenario, its traffic model ticking, simulated istiods that follow the pods (no faults unless
// asked: `bot.fleet.inject(...)`), the approvals engine with the mtls kinds, the real Bolt app in HTTP
// mode against the recording Slack fake, and helpers to type commands and click.
import { Writable } from 'node:stream';
import describeCommand from '../../src/features/describe/describe.ts';
import helpCommand from '../../src/features/core/help.ts';
import mtlsCommand from '../../src/features/mtls/mtls.ts';
import { APPROVE_ACTION } from '../../src/approvals/messages.ts';
import { AccessPolicy, parsePolicy } from '../../src/approvals/policy.ts';
import { ApprovalsService } from '../../src/approvals/service.ts';
import type { SlackSettings } from '../../src/config.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { createLogger } from '../../src/log.ts';
import { registerMtlsMigration } from '../../src/features/mtls/wiring.ts';
import { Router } from '../../src/router.ts';
import { demoMeshObjects } from '../../src/sandbox/demo/demo-mesh.ts';
import { IstiodFleet } from '../../src/sandbox/istiod-sim.ts';
import { mtlsDemoObjects, startMtlsTraffic } from '../../src/sandbox/demo/mtls-demo.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import type { TrafficModel } from '../../src/sandbox/traffic-model.ts';
import { type SlackApp, createSlackApp } from '../../src/slack/app.ts';
import { kubeFor } from '../approvals/support.ts';
import { type FakeMessage, type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { type SignKnobs, sendInteraction, sendSlashCommand } from '../support/slack-http.ts';
import { ALICE, GENERAL, blockActions, slashCommand } from '../support/slack-payloads.ts';
import { rolloutRestart } from '../../src/features/restart/rollout-restart.ts';
import { RemediationRegistry } from '../../src/approvals/remediation-kinds.ts';

export const SECRET = 'f00dfeedcafe0123456789abcdef0123';
export const knobs: SignKnobs = { secret: SECRET };
export const BOB = 'UBOB0001';
export const CAROL = 'UCAROL01';
export { ALICE, GENERAL };

// Alice and Bob may migrate namespaces that are ready; only leads (Carol, Bob) may override; the
// requester may roll back alone.
export const POLICY = `
roles:
  viewer: { commands: ["*"] }
  sre: { commands: ["*"], remediations: ["mtls-strict", "mtls-rollback"] }
  lead: { commands: ["*"], remediations: ["mtls-*"] }
bindings:
  - role: viewer
    users: ["*"]
  - role: sre
    users: [${ALICE}, ${BOB}]
  - role: lead
    users: [${CAROL}, ${BOB}]
approvals:
  mtls-rollback: { approvers: 1, allowSelfApproval: true }
  "*": { approvers: 1, allowSelfApproval: false }
`;

export interface MtlsBot {
  sb: Sandbox;
  fake: SlackFake;
  slack: SlackApp;
  approvals: ApprovalsService;
  traffic: TrafficModel;
  /** The simulated istiods: `fleet.inject({ disconnected: ['shop/cart-v1-'] })` breaks a proxy's sync. */
  fleet: IstiodFleet;
  url: string;
  logs: string[];
  close(): Promise<void>;
}

export async function startMtlsBot(options: { watchMs?: number } = {}): Promise<MtlsBot> {
  const seed: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'meshops' } },
    ...demoMeshObjects(),
    ...mtlsDemoObjects(),
  ];
  const sb = await startSandbox({ seed, rolloutStepMs: 20 });
  sb.settle();
  const traffic = startMtlsTraffic(sb, { tickMs: 100 });
  const fleet = new IstiodFleet(sb.store, sb.podEndpoints);
  const stopFleet = fleet.start();
  const fake = await startSlackFake();
  const logs: string[] = [];
  const log = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk, _e, cb) {
        logs.push(String(chunk));
        cb();
      },
    }),
  });
  const kube = kubeFor(sb);
  const clusters = [{ name: 'sandbox', kube }];
  const policy = new AccessPolicy(parsePolicy(POLICY));
  const approvals = new ApprovalsService({
    policy,
    clusters,
    stateKube: kube,
    namespace: 'meshops',
    log,
    pollMs: 100,
    leaseSeconds: 5,
    registry: new RemediationRegistry([rolloutRestart]),
  });
  // The same call the composition root makes: the kinds join the engine's registry.
  const mtls = registerMtlsMigration(approvals, { log, watchMs: options.watchMs ?? 1500, windowMs: 300 });
  const router = new Router({
    commands: [helpCommand, mtlsCommand, describeCommand],
    clusters,
    log,
    services: { approvals },
    authorize: policy.authorize,
  });
  const settings: SlackSettings = {
    mode: 'http',
    botToken: 'xoxb-1111-2222-testtoken',
    signingSecret: SECRET,
    port: 0,
    apiUrl: fake.apiUrl,
  };
  const slack = createSlackApp({
    slack: settings,
    router,
    log,
    clickHandlers: approvals.clickHandlers,
    listen: { host: '127.0.0.1', port: 0 },
    retryConfig: { retries: 0 },
  });
  approvals.attachMessenger(slack.messenger);
  mtls.attachMessenger(slack.messenger);
  await slack.start();
  const url = `http://127.0.0.1:${slack.port}/slack/events`;
  const started = { sb, fake, slack, approvals, traffic, fleet, url, logs };
  return {
    ...started,
    async close() {
      stopFleet();
      traffic.stop();
      await slack.stop();
      await approvals.stop();
      await fake.close();
      await sb.close();
    },
  };
}

/** Types a slash command and returns the bot's answer: a user error at once, else "working…" once replaced. */
export async function slash(bot: MtlsBot, text: string, user = ALICE): Promise<FakeMessage> {
  const before = bot.fake.messages(GENERAL).length;
  await sendSlashCommand(bot.url, slashCommand(text, { responseUrl: bot.fake.responseUrl(), user }), knobs);
  return bot.fake.waitFor(
    () =>
      bot.fake
        .messages(GENERAL)
        .slice(before)
        .find((m) => m.threadTs === undefined && !JSON.stringify(m.blocks).includes('Working')),
    20_000,
  );
}

/** Types a slash command that fails before running (a user error): the answer comes privately on the response_url. */
export async function slashPrivate(bot: MtlsBot, text: string, user = ALICE): Promise<string> {
  const responseUrl = bot.fake.responseUrl();
  await sendSlashCommand(bot.url, slashCommand(text, { responseUrl, user }), knobs);
  const r = await bot.fake.waitFor(() => bot.fake.responses(responseUrl)[0], 20_000);
  return JSON.stringify(r.body);
}

type ButtonLike = { action_id: string; value?: string; text?: { text?: string } };

/** The button whose label contains `label` in a message's blocks. */
export function buttonIn(blocks: unknown[] | undefined, label: string): ButtonLike | undefined {
  for (const b of (blocks ?? []) as Array<{ elements?: ButtonLike[] }>) {
    const el = b.elements?.find((e) => typeof e.action_id === 'string' && (e.text?.text ?? '').includes(label));
    if (el) return el;
  }
  return undefined;
}

export function click(bot: MtlsBot, button: ButtonLike, messageTs: string, user: string) {
  return sendInteraction(
    bot.url,
    blockActions({
      actionId: button.action_id,
      value: button.value ?? '',
      responseUrl: bot.fake.responseUrl(),
      messageTs,
      user,
    }),
    knobs,
  );
}

export function approveButton(blocks: unknown[] | undefined): ButtonLike | undefined {
  for (const b of (blocks ?? []) as Array<{ elements?: ButtonLike[] }>) {
    const el = b.elements?.find((e) => e.action_id === APPROVE_ACTION);
    if (el) return el;
  }
  return undefined;
}

/** Messages in the thread of `ts`, in order. */
export function thread(bot: MtlsBot, ts: string): FakeMessage[] {
  return bot.fake.messages(GENERAL).filter((m) => m.threadTs === ts);
}

export function ephemeralsFor(bot: MtlsBot, user: string): string[] {
  return bot.fake
    .calls('chat.postEphemeral')
    .filter((c) => c.args.user === user)
    .map((c) => JSON.stringify(c.args.blocks ?? c.args.text));
}

export const text = (m: { blocks?: unknown[] } | undefined): string => JSON.stringify(m?.blocks ?? []);
