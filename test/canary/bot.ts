// A meshops bot for the canary tests: the sandbox API server seeded with the canary scenario
// (src/sandbox/demo/canary-demo.yaml), its traffic model ticking with only the canary flow, the approvals
// engine with the canary kinds wired as the feature wires them (verdicts posted in the thread), the real
// Bolt app in HTTP mode against the recording Slack fake, and helpers to type commands and click.
import { Writable } from 'node:stream';
import canaryCommand from '../../src/features/canary/canary.ts';
import { canaryNotices } from '../../src/features/canary/notices.ts';
import { type CanaryHooks, canaryRemediationKinds, type WindowSeries } from '../../src/features/canary/step-kind.ts';
import { AccessPolicy, parsePolicy } from '../../src/approvals/policy.ts';
import { ApprovalsService } from '../../src/approvals/service.ts';
import { RemediationRegistry } from '../../src/approvals/remediation-kinds.ts';
import type { SlackSettings } from '../../src/config.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { createLogger } from '../../src/log.ts';
import type { Messenger } from '../../src/messenger.ts';
import { Router } from '../../src/router.ts';
import { CANARY_DEMO_FLOWS, canaryDemoObjects } from '../../src/sandbox/demo/canary-demo.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.ts';
import { TrafficModel } from '../../src/sandbox/traffic-model.ts';
import { type SlackApp, createSlackApp } from '../../src/slack/app.ts';
import { kubeFor } from '../approvals/support.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { ALICE, GENERAL } from '../support/slack-payloads.ts';
import type { FakeMessage } from '../support/slack-fake.ts';
import * as mtlsBot from '../mtls/bot.ts';
import { BOB, CAROL, SECRET } from '../mtls/bot.ts';

export { ALICE, BOB, CAROL, GENERAL };
export { approveButton, buttonIn, text } from '../mtls/bot.ts';

// The mTLS bot's helpers only use the fake and the URL.
const asMtls = (bot: CanaryBot) => bot as unknown as mtlsBot.MtlsBot;
export const slash = (bot: CanaryBot, text: string, user = ALICE): Promise<FakeMessage> =>
  mtlsBot.slash(asMtls(bot), text, user);
export const slashPrivate = (bot: CanaryBot, text: string, user = ALICE): Promise<string> =>
  mtlsBot.slashPrivate(asMtls(bot), text, user);
export const click = (bot: CanaryBot, button: Parameters<typeof mtlsBot.click>[1], ts: string, user: string) =>
  mtlsBot.click(asMtls(bot), button, ts, user);
export const thread = (bot: CanaryBot, ts: string): FakeMessage[] => mtlsBot.thread(asMtls(bot), ts);
export const ephemeralsFor = (bot: CanaryBot, user: string): string[] => mtlsBot.ephemeralsFor(asMtls(bot), user);

// Alice and Bob may step canaries; a step needs someone else's approval; the requester may roll back alone.
export const POLICY = `
roles:
  viewer: { commands: ["*"] }
  sre: { commands: ["*"], remediations: ["canary-*"] }
bindings:
  - role: viewer
    users: ["*"]
  - role: sre
    users: [${ALICE}, ${BOB}]
approvals:
  canary-rollback: { approvers: 1, allowSelfApproval: true }
  "*": { approvers: 1, allowSelfApproval: false }
`;

export interface CanaryBot {
  sb: Sandbox;
  fake: SlackFake;
  slack: SlackApp;
  approvals: ApprovalsService;
  traffic: TrafficModel;
  url: string;
  close(): Promise<void>;
}

export async function startCanaryBot(): Promise<CanaryBot> {
  const seed: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'meshops' } },
    ...canaryDemoObjects(),
  ];
  const sb = await startSandbox({ seed, rolloutStepMs: 20 });
  sb.settle();
  const traffic = new TrafficModel(sb, { flows: [...CANARY_DEMO_FLOWS], tickMs: 50 });
  traffic.tick();
  traffic.start();
  const fake = await startSlackFake();
  const log = createLogger({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
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
    registry: new RemediationRegistry([]),
  });
  let messenger: Messenger | undefined;
  const hooks = canaryNotices({ approvals: () => approvals, messenger: () => messenger, log });
  for (const kind of canaryRemediationKinds({ hooks })) approvals.registry.register(kind);
  const router = new Router({
    commands: [canaryCommand],
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
  messenger = slack.messenger;
  await slack.start();
  const url = `http://127.0.0.1:${slack.port}/slack/events`;
  return {
    sb,
    fake,
    slack,
    approvals,
    traffic,
    url,
    async close() {
      traffic.stop();
      await slack.stop();
      await approvals.stop();
      await fake.close();
      await sb.close();
    },
  };
}

/**
 * A second replica's approvals engine over the same sandbox, Slack app and policy, its canary kinds'
 * verdicts posted through the same messenger; `onVerdict` sees what its hook is handed (the series).
 */
export function secondReplica(
  bot: CanaryBot,
  onVerdict?: (series: WindowSeries | undefined) => void,
): ApprovalsService {
  const log = createLogger({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const kube = kubeFor(bot.sb);
  const b = new ApprovalsService({
    policy: new AccessPolicy(parsePolicy(POLICY)),
    clusters: [{ name: 'sandbox', kube }],
    stateKube: kube,
    namespace: 'meshops',
    log,
    pollMs: 100,
    leaseSeconds: 5,
    replicaId: 'replica-b',
    registry: new RemediationRegistry([]),
  });
  const notices = canaryNotices({ approvals: () => b, messenger: () => bot.slack.messenger, log });
  const hooks: CanaryHooks = {
    async onVerdict(target, plan, verdict, observed, series) {
      onVerdict?.(series);
      await notices.onVerdict?.(target, plan, verdict, observed, series);
    },
  };
  for (const kind of canaryRemediationKinds({ hooks })) b.registry.register(kind);
  b.attachMessenger(bot.slack.messenger);
  return b;
}

/** Sets orders' weights in namespace canary as another hand would (through the API server). */
export async function setWeights(bot: CanaryBot, v1: number, v2: number): Promise<void> {
  await kubeFor(bot.sb).patch(
    'VirtualService',
    'canary',
    'orders',
    [
      { op: 'replace', path: '/spec/http/0/route/0/weight', value: v1 },
      { op: 'replace', path: '/spec/http/0/route/1/weight', value: v2 },
    ],
    'json',
  );
}
