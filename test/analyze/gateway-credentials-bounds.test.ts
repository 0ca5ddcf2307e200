// The live credential check stays bounded: at most PODS_PER_GATEWAY pods a Gateway (running ones first) and
// maxPods in all, each read with the timeout given; a pod that times out is said as such, and the Gateways
// whose pods were not read are listed as not checked, never as fine.
import { describe, expect, it } from '@jest/globals';
import {
  PODS_PER_GATEWAY,
  checkLiveGatewayCredentials,
  podsToRead,
} from '../../src/features/analyze/gateway-credentials.ts';
import type { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { PortForwardError } from '../../src/kube/port-forward.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';

const pod = (name: string, app: string, phase: string): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'istio-system', labels: { app } },
    status: { phase },
  }) as KubeObject;
const gateway = (name: string, app: string): KubeObject =>
  ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'Gateway',
    metadata: { name, namespace: 'shop' },
    spec: {
      selector: { app },
      servers: [
        {
          port: { number: 443, name: 'https', protocol: 'HTTPS' },
          hosts: ['*'],
          tls: { credentialName: `${name}-tls` },
        },
      ],
    },
  }) as KubeObject;

const objects = [
  pod('a-1', 'a', 'Pending'),
  pod('a-2', 'a', 'Running'),
  pod('a-3', 'a', 'Running'),
  pod('b-1', 'b', 'Running'),
  pod('c-1', 'c', 'Running'),
  gateway('ga', 'a'),
  gateway('gb', 'b'),
  gateway('gc', 'c'),
];

describe('podsToRead', () => {
  it(`takes ${PODS_PER_GATEWAY} pods a Gateway, running first, and no more than maxPods in all`, () => {
    const snapshot = new MeshSnapshot(objects);
    const gws = snapshot.list('Gateway');
    expect(podsToRead(snapshot, gws, 10).map((p) => p.metadata.name)).toEqual(['a-2', 'a-3', 'b-1', 'c-1']);
    expect(podsToRead(snapshot, gws, 3).map((p) => p.metadata.name)).toEqual(['a-2', 'a-3', 'b-1']);
  });
});

describe('checkLiveGatewayCredentials', () => {
  it('passes its timeout to every read, says a timed-out pod, and lists what was not read as not checked', async () => {
    const asked: Array<{ pod: string; timeoutMs?: number }> = [];
    const kube = {
      async portForwardGet(_ns: string, podName: string, _port: number, _path: string, opts: { timeoutMs?: number }) {
        asked.push({ pod: podName, timeoutMs: opts.timeoutMs });
        throw new PortForwardError('timeout', `GET timed out after ${opts.timeoutMs} ms`);
      },
    } as unknown as KubeClient;
    const r = await checkLiveGatewayCredentials(kube, new MeshSnapshot(objects), {
      now: new Date(),
      timeoutMs: 1234,
      maxPods: 3,
    });
    expect(asked.map((a) => a.pod).sort()).toEqual(['a-2', 'a-3', 'b-1']);
    expect(asked.every((a) => a.timeoutMs === 1234)).toBe(true);
    expect(r.messages).toEqual([]);
    expect(r.lines).toEqual([
      'gateway.SecretAnalyzer did not check credentialName "ga-tls" of Gateway shop/ga: the gateway\'s SDS secrets could not be read (istio-system/a-2: its Envoy did not answer in time; istio-system/a-3: its Envoy did not answer in time)',
      'gateway.SecretAnalyzer did not check credentialName "gb-tls" of Gateway shop/gb: the gateway\'s SDS secrets could not be read (istio-system/b-1: its Envoy did not answer in time)',
      'gateway.SecretAnalyzer did not check credentialName "gc-tls" of Gateway shop/gc: no gateway pod of it was read',
    ]);
  });

  it('does not hide a bug as "not read": an error that is not a read failure propagates', async () => {
    const kube = {
      async portForwardGet() {
        throw new TypeError('boom');
      },
    } as unknown as KubeClient;
    await expect(checkLiveGatewayCredentials(kube, new MeshSnapshot(objects), { now: new Date() })).rejects.toThrow(
      'boom',
    );
  });
});
