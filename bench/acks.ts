// Ack latency of meshops beside a bare Bolt app that only acks, both on Bolt's HTTPReceiver, fed the same
// signed slash commands, one at a time and in bursts of 50, for `help` and for `stale bookinfo` against the
// demo sandbox API server in a process of its own; the time until every command of a burst is answered;
// API requests per command; the app's RSS idle, under a burst and after.
//   node_modules/.bin/node bench/acks.ts             (the image's runtime flags; `-- <node flags>` to change them)
// Three processes besides this one's: the sandbox (`src/cli.ts sandbox`), the Slack fake (this file with
// `fake`), and each app in turn (this file with `serve <kind>`); they report over IPC. This one sends the
// requests and times them.
// "Sequential": each command is sent once the previous one has been answered (the bot idle otherwise);
// "burst": 50 sent at once, from 50 different people in one channel; three such bursts per phase, acks pooled.
import { type ChildProcess, fork, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startSlackFake } from '../test/support/slack-fake.ts';
import { sendSlashCommand } from '../test/support/slack-http.ts';
import { slashCommand } from '../test/support/slack-payloads.ts';

const SECRET = 'f00dfeedcafe0123456789abcdef0123';
const TOKEN = 'xoxb-1111-2222-benchtoken';
const BURST = 50;
const SEQUENTIAL = { help: 20, stale: 10 };
/** Bursts per phase, each in a channel of its own: the p99 is over all their acks, not one burst's slowest. */
const BURST_ROUNDS = 3;
/**
 * Both apps run as the image runs meshops (Dockerfile: ENV MALLOC_ARENA_MAX=2 and fixed malloc trim/mmap thresholds,
 * CMD --max-semi-space-size=2), so the
 * RSS figures are the deployed process's; MALLOC_ARENA_MAX from the environment wins, and `-- <flags>` replaces
 * the node flags (e.g. `node bench/acks.ts --` for none).
 */
const dash = process.argv.indexOf('--');
const APP_FLAGS = dash >= 0 ? process.argv.slice(dash + 1) : ['--max-semi-space-size=2'];
const ARENAS = process.env.MALLOC_ARENA_MAX ?? '2';
const ANSWERED = (m: { text?: string }) => !/^(Working on|Queued)/.test(m.text ?? '');

type Kind = 'bare' | 'meshops';
interface Stats {
  rss: number;
  apiRequests: number;
  executions: number;
  /** API requests by method and resource (the path's last segment), since start. */
  byKind: Record<string, number>;
}

// ---------------------------------------------------------------------------------------------
// The app under test, in its own process.

async function serve(kind: Kind): Promise<void> {
  const port = Number(process.env.PORT);
  let apiRequests = 0;
  const byKind: Record<string, number> = {};
  let executions = (): number => 0;
  if (kind === 'bare') {
    const { App, HTTPReceiver } = await import('@slack/bolt');
    const receiver = new HTTPReceiver({
      signingSecret: SECRET,
      endpoints: '/slack/events',
      processBeforeResponse: false,
    });
    const app = new App({
      token: TOKEN,
      receiver,
      clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
    });
    app.command('/mesh', async ({ ack }) => {
      await ack();
    });
    await app.start(port);
  } else {
    const { loadSettings } = await import('../src/config.ts');
    const { connect } = await import('../src/kube/connect.ts');
    const { createLogger } = await import('../src/log.ts');
    const { assemble } = await import('../src/meshops.ts');
    const { startSlack } = await import('../src/slack/start.ts');
    const settings = loadSettings(process.env);
    if (!settings.slack) throw new Error('bench: no Slack settings');
    const log = createLogger({ level: 'silent' });
    const connection = await connect(settings, {
      onRequest: (r) => {
        apiRequests++;
        const kind = `${r.method} ${r.path.split('/').at(-1)}`;
        byKind[kind] = (byKind[kind] ?? 0) + 1;
      },
    });
    const meshops = await assemble(settings, connection, log);
    executions = () => meshops.router.flights.executions;
    await startSlack({ settings, slack: settings.slack, connection, meshops, log });
  }
  process.on('message', (m: unknown) => {
    if (m === 'stats')
      process.send?.({ rss: process.memoryUsage().rss, apiRequests, executions: executions(), byKind } satisfies Stats);
  });
  process.send?.('ready');
}

// ---------------------------------------------------------------------------------------------
// The Slack fake, in its own process too, so that recording answers does not slow the timing of acks here.

async function serveFake(): Promise<void> {
  const fake = await startSlackFake();
  process.on('message', (m: { id: number; channel: string }) => {
    const count = fake.messages(m.channel).filter(ANSWERED).length;
    process.send?.({ id: m.id, count });
  });
  process.send?.({ apiUrl: fake.apiUrl });
}

/** The driver's view of the fake: its URLs, and how many messages of a channel are answers by now. */
interface FakeHandle {
  apiUrl: string;
  responseUrl(): string;
  answered(channel: string): Promise<number>;
  close(): Promise<void>;
}

async function startFakeProcess(): Promise<FakeHandle> {
  const child = fork(import.meta.filename, ['fake'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const apiUrl = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { apiUrl: string }).apiUrl));
    child.once('exit', (code) => reject(new Error(`bench: the Slack fake exited (${code})`)));
  });
  const base = apiUrl.replace(/\/api\/?$/, '');
  let ids = 0;
  const waiting = new Map<number, (n: number) => void>();
  child.on('message', (m) => {
    const r = m as { id?: number; count?: number };
    if (r.id !== undefined) waiting.get(r.id)?.(r.count ?? 0);
    if (r.id !== undefined) waiting.delete(r.id);
  });
  return {
    apiUrl,
    responseUrl: () => `${base}/response/RBENCH${++ids}`,
    answered: (channel) =>
      new Promise((resolve) => {
        const id = ++ids;
        waiting.set(id, resolve);
        child.send({ id, channel });
      }),
    close: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
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

async function startSandboxProcess(kubeconfig: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['src/cli.ts', 'sandbox', '--port', '0', '--kubeconfig', kubeconfig], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('bench: the sandbox did not start within 20 s')), 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('kubeconfig written to')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`bench: the sandbox exited (${code}) before it started`)));
  });
  return child;
}

interface App {
  kind: Kind;
  child: ChildProcess;
  url: string;
  stats(): Promise<Stats>;
}

async function startApp(kind: Kind, env: Record<string, string>): Promise<App> {
  const port = await freePort();
  const child = fork(import.meta.filename, ['serve', kind], {
    env: {
      MALLOC_TRIM_THRESHOLD_: '131072',
      MALLOC_MMAP_THRESHOLD_: '131072',
      ...process.env,
      ...env,
      PORT: String(port),
      MALLOC_ARENA_MAX: ARENAS,
    },
    execArgv: [...process.execArgv, ...APP_FLAGS],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bench: ${kind} did not start within 20 s`)), 20_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      if (m === 'ready') resolve();
      else reject(new Error(`bench: ${kind} said ${JSON.stringify(m)}`));
    });
    child.once('exit', (code) => reject(new Error(`bench: ${kind} exited (${code}) before it started`)));
  });
  const stats = () =>
    new Promise<Stats>((resolve) => {
      child.once('message', (m) => resolve(m as Stats));
      child.send('stats');
    });
  return { kind, child, url: `http://127.0.0.1:${port}/slack/events`, stats };
}

async function answeredIn(fake: FakeHandle, channel: string, count: number): Promise<void> {
  const deadline = performance.now() + 45_000;
  while ((await fake.answered(channel)) < count) {
    if (performance.now() > deadline) throw new Error(`bench: ${channel} did not get ${count} answers in 45 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let channelCounter = 0;
const newChannel = () => `CBENCH${String(++channelCounter).padStart(3, '0')}`;

function ask(app: App, fake: FakeHandle, text: string, channel: string, i: number) {
  return sendSlashCommand(
    app.url,
    slashCommand(text, {
      responseUrl: fake.responseUrl(),
      channel,
      user: `UBENCH${String(i).padStart(3, '0')}`,
      userName: `bench${i}`,
    }),
    { secret: SECRET },
  );
}

interface Phase {
  acks: number[];
  /** First request sent → every answer in (meshops only). */
  allAnsweredMs?: number;
  apiPerCommand?: number;
  /** API requests during the phase by method and resource. */
  byKind?: Record<string, number>;
  peakRss?: number;
}

function kindsBetween(before: Stats, after: Stats): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after.byKind))
    if (v - (before.byKind[k] ?? 0) > 0) out[k] = v - (before.byKind[k] ?? 0);
  return out;
}

async function sequential(app: App, fake: FakeHandle, text: string, count: number): Promise<Phase> {
  const channel = newChannel();
  const acks: number[] = [];
  const before = await app.stats();
  for (let i = 0; i < count; i++) {
    const r = await ask(app, fake, text, channel, i);
    if (r.status !== 200) throw new Error(`bench: ${app.kind} answered ${r.status} to ${text}`);
    acks.push(r.ms);
    if (app.kind === 'meshops') await answeredIn(fake, channel, i + 1);
  }
  const after = await app.stats();
  return {
    acks,
    apiPerCommand: (after.apiRequests - before.apiRequests) / count,
    byKind: kindsBetween(before, after),
  };
}

async function burst(app: App, fake: FakeHandle, text: string): Promise<Phase> {
  const channel = newChannel();
  const before = await app.stats();
  let peakRss = before.rss;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peakRss = Math.max(peakRss, (await app.stats()).rss);
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: BURST }, (_, i) => ask(app, fake, text, channel, i)));
  for (const r of results) if (r.status !== 200) throw new Error(`bench: ${app.kind} answered ${r.status}`);
  let allAnsweredMs: number | undefined;
  if (app.kind === 'meshops') {
    await answeredIn(fake, channel, BURST);
    allAnsweredMs = performance.now() - t0;
  }
  sampling = false;
  await sampler;
  const after = await app.stats();
  return {
    acks: results.map((r) => r.ms),
    allAnsweredMs,
    apiPerCommand: (after.apiRequests - before.apiRequests) / BURST,
    byKind: kindsBetween(before, after),
    peakRss,
  };
}

/** BURST_ROUNDS bursts one after another; acks pooled, the slowest burst's time to all answered. */
async function bursts(app: App, fake: FakeHandle, text: string): Promise<Phase> {
  const rounds: Phase[] = [];
  for (let i = 0; i < BURST_ROUNDS; i++) rounds.push(await burst(app, fake, text));
  const byKind: Record<string, number> = {};
  for (const r of rounds) for (const [k, v] of Object.entries(r.byKind ?? {})) byKind[k] = (byKind[k] ?? 0) + v;
  const answered = rounds.map((r) => r.allAnsweredMs).filter((ms): ms is number => ms !== undefined);
  return {
    acks: rounds.flatMap((r) => r.acks),
    allAnsweredMs: answered.length ? Math.max(...answered) : undefined,
    apiPerCommand: rounds.reduce((n, r) => n + (r.apiPerCommand ?? 0), 0) / rounds.length,
    byKind,
    peakRss: Math.max(...rounds.map((r) => r.peakRss ?? 0)),
  };
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};
const mib = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;

async function drive(): Promise<void> {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'meshops-acks-'));
  const kubeconfig = join(dir, 'sandbox.kubeconfig');
  const sandbox = await startSandboxProcess(kubeconfig);
  const fake = await startFakeProcess();
  const env = {
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_MODE: 'http',
    SLACK_API_URL: fake.apiUrl,
    MESHOPS_KUBE: 'kubeconfig',
    KUBECONFIG: kubeconfig,
    HEALTH_PORT: '0',
    LOG_LEVEL: 'silent',
  };
  const results: Record<Kind, Record<string, Phase>> = { bare: {}, meshops: {} };
  const rss: Record<Kind, { idle: number; peak: number; after: number }> = {
    bare: { idle: 0, peak: 0, after: 0 },
    meshops: { idle: 0, peak: 0, after: 0 },
  };
  let executions = 0;
  try {
    for (const kind of ['bare', 'meshops'] as const) {
      const app = await startApp(kind, env);
      try {
        // One of each first: module loading, TLS and discovery are start-up costs, not per-command ones.
        await ask(app, fake, 'help', newChannel(), 999);
        const warm = newChannel();
        await ask(app, fake, 'stale bookinfo', warm, 999);
        if (kind === 'meshops') await answeredIn(fake, warm, 1);
        await new Promise((r) => setTimeout(r, 300));
        rss[kind].idle = (await app.stats()).rss;
        const ex0 = (await app.stats()).executions;
        results[kind]['help sequential'] = await sequential(app, fake, 'help', SEQUENTIAL.help);
        results[kind]['help burst'] = await bursts(app, fake, 'help');
        results[kind]['stale sequential'] = await sequential(app, fake, 'stale bookinfo', SEQUENTIAL.stale);
        results[kind]['stale burst'] = await bursts(app, fake, 'stale bookinfo');
        if (kind === 'meshops') executions = (await app.stats()).executions - ex0;
        rss[kind].peak = Math.max(...Object.values(results[kind]).map((p) => p.peakRss ?? 0));
        await new Promise((r) => setTimeout(r, 1000));
        rss[kind].after = (await app.stats()).rss;
      } finally {
        app.child.kill('SIGTERM');
        await new Promise((r) => app.child.once('exit', r));
      }
    }
  } finally {
    await fake.close();
    sandbox.kill('SIGTERM');
    await new Promise((r) => sandbox.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }

  const sent = Object.values(results).reduce(
    (n, phases) => n + Object.values(phases).reduce((m, p) => m + p.acks.length, 0) + 2,
    0,
  );
  console.log(
    `ack latency over HTTP, ms (bare Bolt: an App with only ack(); meshops: the full composition, demo sandbox in another process)`,
  );
  console.log(
    `both apps run with node flags: ${APP_FLAGS.join(' ') || 'none'}; MALLOC_ARENA_MAX=${ARENAS}, malloc trim/mmap thresholds ${process.env.MALLOC_TRIM_THRESHOLD_ ?? '131072'}/${process.env.MALLOC_MMAP_THRESHOLD_ ?? '131072'}`,
  );
  console.log(
    `${'phase'.padEnd(18)} ${'bare med'.padStart(9)} ${'bare p99'.padStart(9)} ${'mesh med'.padStart(9)} ${'mesh p99'.padStart(9)} ${'×med'.padStart(6)} ${'×p99'.padStart(6)}  all answered   API req/cmd`,
  );
  for (const phase of Object.keys(results.meshops)) {
    const b = results.bare[phase] as Phase;
    const m = results.meshops[phase] as Phase;
    const [bm, bp, mm, mp] = [
      quantile(b.acks, 0.5),
      quantile(b.acks, 0.99),
      quantile(m.acks, 0.5),
      quantile(m.acks, 0.99),
    ];
    console.log(
      `${phase.padEnd(18)} ${bm.toFixed(1).padStart(9)} ${bp.toFixed(1).padStart(9)} ${mm.toFixed(1).padStart(9)} ${mp.toFixed(1).padStart(9)} ${(mm / bm).toFixed(2).padStart(6)} ${(mp / bp).toFixed(2).padStart(6)}  ${(m.allAnsweredMs === undefined ? '-' : `${m.allAnsweredMs.toFixed(0)} ms`).padStart(12)}   ${(m.apiPerCommand ?? 0).toFixed(2)}`,
    );
  }
  for (const phase of ['stale sequential', 'stale burst']) {
    const kinds = results.meshops[phase]?.byKind ?? {};
    console.log(
      `  meshops API requests in ${phase}: ${Object.entries(kinds)
        .sort(([, a], [, b]) => b - a)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  }
  console.log(
    `stale diagnoses run by meshops for ${SEQUENTIAL.stale + BURST * BURST_ROUNDS} stale commands: ${executions} (single flight; finished answers shared ${process.env.MESHOPS_SHARED_ANSWER_MS ?? 'the default window'})`,
  );
  for (const kind of ['bare', 'meshops'] as const)
    console.log(
      `RSS ${kind.padEnd(7)}: idle ${mib(rss[kind].idle)}, peak under the bursts ${mib(rss[kind].peak)}, 1 s after ${mib(rss[kind].after)}`,
    );
  // The CLI offline: `meshops analyze -f one.yaml`, wall time and peak RSS of the process, beside bare node.
  const yaml = join(tmpdir(), `meshops-acks-one-${process.pid}.yaml`);
  writeFileSync(
    yaml,
    'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews, namespace: bookinfo}\n' +
      'spec: {hosts: [reviews], gateways: [missing-gateway], http: [{route: [{destination: {host: reviews}}]}]}\n',
  );
  const timed = (args: string[]) => {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      spawnSync(process.execPath, args, { stdio: 'ignore' });
      times.push(performance.now() - t0);
    }
    return quantile(times, 0.5);
  };
  const node = timed(['-e', '']);
  const analyze = timed(['--disable-warning=ExperimentalWarning', 'src/cli.ts', 'analyze', '-f', yaml]);
  rmSync(yaml, { force: true });
  console.log(
    `meshops analyze -f one.yaml (offline): median of 3 ${analyze.toFixed(0)} ms; node -e '' ${node.toFixed(0)} ms; target under 500 ms: ${analyze < 500 ? 'met' : 'MISSED'}`,
  );
  console.log(`${sent} requests in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[2] === 'serve') await serve(process.argv[3] === 'bare' ? 'bare' : 'meshops');
else if (process.argv[2] === 'fake') await serveFake();
else await drive();
