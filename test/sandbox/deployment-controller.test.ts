// The sandbox's Deployment/ReplicaSet/kubelet/Endpoints controllers: rolling restarts replace every
// pod one at a time and converge the status kubectl rollout status reads; the fail-start annotation
// leaves a rollout stuck with the reason in pod status; the injector adds the sidecar.
import { afterEach, describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { demoMeshObjects } from '../../src/sandbox/demo/demo-mesh.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';

let sb: Sandbox | undefined;

afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  conditions?: { type: string; status: string; reason: string; message: string }[];
}

function status(d: KubeObject | undefined): DeploymentStatus {
  return (d?.status ?? {}) as DeploymentStatus;
}

function podsOf(s: Sandbox, ns: string, app: string): KubeObject[] {
  return s.store.list('Pod', ns).filter((p) => p.metadata.labels?.app === app);
}

function restart(s: Sandbox, ns: string, name: string, extraAnnotations: Record<string, string> = {}): void {
  const d = s.store.get('Deployment', ns, name) as KubeObject & {
    spec: { template: { metadata: { annotations?: Record<string, string> } } };
  };
  d.spec.template.metadata.annotations = {
    ...d.spec.template.metadata.annotations,
    'kubectl.kubernetes.io/restartedAt': new Date().toISOString(),
    ...extraAnnotations,
  };
  s.store.put(d);
}

function rolledOut(d: KubeObject | undefined): boolean {
  const st = status(d);
  const want = (d?.spec as { replicas?: number } | undefined)?.replicas ?? 1;
  return (
    st.observedGeneration === d?.metadata.generation &&
    st.updatedReplicas === want &&
    st.replicas === want &&
    st.availableReplicas === want &&
    st.conditions?.find((c) => c.type === 'Progressing')?.reason === 'NewReplicaSetAvailable'
  );
}

describe('sandbox Deployment controller', () => {
  it('creates pods for seeded Deployments at start, with owners, hashes and injected sidecars', async () => {
    sb = await startSandbox({ seed: demoMeshObjects(), rolloutStepMs: 20 });
    const istiod = sb.store.get('Deployment', 'istio-system', 'istiod');
    expect(rolledOut(istiod)).toBe(true);
    const [rs, ...extra] = sb.store
      .list('ReplicaSet', 'istio-system')
      .filter((r) => r.metadata.labels?.app === 'istiod');
    expect(extra).toHaveLength(0);
    expect(rs?.metadata.ownerReferences?.[0]).toMatchObject({
      kind: 'Deployment',
      name: 'istiod',
      uid: istiod?.metadata.uid,
      controller: true,
    });
    const pods = podsOf(sb, 'istio-system', 'istiod');
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(p.metadata.name).toMatch(new RegExp(`^${rs?.metadata.name}-[a-z0-9]{5}$`));
      expect(p.metadata.labels?.['pod-template-hash']).toBe(rs?.metadata.labels?.['pod-template-hash']);
      expect(p.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', uid: rs?.metadata.uid });
      expect((p.spec as { containers: { name: string }[] }).containers.map((c) => c.name)).toEqual(['discovery']);
    }
    const [pp] = podsOf(sb, 'bookinfo', 'productpage');
    const spec = pp?.spec as { containers: { name: string; image: string }[]; initContainers: { name: string }[] };
    expect(spec.containers.map((c) => `${c.name}=${c.image}`)).toEqual([
      'productpage=docker.io/istio/examples-bookinfo-productpage-v1:1.20.2',
      'istio-proxy=docker.io/istio/proxyv2:1.24.2',
    ]);
    expect(spec.initContainers.map((c) => c.name)).toEqual(['istio-init']);
    expect(JSON.parse(pp?.metadata.annotations?.['sidecar.istio.io/status'] ?? '{}')).toMatchObject({
      containers: ['istio-proxy'],
      initContainers: ['istio-init'],
      revision: 'default',
    });
    expect(pp?.metadata.labels).toMatchObject({
      'security.istio.io/tlsMode': 'istio',
      'service.istio.io/canonical-name': 'productpage',
      'service.istio.io/canonical-revision': 'v1',
    });
    const ep = sb.store.get('Endpoints', 'bookinfo', 'reviews') as KubeObject & {
      subsets: { addresses: { ip: string }[]; ports: { name: string; port: number }[] }[];
    };
    expect(ep.subsets[0]?.addresses).toHaveLength(3);
    expect(ep.subsets[0]?.ports).toEqual([{ name: 'http', port: 9080, protocol: 'TCP' }]);
  });

  it('a rolling restart replaces every pod one at a time and the status converges', async () => {
    sb = await startSandbox({ seed: demoMeshObjects(), rolloutStepMs: 15 });
    const s = sb;
    const before = new Set(podsOf(s, 'istio-system', 'istiod').map((p) => p.metadata.name));
    let maxPods = 0;
    let minReady = Number.POSITIVE_INFINITY;
    const stop = s.store.subscribe((e) => {
      if (e.object.kind !== 'Pod' || e.object.metadata.labels?.app !== 'istiod') return;
      const pods = podsOf(s, 'istio-system', 'istiod');
      maxPods = Math.max(maxPods, pods.length);
      minReady = Math.min(
        minReady,
        pods.filter((p) =>
          ((p.status as { conditions?: { type: string; status: string }[] }).conditions ?? []).some(
            (c) => c.type === 'Ready' && c.status === 'True',
          ),
        ).length,
      );
    });
    restart(s, 'istio-system', 'istiod');
    const generation = s.store.get('Deployment', 'istio-system', 'istiod')?.metadata.generation;
    const done = await until('istiod rolled out', () => {
      const d = s.store.get('Deployment', 'istio-system', 'istiod');
      return d?.metadata.generation === generation &&
        rolledOut(d) &&
        podsOf(s, 'istio-system', 'istiod').every((p) => !before.has(p.metadata.name))
        ? d
        : undefined;
    });
    stop();
    const after = podsOf(s, 'istio-system', 'istiod');
    expect(after).toHaveLength(2);
    expect(after.some((p) => before.has(p.metadata.name))).toBe(false);
    expect(maxPods).toBe(3); // one surge pod at a time
    expect(minReady).toBeGreaterThanOrEqual(2); // never below the desired count
    expect(done.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    const rses = s.store.list('ReplicaSet', 'istio-system').filter((r) => r.metadata.labels?.app === 'istiod');
    expect(rses.map((r) => (r.spec as { replicas: number }).replicas).sort()).toEqual([0, 2]);
    const scaling = s.store
      .list('Event', 'istio-system')
      .filter((e) => e.reason === 'ScalingReplicaSet' && (e.involvedObject as { name: string }).name === 'istiod')
      .map((e) => String(e.message));
    expect(scaling.some((m) => /^Scaled up replica set istiod-\w+ from 1 to 2$/.test(m))).toBe(true);
    expect(scaling.some((m) => /^Scaled down replica set istiod-\w+ from 1 to 0$/.test(m))).toBe(true);
  });

  it('a fail-start template annotation leaves the rollout stuck with the reason visible, until the progress deadline', async () => {
    let offsetMs = 0;
    sb = await startSandbox({ seed: demoMeshObjects(), rolloutStepMs: 15, now: () => new Date(Date.now() + offsetMs) });
    const s = sb;
    const oldPod = podsOf(s, 'bookinfo', 'reviews').find((p) => p.metadata.labels?.version === 'v2');
    restart(s, 'bookinfo', 'reviews-v2', { 'sandbox.meshops.dev/fail-start': 'ImagePullBackOff' });
    const stuck = await until('a new reviews-v2 pod in ImagePullBackOff', () =>
      podsOf(s, 'bookinfo', 'reviews').find((p) => {
        const cs =
          (p.status as { containerStatuses?: { name: string; state: { waiting?: { reason?: string } } }[] })
            .containerStatuses ?? [];
        return (
          p.metadata.labels?.version === 'v2' &&
          cs.some((c) => c.name === 'reviews' && c.state.waiting?.reason === 'ImagePullBackOff')
        );
      }),
    );
    expect((stuck.status as { phase: string }).phase).toBe('Pending');
    await new Promise((r) => setTimeout(r, 200));
    // The old pod keeps serving; the deployment reports an unfinished rollout.
    expect(s.store.get('Pod', 'bookinfo', oldPod?.metadata.name as string)).toBeDefined();
    const d = s.store.get('Deployment', 'bookinfo', 'reviews-v2');
    expect(rolledOut(d)).toBe(false);
    expect(status(d)).toMatchObject({ replicas: 2, updatedReplicas: 1, availableReplicas: 1 });
    expect(status(d).conditions?.find((c) => c.type === 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'ReplicaSetUpdated',
    });
    // Past progressDeadlineSeconds (600 s by default) the controller gives up, as Kubernetes does.
    offsetMs = 601_000;
    const timedOut = await until('ProgressDeadlineExceeded', () =>
      status(s.store.get('Deployment', 'bookinfo', 'reviews-v2')).conditions?.find(
        (c) => c.reason === 'ProgressDeadlineExceeded',
      ),
    );
    expect(timedOut).toMatchObject({
      status: 'False',
      message: expect.stringMatching(/^ReplicaSet "reviews-v2-\w+" has timed out progressing\.$/),
    });
    const warning = s.store
      .list('Event', 'bookinfo')
      .find((e) => e.type === 'Warning' && (e.involvedObject as { name: string }).name === stuck.metadata.name);
    expect(warning?.reason).toBe('BackOff');
  });

  it('CrashLoopBackOff pods keep restarting', async () => {
    sb = await startSandbox({ seed: demoMeshObjects(), rolloutStepMs: 10 });
    const s = sb;
    restart(s, 'bookinfo', 'ratings-v1', { 'sandbox.meshops.dev/fail-start': 'CrashLoopBackOff' });
    const restarts = () =>
      podsOf(s, 'bookinfo', 'ratings')
        .flatMap(
          (p) =>
            (
              p.status as {
                containerStatuses?: { name: string; restartCount: number; state: { waiting?: { reason?: string } } }[];
              }
            ).containerStatuses ?? [],
        )
        .filter((c) => c.name === 'ratings' && c.state.waiting?.reason === 'CrashLoopBackOff')
        .map((c) => c.restartCount)[0];
    const first = await until('a crash-looping ratings container', restarts);
    const later = await until('a higher restart count', () => {
      const n = restarts();
      return n !== undefined && n > first ? n : undefined;
    });
    expect(later).toBeGreaterThan(first);
  });

  it('deleting a Deployment deletes its ReplicaSets and pods; Endpoints follow', async () => {
    sb = await startSandbox({ seed: demoMeshObjects(), rolloutStepMs: 10 });
    const s = sb;
    s.store.delete('Deployment', 'bookinfo', 'details-v1');
    expect(s.store.list('ReplicaSet', 'bookinfo').filter((r) => r.metadata.labels?.app === 'details')).toEqual([]);
    expect(podsOf(s, 'bookinfo', 'details')).toEqual([]);
    await until(
      'details endpoints emptied',
      () => !(s.store.get('Endpoints', 'bookinfo', 'details') as { subsets?: unknown })?.subsets,
    );
  });

  it('new pods get the proxy image istio-sidecar-injector configures', async () => {
    sb = await startSandbox({ seed: demoMeshObjects(), rolloutStepMs: 10 });
    const s = sb;
    const cm = s.store.get('ConfigMap', 'istio-system', 'istio-sidecar-injector') as KubeObject & {
      data: { values: string };
    };
    cm.data.values = cm.data.values.replace('"tag": "1.24.2"', '"tag": "1.25.0"');
    s.store.put(cm);
    restart(s, 'bookinfo', 'details-v1');
    const image = await until(
      'a details pod on the new proxy',
      () =>
        podsOf(s, 'bookinfo', 'details')
          .flatMap((p) => (p.spec as { containers: { name: string; image: string }[] }).containers)
          .find((c) => c.name === 'istio-proxy' && c.image.endsWith(':1.25.0'))?.image,
    );
    expect(image).toBe('docker.io/istio/proxyv2:1.25.0');
    // Pods of other workloads keep their old sidecar until they restart.
    const [ratings] = podsOf(s, 'bookinfo', 'ratings');
    expect(
      (ratings?.spec as { containers: { name: string; image: string }[] }).containers.find(
        (c) => c.name === 'istio-proxy',
      )?.image,
    ).toBe('docker.io/istio/proxyv2:1.24.2');
  });

  it('adopts seeded pods that match a Deployment instead of creating more', async () => {
    const seed = demoMeshObjects();
    seed.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'ratings-v1-old', namespace: 'bookinfo', labels: { app: 'ratings', version: 'v1' } },
      spec: { containers: [{ name: 'ratings', image: 'docker.io/istio/examples-bookinfo-ratings-v1:1.19.0' }] },
      status: { phase: 'Running' },
    });
    sb = await startSandbox({ seed, rolloutStepMs: 10 });
    const pods = podsOf(sb, 'bookinfo', 'ratings');
    expect(pods.map((p) => p.metadata.name)).toEqual(['ratings-v1-old']);
    expect(pods[0]?.metadata.ownerReferences?.[0]?.kind).toBe('ReplicaSet');
  });
});
