// Reading every istiod replica through the sandbox's pods/portforward, and what each failure says.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../src/kube/client.ts';
import { readAllIstiods, readIstiodSyncz, readyIstiodPods } from '../../src/istio/istiod-sync.ts';
import { mergeSyncStatus } from '../../src/istio/merge.ts';
import { IstiodSim } from '../../src/sandbox/istiod-sim.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';
import { demoScenario, idOf, ISTIODS, istiodPod, serveIstiods, WORKLOADS } from './support/istiod-fixture.ts';

let sandbox: Sandbox;
let kc: KubeConfig;
let kube: KubeClient;

beforeAll(async () => {
  const odd = ['istiod-down', 'istiod-nodebug', 'istiod-locked', 'istiod-garbled'];
  sandbox = await startSandbox({ controllers: false, seed: [...ISTIODS, ...odd].map(istiodPod) });
  serveIstiods(sandbox.podEndpoints, demoScenario());
  new IstiodSim({ podName: 'istiod-nodebug', debugOnHttp: false }).registerOn(sandbox.podEndpoints);
  sandbox.podEndpoints.register('istio-system', 'istiod-locked', 15014, (_q, res) => {
    res.writeHead(401);
    res.end();
  });
  sandbox.podEndpoints.register('istio-system', 'istiod-garbled', 15014, (_q, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('[{"cluster_id": 7}]');
  });
  kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  kube = new KubeClient(kc);
});

afterAll(async () => {
  await sandbox?.close();
});

describe('readIstiodSyncz / readAllIstiods', () => {
  it('reads both replicas, one port-forward each, and the merge splits the proxies between them', async () => {
    sandbox.requests.length = 0;
    const answers = await readAllIstiods(kube, ISTIODS, { timeoutMs: 5000 });
    expect(answers.map((a) => [a.istiod, a.ok])).toEqual([
      [ISTIODS[0], true],
      [ISTIODS[1], true],
    ]);
    expect(sandbox.requests.filter((r) => r.path.endsWith('/portforward'))).toHaveLength(2);
    const merged = mergeSyncStatus(answers, WORKLOADS);
    expect(merged.proxies.find((p) => p.proxyId === idOf(WORKLOADS[0]))?.connection).toBe('DISCONNECTED');
    expect(merged.proxies.filter((p) => p.connection === 'CONNECTED')).toHaveLength(4);
  });

  it('passes the namespace filter to istiod', async () => {
    const a = await readIstiodSyncz(kube, ISTIODS[0], { proxyNamespace: 'other', timeoutMs: 5000 });
    expect(a).toEqual({ istiod: ISTIODS[0], ok: true, rows: [] });
  });

  it.each([
    ['istiod-down', 'unreachable', /connection refused/],
    ['istiod-nodebug', 'debug-disabled', /ENABLE_DEBUG_ON_HTTP=false/],
    ['istiod-locked', 'unauthorized', /401/],
    ['istiod-garbled', 'bad-answer', /syncz answer at 0\.(proxy|cluster_id)/],
    ['istiod-never-existed', 'unreachable', /404/],
  ])('%s → %s, in words', async (pod, kind, message) => {
    const a = await readIstiodSyncz(kube, pod, { timeoutMs: 5000 });
    expect(a).toMatchObject({ istiod: pod, ok: false, kind });
    expect(a.ok ? '' : a.message).toMatch(message);
  });

  it('one replica unreachable: its proxies are UNKNOWN and the answer names it', async () => {
    const answers = await readAllIstiods(kube, [ISTIODS[0], 'istiod-down'], { timeoutMs: 5000 });
    const merged = mergeSyncStatus(answers, WORKLOADS);
    const unknown = merged.proxies.filter((p) => p.connection === 'UNKNOWN');
    expect(unknown.length).toBeGreaterThan(0);
    expect(unknown.every((p) => p.unreadIstiods?.[0]?.istiod === 'istiod-down')).toBe(true);
    expect(merged.failures.map((f) => f.istiod)).toEqual(['istiod-down']);
  });
});

describe('readyIstiodPods', () => {
  it('keeps Running and Ready istiod pods of the revision, sorted', () => {
    const notReady = istiodPod('istiod-b-starting');
    notReady.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] };
    const terminating = istiodPod('istiod-c-old');
    terminating.metadata.deletionTimestamp = '2026-11-25T12:00:00Z';
    const canary = istiodPod('istiod-canary-1');
    canary.metadata.labels = { ...canary.metadata.labels, 'istio.io/rev': 'canary' };
    const pods = [istiodPod('istiod-z'), notReady, terminating, canary, istiodPod('istiod-a')];
    expect(readyIstiodPods(pods)).toEqual(['istiod-a', 'istiod-canary-1', 'istiod-z']);
    expect(readyIstiodPods(pods, 'default')).toEqual(['istiod-a', 'istiod-z']);
    expect(readyIstiodPods(pods, 'canary')).toEqual(['istiod-canary-1']);
  });
});
