// /mesh analyze's live analysis on sandboxes whose API server reports an old and a current Kubernetes:
// IST0142 from /version, in a namespace's analysis too (it concerns the whole cluster).
import { afterEach, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { analyzeLive } from '../../src/features/analyze/analyze.ts';
import { startDemoSandbox, type DemoSandbox } from '../../src/demo/demo-mesh.ts';
import { KubeClient } from '../../src/kube/client.ts';

let sandbox: DemoSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function analyzeOn(kubernetesVersion: string) {
  sandbox = await startDemoSandbox({ faults: false, kubernetesVersion });
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  return analyzeLive(new KubeClient(kc), { namespace: 'shop' });
}

describe('live analysis: the cluster Kubernetes version (IST0142)', () => {
  it('reports Kubernetes 1.27 as below the minimum', async () => {
    const report = await analyzeOn('v1.27.4');
    const m = report.messages.find((x) => x.code === 'IST0142');
    expect(m?.resource).toBe('Cluster kube-apiserver');
    expect(m?.text).toContain('"v1.27.4" is lower than the minimum version: 1.28');
  }, 60_000);

  it('says nothing of a supported one (the look-alike)', async () => {
    const report = await analyzeOn('v1.28.0');
    expect(report.messages.map((x) => x.code)).not.toContain('IST0142');
    expect(report.notChecked?.partial.join('\n') ?? '').not.toContain('precheck.KubernetesVersion');
  }, 60_000);
});
