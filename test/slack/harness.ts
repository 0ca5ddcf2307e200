// A router with the real commands plus a few test-only ones, and a running Bolt app in either mode
// against the Slack fake. The cluster is never called by these commands: the front door is under test.
import { Writable } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
// The verbs are imported one by one, not through commands/index.ts, so that these tests pin the
// front door and not the growing list of verbs.
import configCommand from '../../src/features/core/config.ts';
import helpCommand from '../../src/features/core/help.ts';
import versionCommand from '../../src/features/core/version.ts';
import { type Block, section } from '../../src/blocks/block-kit.ts';
import { type AnyCommand, defineCommand } from '../../src/command.ts';
import type { SlackSettings } from '../../src/config.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { createLogger } from '../../src/log.ts';
import type { ClickHandler } from '../../src/messenger.ts';
import { Router } from '../../src/router.ts';
import { type SlackApp, type SlackAppOptions, type ViewHandler, createSlackApp } from '../../src/slack/app.ts';
import type { DedupStore } from '../../src/slack/dedup.ts';
import type { SlackFake } from '../support/slack-fake.ts';
import type { FormSpec } from '../../src/messenger.ts';

export const BOT_TOKEN = 'xoxb-1111-2222-testtoken';
export const APP_TOKEN = 'xapp-1-A0000001-3333-testapptoken';
export const SIGNING_SECRET = 'f00dfeedcafe0123456789abcdef0123';

/** Stands in for a command that talks to the cluster: the front door must show "working…" first. */
export const probeCommand = defineCommand({
  name: 'probe',
  summary: 'Test: a cluster command that takes a moment',
  usage: '/mesh probe [namespace]',
  args: z.object({ namespace: z.string().optional() }),
  argSpec: { positional: ['namespace'] },
  permission: 'read',
  touchesCluster: true,
  // It stands in for a cluster command without a cluster: the router must not look its namespace up.
  namespaceMustExist: false,
  async run({ args }) {
    await new Promise((r) => setTimeout(r, 100));
    return { namespace: args.namespace ?? 'default' };
  },
  render(r) {
    return { text: `probe of ${r.namespace}: all good`, blocks: [section(`*Probe* of \`${r.namespace}\`: all good`)] };
  },
});

/** Output far over one message: 80 sections of 1000 characters. */
export const longCommand = defineCommand({
  name: 'long',
  summary: 'Test: output too long for one message',
  usage: '/mesh long',
  args: z.object({}),
  permission: 'read',
  touchesCluster: false,
  async run() {
    return 80;
  },
  render(n) {
    const blocks: Block[] = Array.from({ length: n }, (_, i) => section(`line ${i} ${'x'.repeat(1000)}`));
    return { text: `${n} long lines`, blocks };
  },
});

/** A cluster command slower than Slack's 3 s: the ack must not wait for it. */
export const slowCommand = defineCommand({
  name: 'slow',
  summary: 'Test: a cluster command that takes 3.5 s',
  usage: '/mesh slow',
  args: z.object({}),
  permission: 'read',
  touchesCluster: true,
  async run() {
    await new Promise((r) => setTimeout(r, 3500));
    return 'done';
  },
  render() {
    return { text: 'slow: done', blocks: [section('slow: done')] };
  },
});

/** Shows who the router was told is asking. */
export const whoamiCommand = defineCommand({
  name: 'whoami',
  summary: 'Test: the requester as the router sees it',
  usage: '/mesh whoami',
  args: z.object({}),
  permission: 'read',
  touchesCluster: false,
  async run({ requester }) {
    return requester;
  },
  render(r) {
    return {
      text: `you are ${r.userId} ${r.userName ?? '(no name)'} in ${r.channelId} via ${r.source}`,
      blocks: [section('whoami')],
    };
  },
});

export const boomCommand = defineCommand({
  name: 'boom',
  summary: 'Test: a command that fails',
  usage: '/mesh boom',
  args: z.object({}),
  permission: 'read',
  touchesCluster: true,
  async run(): Promise<never> {
    throw new Error('kaboom with xoxb-1111-2222-testtoken inside');
  },
  render() {
    return { text: '', blocks: [] };
  },
});

export function unreachableKube(): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'nowhere', server: 'http://127.0.0.1:9', skipTLSVerify: true }],
    users: [{ name: 'nobody' }],
    contexts: [{ name: 'nowhere', cluster: 'nowhere', user: 'nobody' }],
    currentContext: 'nowhere',
  });
  return new KubeClient(kc, { timeoutMs: 500 });
}

export interface Harness {
  slack: SlackApp;
  logs: string[];
  eventsUrl: string;
}

export async function startApp(
  fake: SlackFake,
  mode: 'http' | 'socket',
  extra: {
    clickHandlers?: Record<string, ClickHandler>;
    viewHandlers?: Record<string, ViewHandler>;
    forms?: readonly FormSpec[];
    dedup?: DedupStore;
    commands?: AnyCommand[];
    kube?: KubeClient;
    onRateLimited?: (method: string, seconds: number) => void;
    /** The Web API client's retries (default: none, so that failures show at once). */
    retryConfig?: SlackAppOptions['retryConfig'];
    /** response_url retries (default: 3 tries, waits of a few tens of ms). */
    responseUrlRetry?: SlackAppOptions['responseUrlRetry'];
    /** How long work waits for a quiet door (default: the app's own). */
    ackGate?: SlackAppOptions['ackGate'];
  } = {},
): Promise<Harness> {
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const log = createLogger({ level: 'debug', destination });
  const router = new Router({
    commands: extra.commands ?? [
      helpCommand,
      versionCommand,
      configCommand,
      probeCommand,
      longCommand,
      boomCommand,
      slowCommand,
      whoamiCommand,
    ],
    clusters: [{ name: 'test-cluster', kube: extra.kube ?? unreachableKube() }],
    log,
  });
  const settings: SlackSettings =
    mode === 'http'
      ? { mode: 'http', botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, port: 0, apiUrl: fake.apiUrl }
      : { mode: 'socket', botToken: BOT_TOKEN, appToken: APP_TOKEN, apiUrl: fake.apiUrl };
  const slack = createSlackApp({
    slack: settings,
    router,
    log,
    clickHandlers: extra.clickHandlers,
    viewHandlers: extra.viewHandlers,
    forms: extra.forms,
    onRateLimited: extra.onRateLimited,
    dedup: extra.dedup,
    listen: { host: '127.0.0.1', port: 0 },
    socketPingTimeoutMs: 1500,
    retryConfig: extra.retryConfig ?? { retries: 0 },
    responseUrlRetry: extra.responseUrlRetry ?? { baseDelayMs: 20, maxDelayMs: 80 },
    ackGate: extra.ackGate,
  });
  await slack.start();
  return { slack, logs, eventsUrl: mode === 'http' ? `http://127.0.0.1:${slack.port}/slack/events` : '' };
}

/**
 * Collects unhandled rejections from the real process (Jest gives tests a copy of `process` whose
 * events never fire; `getBuiltinModule` reaches the real one). Jest fails a test on them as well.
 */
export function captureUnhandledRejections(): { readonly seen: unknown[]; stop(): void } {
  const real = (process as unknown as { getBuiltinModule(id: string): NodeJS.Process }).getBuiltinModule(
    'node:process',
  );
  const seen: unknown[] = [];
  const listener = (reason: unknown) => {
    seen.push(reason);
  };
  real.prependListener('unhandledRejection', listener);
  return { seen, stop: () => real.off('unhandledRejection', listener) };
}

/** The parsed pino lines logged so far. */
export function logLines(logs: readonly string[]): Array<Record<string, unknown> & { level: number; msg: string }> {
  return logs.flatMap((chunk) =>
    chunk
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as Record<string, unknown> & { level: number; msg: string }),
  );
}

/** All the text of a recorded message's blocks, for assertions. */
export function blockText(args: Record<string, unknown> | undefined): string {
  return JSON.stringify(args?.blocks ?? []);
}
