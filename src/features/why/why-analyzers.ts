// `/mesh why`'s analyzer check: Istio's analyzers (and meshops' own) over the snapshot, keeping the messages on
// the objects that concern the workload: its pods and owners, its Services, the DestinationRules and
// VirtualServices for them, the DestinationRules that apply at its sidecars, and the policies that select it.
// An Error is a medium finding and a Warning a low one (no symptom of their own); Info is a note.
import { z } from 'zod';
import { type KubeObject, matchesLabels } from '../../kube/objects.ts';
import { skippedLine } from '../../mesh/analyzers/coverage.ts';
import { runAnalysisYielding } from '../../mesh/analysis-yielding.ts';
import { destinationRulesForService } from '../../mesh/destination-rules.ts';
import { hostCovers, resolveHost, serviceFqdn } from '../../mesh/hosts.ts';
import { parseField, virtualServiceSpecSchema } from '../../mesh/istio-specs.ts';
import type { MeshSnapshot } from '../../mesh/snapshot.ts';
import { type CheckResult, type WhyCheckName, type WhyFinding, type WhyTarget, outcomeOf } from './why-rank.ts';

const labelMap = z.record(z.string(), z.string());
/** Where the kinds that select workloads keep their labels: selector (policies), workloadSelector (Sidecar, DestinationRule). */
const selectorsSchema = z.looseObject({
  selector: z.looseObject({ matchLabels: labelMap.optional() }).optional(),
  workloadSelector: z.looseObject({ labels: labelMap.optional(), matchLabels: labelMap.optional() }).optional(),
});

/** The objects an analyzer message may name that concern these pods. */
export function relatedResources(
  snapshot: MeshSnapshot,
  target: WhyTarget,
  pods: readonly KubeObject[],
  svcs: readonly KubeObject[],
) {
  const ns = target.namespace;
  const keys = new Set<string>([`Namespace/${ns}`, ...target.pods.map((p) => `Pod/${ns}/${p}`)]);
  for (const o of target.owners) keys.add(`${o.split('/')[0]}/${ns}/${o.split('/')[1]}`);
  const fqdns = svcs.map((s) => serviceFqdn(s.metadata.name, ns));
  for (const s of svcs) keys.add(`Service/${ns}/${s.metadata.name}`);
  const labels = pods.map((p) => p.metadata.labels ?? {});
  for (const s of svcs)
    for (const dr of destinationRulesForService(snapshot, s.metadata.name, ns, labels, labels))
      keys.add(`DestinationRule/${dr.ref.namespace}/${dr.ref.name}`);
  for (const vs of snapshot.list('VirtualService')) {
    const spec = parseField(vs, virtualServiceSpecSchema);
    const vsNs = vs.metadata.namespace ?? 'default';
    const hosts = [...(spec?.hosts ?? []), ...JSON.stringify(spec?.http ?? []).matchAll(/"host":"([^"]+)"/g)].map((h) =>
      resolveHost(typeof h === 'string' ? h : h[1]!, vsNs),
    );
    if (hosts.some((h) => fqdns.some((f) => hostCovers(h, f)))) keys.add(`VirtualService/${vsNs}/${vs.metadata.name}`);
  }
  for (const kind of ['AuthorizationPolicy', 'PeerAuthentication', 'Sidecar', 'RequestAuthentication', 'EnvoyFilter']) {
    for (const o of snapshot.list(kind, ns)) {
      const spec = parseField(o, selectorsSchema);
      const s = spec?.selector?.matchLabels ?? spec?.workloadSelector?.labels ?? spec?.workloadSelector?.matchLabels;
      if (!s || !Object.keys(s).length || labels.some((l) => matchesLabels(s, l)))
        keys.add(`${kind}/${ns}/${o.metadata.name}`);
    }
  }
  // A DestinationRule with a workloadSelector applies at these pods' sidecars, as callers.
  for (const o of snapshot.list('DestinationRule', ns)) {
    const s = parseField(o, selectorsSchema)?.workloadSelector?.matchLabels;
    if (s && Object.keys(s).length && labels.some((l) => matchesLabels(s, l)))
      keys.add(`DestinationRule/${ns}/${o.metadata.name}`);
  }
  return keys;
}

/** meshops' own analyzers that report what a diagnostic reports, by code. */
const ECHOES: Record<string, WhyCheckName> = {
  MSH0001: 'sidecar-resources',
  MSH0002: 'startup-race',
  MSH0003: 'probe-authz',
};

export async function analyzerOutcome(snapshot: MeshSnapshot, related: Set<string>): Promise<CheckResult> {
  // Loaded on first use: the analyzers (and their generated CRD schemas) are memory an idle bot does not need.
  // One analyzer at a time, yielding between them (the whole analysis of a big snapshot holds the loop too long).
  const analysis = await runAnalysisYielding(snapshot);
  const mine = analysis.messages.filter((m) =>
    related.has(`${m.resource.kind}/${m.resource.namespace ? `${m.resource.namespace}/` : ''}${m.resource.name}`),
  );
  const findings: WhyFinding[] = mine
    .filter((m) => m.level !== 'Info')
    .map((m) => ({
      check: 'analyzers' as const,
      title: `${m.code} ${m.name} on ${m.resource.kind} ${m.resource.namespace ? `${m.resource.namespace}/` : ''}${m.resource.name}`,
      cause: m.text,
      evidence: [`analyzer ${m.level}: ${m.text}`],
      confidence: m.level === 'Error' ? ('medium' as const) : ('low' as const),
      pods: m.resource.kind === 'Pod' ? [m.resource.name] : [],
      objects: [`${m.resource.kind}/${m.resource.namespace ? `${m.resource.namespace}/` : ''}${m.resource.name}`],
      explains: [],
      ...(ECHOES[m.code] ? { sameAs: ECHOES[m.code] } : {}),
    }));
  const notes = mine.filter((m) => m.level === 'Info').map((m) => `${m.code} ${m.name}: ${m.text}`);
  // "gateway.SecretAnalyzer needs Secrets, which meshops does not read": the words /mesh analyze uses.
  const unread = analysis.skipped.map((s) => `analyzer ${skippedLine(s)}`);
  return outcomeOf('analyzers', findings, notes, unread);
}
