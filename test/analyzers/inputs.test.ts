// Every analyzer reads only the kinds it declares (Istio's Metadata.Inputs), so that the live snapshot,
// which lists the union of the chosen analyzers' inputs and nothing more, never leaves one short. Each
// analyzer runs over every conformance case's snapshot (and all of them merged), and over the fixtures of
// meshops' own analyzers, wrapped in a recorder.
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { caseSnapshot, loadCases } from '../../src/mesh/analyzers/conformance.ts';
import { allAnalyzers } from '../../src/mesh/analyzers/index.ts';
import type { Analyzer } from '../../src/mesh/analyzers/types.ts';
import { gvk } from '../../src/mesh/analyzers/util/kinds.ts';
import { kindRefKey, MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { conformanceDir, describeWithShared } from '../support/shared.ts';
import { meshopsFixtures } from './meshops-fixtures.ts';
import { recordReads } from './recording-snapshot.ts';

const analyzersDir = join(conformanceDir, 'istio', 'analyzers');

/** What an analyzer read that it did not declare, over some snapshots. */
function undeclaredReads(a: Analyzer, snapshots: readonly { name: string; snapshot: MeshSnapshot }[]) {
  const declared = new Set(a.inputs.map(kindRefKey));
  const out: string[] = [];
  const read = new Set<string>();
  for (const { name, snapshot } of snapshots) {
    const r = recordReads(snapshot);
    a.analyze(r.snapshot);
    for (const k of r.reads) read.add(k);
    for (const k of r.reads) if (!declared.has(k)) out.push(`${name}: read ${k}`);
    for (const p of r.ungrouped) out.push(`${name}: used snapshot.${p}, which names no group`);
  }
  return { undeclared: [...new Set(out)], read };
}

describeWithShared('analyzer inputs over the conformance cases', () => {
  const cases = loadCases(analyzersDir);
  const snapshots = cases.map((c, i) => ({ name: `case ${i} ${c.name}`, snapshot: caseSnapshot(c, analyzersDir) }));
  // All cases at once: more kinds side by side, so more branches (a pod on a node, a gateway with a secret) run.
  const merged = new MeshSnapshot(
    snapshots.flatMap((s) => s.snapshot.objects),
    {
      meshConfig: snapshots[0]!.snapshot.meshConfig,
      meshNetworks: { networks: { n1: { endpoints: [{ fromRegistry: 'c1' }] } } },
    },
  );
  const all = [
    ...snapshots,
    { name: 'all cases merged', snapshot: merged },
    { name: 'meshops fixtures', snapshot: new MeshSnapshot(meshopsFixtures()) },
  ];
  const readAnywhere = new Map<string, Set<string>>();

  it.each(allAnalyzers.map((a) => [a.name, a] as const))('%s reads only the kinds it declares', (_name, a) => {
    const { undeclared, read } = undeclaredReads(a, all);
    readAnywhere.set(a.name, read);
    expect(undeclared).toEqual([]);
  });

  it('declares no kind it never reads (the live snapshot would list it for nothing)', () => {
    const unread = allAnalyzers.flatMap((a) => {
      const read = readAnywhere.get(a.name) ?? undeclaredReads(a, all).read;
      return a.inputs
        .map(kindRefKey)
        .filter((k) => !read.has(k))
        .map((k) => `${a.name}: ${k}`);
    });
    expect(unread).toEqual([]);
  });
});

describe('the recorder', () => {
  const objects: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'shop' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'shop' } },
  ];
  const snapshot = new MeshSnapshot(objects);

  it('catches a read of a kind the analyzer did not declare, and a read without a group', () => {
    const sneaky: Analyzer = {
      name: 'test.SneakyAnalyzer',
      description: 'declares Pods, reads Secrets too',
      inputs: [gvk.Pod],
      analyze(s) {
        s.listOf(gvk.Pod);
        s.getOf(gvk.Secret, 'shop', 's');
        (s as unknown as MeshSnapshot).list('Service');
        return [];
      },
    };
    expect(undeclaredReads(sneaky, [{ name: 'fixture', snapshot }]).undeclared).toEqual([
      'fixture: read Secret',
      'fixture: used snapshot.list, which names no group',
    ]);
  });

  it("tells the Gateway API Gateway from Istio's, and notes mesh config as an input", () => {
    const r = recordReads(snapshot);
    r.snapshot.listOf(gvk.KubernetesGateway);
    void r.snapshot.rootNamespace;
    expect([...r.reads].sort()).toEqual(['Gateway.gateway.networking.k8s.io', 'MeshConfig.mesh.istio.io']);
    expect(r.ungrouped.size).toBe(0);
  });
});
