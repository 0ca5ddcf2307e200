// Istio's analyzers over a live snapshot without holding the event loop for the whole analysis: one analyzer at a
// time, with a turn of the event loop (setImmediate) before each, so acks, health checks and other commands'
// replies get in between. At 2,000 pods the whole analysis is 45-100 ms of synchronous work (bench/memory.ts,
// bench/analyze.ts: 300 ms at 10,000 objects); a single analyzer is a fraction of that. The result is
// runAnalysis's: the same plan (coverage), the same dedup of identical messages, the same order.
import type { AnalysisMessage, AnalysisResult, AnalyzeOptions } from './analyzers/index.ts';
import type { MeshSnapshot } from './snapshot.ts';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function runAnalysisYielding(
  snapshot: MeshSnapshot,
  options: AnalyzeOptions = {},
): Promise<AnalysisResult> {
  // Loaded on first use: the analyzers (and their generated CRD schemas) are memory an idle bot does not need.
  const { chooseAnalyzers, compareMessages, runAnalyzers } = await import('./analyzers/index.ts');
  const { planAnalysis } = await import('./analyzers/coverage.ts');
  const { messageResource } = await import('./analyzers/types.ts');
  const plan = planAnalysis(snapshot, chooseAnalyzers(options.analyzers));
  const messages: AnalysisMessage[] = [];
  const seen = new Set<string>();
  for (const analyzer of plan.run) {
    await turn();
    for (const m of runAnalyzers(snapshot, [analyzer])) {
      // Identical messages from different analyzers once, as runAnalyzers does within one run.
      const key = `${m.code}\u0000${messageResource(m)}\u0000${m.text}\u0000${m.origin ?? ''}\u0000${m.line ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      messages.push(m);
    }
  }
  return { messages: messages.sort(compareMessages), skipped: plan.skipped, partial: plan.partial };
}
