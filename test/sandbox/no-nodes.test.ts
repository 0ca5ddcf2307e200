// startSandbox({ nodes: false }): a control plane without a node, as the recorded real kube-apiserver.
// No Node object, pods are never scheduled (no spec.nodeName, Pending), their logs answer 204, and a
// Deployment's rollout stalls within maxSurge while the Deployment/ReplicaSet controllers keep running.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:https';
import type { KubeObject } from '../../src/kube/objects.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';

describe('sandbox without nodes', () => {
  let sb: Sandbox;
  let token: string;
  beforeAll(async () => {
    sb = await startSandbox({ nodes: false, rolloutStepMs: 20 });
    token = (sb.kubeconfig().match(/token: (\S+)/) as RegExpMatchArray)[1] as string;
  });
  afterAll(async () => {
    await sb?.close();
  });

  function call(
    method: string,
    path: string,
    body?: unknown,
    ctype = 'application/json',
  ): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (body !== undefined) headers['content-type'] = ctype;
      const req = request(`${sb.url}${path}`, { method, ca: sb.caCert, headers }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  it('registers no Node', async () => {
    const nodes = await call('GET', '/api/v1/nodes');
    expect(nodes.status).toBe(200);
    expect(JSON.parse(nodes.text).items).toEqual([]);
  });

  it('a created pod stays Pending without nodeName, and its log answers 204', async () => {
    const created = await call('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p1' },
      spec: { containers: [{ name: 'c', image: 'nginx' }] },
    });
    expect(created.status).toBe(201);
    sb.settle();
    await new Promise((r) => setTimeout(r, 100));
    const pod = JSON.parse((await call('GET', '/api/v1/namespaces/default/pods/p1')).text) as KubeObject;
    expect((pod.spec as { nodeName?: string }).nodeName).toBeUndefined();
    expect((pod.status as { phase?: string; containerStatuses?: unknown }).phase).toBe('Pending');
    expect((pod.status as { containerStatuses?: unknown }).containerStatuses).toBeUndefined();
    const log = await call('GET', '/api/v1/namespaces/default/pods/p1/log');
    expect(log.status).toBe(204);
    expect(log.text).toBe('');
  });

  it('a Deployment still gets its ReplicaSet and pods, and a template change stalls within maxSurge', async () => {
    const d = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd1' },
      spec: {
        selector: { matchLabels: { app: 'd1' } },
        template: { metadata: { labels: { app: 'd1' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      },
    };
    expect((await call('POST', '/apis/apps/v1/namespaces/default/deployments', d)).status).toBe(201);
    sb.settle();
    const pods = () => sb.store.list('Pod', 'default').filter((p) => p.metadata.labels?.app === 'd1');
    expect(pods()).toHaveLength(1);
    for (const image of ['nginx:2', 'nginx:3']) {
      const patched = await call(
        'PATCH',
        '/apis/apps/v1/namespaces/default/deployments/d1',
        { spec: { template: { spec: { containers: [{ name: 'c', image }] } } } },
        'application/merge-patch+json',
      );
      expect(patched.status).toBe(200);
      sb.settle();
    }
    // maxSurge 25% of 1 → 1 extra pod; maxUnavailable 0 → the unready old pod stays.
    expect(pods()).toHaveLength(2);
    expect(pods().every((p) => !(p.spec as { nodeName?: string }).nodeName)).toBe(true);
    expect(sb.store.list('ReplicaSet', 'default').filter((r) => r.metadata.name.startsWith('d1-'))).toHaveLength(3);
    const dep = sb.store.get('Deployment', 'default', 'd1') as KubeObject;
    expect((dep.status as { replicas?: number }).replicas).toBe(2);
  });
});
