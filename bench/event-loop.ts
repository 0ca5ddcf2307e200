// How long meshops' own steps hold the event loop, per command, against a mesh of 2,000 pods served by a sandbox
// API server in a process of its own (bench/memory.ts's sandbox mode). Each command runs through the router
// (the same composition as the bot, no Slack), alone and then as a burst of distinct askers, with
// perf_hooks.monitorEventLoopDelay at 1 ms resolution: the loop's largest delay while a command runs alone is about
// its longest synchronous step (parsing the lists, the analysis, rendering the table).
//   node_modules/.bin/node bench/event-loop.ts [pods] [command …]
// The default commands: `stale`, `status`, `analyze --all`, `why is svc-0 failing in team-00`, `describe service svc-0.team-00`.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

const RUNS = 3;

function firstMessage<T>(child: ChildProcess, ms = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bench: the sandbox did not start within ${ms / 1000} s`)), ms);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve(m as T);
    });
    child.once('exit', (code) => reject(new Error(`bench: the sandbox exited (${code})`)));
  });
}

const args = process.argv.slice(2);
const pods = Number(args.find((a) => /^\d+$/.test(a)) ?? 2000);
const asked = args.filter((a) => !/^\d+$/.test(a));
const commands = asked.length
  ? asked
  : ['stale', 'status', 'analyze --all', 'why is svc-0 failing in team-00', 'describe service svc-0.team-00'];

const dir = mkdtempSync(join(tmpdir(), 'meshops-loop-'));
const kubeconfig = join(dir, 'sandbox.kubeconfig');
const sandbox = fork(join(import.meta.dirname, 'memory.ts'), ['sandbox', String(pods), kubeconfig], {
  stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
});
try {
  const served = await firstMessage<{ pods: number }>(sandbox);
  const { loadSettings } = await import('../src/config.ts');
  const { connect } = await import('../src/kube/connect.ts');
  const { createLogger } = await import('../src/log.ts');
  const { assemble } = await import('../src/meshops.ts');
  const settings = loadSettings({ ...process.env, MESHOPS_KUBE: 'kubeconfig', KUBECONFIG: kubeconfig });
  const log = createLogger({ level: 'silent' });
  const meshops = await assemble(settings, await connect(settings), log);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  let asker = 0;
  const ask = (text: string) =>
    meshops.router.handle(text, { userId: `ULOOP${++asker}`, channelId: `CLOOP${asker}`, source: 'slack' });
  console.log(
    `meshops event-loop delay against ${served.pods} pods (sandbox in another process), watch cache ${settings.watchCache ? 'on' : 'off'}`,
  );
  for (const text of commands) {
    await ask(text); // warm: modules, discovery, JIT
    const alone: number[] = [];
    let ms = 0;
    let outcome = '';
    for (let i = 0; i < RUNS; i++) {
      loop.reset();
      const t0 = performance.now();
      outcome = (await ask(text)).outcome;
      ms += performance.now() - t0;
      alone.push(loop.max / 1e6);
    }
    // Ten distinct askers in ten channels at once: ten runs, nothing shared.
    loop.reset();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 10 }, () => ask(text)));
    const burstMs = performance.now() - t0;
    console.log(
      `${text.padEnd(36)} ${outcome.padEnd(6)} alone ${(ms / RUNS).toFixed(0).padStart(5)} ms, loop max ${alone.map((d) => d.toFixed(0)).join('/')} ms; ` +
        `10 at once ${burstMs.toFixed(0)} ms, loop p99 ${(loop.percentile(99) / 1e6).toFixed(0)} ms, max ${(loop.max / 1e6).toFixed(0)} ms`,
    );
  }
} finally {
  const exited = new Promise((r) => sandbox.once('exit', r));
  sandbox.kill('SIGTERM');
  await exited;
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
