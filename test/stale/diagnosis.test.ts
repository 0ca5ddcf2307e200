// The diagnosis as pure data and its rendering, without a cluster: istiod log lines grouped and
// counted, istiod health, restart suggestions, and long answers moving into a file.
import { describe, expect, it } from '@jest/globals';
import { renderStale } from '../../src/features/stale/stale.ts';
import type { IstiodAnswer } from '../../src/istio/istiod-sync.ts';
import { mergeSyncStatus } from '../../src/istio/merge.ts';
import { istiodPodsOf, type MeshSyncRead, proxyPods } from '../../src/istio/mesh-sync-read.ts';
import { TYPE_URL } from '../../src/istio/proxy-status.ts';
import { diagnoseStale, groupLogLines, logPattern, parseLogLine } from '../../src/istio/stale-diagnosis.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { ISTIODS, istiodObjects, namespace, workloadObjects } from './support.ts';

const NOW = new Date('2026-11-25T12:00:00Z');

function readOf(objects: ReturnType<typeof workloadObjects>, answers: IstiodAnswer[]): MeshSyncRead {
  const snapshot = new MeshSnapshot(objects);
  const istiodPods = istiodPodsOf(snapshot, 'istio-system');
  return {
    snapshot,
    istiodNamespace: 'istio-system',
    istiodPods,
    readyIstiods: ISTIODS.slice(),
    answers,
    merged: mergeSyncStatus(answers, proxyPods(snapshot.list('Pod'))),
  };
}

function rowsFor(objects: ReturnType<typeof workloadObjects>, istiod: string, staleIds: ReadonlySet<string>) {
  return objects
    .filter((o) => o.kind === 'Pod' && o.metadata.namespace !== 'istio-system')
    .map((p) => {
      const id = `${p.metadata.name}.${p.metadata.namespace}`;
      const stale = staleIds.has(id);
      return {
        proxyId: id,
        pod: p.metadata.name,
        namespace: p.metadata.namespace as string,
        cluster: 'Kubernetes',
        istiod,
        istioVersion: '1.24.2',
        xds: [
          { typeUrl: TYPE_URL.CDS, status: 'SYNCED' as const, lastUpdated: '2026-11-25T11:59:00Z' },
          {
            typeUrl: TYPE_URL.LDS,
            status: stale ? ('STALE' as const) : ('SYNCED' as const),
            lastUpdated: '2026-11-25T11:56:00Z',
          },
        ],
      };
    });
}

describe('istiod log evidence', () => {
  it("reads istiod's text format and its JSON format", () => {
    expect(
      parseLogLine(
        '2026-11-25T11:58:00.123456Z\twarn\tads\tADS:LDS: ACK ERROR reviews-v2-abc.bookinfo-7 Internal:bad listener',
      ),
    ).toEqual({
      time: '2026-11-25T11:58:00.123Z',
      level: 'warn',
      message: 'ads ADS:LDS: ACK ERROR reviews-v2-abc.bookinfo-7 Internal:bad listener',
      pattern: 'ads ADS:LDS: ACK ERROR <proxy> Internal:bad listener',
    });
    const j = parseLogLine(
      '{"level":"error","time":"2026-11-25T11:58:01.000000Z","scope":"model","msg":"failed to convert route: rejected by 10.1.2.3:15010"}',
    );
    expect(j).toMatchObject({
      level: 'error',
      time: '2026-11-25T11:58:01.000Z',
      pattern: 'model failed to convert route: rejected by <addr>',
    });
  });

  it('groups repeats of one problem across replicas, counts them, newest group first, and keeps read failures', () => {
    const a = [
      '2026-11-25T11:50:00.000000Z\tinfo\tads\tADS: new connection for node:reviews-v2-abc.bookinfo-7',
      '2026-11-25T11:51:00.000000Z\twarn\tads\tADS:CDS: ACK ERROR ratings-v1-x.bookinfo-3 Internal:bad cluster',
      '2026-11-25T11:52:00.000000Z\twarn\tads\tADS:CDS: ACK ERROR ratings-v1-x.bookinfo-4 Internal:bad cluster',
      '2026-11-25T11:40:00.000000Z\terror\tmodel\tEnvoyFilter bookinfo/lua rejected: unknown filter',
    ].join('\n');
    const b =
      '2026-11-25T11:53:00.000000Z\twarn\tads\tADS:CDS: ACK ERROR ratings-v1-y.bookinfo-9 Internal:bad cluster\n';
    const g = groupLogLines([
      { istiod: 'istiod-b', ok: true, text: b },
      { istiod: 'istiod-a', ok: true, text: a },
      { istiod: 'istiod-c', ok: false, error: 'pods "istiod-c" is forbidden' },
    ]);
    expect(g.groups.map((x) => [x.count, x.level, x.pattern, x.istiods])).toEqual([
      [3, 'warn', 'ads ADS:CDS: ACK ERROR <proxy> Internal:bad cluster', ['istiod-a', 'istiod-b']],
      [1, 'error', 'model EnvoyFilter bookinfo/lua rejected: unknown filter', ['istiod-a']],
    ]);
    expect(g.groups[0]!.sample).toContain('ratings-v1-y.bookinfo-9');
    expect(g.failures).toEqual([{ istiod: 'istiod-c', error: 'pods "istiod-c" is forbidden' }]);
    expect(logPattern('ADS: "10.0.0.1:4444" reviews-1 terminated')).toBe('ADS: "<addr>" reviews-1 terminated');
  });
});

describe('diagnoseStale', () => {
  it('istiod that restarted recently (OOMKilled) and runs short of replicas: unhealthy, Restart istiod first', () => {
    const objects = [
      namespace('bookinfo'),
      ...istiodObjects(ISTIODS, {
        replicas: 3,
        lastTermination: { pod: ISTIODS[0], reason: 'OOMKilled', at: '2026-11-25T11:45:00Z', restarts: 4 },
      }),
      ...workloadObjects({
        namespace: 'bookinfo',
        deployment: 'reviews-v2',
        labels: { app: 'reviews', version: 'v2' },
        replicas: 2,
      }),
    ];
    const stale = new Set(
      objects
        .filter((o) => o.kind === 'Pod' && o.metadata.namespace === 'bookinfo')
        .map((p) => `${p.metadata.name}.bookinfo`),
    );
    const read = readOf(objects, [
      { istiod: ISTIODS[0], ok: true, rows: rowsFor(objects, ISTIODS[0], stale) },
      { istiod: ISTIODS[1], ok: true, rows: [] },
    ]);
    const r = diagnoseStale({ read, logs: [], now: NOW, namespace: 'bookinfo' });
    expect(r.health).toMatchObject({ ready: 2, desired: 3, unhealthy: true });
    expect(r.health.reasons).toEqual([
      '2 of 3 istiod replicas ready',
      `${ISTIODS[0]} restarted (4×), last ended OOMKilled at 2026-11-25T11:45:00Z`,
    ]);
    expect(r.restarts.map((s) => [s.target.name, s.forIstiod, s.pods.length])).toEqual([
      ['istiod', true, 2],
      ['reviews-v2', false, 2],
    ]);
    const out = renderStale(r, NOW);
    expect(out.text).toBe('2 of 2 proxies in bookinfo are STALE (LDS) — since 4m');
    expect(out.offers?.map((o) => o.label)).toEqual([
      'Restart istiod (istio-system/istiod)',
      'Restart deployment bookinfo/reviews-v2',
    ]);
    expect(JSON.stringify(out.blocks)).toContain('2 of 3 ready');
  });

  it('a long table of affected proxies goes into the thread as a file; 120 STALE at once: istiod is the fix, not 40 restarts', () => {
    const objects = [
      namespace('bookinfo'),
      ...istiodObjects(ISTIODS),
      ...Array.from({ length: 40 }, (_, i) =>
        workloadObjects({ namespace: 'bookinfo', deployment: `svc-${i}`, labels: { app: `svc-${i}` }, replicas: 3 }),
      ).flat(),
    ];
    const stale = new Set(
      objects
        .filter((o) => o.kind === 'Pod' && o.metadata.namespace === 'bookinfo')
        .map((p) => `${p.metadata.name}.bookinfo`),
    );
    const read = readOf(objects, [
      { istiod: ISTIODS[0], ok: true, rows: rowsFor(objects, ISTIODS[0], stale) },
      { istiod: ISTIODS[1], ok: true, rows: [] },
    ]);
    const out = renderStale(diagnoseStale({ read, logs: [], now: NOW }), NOW);
    expect(out.text).toBe('120 of 120 proxies in the mesh are STALE (LDS) — since 4m');
    expect(out.files?.map((f) => f.filename)).toEqual(['stale-proxies.txt']);
    expect(out.files?.[0]!.content.trim().split('\n')).toHaveLength(121);
    expect(JSON.stringify(out.blocks)).toMatch(
      /and \d+ more rows: the full table is in the thread as `stale-proxies.txt`/,
    );
    // 120 of 120 STALE: the common factor is istiod, so it is the one restart offered.
    expect(out.offers?.map((o) => o.label)).toEqual(['Restart istiod (istio-system/istiod)']);
    expect(out.offers?.[0]?.remediation.why).toContain('120 of 120 connected proxies (100%) are STALE at once');
    expect(JSON.stringify(out.blocks)).toContain('*istiod is the common factor:*');
    expect(JSON.stringify(out.blocks)).toContain('Fix: istiod, the common factor');
  });

  it("one istiod replica whose proxies are mostly STALE while the other's are in step: that replica is the cause", () => {
    const objects = [
      namespace('bookinfo'),
      ...istiodObjects(ISTIODS),
      ...Array.from({ length: 8 }, (_, i) =>
        workloadObjects({ namespace: 'bookinfo', deployment: `svc-${i}`, labels: { app: `svc-${i}` }, replicas: 2 }),
      ).flat(),
    ];
    const pods = objects.filter((o) => o.kind === 'Pod' && o.metadata.namespace === 'bookinfo');
    const ids = pods.map((p) => `${p.metadata.name}.bookinfo`);
    const onFirst = new Set(ids.slice(0, 8));
    const stale = new Set([...onFirst].slice(0, 6));
    const rows = rowsFor(objects, ISTIODS[0], stale);
    const read = readOf(objects, [
      { istiod: ISTIODS[0], ok: true, rows: rows.filter((r) => onFirst.has(r.proxyId)) },
      {
        istiod: ISTIODS[1],
        ok: true,
        rows: rows.filter((r) => !onFirst.has(r.proxyId)).map((r) => ({ ...r, istiod: ISTIODS[1] })),
      },
    ]);
    const r = diagnoseStale({ read, logs: [], now: NOW });
    // 6 of 16 is under the mesh-wide threshold, but 6 of the first replica's 8 is not chance.
    expect(r.massStale).toBe(
      `6 of the 8 proxies connected to ${ISTIODS[0]} are STALE, while the other replicas' proxies are in step: that replica is the common factor`,
    );
    expect(r.restarts.map((x) => [x.target.name, x.forIstiod])).toEqual([['istiod', true]]);
    expect(r.groups.map((g) => [g.namespace, g.finding, g.proxies.length, g.fix])).toEqual([
      ['bookinfo', 'STALE', 6, 'istiod'],
    ]);
  });
});
