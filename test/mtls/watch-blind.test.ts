// The STRICT watch never reports "no new failures" when it read nothing: with no sidecar or gateway
// access log to read, it says it could not check, and why.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import {
  MTLS_STRICT,
  mtlsRemediationKinds,
  STRICT_SINCE_ANNOTATION,
  strictTarget,
} from '../../src/features/mtls/strict-migration.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';

let sb: Sandbox;
let kube: KubeClient;
const since = new Date(Date.now() - 1000).toISOString();

beforeAll(async () => {
  const seed: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'plain' } },
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: 'plain', annotations: { [STRICT_SINCE_ANNOTATION]: since } },
      spec: { mtls: { mode: 'STRICT' } },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-1', namespace: 'plain', labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'nginx' }] },
    },
  ];
  sb = await startSandbox({ seed, rolloutStepMs: 20 });
  const kc = new KubeConfig();
  kc.loadFromString(sb.kubeconfig());
  kube = new KubeClient(kc);
});
afterAll(async () => {
  await sb.close();
});

describe('STRICT watch with nothing to read', () => {
  it('says it could not check, instead of "no new failures"', async () => {
    const kind = mtlsRemediationKinds({ watchMs: 60_000 }).find((k) => k.kind === MTLS_STRICT);
    const p = await kind!.followUp!(kube, strictTarget('plain'), {}, new Date(since));
    expect(p.done).toBe(false);
    expect(p.summary).toMatch(
      /^STRICT is on in plain; watching: could not check for failures yet: no sidecar or gateway access log could be read/,
    );
    expect(p.summary).not.toContain('no new failures');
  });
});
