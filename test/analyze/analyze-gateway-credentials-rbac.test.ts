// gateway.SecretAnalyzer live, when the gateway's Envoy cannot be read: an identity with deploy/'s read roles
// but no pods/portforward in istio-system. Nothing is claimed about the credentials (no IST0101, no "valid
// until"); each is listed as not checked, with the refusal as the reason.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { analyzeLive } from '../../src/features/analyze/analyze.ts';
import { startDemoSandbox, type DemoSandbox } from '../../src/demo/demo-mesh.ts';
import { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { projectRoot } from '../support/shared.ts';

const READER = 'mesh-reader';
let sandbox: DemoSandbox;
let admin: KubeClient;

beforeAll(async () => {
  sandbox = await startDemoSandbox({ faults: false });
  // deploy/'s read roles, without the pods/portforward rule (the istio ConfigMap read stays).
  for (const name of ['rbac-read-mesh.yaml', 'rbac-istiod-portforward.yaml']) {
    const file = join(projectRoot, 'deploy', 'base', name);
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const o = doc.toJS() as KubeObject & { subjects?: unknown[]; rules?: Array<{ resources?: string[] }> };
      if (o.kind.endsWith('Binding'))
        o.subjects = [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: READER }];
      if (o.rules) o.rules = o.rules.filter((r) => !r.resources?.includes('pods/portforward'));
      sandbox.store.put(o);
    }
  }
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  admin = new KubeClient(kc);
});

afterAll(async () => {
  await sandbox?.close();
});

describe('gateway credentials when the gateway proxy cannot be read', () => {
  it('says each credential was not checked, and why, instead of judging it', async () => {
    const report = await analyzeLive(admin.as({ user: READER }), { namespace: 'checkout', now: new Date() });
    expect(report.messages.filter((m) => m.resource === 'Gateway checkout/checkout-gateway')).toEqual([]);
    const partial = report.notChecked?.partial ?? [];
    for (const cn of ['checkout-tls', 'checkout-admin-tls'])
      expect(partial).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^gateway\\.SecretAnalyzer did not check credentialName "${cn}" of Gateway checkout/checkout-gateway: .*refused meshops a port-forward`,
          ),
        ),
      );
    expect(partial.join('\n')).not.toContain('valid until');
    expect(partial.join('\n')).not.toContain("judged credentials from what the gateways' Envoy loaded");
    expect(report.notChecked?.skipped ?? []).not.toContain(
      'gateway.SecretAnalyzer needs Secrets, which meshops does not read',
    );
  }, 60_000);

  it('judges them as the admin, who may port-forward (the look-alike)', async () => {
    const report = await analyzeLive(admin, { namespace: 'checkout', now: new Date() });
    expect(report.messages.map((m) => `${m.code} ${m.resource}`)).toContain(
      'IST0101 Gateway checkout/checkout-gateway',
    );
    expect((report.notChecked?.partial ?? []).join('\n')).not.toContain('did not check credentialName');
  }, 60_000);
});
