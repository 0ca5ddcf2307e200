// `npm start` in Slack mode as a real process on the demo mesh: the health server on HEALTH_PORT turns ready
// once Socket Mode is connected, /metrics counts what main.ts wired (commands, cluster API requests), the
// App Home tab is published, and SIGTERM runs the shutdown sequence and exits 0 with the port closed.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { projectRoot } from '../support/shared.ts';
import { type SlackFake, startSlackFake } from '../support/slack-fake.ts';
import { ALICE, slashCommand } from '../support/slack-payloads.ts';
import { APP_TOKEN, BOT_TOKEN } from '../slack/harness.ts';

let fake: SlackFake;
let child: ChildProcess | undefined;
let output = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n--- meshops output ---\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  fake = await startSlackFake();
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await fake?.close();
});

describe('the meshops process in Slack mode', () => {
  it('is ready once connected, exposes metrics and the Home tab, and drains on SIGTERM', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', 'src/main.ts'], {
      cwd: projectRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_APP_TOKEN: APP_TOKEN,
        SLACK_API_URL: fake.apiUrl,
        MESHOPS_KUBE: 'demo',
        HEALTH_PORT: String(port),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d) => (output += String(d)));
    child.stderr?.on('data', (d) => (output += String(d)));
    const exited = new Promise<number | null>((resolve) => child?.on('exit', (code) => resolve(code)));

    await poll(
      '/readyz to answer 200',
      async () => ((await fetch(`${base}/readyz`)).status === 200 ? true : undefined),
      30_000,
    );
    expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok\n');

    fake.socket.send('slash_commands', slashCommand('config bookinfo', { responseUrl: fake.responseUrl() }));
    await fake.waitFor(() => fake.calls('chat.update')[0], 15_000);

    fake.socket.send('events_api', {
      type: 'event_callback',
      team_id: 'T0000001',
      api_app_id: 'A0000001',
      event: { type: 'app_home_opened', user: ALICE, channel: 'D0HOME001', tab: 'home', event_ts: '1700000000.000100' },
      event_id: 'EvHOMEPROC1',
      event_time: 1700000000,
    });
    const home = await fake.waitFor(() => fake.calls('views.publish')[0], 15_000);
    expect(JSON.stringify(home.args.view)).toContain('*demo* (default): API server answering');

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/meshops_commands_total\{verb="config",outcome="ok"\} 1/);
    expect(metrics).toMatch(/meshops_kube_requests_total\{method="GET",code="200"\} [1-9]\d*/);
    expect(metrics).toContain('meshops_process_cpu_user_seconds_total');

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg?: string; abandoned?: number; problems?: string[] });
    const draining = lines.findIndex((l) => l.msg?.startsWith('shutting down: not ready'));
    const done = lines.findIndex((l) => l.msg === 'shut down');
    expect(draining).toBeGreaterThanOrEqual(0);
    expect(done).toBeGreaterThan(draining);
    expect(lines[done]).toMatchObject({ abandoned: 0, problems: [] });
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    expect(output).not.toContain(BOT_TOKEN);
    expect(output).not.toContain(APP_TOKEN);
  }, 60_000);
});
