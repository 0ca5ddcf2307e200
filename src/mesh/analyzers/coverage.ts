// Which analyzers can run on a snapshot. An analyzer whose required inputs were not loaded (the cluster does
// not serve the kind, RBAC does not let meshops list it, or meshops never reads it, like Secrets) is skipped,
// as Istio's RemoveSkipped does; one missing only optional inputs runs and says what it left out. The words
// here are what `/mesh analyze` and `meshops analyze` print under "not checked".
import type { KindRef, MeshSnapshot, MissingKind } from '../snapshot.ts';
import { kindRefKey } from '../snapshot.ts';
import type { Analyzer } from './types.ts';
import { GATEWAY_API, isPseudoKind } from './util/kinds.ts';

export interface SkippedAnalyzer {
  analyzer: string;
  /** Required inputs that were not loaded. */
  missing: MissingKind[];
}

export interface PartialAnalyzer {
  analyzer: string;
  /** Optional inputs that were not loaded, each with what the analyzer then does not check. */
  missing: (MissingKind & { leftOut: string })[];
}

export interface AnalysisCoverage {
  skipped: SkippedAnalyzer[];
  partial: PartialAnalyzer[];
}

/** Splits analyzers into those to run and those to skip, by what the snapshot could load. */
export function planAnalysis(
  snapshot: MeshSnapshot,
  analyzers: readonly Analyzer[],
): { run: Analyzer[] } & AnalysisCoverage {
  const run: Analyzer[] = [];
  const skipped: SkippedAnalyzer[] = [];
  const partial: PartialAnalyzer[] = [];
  for (const a of analyzers) {
    const required: MissingKind[] = [];
    const optional: PartialAnalyzer['missing'] = [];
    for (const input of a.inputs) {
      const missing = snapshot.missing(input);
      if (!missing) continue;
      if (input.optional) optional.push({ ...missing, leftOut: input.optional });
      else required.push(missing);
    }
    if (required.length > 0) {
      skipped.push({ analyzer: a.name, missing: required });
      continue;
    }
    run.push(a);
    if (optional.length > 0) partial.push({ analyzer: a.name, missing: optional });
  }
  return { run, skipped, partial };
}

/** Every kind the analyzers read, each once (optional ones included): what a live snapshot lists for them. */
export function inputsOf(analyzers: readonly Analyzer[]): KindRef[] {
  const out = new Map<string, KindRef>();
  for (const a of analyzers) for (const i of a.inputs) out.set(kindRefKey(i), { group: i.group, kind: i.kind });
  return [...out.values()];
}

/** "Secrets", "Telemetries", "Gateway API Gateways": a kind as people name a collection of it. */
export function kindPlural(ref: KindRef): string {
  const plural = /[^aeiou]y$/.test(ref.kind)
    ? `${ref.kind.slice(0, -1)}ies`
    : ref.kind.endsWith('s')
      ? ref.kind
      : `${ref.kind}s`;
  // Only the Gateway needs its group said: Istio has a Gateway too.
  if (ref.group === GATEWAY_API && ref.kind === 'Gateway') return `Gateway API ${plural}`;
  return plural;
}

const REASON: Record<MissingKind['reason'], string> = {
  'not-read': 'which meshops does not read',
  forbidden: 'which meshops is not allowed to list (RBAC)',
  'not-served': 'which this cluster does not serve',
  unsupported: 'which meshops cannot list yet',
  'not-listed': 'which were not loaded for this analysis',
};

/** "Secrets, which meshops does not read; HTTPRoutes and GRPCRoutes, which meshops cannot list yet". */
function why(missing: readonly MissingKind[]): string {
  const byReason = new Map<MissingKind['reason'], string[]>();
  for (const m of missing) {
    const name = isPseudoKind(m.ref) ? m.ref.kind : kindPlural(m.ref);
    byReason.set(m.reason, [...(byReason.get(m.reason) ?? []), name]);
  }
  return [...byReason].map(([reason, names]) => `${joinWords(names)}, ${REASON[reason]}`).join('; ');
}

/** `gateway.SecretAnalyzer needs Secrets, which meshops does not read`: one line per skipped analyzer. */
export function skippedLine(s: SkippedAnalyzer): string {
  return `${s.analyzer} needs ${why(s.missing)}`;
}

/** `injection.Analyzer ran without ConfigMaps, which ... (RBAC): <what that leaves out>`. */
export function partialLine(p: PartialAnalyzer): string {
  return `${p.analyzer} ran without ${why(p.missing)}: ${[...new Set(p.missing.map((m) => m.leftOut))].join('; ')}`;
}

function joinWords(parts: readonly string[]): string {
  if (parts.length <= 1) return parts[0] ?? '';
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}
