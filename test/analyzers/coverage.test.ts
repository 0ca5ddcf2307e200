// Skipping by inputs: a required input not loaded skips the analyzer, an optional one lets it run and says
// what it left out; a snapshot that does not know its coverage (files) runs everything.
import { describe, expect, it } from '@jest/globals';
import { inputsOf, kindPlural, partialLine, planAnalysis, skippedLine } from '../../src/mesh/analyzers/coverage.ts';
import { findAnalyzer, runAnalysis } from '../../src/mesh/analyzers/index.ts';
import { gvk } from '../../src/mesh/analyzers/util/kinds.ts';
import { MeshSnapshot, kindRefKey } from '../../src/mesh/snapshot.ts';

const analyzer = (name: string) => findAnalyzer(name)!;

describe('planAnalysis()', () => {
  const live = new MeshSnapshot([], {
    coverage: {
      loaded: [gvk.Namespace, gvk.Pod, gvk.Gateway],
      missing: [
        { ref: gvk.Secret, reason: 'not-read' },
        { ref: gvk.ConfigMap, reason: 'forbidden', detail: 'configmaps is forbidden' },
      ],
    },
  });

  it('skips an analyzer short of a required input, runs one short of an optional input and says what it leaves out', () => {
    const plan = planAnalysis(live, [
      analyzer('gateway.SecretAnalyzer'),
      analyzer('injection.Analyzer'),
      analyzer('telemetry.SelectorAnalyzer'),
    ]);
    expect(plan.run.map((a) => a.name)).toEqual(['injection.Analyzer']);
    expect(plan.skipped.map(skippedLine)).toEqual([
      'gateway.SecretAnalyzer needs Secrets, which meshops does not read',
      // Telemetries were never listed: this snapshot was not loaded for that analyzer.
      'telemetry.SelectorAnalyzer needs Telemetries, which were not loaded for this analysis',
    ]);
    expect(plan.partial.map(partialLine)).toEqual([
      'injection.Analyzer ran without ConfigMaps, which meshops is not allowed to list (RBAC): ' +
        'a namespace the injector injects by default (enableNamespacesByDefault) is reported as not injected',
    ]);
  });

  it('runs everything on a snapshot without coverage (files, or objects given by hand)', () => {
    const result = runAnalysis(new MeshSnapshot([]));
    expect(result.skipped).toEqual([]);
    expect(result.partial).toEqual([]);
  });
});

describe('inputsOf()', () => {
  it('is the union of the inputs, each kind once, optional ones included, the two Gateways apart', () => {
    const keys = inputsOf([
      analyzer('virtualservice.GatewayAnalyzer'),
      analyzer('gateway.ConflictingGatewayAnalyzer'),
    ]).map(kindRefKey);
    expect(keys).toEqual([
      'VirtualService.networking.istio.io',
      'Gateway.networking.istio.io',
      'Gateway.gateway.networking.k8s.io',
      'Pod',
    ]);
  });
});

describe('kindPlural()', () => {
  it('names kinds as people name many of them, and says which Gateway', () => {
    expect([gvk.Secret, gvk.Telemetry, gvk.Gateway, gvk.KubernetesGateway, gvk.HTTPRoute].map(kindPlural)).toEqual([
      'Secrets',
      'Telemetries',
      'Gateways',
      'Gateway API Gateways',
      'HTTPRoutes',
    ]);
  });
});
