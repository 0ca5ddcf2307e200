// A cluster without Istio: `config` and `mtls` say so, instead of "No VirtualServices here" or a
// STRICT button for a mesh that does not exist.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { allCommands } from '../../src/features/index.ts';
import { renderedToText } from '../../src/blocks/block-kit.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { createLogger } from '../../src/log.ts';
import { Router } from '../../src/router.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.ts';

let sb: Sandbox;
let router: Router;
const me = { userId: 'U1', source: 'console' as const };

beforeAll(async () => {
  sb = await startSandbox({
    istioCrds: false,
    seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }],
  });
  const kc = new KubeConfig();
  kc.loadFromString(sb.kubeconfig());
  router = new Router({
    commands: allCommands,
    clusters: [{ name: 'plain', kube: new KubeClient(kc) }],
    log: createLogger({ level: 'silent' }),
  });
});
afterAll(async () => {
  await sb.close();
});

describe('a cluster without Istio', () => {
  it('config says Istio is not installed, not "no VirtualServices here"', async () => {
    for (const cmd of ['config shop', 'config']) {
      const r = await router.handle(cmd, me);
      const text = renderedToText(r.rendered);
      expect(text).toContain('Istio is not installed in this cluster');
      expect(text).not.toMatch(/No VirtualServices/);
    }
  });

  it('mtls offers no STRICT migration', async () => {
    const r = await router.handle('mtls shop --window 100ms', me);
    const text = renderedToText(r.rendered);
    expect(text).toContain('Istio is not installed in this cluster');
    expect(r.rendered.offers ?? []).toEqual([]);
    expect(JSON.stringify(r.rendered.blocks)).not.toContain('Enable STRICT');
  });
});
