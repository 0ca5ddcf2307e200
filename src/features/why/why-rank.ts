// What `/mesh why` reports, as data, and how its findings are ranked. Every check (the three diagnostics, proxy
// sync, analyzers, mTLS conflicts, endpoints and subsets, the sidecars' 5xx) ends in one CheckOutcome: found,
// nothing found, or could not check with the reason. A finding is ranked by how well its evidence explains a
// symptom that was seen (a 503 with its response flag in the access log, an OOM kill, a readiness failure,
// a NACK): the finding that explains a symptom seen comes before one that only could, confidence next, then
// how direct the check is. Pure, so tests pin the order without a cluster.
import type { CheckName, Confidence, Finding, Fix } from '../../mesh/diagnostics/types.ts';

export type WhyCheckName = CheckName | 'proxy-sync' | 'analyzers' | 'mtls' | 'endpoints' | 'traffic';

/** The checks in the order they are listed, with the words for each. */
export const CHECK_LABELS: Record<WhyCheckName, string> = {
  traffic: 'recent 5xx in the sidecars’ access logs',
  'sidecar-resources': 'sidecar resources (OOM kills, limits)',
  'startup-race': 'startup race (app before its proxy)',
  'probe-authz': 'health probes against authorization',
  mtls: 'mTLS modes (DestinationRule against PeerAuthentication and sidecars)',
  endpoints: 'endpoints and subsets that select nothing',
  'proxy-sync': 'proxy sync status and NACKs',
  analyzers: 'config analyzers',
};

/** A failure seen: 5xx with a response flag toward a destination, or a runtime signal. */
export interface Symptom {
  /** `5xx|503|UH|payments.checkout|v2`: what findings name in `explains`. */
  key: string;
  text: string;
  count: number;
  /** Response flags of the failures (UH, UF, URX…), when from an access log. */
  flags: string[];
  /** `payments.checkout`, when the failures went to a known service. */
  service?: string;
  subset?: string;
  direction?: 'inbound' | 'outbound';
  /** One line as Envoy wrote it. */
  sample?: string;
  /** Where the failures were counted: access-log lines of the last minutes, or istio_requests_total (since start). */
  source?: 'access-log' | 'metrics';
}

export interface WhyFinding {
  check: WhyCheckName;
  title: string;
  cause: string;
  evidence: string[];
  confidence: Confidence;
  pods: string[];
  /** Keys of the symptoms this finding explains (Symptom.key), or `runtime` for a failure its own check saw. */
  explains: string[];
  fix?: Fix;
  alternatives?: Fix[];
  /** The diagnostic's own finding, when it came from one of the three diagnostics (for the fix offers). */
  diagnostic?: Finding;
  /** An analyzer message that says what this check says: folded into that check's finding on the same pods. */
  sameAs?: WhyCheckName;
  /** The config objects the finding is about (`DestinationRule/bookinfo/reviews-affinity`). */
  objects?: string[];
}

export type CheckOutcome =
  | { check: WhyCheckName; outcome: 'found'; findings: WhyFinding[]; notes: string[]; unread: string[]; ms: number }
  | { check: WhyCheckName; outcome: 'nothing-found'; notes: string[]; unread: string[]; ms: number }
  | { check: WhyCheckName; outcome: 'could-not-check'; reason: string; notes: string[]; unread: string[]; ms: number };

/** A check's outcome before its time is added. */
export type CheckResult = CheckOutcome extends infer U ? (U extends CheckOutcome ? Omit<U, 'ms'> : never) : never;

export interface WhyTarget {
  via: string;
  namespace: string;
  pods: string[];
  /** The Deployments (or other owners) the pods belong to. */
  owners: string[];
}

export interface WhyReport {
  asked: string;
  target: WhyTarget;
  symptoms: Symptom[];
  checks: CheckOutcome[];
  /** Every finding, best explanation first. */
  ranked: WhyFinding[];
  /** Symptoms no finding explains. */
  unexplained: Symptom[];
  elapsedMs: number;
}

const CONFIDENCE_SCORE: Record<Confidence, number> = { high: 3, medium: 2, low: 1 };

/** How direct a check is when confidence ties: a diagnostic that saw the failure beats an analyzer's message. */
const CHECK_WEIGHT: Record<WhyCheckName, number> = {
  'sidecar-resources': 6,
  'startup-race': 6,
  'probe-authz': 6,
  mtls: 5,
  endpoints: 4,
  'proxy-sync': 3,
  traffic: 2,
  analyzers: 1,
};

/** Whether the finding explains a failure that was seen (not one that only could happen). */
export function explainsSeen(f: WhyFinding, symptoms: readonly Symptom[]): boolean {
  return f.explains.some((k) => k === 'runtime' || symptoms.some((s) => s.key === k));
}

/** Failures explained, weighted by how many requests they cover, so the cause of most 503s leads. */
function explainedCount(f: WhyFinding, symptoms: readonly Symptom[]): number {
  return symptoms.filter((s) => f.explains.includes(s.key)).reduce((n, s) => n + s.count, 0);
}

export function score(f: WhyFinding, symptoms: readonly Symptom[]): number {
  return (explainsSeen(f, symptoms) ? 100 : 0) + CONFIDENCE_SCORE[f.confidence] * 10 + CHECK_WEIGHT[f.check];
}

/** Best explanation first; ties by failures explained, then by title so the order is the same every time. */
export function rankFindings(findings: readonly WhyFinding[], symptoms: readonly Symptom[]): WhyFinding[] {
  return [...findings].sort(
    (a, b) =>
      score(b, symptoms) - score(a, symptoms) ||
      explainedCount(b, symptoms) - explainedCount(a, symptoms) ||
      (a.title < b.title ? -1 : a.title > b.title ? 1 : 0),
  );
}

/** The symptoms that no finding explains. */
export function unexplainedSymptoms(findings: readonly WhyFinding[], symptoms: readonly Symptom[]): Symptom[] {
  return symptoms.filter((s) => !findings.some((f) => f.explains.includes(s.key)));
}

/** The first finding is "the cause" only when it explains something seen or its evidence is strong. */
export function isCause(f: WhyFinding | undefined, symptoms: readonly Symptom[]): boolean {
  return !!f && (explainsSeen(f, symptoms) || f.confidence === 'high');
}

/**
 * An analyzer message that says what a diagnostic found on the same pods (MSH0001 beside an OOM-killed sidecar)
 * is not a second finding: it becomes a line of the diagnostic's evidence.
 */
export function foldAnalyzerEchoes(findings: readonly WhyFinding[]): WhyFinding[] {
  const out = findings.map((f) => ({ ...f, evidence: [...f.evidence] }));
  return out.filter((f) => {
    if (f.check !== 'analyzers') return true;
    const samePods = (o: WhyFinding) =>
      !!f.sameAs && f.pods.length > 0 && o.check === f.sameAs && f.pods.every((p) => o.pods.includes(p));
    // An analyzer message on the object a finding blames (a NACK's suspect change) backs that finding up.
    const sameObject = (o: WhyFinding) => o.check !== 'analyzers' && !!f.objects?.some((x) => o.objects?.includes(x));
    const host = out.find((o) => samePods(o) || sameObject(o));
    if (!host) return true;
    host.evidence.push(`the analyzers agree: ${f.title}`);
    return false;
  });
}

const DIAGNOSTICS = new Set<WhyCheckName>(['sidecar-resources', 'startup-race', 'probe-authz']);

/**
 * Pods that are not ready because of what a diagnostic found (probes denied, the sidecar OOM-killed) leave their
 * Service without endpoints: that finding is the consequence of the diagnostic ranked above it, and says so.
 */
export function markConsequences(ranked: readonly WhyFinding[]): WhyFinding[] {
  return ranked.map((f, i) => {
    if (f.check !== 'endpoints' || !f.pods.length) return f;
    const cause = ranked.slice(0, i).find((c) => DIAGNOSTICS.has(c.check) && c.pods.some((p) => f.pods.includes(p)));
    return cause ? { ...f, evidence: [...f.evidence, `a consequence of: ${cause.title}`] } : f;
  });
}

export function assemble(
  asked: string,
  target: WhyTarget,
  symptoms: Symptom[],
  checks: CheckOutcome[],
  elapsedMs: number,
): WhyReport {
  const findings = foldAnalyzerEchoes(checks.flatMap((c) => (c.outcome === 'found' ? c.findings : [])));
  return {
    asked,
    target,
    symptoms,
    checks,
    ranked: markConsequences(rankFindings(findings, symptoms)),
    unexplained: unexplainedSymptoms(findings, symptoms),
    elapsedMs,
  };
}

/** A check's result from its findings: found when there are any. */
export function outcomeOf(
  check: WhyCheckName,
  findings: WhyFinding[],
  notes: string[],
  unread: string[],
  ms = 0,
): CheckOutcome {
  return findings.length
    ? { check, outcome: 'found', findings, notes, unread, ms }
    : { check, outcome: 'nothing-found', notes, unread, ms };
}
