// The restart follow-up reads a Deployment as `kubectl rollout status` does: the observed generation
// first, then the Progressing condition, then replica counts. A condition left over from before the
// restart must not decide the new rollout.
import { describe, expect, it } from '@jest/globals';
import { rolloutRestart } from '../../src/features/restart/rollout-restart.ts';
import type { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/objects.ts';

function deployment(generation: number, status: Record<string, unknown>, replicas = 2): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'reviews', namespace: 'bookinfo', generation },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'reviews' } },
      template: { metadata: { labels: { app: 'reviews' } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
    },
    status,
  } as KubeObject;
}

function kubeWith(d: KubeObject): KubeClient {
  return { get: async () => d, list: async () => [] } as unknown as KubeClient;
}

const target = { kind: 'Deployment', namespace: 'bookinfo', name: 'reviews' };
const deadline = { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' };
const fine = { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' };
const all = { replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 };

describe('rollout follow-up, in kubectl rollout status order', () => {
  it('waits for the controller to observe the new generation, whatever an old condition says', async () => {
    const p = await rolloutRestart.followUp!(
      kubeWith(deployment(3, { observedGeneration: 2, conditions: [deadline], ...all })),
      target as never,
      {},
      new Date(),
    );
    expect(p).toMatchObject({ done: false, ok: true });
    expect(p.summary).toMatch(/^Waiting for the controller to see the change/);
  });

  it('reports the deadline once the controller has observed the generation', async () => {
    const p = await rolloutRestart.followUp!(
      kubeWith(
        deployment(3, {
          observedGeneration: 3,
          conditions: [deadline],
          replicas: 3,
          updatedReplicas: 1,
          availableReplicas: 2,
        }),
      ),
      target as never,
      {},
      new Date(),
    );
    expect(p).toMatchObject({ done: true, ok: false });
    expect(p.summary).toMatch(/exceeded its progress deadline/);
  });

  it('then follows the counts: updating, old pods terminating, becoming available, complete', async () => {
    const step = async (status: Record<string, unknown>) =>
      (
        await rolloutRestart.followUp!(
          kubeWith(deployment(3, { observedGeneration: 3, conditions: [fine], ...status })),
          target as never,
          {},
          new Date(),
        )
      ).summary;
    expect(await step({ replicas: 3, updatedReplicas: 1, availableReplicas: 2 })).toMatch(/^Rolling out/);
    expect(await step({ replicas: 3, updatedReplicas: 2, availableReplicas: 2 })).toMatch(/^Old pods terminating/);
    expect(await step({ replicas: 2, updatedReplicas: 2, availableReplicas: 1 })).toMatch(
      /^Waiting for new pods to become available/,
    );
    expect(await step(all)).toMatch(/^Rollout complete/);
  });
});
