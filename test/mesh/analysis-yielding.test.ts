// Istio's analyzers over a big snapshot do not hold the event loop for the whole analysis: runAnalysisYielding
// gives the loop a turn before each analyzer (by ordering: a setImmediate chain started before the analysis runs
// in between, once per analyzer at least; not by wall-clock), and its result is runAnalysis's.
import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../src/kube/objects.ts';
import { runAnalysisYielding } from '../../src/mesh/analysis-yielding.ts';
import { chooseAnalyzers, runAnalysis } from '../../src/mesh/analyzers/index.ts';
import { planAnalysis } from '../../src/mesh/analyzers/coverage.ts';
import { MeshSnapshot } from '../../src/mesh/snapshot.ts';
import { ISTIODS, largeMeshSeed } from '../stale/support.ts';

// A few things to find, so that the comparison compares messages and not two empty lists.
const faults: KubeObject[] = [
  {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'to-nowhere', namespace: 'team-00' },
    spec: { hosts: ['svc-0'], gateways: ['missing-gateway'], http: [{ route: [{ destination: { host: 'nope' } }] }] },
  },
  {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: 'no-pods', namespace: 'team-01' },
    spec: { host: 'svc-1', subsets: [{ name: 'v9', labels: { version: 'v9' } }] },
  },
];
const snapshotOf = () => new MeshSnapshot([...largeMeshSeed(300, 6, ISTIODS), ...faults]);

describe('runAnalysisYielding', () => {
  it('lets callbacks queued before it run between its analyzers', async () => {
    const snapshot = snapshotOf();
    const analyzers = planAnalysis(snapshot, chooseAnalyzers()).run.length;
    expect(analyzers).toBeGreaterThan(10);
    let turns = 0;
    let done = false;
    const tick = () => {
      if (done) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    await runAnalysisYielding(snapshot);
    done = true;
    // A synchronous analysis would let the chain run once at most before it finishes.
    expect(turns).toBeGreaterThanOrEqual(analyzers - 1);
  });

  it('answers what runAnalysis answers: the same messages in the same order, the same coverage', async () => {
    const sync = runAnalysis(snapshotOf());
    const yielding = await runAnalysisYielding(snapshotOf());
    expect(sync.messages.length).toBeGreaterThan(0);
    expect(yielding).toEqual(sync);
  });

  it('answers for the analyzers asked for by name only, as runAnalysis does', async () => {
    const analyzers = ['virtualservice.GatewayAnalyzer', 'destinationrule.SubsetSelectPodAnalyzer'];
    const sync = runAnalysis(snapshotOf(), { analyzers });
    expect(sync.messages.length).toBeGreaterThan(0);
    expect(await runAnalysisYielding(snapshotOf(), { analyzers })).toEqual(sync);
  });
});
