// meshops' memory and event-loop delay against a mesh of 2,000 pods served by a sandbox API server in a process
// of its own: RSS and heap used idle after start, during a burst of 50 `/mesh stale` (signed slash commands over
// HTTP, 50 different people in one channel), and ~10 s after (after a global.gc when the app runs with
// --expose-gc); the event loop's delay (perf_hooks.monitorEventLoopDelay) while the burst is answered.
//   node_modules/.bin/node bench/memory.ts [pods] [--expose-gc] [-- node flags for the app…]
//   MALLOC_ARENA_MAX=2 MALLOC_TRIM_THRESHOLD_=131072 MALLOC_MMAP_THRESHOLD_=131072 node_modules/.bin/node \
//     bench/memory.ts -- --max-semi-space-size=2                (the image's glibc settings and node flag)
// Three processes besides this one: the sandbox (this file with `sandbox`), the app (this file with `serve`),
// and this one, which holds the Slack fake and sends the requests (the app's figures are the app's alone).
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { startSlackFake } from '../test/support/slack-fake.ts';
import { sendSlashCommand } from '../test/support/slack-http.ts';
import { slashCommand } from '../test/support/slack-payloads.ts';

const SECRET = 'f00dfeedcafe0123456789abcdef0123';
const TOKEN = 'xoxb-1111-2222-benchtoken';
const BURST = 50;
const ISTIODS = ['istiod-7d4f74889d-abcde', 'istiod-7d4f74889d-fghij', 'istiod-7d4f74889d-zt4wn'];

interface Sample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** Event-loop delay since the last reset, ms. */
  loop: { p50: number; p99: number; max: number };
  /** Modules loaded so far whose path names one of the heavy ones. */
  heavy: string[];
}

// ---------------------------------------------------------------------------------------------
// The sandbox: a mesh of `pods` proxies over 40 namespaces and 3 istiods, simulated sync state with a few faults.

async function serveSandbox(pods: number, kubeconfig: string): Promise<void> {
  const { startSandbox } = await import('../src/sandbox/server.ts');
  const { buildMeshSync } = await import('../src/sandbox/istiod-sim.ts');
  const { largeMeshSeed, proxyPodsOf } = await import('../test/stale/support.ts');
  const sb = await startSandbox({ controllers: false, seed: largeMeshSeed(pods, 40, ISTIODS) });
  const refs = proxyPodsOf(sb).slice(0, pods);
  const ids = refs.map((p) => `${p.name}.${p.namespace}`);
  const sims = buildMeshSync({
    istiods: ISTIODS,
    pods: refs,
    staleLds: ids.filter((_, i) => i % 257 === 3),
    nack: ids.filter((_, i) => i % 701 === 5).map((proxyId) => ({ proxyId, type: 'CDS' as const })),
    disconnected: ids.filter((_, i) => i % 997 === 11),
  });
  for (const s of sims) {
    s.registerOn(sb.podEndpoints);
    sb.setPodLogs('istio-system', s.podName, 'discovery', s.logLines({ kubeletTime: true }));
  }
  await sb.writeKubeconfig(kubeconfig);
  process.send?.({ pods: refs.length });
  process.on('SIGTERM', () => void sb.close().then(() => process.exit(0)));
}

// ---------------------------------------------------------------------------------------------
// The app: the full composition on Bolt's HTTP receiver, as bench/acks.ts runs it.

const HEAVY = /crd-schemas|vega|resvg|analyzers\/registry|@kubernetes\/client-node\/dist\/index/;

async function serve(): Promise<void> {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  // Every module resolved from here on, to name the heavy ones loaded while idle.
  const loaded = new Set<string>();
  const { registerHooks } = await import('node:module');
  registerHooks({
    resolve(specifier, context, next) {
      const r = next(specifier, context);
      loaded.add(r.url);
      return r;
    },
  });
  const { loadSettings } = await import('../src/config.ts');
  const { connect } = await import('../src/kube/connect.ts');
  const { createLogger } = await import('../src/log.ts');
  const { assemble } = await import('../src/meshops.ts');
  const { startSlack } = await import('../src/slack/start.ts');
  const settings = loadSettings(process.env);
  if (!settings.slack) throw new Error('bench: no Slack settings');
  const log = createLogger({ level: 'silent' });
  const connection = await connect(settings);
  const meshops = await assemble(settings, connection, log);
  await startSlack({ settings, slack: settings.slack, connection, meshops, log });
  process.on('message', (m: unknown) => {
    if (m === 'gc') (globalThis as { gc?: () => void }).gc?.();
    if (m === 'reset') loop.reset();
    if (m === 'stats' || m === 'gc' || m === 'reset') {
      const u = process.memoryUsage();
      const heavy = new Set<string>();
      for (const k of loaded) if (HEAVY.test(k)) heavy.add(k.replace(/.*node_modules\//, ''));
      process.send?.({
        rss: u.rss,
        heapUsed: u.heapUsed,
        heapTotal: u.heapTotal,
        external: u.external,
        arrayBuffers: u.arrayBuffers,
        loop: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
        heavy: [...heavy],
      } satisfies Sample);
    }
  });
  process.send?.('ready');
}

// ---------------------------------------------------------------------------------------------
// The driver.

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function firstMessage<T>(child: ChildProcess, what: string, ms = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bench: ${what} did not start within ${ms / 1000} s`)), ms);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve(m as T);
    });
    child.once('exit', (code) => reject(new Error(`bench: ${what} exited (${code})`)));
  });
}

const progress = (s: string) => process.stderr.write(`bench: ${s}\n`);
const mib = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
const line = (what: string, s: Sample) =>
  `${what.padEnd(22)} RSS ${mib(s.rss).padStart(8)}  heap used ${mib(s.heapUsed).padStart(8)} of ${mib(s.heapTotal).padStart(8)}  external ${mib(s.external).padStart(7)}`;

async function drive(): Promise<void> {
  const args = process.argv.slice(2);
  const dash = args.indexOf('--');
  const appFlags = dash >= 0 ? args.slice(dash + 1) : [];
  const own = dash >= 0 ? args.slice(0, dash) : args;
  const pods = Number(own.find((a) => /^\d+$/.test(a)) ?? 2000);
  if (own.includes('--expose-gc')) appFlags.push('--expose-gc');
  const dir = mkdtempSync(join(tmpdir(), 'meshops-memory-'));
  const kubeconfig = join(dir, 'sandbox.kubeconfig');
  const sandbox = fork(import.meta.filename, ['sandbox', String(pods), kubeconfig], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const fake = await startSlackFake();
  let app: ChildProcess | undefined;
  try {
    const served = await firstMessage<{ pods: number }>(sandbox, 'the sandbox', 120_000);
    progress(`sandbox serves ${served.pods} pods`);
    const port = await freePort();
    app = fork(import.meta.filename, ['serve'], {
      env: {
        ...process.env,
        PORT: String(port),
        SLACK_BOT_TOKEN: TOKEN,
        SLACK_SIGNING_SECRET: SECRET,
        SLACK_MODE: 'http',
        SLACK_API_URL: fake.apiUrl,
        MESHOPS_KUBE: 'kubeconfig',
        KUBECONFIG: kubeconfig,
        HEALTH_PORT: '0',
        LOG_LEVEL: 'silent',
      },
      execArgv: [...process.execArgv, ...appFlags],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const child = app;
    const t0 = performance.now();
    if ((await firstMessage(child, 'meshops')) !== 'ready') throw new Error('bench: meshops did not say ready');
    const startMs = performance.now() - t0;
    progress(`meshops ready in ${startMs.toFixed(0)} ms`);
    const ask = (m: string) =>
      new Promise<Sample>((resolve) => {
        child.once('message', (s) => resolve(s as Sample));
        child.send(m);
      });
    const url = `http://127.0.0.1:${port}/slack/events`;
    const base = fake.apiUrl.replace(/\/api\/?$/, '');
    let ids = 0;
    const send = (channel: string, i: number) =>
      sendSlashCommand(
        url,
        slashCommand('stale', {
          responseUrl: `${base}/response/RMEM${++ids}`,
          channel,
          user: `UMEM${String(i).padStart(3, '0')}`,
          userName: `mem${i}`,
        }),
        { secret: SECRET },
      );
    const answered = (channel: string) =>
      fake.messages(channel).filter((m) => !/^(Working on|Queued)/.test(m.text ?? '')).length;
    const waitAnswers = async (channel: string, n: number) => {
      const until = performance.now() + 120_000;
      while (answered(channel) < n) {
        if (performance.now() > until) throw new Error(`bench: ${channel} did not get ${n} answers in 120 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await new Promise((r) => setTimeout(r, 2000));
    const idle = await ask('gc');
    // The first stale: the cluster read once (and the modules a diagnosis needs loaded), then the burst.
    await send('CMEM001', 0);
    await waitAnswers('CMEM001', 1);
    await new Promise((r) => setTimeout(r, 1000));
    const afterOne = await ask('gc');
    progress('one stale answered; the burst');
    await ask('reset');
    let peak = afterOne;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const s = await ask('stats');
        if (s.rss > peak.rss) peak = s;
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const b0 = performance.now();
    const acks = await Promise.all(Array.from({ length: BURST }, (_, i) => send('CMEM002', i)));
    for (const r of acks) if (r.status !== 200) throw new Error(`bench: meshops answered ${r.status}`);
    await waitAnswers('CMEM002', BURST);
    const burstMs = performance.now() - b0;
    sampling = false;
    await sampler;
    const loopUnderBurst = (await ask('stats')).loop;
    await new Promise((r) => setTimeout(r, 10_000));
    const after = await ask('gc');
    const gc = appFlags.includes('--expose-gc') ? 'after gc' : 'no gc exposed';
    console.log(
      `meshops memory against ${served.pods} pods (sandbox in another process); app flags: ${appFlags.join(' ') || 'none'}; MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX ?? 'unset'}, trim/mmap thresholds ${process.env.MALLOC_TRIM_THRESHOLD_ ?? 'unset'}/${process.env.MALLOC_MMAP_THRESHOLD_ ?? 'unset'}; started in ${startMs.toFixed(0)} ms`,
    );
    console.log(line(`idle after start (${gc === 'after gc' ? 'gc' : '-'})`, idle));
    console.log(line('after one stale', afterOne));
    console.log(line(`peak under ${BURST} stale`, peak));
    console.log(line(`~10 s after (${gc})`, after));
    console.log(
      `burst of ${BURST} stale: all answered in ${burstMs.toFixed(0)} ms; event-loop delay p50 ${loopUnderBurst.p50.toFixed(1)} ms, p99 ${loopUnderBurst.p99.toFixed(1)} ms, max ${loopUnderBurst.max.toFixed(1)} ms`,
    );
    console.log(`heavy modules loaded idle: ${idle.heavy.join(', ') || 'none'}`);
    console.log(
      `targets: steady RSS < 250 MiB ${after.rss < 250 * 2 ** 20 ? 'met' : 'MISSED'}; back near idle (within 20%) ${after.rss < idle.rss * 1.2 ? 'yes' : 'NO'}; near the warm level after one stale (within 20%) ${after.rss < afterOne.rss * 1.2 ? 'yes' : 'NO'}`,
    );
  } finally {
    if (app && app.exitCode === null) {
      const exited = new Promise((r) => app?.once('exit', r));
      app.kill('SIGTERM');
      await exited;
    }
    const sbExit = new Promise((r) => sandbox.once('exit', r));
    sandbox.kill('SIGTERM');
    await sbExit;
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'sandbox') await serveSandbox(Number(process.argv[3]), process.argv[4] as string);
else if (process.argv[2] === 'serve') await serve();
else await drive();
