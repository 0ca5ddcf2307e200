import { describe, expect, it } from '@jest/globals';
import { parseQuantity } from '../../../src/mesh/diagnostics/pod-facts.ts';
import { proposedResources } from '../../../src/mesh/diagnostics/proxy-sizing.ts';
import { diagnoseSidecarResources } from '../../../src/mesh/diagnostics/sidecar-resources.ts';
import type { DiagnosticResult, Finding } from '../../../src/mesh/diagnostics/types.ts';
import { MeshSnapshot } from '../../../src/mesh/snapshot.ts';
import { annotationsIn, deployment, injectedPod, objectIn, oomKilled } from './injected-pod.ts';

function findings(r: DiagnosticResult): Finding[] {
  return r.outcome === 'found' ? r.findings : [];
}

function podMetrics(pod: string, usage: Record<string, { cpu: string; memory: string }>) {
  return {
    apiVersion: 'metrics.k8s.io/v1beta1',
    kind: 'PodMetrics',
    metadata: { name: pod, namespace: 'shop' },
    containers: Object.entries(usage).map(([name, u]) => ({ name, usage: u })),
  };
}

describe('sidecar resources', () => {
  it('finds an OOM-killed istio-proxy with its restarts and proposes all four annotations from usage', () => {
    const pod = injectedPod({ statuses: { 'istio-proxy': oomKilled(4) } });
    const r = diagnoseSidecarResources({
      pods: [pod],
      workload: deployment(),
      podMetrics: [podMetrics(pod.metadata.name, { 'istio-proxy': { cpu: '350m', memory: '900Mi' } })],
    });
    expect(r.outcome).toBe('found');
    const oom = findings(r).find((f) => f.title === 'istio-proxy is OOM-killed');
    expect(oom?.confidence).toBe('high');
    expect(oom?.evidence.join('\n')).toContain('OOMKilled, exit 137');
    expect(oom?.evidence.join('\n')).toContain('restarted 4 times');
    expect(oom?.evidence.join('\n')).toContain('memory 900Mi of its 1024Mi limit');
    expect(oom?.fix?.kind).toBe('strategic-merge-patch');
    expect(oom?.fix?.target).toEqual({ kind: 'Deployment', namespace: 'shop', name: 'cart' });
    // request = 900Mi × 1.2 = 1080 → 1088Mi; limit = max(1Gi, 2 × 1088, 1024 × 1.5) = 2176 → 2176Mi (64Mi steps).
    expect(annotationsIn(oom?.fix)).toEqual({
      'sidecar.istio.io/proxyCPU': '420m',
      'sidecar.istio.io/proxyMemory': '1088Mi',
      'sidecar.istio.io/proxyCPULimit': '2000m',
      'sidecar.istio.io/proxyMemoryLimit': '2176Mi',
    });
  });

  it('reads a native sidecar from initContainerStatuses, and Envoy gauges when metrics.k8s.io is not served', () => {
    const pod = injectedPod({ native: true, statuses: { 'istio-proxy': oomKilled(2) } });
    const r = diagnoseSidecarResources({
      pods: [pod],
      workload: deployment(),
      podMetrics: { unreadable: 'metrics.k8s.io is not served by this cluster' },
      envoyMemory: { [pod.metadata.name]: { heapSize: 1000 * 2 ** 20, allocated: 950 * 2 ** 20 } },
    });
    const oom = findings(r).find((f) => f.title === 'istio-proxy is OOM-killed');
    expect(oom?.evidence.join('\n')).toContain('native sidecar');
    expect(oom?.evidence.join('\n')).toContain('Envoy server.memory_heap_size');
    expect(r.unread.join('\n')).toContain('metrics.k8s.io is not served');
  });

  it('finds the annotation gotcha: proxyMemory alone leaves the proxy without CPU request and limits', () => {
    const annotations = { 'sidecar.istio.io/proxyMemory': '256Mi' };
    const pod = injectedPod({ annotations });
    const proxy = (pod.spec as { containers: { name: string; resources: unknown }[] }).containers.find(
      (c) => c.name === 'istio-proxy',
    );
    expect(proxy?.resources).toEqual({ requests: { memory: '256Mi' } });
    const r = diagnoseSidecarResources({ pods: [pod], workload: deployment(annotations) });
    const g = findings(r).find((f) => f.title.includes('dropped the mesh defaults'));
    expect(g?.confidence).toBe('high');
    expect(g?.evidence[0]).toContain('no CPU request, CPU limit, memory limit');
    const annos = annotationsIn(g?.fix);
    // Never below what is set now nor below Istio's defaults.
    expect(annos['sidecar.istio.io/proxyMemory']).toBe('256Mi');
    expect(annos['sidecar.istio.io/proxyCPU']).toBe('100m');
    expect(annos['sidecar.istio.io/proxyMemoryLimit']).toBe('1024Mi');
    expect(annos['sidecar.istio.io/proxyCPULimit']).toBe('2000m');
  });

  it('finds a proxy at its memory limit before it is killed', () => {
    const pod = injectedPod();
    const r = diagnoseSidecarResources({
      pods: [pod],
      workload: deployment(),
      podMetrics: [podMetrics(pod.metadata.name, { 'istio-proxy': { cpu: '50m', memory: '980Mi' } })],
    });
    expect(findings(r).map((f) => f.title)).toEqual(['istio-proxy is at its memory limit']);
  });

  it('suggests a Sidecar resource when the config is large and nothing scopes the workload', () => {
    const pod = injectedPod({ statuses: { 'istio-proxy': oomKilled(1) } });
    const r = diagnoseSidecarResources({
      pods: [pod],
      workload: deployment(),
      configSize: { [pod.metadata.name]: { clusters: 1800, listeners: 90 } },
      snapshot: new MeshSnapshot([pod]),
    });
    const c = findings(r).find((f) => f.title === "the proxy's config is large");
    expect(c?.confidence).toBe('medium');
    expect(c?.fix?.kind).toBe('create');
    const obj = objectIn(c?.fix);
    expect(obj.spec).toEqual({
      workloadSelector: { labels: { app: 'cart' } },
      egress: [{ hosts: ['./*', 'istio-system/*'] }],
    });
  });

  it('does not flag an OOM-killed application container, and says it is the app', () => {
    const pod = injectedPod({ statuses: { cart: oomKilled(3) } });
    const r = diagnoseSidecarResources({ pods: [pod], workload: deployment() });
    expect(r.outcome).toBe('nothing-found');
    expect(r.notes.join('\n')).toContain('container cart was OOM-killed');
    expect(r.notes.join('\n')).toContain('that is the application, not the sidecar');
  });

  it('finds nothing on a healthy proxy and says what it could not read', () => {
    const r = diagnoseSidecarResources({ pods: [injectedPod()], workload: deployment() });
    expect(r.outcome).toBe('nothing-found');
    expect(r.unread.join('\n')).toContain('no usage figures');
  });

  it('cannot check without pods, without a sidecar, or without statuses', () => {
    expect(diagnoseSidecarResources({ pods: [] }).outcome).toBe('could-not-check');
    const bare = injectedPod();
    const noProxy = {
      ...bare,
      spec: { containers: [{ name: 'cart' }] },
    };
    const r = diagnoseSidecarResources({ pods: [noProxy] });
    expect(r.outcome === 'could-not-check' && r.reason).toContain('none of the 1 pods runs an istio-proxy');
    const { status: _s, ...noStatus } = bare;
    const r2 = diagnoseSidecarResources({ pods: [noStatus] });
    expect(r2.outcome).toBe('could-not-check');
    expect(r2.unread.join('\n')).toContain('has no status');
  });
});

describe('proxy sizing', () => {
  it('parses Kubernetes quantities', () => {
    expect(parseQuantity('128Mi')).toBe(128 * 2 ** 20);
    expect(parseQuantity('1Gi')).toBe(2 ** 30);
    expect(parseQuantity('250m')).toBeCloseTo(0.25);
    expect(parseQuantity('2')).toBe(2);
    expect(parseQuantity('12345678n')).toBeCloseTo(0.012345678);
    expect(parseQuantity('lots')).toBeUndefined();
  });

  it('never proposes less than the limit an OOM-killed proxy reached', () => {
    const out = proposedResources([
      { resources: { memoryLimit: 2 * 2 ** 30, memoryRequest: 128 * 2 ** 20 }, oom: 'OOMKilled' },
    ]);
    expect(out['sidecar.istio.io/proxyMemoryLimit']).toBe('3072Mi');
  });
});
