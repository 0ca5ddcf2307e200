// Runs Istio's own analyzer test table (cases.json beside the YAML inputs) against our analyzers, the
// way Istio's test judges it: one analyzer per case, istio-system as the Istio namespace, the default
// ingress resources unless ingress is OFF, mesh config merged over defaults, and (code, resource)
// compared as a multiset with exact counts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { meshConfigFrom } from '../mesh-config.ts';
import { MeshSnapshot } from '../snapshot.ts';
import { defaultIngressResources } from './util/default-resources.ts';
import { analyze, findAnalyzer } from './index.ts';
import { parseYamlObjects } from './load.ts';
import { messageResource } from './types.ts';

const caseSchema = z.object({
  name: z.string(),
  analyzer: z.string(),
  inputFiles: z.array(z.string()).optional(),
  cluster1InputFiles: z.array(z.string()).optional(),
  cluster2InputFiles: z.array(z.string()).optional(),
  meshConfigFile: z.string().optional(),
  meshNetworksFile: z.string().optional(),
  skipAll: z.boolean().optional(),
  multiCluster: z.boolean().optional(),
  expected: z.array(z.object({ code: z.string(), resource: z.string(), messageName: z.string().optional() })),
});
export type ConformanceCase = z.infer<typeof caseSchema>;

export interface CaseResult {
  name: string;
  analyzer: string;
  passed: boolean;
  /** Expected (code, resource) pairs we did not report. */
  missing: string[];
  /** Pairs we reported that Istio does not. */
  unexpected: string[];
  expectedCount: number;
  matchedCount: number;
  error?: string;
}

export interface ConformanceSummary {
  results: CaseResult[];
  passed: number;
  total: number;
  messagesMatched: number;
  messagesExpected: number;
}

export function loadCases(analyzersDir: string): ConformanceCase[] {
  return z.array(caseSchema).parse(JSON.parse(readFileSync(join(analyzersDir, 'cases.json'), 'utf8')));
}

const ISTIO_NAMESPACE = 'istio-system';

export function runCase(c: ConformanceCase, analyzersDir: string): CaseResult {
  const expected = c.expected.map((e) => `${e.code} ${e.resource}`);
  const base = { name: c.name, analyzer: c.analyzer, expectedCount: expected.length };
  try {
    if (!findAnalyzer(c.analyzer)) throw new Error(`analyzer ${c.analyzer} not implemented`);
    const snapshot = caseSnapshot(c, analyzersDir);
    const got = analyze(snapshot, { analyzers: [c.analyzer] }).map((m) => `${m.code} ${messageResource(m)}`);
    const { missing, unexpected, matched } = diffMultiset(expected, got);
    return {
      ...base,
      passed: missing.length === 0 && unexpected.length === 0,
      missing,
      unexpected,
      matchedCount: matched,
    };
  } catch (err) {
    return {
      ...base,
      passed: false,
      missing: expected,
      unexpected: [],
      matchedCount: 0,
      error: (err as Error).message,
    };
  }
}

/** The snapshot a case analyzes: its files, mesh config and networks, remote cluster, and the default ingress. */
export function caseSnapshot(c: ConformanceCase, analyzersDir: string): MeshSnapshot {
  const read = (f: string) => readFileSync(join(analyzersDir, f), 'utf8');
  const meshConfig = meshConfigFrom(c.meshConfigFile ? read(c.meshConfigFile) : undefined, c.meshConfigFile);
  const meshNetworks = c.meshNetworksFile
    ? (parseYaml(read(c.meshNetworksFile)) as Record<string, unknown>)
    : undefined;
  const files = [...(c.inputFiles ?? []), ...(c.cluster1InputFiles ?? [])];
  const objects = files.flatMap((f) => parseYamlObjects(read(f), f));
  const remote = (c.cluster2InputFiles ?? []).flatMap((f) => parseYamlObjects(read(f), f));
  objects.push(...defaultIngressResources(meshConfig, ISTIO_NAMESPACE));
  return new MeshSnapshot(objects, {
    meshConfig,
    istioNamespace: ISTIO_NAMESPACE,
    ...(meshNetworks ? { meshNetworks } : {}),
    ...(remote.length ? { remoteClusters: { cluster2: remote } } : {}),
  });
}

export function diffMultiset(
  expected: readonly string[],
  got: readonly string[],
): { missing: string[]; unexpected: string[]; matched: number } {
  const counts = new Map<string, number>();
  for (const e of expected) counts.set(e, (counts.get(e) ?? 0) + 1);
  const unexpected: string[] = [];
  let matched = 0;
  for (const g of got) {
    const n = counts.get(g) ?? 0;
    if (n > 0) {
      counts.set(g, n - 1);
      matched++;
    } else unexpected.push(g);
  }
  const missing: string[] = [];
  for (const [k, n] of counts) for (let i = 0; i < n; i++) missing.push(k);
  return { missing, unexpected, matched };
}

export function runConformance(analyzersDir: string): ConformanceSummary {
  const results = loadCases(analyzersDir).map((c) => runCase(c, analyzersDir));
  return {
    results,
    passed: results.filter((r) => r.passed).length,
    total: results.length,
    messagesMatched: results.reduce((s, r) => s + r.matchedCount, 0),
    messagesExpected: results.reduce((s, r) => s + r.expectedCount, 0),
  };
}

export function formatSummary(s: ConformanceSummary): string {
  const lines: string[] = [];
  for (const r of s.results) {
    const parts = [`${r.passed ? 'PASS' : 'FAIL'} ${r.name} [${r.analyzer}]`];
    if (r.error) parts.push(`error: ${r.error}`);
    if (r.missing.length) parts.push(`missing: ${r.missing.join('; ')}`);
    if (r.unexpected.length) parts.push(`unexpected: ${r.unexpected.join('; ')}`);
    lines.push(parts.join(' | '));
  }
  const pct = s.total ? ((100 * s.passed) / s.total).toFixed(1) : '0.0';
  lines.push(`cases passed ${s.passed}/${s.total} (${pct}%)`);
  lines.push(`messages matched ${s.messagesMatched}/${s.messagesExpected}`);
  return lines.join('\n');
}
