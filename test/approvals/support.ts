// Shared set-up for the approvals tests: a sandbox API server with a small Deployment, a service wired
// to it, a recording Messenger, and ways to count restarts from the cluster's side.
import { Writable } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';
import { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import type { Rendered } from '../../src/blocks/block-kit.ts';
import type { ButtonClick, MessageRef, Messenger } from '../../src/messenger.ts';
import { ApprovalsService, type ApprovalsOptions } from '../../src/approvals/service.ts';
import { AccessPolicy, DEFAULT_POLICY, type PolicyDoc } from '../../src/approvals/policy.ts';
import { RESTARTED_AT } from '../../src/features/restart/rollout-restart.ts';
import { rolloutRestart } from '../../src/features/restart/rollout-restart.ts';
import { RemediationRegistry } from '../../src/approvals/remediation-kinds.ts';

export const BOT_NS = 'meshops';

export function deployment(
  name: string,
  namespace: string,
  replicas: number,
  extra: Record<string, string> = {},
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations: extra },
        spec: { containers: [{ name: 'app', image: 'example/app:1' }] },
      },
    },
  };
}

export function seed(): KubeObject[] {
  const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return [
    ns(BOT_NS),
    ns('bookinfo'),
    ns('payments'),
    deployment('reviews', 'bookinfo', 3),
    deployment('ratings', 'bookinfo', 1),
    deployment('ledger', 'payments', 2),
  ];
}

export async function sandboxWithDemo(rolloutStepMs = 20): Promise<Sandbox> {
  const sb = await startSandbox({ seed: seed(), rolloutStepMs });
  sb.settle();
  return sb;
}

export function kubeFor(sb: Sandbox, user?: string): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromString(sb.kubeconfig(user ? { user } : undefined));
  return new KubeClient(kc);
}

/** Log lines as parsed JSON, for asserting audit lines. */
export function capturedLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { log: createLogger({ level: 'info', destination }), lines };
}

/** A Messenger that records what it was asked to do. */
export class RecordingMessenger implements Messenger {
  posts: Array<{ channel: string; rendered: Rendered; threadTs?: string; ref: MessageRef }> = [];
  updates: Array<{ ref: MessageRef; rendered: Rendered }> = [];
  ephemerals: Array<{ channel: string; user: string; rendered: Rendered }> = [];
  private seq = 100;
  async post(channel: string, rendered: Rendered, options?: { threadTs?: string }): Promise<MessageRef> {
    const ts = `1700000000.${++this.seq}`;
    const ref = { channel, ts, threadTs: options?.threadTs };
    this.posts.push({ channel, rendered, threadTs: options?.threadTs, ref });
    return ref;
  }
  async update(ref: MessageRef, rendered: Rendered): Promise<void> {
    this.updates.push({ ref, rendered });
  }
  async ephemeral(channel: string, user: string, rendered: Rendered): Promise<void> {
    this.ephemerals.push({ channel, user, rendered });
  }
  async upload(): Promise<void> {}
  lastUpdate(): Rendered | undefined {
    return this.updates.at(-1)?.rendered;
  }
}

export function service(
  sb: Sandbox,
  overrides: Partial<ApprovalsOptions> & { doc?: PolicyDoc; members?: (g: string) => Promise<string[]> } = {},
): ApprovalsService {
  const kube = overrides.stateKube ?? kubeFor(sb);
  const { doc, members, ...rest } = overrides;
  return new ApprovalsService({
    policy: overrides.policy ?? new AccessPolicy(doc ?? DEFAULT_POLICY, { members }),
    clusters: [{ name: 'sandbox', kube }],
    stateKube: kube,
    namespace: BOT_NS,
    log: createLogger({ level: 'silent' }),
    pollMs: 30,
    leaseSeconds: 5,
    settleMs: 50,
    verifyBackoffMs: 20,
    storeBackoffMs: 20,
    registry: new RemediationRegistry([rolloutRestart]),
    ...rest,
  });
}

/** Counts distinct restartedAt values the Deployment took, as seen by the API server's store. */
export function restartCounter(
  sb: Sandbox,
  namespace: string,
  name: string,
): { count: () => number; stop: () => void } {
  const seen = new Set<string>();
  const initial = (
    sb.store.get('Deployment', namespace, name)?.spec as
      | { template?: { metadata?: { annotations?: Record<string, string> } } }
      | undefined
  )?.template?.metadata?.annotations?.[RESTARTED_AT];
  const stop = sb.store.subscribe((e) => {
    if (e.object.kind !== 'Deployment' || e.object.metadata.namespace !== namespace || e.object.metadata.name !== name)
      return;
    const v = (e.object.spec as { template?: { metadata?: { annotations?: Record<string, string> } } }).template
      ?.metadata?.annotations?.[RESTARTED_AT];
    if (v && v !== initial) seen.add(v);
  });
  return { count: () => seen.size, stop };
}

export function replicaSets(sb: Sandbox, namespace: string, app: string): KubeObject[] {
  return sb.store.list('ReplicaSet', namespace).filter((rs) => rs.metadata.labels?.app === app);
}

export function click(actionId: string, value: string, userId: string, message?: MessageRef): ButtonClick {
  return {
    actionId,
    value,
    userId,
    userName: userId.toLowerCase(),
    channelId: 'C0OPS',
    message: message ?? { channel: 'C0OPS', ts: '1700000000.000001' },
  };
}

export function textOf(r: Rendered | undefined): string {
  return JSON.stringify(r?.blocks ?? []);
}

export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
