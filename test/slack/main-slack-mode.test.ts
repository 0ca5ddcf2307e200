// `npm start` with Slack tokens, as a real process: it connects over Socket Mode to the Slack fake,
// answers /mesh config bookinfo from the demo mesh, and on SIGTERM finishes and exits 0.
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { projectRoot } from '../support/shared.ts';
import { slashCommand } from '../support/slack-payloads.ts';
import { APP_TOKEN, BOT_TOKEN } from './harness.ts';

let fake: SlackFake;
let child: ChildProcess | undefined;
let output = '';

beforeAll(async () => {
  fake = await startSlackFake();
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await fake?.close();
});

describe('npm start in Slack mode', () => {
  it('answers /mesh config bookinfo from the demo mesh over Socket Mode, then shuts down cleanly on SIGTERM', async () => {
    child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', 'src/main.ts'], {
      cwd: projectRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_APP_TOKEN: APP_TOKEN,
        SLACK_API_URL: fake.apiUrl,
        MESHOPS_KUBE: 'demo',
        HEALTH_PORT: '0',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d) => (output += String(d)));
    child.stderr?.on('data', (d) => (output += String(d)));
    const exited = new Promise<number | null>((resolve) => child?.on('exit', (code) => resolve(code)));

    await fake.socket.waitForConnections(1, 20_000).catch((err) => {
      throw new Error(`${err.message}\n--- meshops output ---\n${output}`);
    });
    fake.socket.send('slash_commands', slashCommand('config bookinfo', { responseUrl: fake.responseUrl() }));
    const update = await fake.waitFor(() => fake.calls('chat.update')[0], 15_000);
    expect(fake.calls('chat.postMessage')[0]?.args.text).toMatch(/^Working on \/mesh config bookinfo/);
    expect(update.args.text).toMatch(/^Istio config in namespace bookinfo: .*VirtualService/);
    expect(output).not.toContain(BOT_TOKEN);
    expect(output).not.toContain(APP_TOKEN);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('shutting down');
  }, 45_000);
});
