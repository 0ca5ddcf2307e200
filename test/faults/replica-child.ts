// A meshops approvals replica in its own process, for tests that pause it with SIGSTOP. It reads a
// kubeconfig and settings from the environment, then takes commands on stdin, one JSON per line:
//   {"op":"approve","id":"…","user":"U…","message":{"channel":"C…","ts":"…"}}
// and answers on stdout, one JSON per line ({"ready":true}, {"clicked":…}, {"error":…}).
import { createInterface } from 'node:readline';
import { KubeConfig } from '@kubernetes/client-node';
import { webApi } from '@slack/bolt';
import { AccessPolicy, parsePolicy } from '../../src/approvals/policy.ts';
import { ApprovalsService } from '../../src/approvals/service.ts';
import { APPROVE_ACTION } from '../../src/approvals/messages.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { createLogger } from '../../src/log.ts';
import { SlackMessenger } from '../../src/slack/slack-messenger.ts';
import { rolloutRestart } from '../../src/features/restart/rollout-restart.ts';
import { RemediationRegistry } from '../../src/approvals/remediation-kinds.ts';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

const kc = new KubeConfig();
kc.loadFromString(env('CHILD_KUBECONFIG'));
const kube = new KubeClient(kc, { timeoutMs: Number(process.env.CHILD_TIMEOUT_MS ?? 20_000) });
const log = createLogger({ level: 'info' }).child({ replica: env('CHILD_REPLICA') });
const client = new webApi.WebClient('xoxb-child-token', {
  slackApiUrl: env('CHILD_SLACK_API'),
  retryConfig: { retries: 0 },
});
const service = new ApprovalsService({
  policy: new AccessPolicy(parsePolicy(env('CHILD_POLICY'))),
  clusters: [{ name: 'sandbox', kube }],
  stateKube: kube,
  namespace: env('CHILD_NAMESPACE'),
  log,
  messenger: new SlackMessenger(client, log),
  replicaId: env('CHILD_REPLICA'),
  registry: new RemediationRegistry([rolloutRestart]),
  leaseSeconds: Number(env('CHILD_LEASE_SECONDS')),
  pollMs: 200,
  settleMs: 200,
  verifyBackoffMs: 100,
  storeBackoffMs: 100,
});

const say = (o: unknown) => process.stdout.write(`${JSON.stringify({ child: o })}\n`);
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const cmd = JSON.parse(line) as { op: string; id: string; user: string; message: { channel: string; ts: string } };
  if (cmd.op !== 'approve') return say({ error: `unknown op ${cmd.op}` });
  service.clickHandlers[APPROVE_ACTION]!({
    actionId: APPROVE_ACTION,
    value: cmd.id,
    userId: cmd.user,
    userName: cmd.user.toLowerCase(),
    channelId: cmd.message.channel,
    message: cmd.message,
  }).then(
    (outcome) => say({ clicked: outcome }),
    (err: unknown) => say({ error: String(err) }),
  );
});
lines.on('close', () => {
  void service.stop().then(() => process.exit(0));
});
say({ ready: true });
