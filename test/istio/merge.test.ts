import { describe, expect, it } from '@jest/globals';
import type { IstiodAnswer } from '../../src/istio/istiod-sync.ts';
import { mergeSyncStatus, unhealthyProxies, worstStatus } from '../../src/istio/merge.ts';
import { TYPE_URL } from '../../src/istio/proxy-status.ts';
import { parseSyncz, proxyStatusFromSyncz } from '../../src/istio/syncz.ts';
import { buildMeshSync, IstiodSim } from '../../src/sandbox/istiod-sim.ts';
import { demoScenario, idOf, ISTIODS, WORKLOADS } from './support/istiod-fixture.ts';

const answerOf = (sim: IstiodSim): IstiodAnswer => ({
  istiod: sim.podName,
  ok: true,
  rows: proxyStatusFromSyncz(sim.podName, parseSyncz(sim.syncz())),
});

describe('mergeSyncStatus', () => {
  it('two replicas that split the proxies: each proxy once, with its istiod; the missing pod is DISCONNECTED', () => {
    const merged = mergeSyncStatus(buildMeshSync(demoScenario()).map(answerOf), WORKLOADS);
    expect(merged.proxies.map((p) => [p.proxyId, p.connection, p.row?.istiod])).toEqual([
      [idOf(WORKLOADS[0]), 'DISCONNECTED', undefined],
      [idOf(WORKLOADS[1]), 'CONNECTED', ISTIODS[0]],
      [idOf(WORKLOADS[2]), 'CONNECTED', ISTIODS[1]],
      [idOf(WORKLOADS[3]), 'CONNECTED', ISTIODS[0]],
      [idOf(WORKLOADS[4]), 'CONNECTED', ISTIODS[1]],
    ]);
    expect(merged.istiods.map((i) => [i.istiod, i.ok, i.proxies])).toEqual([
      [ISTIODS[0], true, 2],
      [ISTIODS[1], true, 2],
    ]);
    expect(merged.noIstiod).toBe(false);
    expect(unhealthyProxies(merged).map((p) => [p.proxyId, p.connection, p.row ? worstStatus(p.row) : '-'])).toEqual([
      [idOf(WORKLOADS[0]), 'DISCONNECTED', '-'],
      [idOf(WORKLOADS[2]), 'CONNECTED', 'ERROR'],
      [idOf(WORKLOADS[3]), 'CONNECTED', 'STALE'],
    ]);
  });

  it('an istiod that could not be read makes the unseen pods UNKNOWN, never healthy, and says which and why', () => {
    const [a] = buildMeshSync(demoScenario({ disconnected: [] }));
    const failed: IstiodAnswer = {
      istiod: ISTIODS[1],
      ok: false,
      kind: 'timeout',
      message: 'timed out after 10000 ms',
    };
    const merged = mergeSyncStatus([answerOf(a!), failed], WORKLOADS);
    const unknown = merged.proxies.filter((p) => p.connection === 'UNKNOWN');
    // Round-robin gives replica 1 the 2nd and 4th proxies by ID.
    expect(unknown.map((p) => p.proxyId)).toEqual([idOf(WORKLOADS[1]), idOf(WORKLOADS[3])]);
    expect(unknown[0]!.unreadIstiods).toEqual([
      { istiod: ISTIODS[1], kind: 'timeout', message: 'timed out after 10000 ms' },
    ]);
    expect(merged.proxies.filter((p) => p.connection === 'DISCONNECTED')).toEqual([]);
    expect(merged.failures).toHaveLength(1);
    expect(unhealthyProxies(merged).map((p) => p.proxyId)).toEqual(
      expect.arrayContaining(unknown.map((p) => p.proxyId)),
    );
  });

  it('no istiod at all: noIstiod, and every sidecar pod is DISCONNECTED', () => {
    const merged = mergeSyncStatus([], WORKLOADS);
    expect(merged.noIstiod).toBe(true);
    expect(new Set(merged.proxies.map((p) => p.connection))).toEqual(new Set(['DISCONNECTED']));
  });

  it('a proxy listed by two replicas (reconnect in flight) keeps the freshest push and names the other', () => {
    const clock = { t: Date.parse('2026-11-25T12:00:00Z') };
    const now = () => new Date(clock.t);
    const old = new IstiodSim({ podName: ISTIODS[0], now });
    old.connect('ratings-v1-x.bookinfo');
    clock.t += 60_000;
    const fresh = new IstiodSim({ podName: ISTIODS[1], now });
    fresh.connect('ratings-v1-x.bookinfo');
    for (const order of [
      [old, fresh],
      [fresh, old],
    ]) {
      const merged = mergeSyncStatus(order.map(answerOf), [{ namespace: 'bookinfo', name: 'ratings-v1-x' }]);
      expect(merged.proxies).toHaveLength(1);
      expect(merged.proxies[0]).toMatchObject({ connection: 'CONNECTED', alsoListedBy: [ISTIODS[0]] });
      expect(merged.proxies[0]!.row!.istiod).toBe(ISTIODS[1]);
    }
  });

  it('keeps proxies istiod knows without a listed pod (hasPod false) and filters by namespace', () => {
    const sim = new IstiodSim({ podName: ISTIODS[0] });
    sim.connect('istio-ingressgateway-5d9c8f7b6-abcde.istio-system', { proxyType: 'router' });
    sim.connect('reviews-v1-x.bookinfo');
    const all = mergeSyncStatus([answerOf(sim)], [{ namespace: 'bookinfo', name: 'reviews-v1-x' }]);
    expect(all.proxies.map((p) => [p.proxyId, p.hasPod])).toEqual([
      ['istio-ingressgateway-5d9c8f7b6-abcde.istio-system', false],
      ['reviews-v1-x.bookinfo', true],
    ]);
    const scoped = mergeSyncStatus([answerOf(sim)], [{ namespace: 'bookinfo', name: 'reviews-v1-x' }], {
      namespace: 'bookinfo',
    });
    expect(scoped.proxies.map((p) => p.proxyId)).toEqual(['reviews-v1-x.bookinfo']);
    expect(scoped.istiods[0]!.proxies).toBe(1);
  });

  it('worstStatus orders ERROR over STALE over NOT_SENT over SYNCED', () => {
    const sim = new IstiodSim({ podName: 'i' });
    sim.connect('a.ns');
    sim.push('a.ns', TYPE_URL.LDS);
    const [row] = proxyStatusFromSyncz('i', parseSyncz(sim.syncz()));
    expect(worstStatus(row!)).toBe('STALE');
    sim.nack('a.ns', TYPE_URL.CDS, 'boom');
    expect(worstStatus(proxyStatusFromSyncz('i', parseSyncz(sim.syncz()))[0]!)).toBe('ERROR');
  });
});
