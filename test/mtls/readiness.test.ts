// /mesh mtls through Slack against the sandbox's demo mesh and its traffic: a ready namespace, one
// with a plaintext caller and a pod without a sidecar; then the Prometheus reading on its own, against
// a small HTTP server that answers like Prometheus's query API.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseWindow } from '../../src/features/mtls/mtls.ts';
import { plaintextQuery, scanPrometheus } from '../../src/features/mtls/plaintext-scan.ts';
import { buttonIn, CAROL, type MtlsBot, slash, slashPrivate, startMtlsBot, text } from './bot.ts';

let bot: MtlsBot;

beforeAll(async () => {
  bot = await startMtlsBot();
});

afterAll(async () => {
  await bot?.close();
});

describe('/mesh mtls <namespace>', () => {
  it('a ready namespace: every workload, its mode per port and who decided it; no plaintext caller; the STRICT button', async () => {
    const msg = await slash(bot, 'mtls shop --window 300ms');
    const t = text(msg);
    expect(t).toContain('mTLS readiness · namespace shop');
    expect(t).toContain('*Ready for STRICT.*');
    expect(t).toMatch(
      /cart-v1 +yes +PERMISSIVE +Istio's default \(no PeerAuthentication applies\) +8080:PERMISSIVE 9090:STRICT\*/,
    );
    expect(t).toMatch(/frontend +yes +PERMISSIVE/);
    expect(t).toContain('*Plaintext callers:* none seen.');
    expect(t).toContain('growth over 0.3s');
    expect(buttonIn(msg.blocks, 'Enable STRICT for shop')).toBeDefined();
    expect(buttonIn(msg.blocks, 'override')).toBeUndefined();
  });

  it('a namespace with a plaintext caller and a pod without a sidecar: not ready, with the caller and its counts', async () => {
    const msg = await slash(bot, 'mtls legacy --window 500ms', CAROL);
    const t = text(msg);
    const batch = bot.sb.store.list('Pod', 'legacy').find((p) => p.metadata.labels?.app === 'batch-report')!;
    expect(t).toContain('*Not ready for STRICT:*');
    expect(t).toContain(`1 pod has no sidecar (${batch.metadata.name})`);
    expect(t).toMatch(
      /unknown \(no sidecar\) called inventory in plaintext, \d+ requests \(all 200\): it has no sidecar/,
    );
    expect(t).toContain(`*Pods without a sidecar:* \`${batch.metadata.name}\``);
    // Caller table: total since the proxy started, and recent growth over the window (the model sends one per 100 ms).
    const row = /unknown \(no sidecar\) +no +inventory +(\d+) +(\d+) +200:\d+ +0/.exec(t);
    expect(row).not.toBeNull();
    expect(Number(row![1])).toBeGreaterThanOrEqual(Number(row![2]));
    expect(Number(row![2])).toBeGreaterThan(0);
    // The metrics say "unknown"; the inventory sidecar's access log names the caller's pod by its address.
    const ip = (batch.status as { podIP?: string }).podIP!;
    expect(t).toContain(`\`${batch.metadata.name}.legacy\` (${ip}, no sidecar) → inventory:`);
    expect(buttonIn(msg.blocks, 'Enable STRICT anyway (override) for legacy')).toBeDefined();
  });

  it('bad input says what to type instead', async () => {
    expect(text(await slash(bot, 'mtls nowhere'))).toContain('There is no namespace `nowhere`');
    expect(await slashPrivate(bot, 'mtls')).toContain('Which namespace?');
    expect(await slashPrivate(bot, 'mtls shop --window 9h')).toContain('is not a duration');
    expect(await slashPrivate(bot, 'mtls shop --override')).toContain('`--override` goes with `--strict`');
    expect(parseWindow('1.5s')).toBe(1500);
    expect(() => parseWindow('20m')).toThrow(/out of range/);
  });
});

describe('plaintext callers from Prometheus', () => {
  let server: Server;
  let url = '';
  const queries: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const q = new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '';
      queries.push(q);
      res.writeHead(200, { 'content-type': 'application/json' });
      if (q.includes('"broken"')) return void res.end('{"status":"error"}');
      res.end(
        JSON.stringify({
          status: 'success',
          data: {
            resultType: 'vector',
            result: [
              {
                metric: {
                  source_workload: 'unknown',
                  source_workload_namespace: 'unknown',
                  destination_workload: 'inventory',
                  response_code: '200',
                },
                value: [1764093600, '41.7'],
              },
              {
                metric: {
                  source_workload: 'cron',
                  source_workload_namespace: 'jobs',
                  destination_workload: 'inventory',
                  response_code: '503',
                },
                value: [1764093600, '2'],
              },
            ],
          },
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('asks for destination-reported plaintext requests into the namespace and reads callers from the answer', async () => {
    const scan = await scanPrometheus(url, 'legacy', '10m');
    expect(queries.at(-1)).toBe(plaintextQuery('legacy', '10m'));
    expect(queries.at(-1)).toContain(
      'reporter="destination",connection_security_policy="none",destination_workload_namespace="legacy"',
    );
    expect(queries.at(-1)).toContain('[10m]');
    expect(scan.source).toContain('over the last 10m');
    expect(scan.callers?.map((c) => [c.source, c.destinationWorkload, c.requests, c.byResponseCode])).toEqual([
      ['unknown (no sidecar)', 'inventory', 42, { '200': 42 }],
      ['cron.jobs', 'inventory', 2, { '503': 2 }],
    ]);
  });

  it('an answer it cannot use leaves callers unknown, with the reason', async () => {
    const scan = await scanPrometheus(url, 'broken');
    expect(scan.callers).toBeUndefined();
    expect(scan.unread[0]?.reason).toContain('not an instant vector');
    const down = await scanPrometheus('http://127.0.0.1:9', 'legacy', '10m', 500);
    expect(down.callers).toBeUndefined();
    expect(down.unread).toHaveLength(1);
  });
});

describe('plaintext callers with no sidecar to read from', () => {
  it('is "could not check", never "none seen", and keeps the verdict at not ready', async () => {
    const { MeshSnapshot } = await import('../../src/mesh/snapshot.ts');
    const { scanPods } = await import('../../src/features/mtls/plaintext-scan.ts');
    const { meshTlsReadiness } = await import('../../src/mesh/mtls-readiness.ts');
    const snapshot = new MeshSnapshot([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'plain' } },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web-1', namespace: 'plain', labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'nginx' }] },
        status: { phase: 'Running' },
      },
    ]);
    // No kube call is needed (nor made) when no pod has a sidecar.
    const scan = await scanPods(undefined as never, snapshot, 'plain', 100);
    expect(scan.callers).toBeUndefined();
    expect(scan.nothingToRead).toBe(
      "no running pod in plain has a sidecar, and only the destination's sidecar reports who called it",
    );
    const r = meshTlsReadiness(snapshot, 'plain', scan.callers, scan.nothingToRead);
    expect(r.ready).toBe(false);
    expect(r.reasons.join('\n')).toContain(
      'Plaintext callers could not be checked: no running pod in plain has a sidecar',
    );
  });
});
