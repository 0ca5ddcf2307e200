// /mesh analyze on the live demo lists only what the chosen analyzers read, and says which analyzers it could
// not run and why: as the demo's admin (Secrets are never read, Gateway API kinds cannot be listed yet), and as
// the bot's own RBAC from deploy/ (cluster-wide ConfigMaps, CRDs and Nodes refused), impersonated.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { analyzeLive } from '../../src/features/analyze/analyze.ts';
import { startDemoSandbox, type DemoSandbox } from '../../src/demo/demo-mesh.ts';
import { KubeClient } from '../../src/kube/client.ts';
import type { KubeObject } from '../../src/kube/objects.ts';
import { analysisInputs, runAnalysis } from '../../src/mesh/analyzers/index.ts';
import { renderAnalyzeReport } from '../../src/mesh/analyze-report.ts';
import { loadLiveSnapshot } from '../../src/mesh/live-snapshot.ts';
import { projectRoot } from '../support/shared.ts';

const BOT = 'meshops-bot';
let sandbox: DemoSandbox;
let admin: KubeClient;

/** The read roles of deploy/base, bound to the impersonated user BOT instead of the ServiceAccount. */
function botRbac(): KubeObject[] {
  const out: KubeObject[] = [];
  for (const file of ['rbac-read-mesh.yaml', 'rbac-istiod-portforward.yaml']) {
    for (const doc of parseAllDocuments(readFileSync(join(projectRoot, 'deploy', 'base', file), 'utf8'))) {
      const o = doc.toJS() as KubeObject & { subjects?: unknown[] };
      if (o.kind.endsWith('Binding')) o.subjects = [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: BOT }];
      out.push(o);
    }
  }
  return out;
}

beforeAll(async () => {
  sandbox = await startDemoSandbox({ faults: false });
  for (const o of botRbac()) sandbox.store.put(o);
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  admin = new KubeClient(kc);
});

afterAll(async () => {
  await sandbox?.close();
});

describe('the live snapshot for the chosen analyzers', () => {
  it('lists the union of their inputs and nothing more: no Secrets, no ReplicaSets', async () => {
    sandbox.requests.length = 0;
    await loadLiveSnapshot(admin, { inputs: analysisInputs(['virtualservice.DestinationRuleAnalyzer']) });
    const lists = sandbox.requests
      .filter((r) => r.method === 'GET' && !r.path.startsWith('/apis?') && r.path !== '/apis')
      .map((r) => r.path);
    expect(lists.filter((p) => /virtualservices$/.test(p))).toHaveLength(1);
    expect(lists.filter((p) => /destinationrules$/.test(p))).toHaveLength(1);
    expect(lists.some((p) => /\/(pods|services|secrets|replicasets)(\?|$)/.test(p))).toBe(false);
  });

  it('with every analyzer, still never asks for Secrets', async () => {
    sandbox.requests.length = 0;
    const snapshot = await loadLiveSnapshot(admin, { inputs: analysisInputs() });
    expect(sandbox.requests.some((r) => r.path.includes('secrets'))).toBe(false);
    expect(snapshot.missing({ group: '', kind: 'Secret' })).toMatchObject({ reason: 'not-read' });
    expect(snapshot.missing({ group: 'gateway.networking.k8s.io', kind: 'Gateway' })).toMatchObject({
      reason: 'unsupported',
    });
    expect(snapshot.missing({ group: 'networking.istio.io', kind: 'Gateway' })).toBeUndefined();
  });
});

describe('analyze on the demo says what it could not check', () => {
  it('as admin: the analyzers that need Secrets are skipped, the Gateway API ones run without those kinds', async () => {
    const report = await analyzeLive(admin, { namespace: 'bookinfo' });
    // gateway.SecretAnalyzer runs on what the gateways' Envoy loaded instead (analyze-gateway-credentials.test.ts).
    expect(report.notChecked?.skipped).toEqual([
      'meshnetworks.MeshNetworksAnalyzer needs Secrets, which meshops does not read',
    ]);
    expect(report.notChecked?.partial).toContain(
      'virtualservice.GatewayAnalyzer ran without Gateway API Gateways, which meshops cannot list yet: ' +
        'a VirtualService bound to a Gateway API Gateway is reported as naming a missing gateway',
    );
    const rendered = renderAnalyzeReport(report);
    const text = JSON.stringify(rendered.blocks);
    expect(text).toContain('*Not checked* (1 analyzer not run)');
    expect(text).toContain('meshnetworks.MeshNetworksAnalyzer needs Secrets, which meshops does not read');
    expect(text).toContain('*Partly checked:*');
  });

  it("as the bot's own RBAC: what it may not list cluster-wide is named, and the rest still runs", async () => {
    const bot = admin.as({ user: BOT });
    const report = await analyzeLive(bot, { namespace: 'shop' });
    expect(report.messages.map((m) => m.code)).toContain('IST0112');
    const skipped = report.notChecked?.skipped ?? [];
    expect(skipped).toContain('injection.ImageAnalyzer needs ConfigMaps, which meshops is not allowed to list (RBAC)');
    expect(skipped).toContain(
      'k8sgateway.CRDVersionAnalyzer needs CustomResourceDefinitions, which meshops is not allowed to list (RBAC)',
    );
    expect(skipped).toContain('meshnetworks.MeshNetworksAnalyzer needs Secrets, which meshops does not read');
    const partial = report.notChecked?.partial ?? [];
    expect(partial).toContain(
      'injection.Analyzer ran without ConfigMaps, which meshops is not allowed to list (RBAC): ' +
        'a namespace the injector injects by default (enableNamespacesByDefault) is reported as not injected',
    );
    expect(
      partial.some((l) =>
        l.startsWith('destinationrule.SubsetSelectPodAnalyzer ran without Nodes, which meshops is not allowed'),
      ),
    ).toBe(true);
  });

  it('a snapshot loaded without inputs (describe, mtls) has no coverage: every analyzer runs, none is reported skipped', async () => {
    const snapshot = await loadLiveSnapshot(admin);
    const result = runAnalysis(snapshot);
    expect(result.skipped).toEqual([]);
    expect(result.partial).toEqual([]);
  });
});
