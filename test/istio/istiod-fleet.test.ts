// The simulated istiods following the sandbox's pods: the demo mesh's proxies connect, faults stick
// to the pods they were injected into, and a restarted workload comes back SYNCED.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../src/kube/client.ts';
import { readAllIstiods } from '../../src/istio/istiod-sync.ts';
import { mergeSyncStatus, worstStatus } from '../../src/istio/merge.ts';
import { IstiodFleet } from '../../src/sandbox/istiod-sim.ts';
import { demoMeshObjects } from '../../src/sandbox/demo/demo-mesh.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';
import type { KubeObject } from '../../src/kube/objects.ts';

let sandbox: Sandbox;
let kc: KubeConfig;
let kube: KubeClient;
let fleet: IstiodFleet;

const sidecarPods = (): { namespace: string; name: string }[] =>
  sandbox.store
    .list('Pod')
    .filter((p: KubeObject) =>
      ((p.spec as { containers?: { name: string }[] }).containers ?? []).some((c) => c.name === 'istio-proxy'),
    )
    .map((p: KubeObject) => ({ namespace: p.metadata.namespace!, name: p.metadata.name }));

async function merged() {
  const istiods = fleet.istiods().map((s) => s.podName);
  return mergeSyncStatus(await readAllIstiods(kube, istiods, { timeoutMs: 5000 }), sidecarPods());
}

beforeAll(async () => {
  sandbox = await startSandbox({ seed: demoMeshObjects(), rolloutStepMs: 20 });
  sandbox.settle();
  fleet = new IstiodFleet(sandbox.store, sandbox.podEndpoints, {
    logSink: (pod, lines) => sandbox.setPodLogs('istio-system', pod, 'discovery', lines),
  });
  fleet.start();
  kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  kube = new KubeClient(kc);
});

afterAll(async () => {
  fleet?.stop();
  await sandbox?.close();
});

describe('IstiodFleet on the demo mesh', () => {
  it('connects every running sidecar pod, spread over the istiod replicas, all SYNCED', async () => {
    const m = await merged();
    expect(fleet.istiods().length).toBeGreaterThanOrEqual(2);
    expect(m.proxies.length).toBeGreaterThan(0);
    expect(m.proxies.every((p) => p.connection === 'CONNECTED' && worstStatus(p.row!) === 'SYNCED')).toBe(true);
    const counts = fleet.istiods().map((s) => s.size);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });

  it('injects faults into current pods: STALE LDS, CDS NACK, a disconnected proxy', async () => {
    const touched = fleet.inject({
      staleLds: ['bookinfo/reviews-v1-'],
      nackCds: ['bookinfo/ratings-v1-'],
      disconnected: ['bookinfo/details-v1-'],
    });
    expect(touched.length).toBe(3);
    const m = await merged();
    const byPrefix = (prefix: string) => m.proxies.find((p) => p.proxyId.startsWith(prefix))!;
    expect(worstStatus(byPrefix('reviews-v1-').row!)).toBe('STALE');
    expect(worstStatus(byPrefix('ratings-v1-').row!)).toBe('ERROR');
    expect(byPrefix('details-v1-').connection).toBe('DISCONNECTED');
  });

  it("writes istiod's log lines for connections and NACKs into the pod log (pods/log)", async () => {
    const nacked = fleet.istiods().find((s) => s.connected().some((id) => id.startsWith('ratings-v1-')))!;
    const core = kc.makeApiClient(CoreV1Api);
    const text = await core.readNamespacedPodLog({
      name: nacked.podName,
      namespace: 'istio-system',
      container: 'discovery',
      tailLines: 50,
    });
    expect(text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z\tinfo\tads\tADS: new connection for node:/m);
    expect(text).toMatch(
      /\twarn\tads\tADS:CDS: ACK ERROR ratings-v1-[^ ]+\.bookinfo-\d+ Internal:Error adding\/updating cluster\(s\)/,
    );
  });

  it('a replaced pod comes back SYNCED (the restart fixes it)', async () => {
    const stale = sidecarPods().find((p) => p.name.startsWith('reviews-v1-'))!;
    sandbox.store.delete('Pod', stale.namespace, stale.name);
    sandbox.settle();
    await new Promise((r) => setTimeout(r, 50));
    const m = await merged();
    const reviews = m.proxies.filter((p) => p.proxyId.startsWith('reviews-v1-'));
    expect(reviews.map((p) => p.pod)).not.toContain(stale.name);
    expect(reviews.length).toBeGreaterThan(0);
    expect(reviews.every((p) => p.connection === 'CONNECTED' && worstStatus(p.row!) === 'SYNCED')).toBe(true);
  });
});
