import { describe, expect, it } from '@jest/globals';
import versionCommand, { skewProblem, versionReport } from '../../src/features/core/version.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import type { Requester } from '../../src/command.ts';

const pod = (
  ns: string,
  name: string,
  containers: Array<{ name: string; image: string }>,
  extra: Partial<KubeObject> = {},
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, labels: ns === 'istio-system' ? { app: 'istiod', 'istio.io/rev': 'default' } : {} },
  spec: { containers },
  status: {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: containers.map((c) => ({ name: c.name, ready: true, restartCount: 0 })),
  },
  ...extra,
});
const istiod = (name: string, tag: string, extra: Partial<KubeObject> = {}) =>
  pod('istio-system', name, [{ name: 'discovery', image: `docker.io/istio/pilot:${tag}` }], extra);
const app = (ns: string, name: string, tag?: string) =>
  pod(ns, name, [
    { name: 'app', image: 'example/app:1' },
    ...(tag ? [{ name: 'istio-proxy', image: `docker.io/istio/proxyv2:${tag}` }] : []),
  ]);
const me: Requester = { userId: 'U1', source: 'console' };

describe('/mesh version', () => {
  it("applies Istio's skew rule: one minor behind is fine, two behind or ahead is not", () => {
    expect(skewProblem('1.23.4', '1.24.2')).toBeUndefined();
    expect(skewProblem('1.24.0', '1.24.2')).toBeUndefined();
    expect(skewProblem('1.22.1', '1.24.2')).toMatch(/2 minor versions behind/);
    expect(skewProblem('1.25.0', '1.24.2')).toMatch(/newer than the control plane/);
    expect(skewProblem('latest', '1.24.2')).toBeUndefined();
  });

  it('reports replicas, readiness, restarts, proxy versions with counts, and the skew', () => {
    const crashed = istiod('istiod-b', '1.24.2', {
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: [
          {
            name: 'discovery',
            ready: false,
            restartCount: 3,
            lastState: { terminated: { reason: 'OOMKilled', finishedAt: '2026-11-25T10:00:00Z' } },
          },
        ],
      },
    });
    const r = versionReport(
      [istiod('istiod-a', '1.24.2'), crashed],
      [app('shop', 'a', '1.24.2'), app('shop', 'b', '1.24.2'), app('legacy', 'c', '1.22.0'), app('legacy', 'd')],
    );
    expect(r.controlPlaneVersions).toEqual(['1.24.2']);
    expect(r.istiod.map((i) => [i.pod, i.ready, i.restarts])).toEqual([
      ['istiod-a', true, 0],
      ['istiod-b', false, 3],
    ]);
    expect(r.istiod[1]?.lastTermination).toContain('OOMKilled');
    expect(r.dataPlane).toEqual([
      { version: '1.24.2', count: 2, namespaces: ['shop'] },
      { version: '1.22.0', count: 1, namespaces: ['legacy'] },
    ]);
    expect(r.podsWithSidecar).toBe(3);
    expect(r.skew).toEqual([
      { version: '1.22.0', count: 1, problem: expect.stringMatching(/2 minor versions behind/) },
    ]);
    const rendered = versionCommand.render(r, { cluster: 'c', now: new Date(), requester: me });
    expect(rendered.text).toBe('Istio control plane 1.24.2; data plane 1.24.2 (2), 1.22.0 (1); 1 unsupported skew');
    const text = JSON.stringify(rendered.blocks);
    expect(text).toContain('1/2 ready');
    expect(text).toContain('OOMKilled');
  });

  it('says plainly when there is no istiod', () => {
    const rendered = versionCommand.render(versionReport([], [app('shop', 'a', '1.24.2')]), {
      cluster: 'c',
      now: new Date(),
      requester: me,
    });
    expect(rendered.text).toMatch(/No istiod found in istio-system.*1 pod carries an istio-proxy sidecar/);
  });
});
