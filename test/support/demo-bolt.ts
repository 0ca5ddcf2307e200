// A command asked through Bolt's HTTP receiver against the demo mesh on the sandbox API server, answered
// into the recording Slack fake: what the Envoy-view and `can` tests share. `ask` returns the final
// message's block text and fallback text.
import { expect } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import type { AnyCommand } from '../../src/command.ts';
import { type DemoSandbox, startDemoSandbox } from '../../src/demo/demo-mesh.ts';
import { KubeClient } from '../../src/kube/client.ts';
import type { SlackApp } from '../../src/slack/app.ts';
import { SIGNING_SECRET, blockText, startApp } from '../slack/harness.ts';
import { type SlackFake, startSlackFake } from './slack-fake.ts';
import { sendSlashCommand } from './slack-http.ts';
import { slashCommand } from './slack-payloads.ts';

export interface DemoBolt {
  sandbox: DemoSandbox;
  fake: SlackFake;
  slack: SlackApp;
  ask(text: string, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

export async function startDemoBolt(commands: readonly AnyCommand[]): Promise<DemoBolt> {
  const sandbox = await startDemoSandbox({ faults: false });
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  const fake = await startSlackFake();
  const { slack, eventsUrl } = await startApp(fake, 'http', { kube: new KubeClient(kc), commands: [...commands] });
  return {
    sandbox,
    fake,
    slack,
    async ask(text, timeoutMs = 20_000) {
      fake.clear();
      const res = await sendSlashCommand(eventsUrl, slashCommand(text, { responseUrl: fake.responseUrl() }), {
        secret: SIGNING_SECRET,
      });
      expect(res.status).toBe(200);
      const update = await fake.waitFor(() => fake.calls('chat.update')[0], timeoutMs);
      await slack.idle();
      return blockText(update.args) + String(update.args.text);
    },
    async close() {
      await slack.stop();
      await fake.close();
      await sandbox.close();
    },
  };
}
