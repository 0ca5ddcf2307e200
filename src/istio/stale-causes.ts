// What the trouble points at, for /mesh stale: each STALE or NACKed type in the words an SRE acts on,
// and the obvious causes checked directly (the config a NACK names is followed in stale-suspects.ts).
import { matchesLabels } from '../kube/objects.ts';
import { analyze } from '../mesh/analyzers/index.ts';
import type { MeshSnapshot } from '../mesh/snapshot.ts';
import { type AffectedProxy, cmp, type Interpretation, type ObviousCause } from './stale-report.ts';

// What each type's trouble points at, in the words an SRE acts on.
const STALE_MEANING: Record<string, string> = {
  CDS:
    'Clusters (CDS) not acknowledged: a *DestinationRule* problem. ' +
    'Check the DestinationRules for the hosts these workloads call: subsets, trafficPolicy, TLS settings.',
  LDS:
    'Listeners (LDS) not acknowledged: a *VirtualService or Gateway* problem. ' +
    'Check the VirtualServices and Gateways that apply to these workloads (ports, hosts), and EnvoyFilters that patch listeners.',
  EDS:
    'Endpoints (EDS) not acknowledged: *endpoint discovery*. ' +
    'Usually a Service whose selector matches no pods, or endpoints churning faster than Envoy acknowledges.',
  RDS: 'Routes (RDS) not acknowledged: *routes from a VirtualService*. Check its http routes, matches and destinations.',
  ECDS: 'Extension config (ECDS) not acknowledged: a *WasmPlugin or EnvoyFilter* extension that Envoy has not loaded.',
  SDS: 'Secrets (SDS) not acknowledged: *certificates*. Check the workload certificate and any credentialName the gateway uses.',
};

/** One entry per troubled type: the NACKed ones (with Envoy's texts), then the STALE ones, each by name. */
export function interpret(troubled: readonly AffectedProxy[]): Interpretation[] {
  const out: Interpretation[] = [];
  const errorsByType = new Map<string, Set<string>>();
  const staleByType = new Map<string, number>();
  const errorCount = new Map<string, number>();
  for (const a of troubled) {
    const erroring = new Set(a.errors.map((e) => e.type));
    for (const e of a.errors) {
      if (!errorsByType.has(e.type)) errorsByType.set(e.type, new Set());
      errorsByType.get(e.type)!.add(e.message);
    }
    for (const t of erroring) errorCount.set(t, (errorCount.get(t) ?? 0) + 1);
    for (const t of a.types) if (!erroring.has(t)) staleByType.set(t, (staleByType.get(t) ?? 0) + 1);
  }
  for (const [type, messages] of [...errorsByType].sort(([a], [b]) => cmp(a, b))) {
    out.push({
      type,
      status: 'ERROR',
      proxies: errorCount.get(type) ?? 0,
      text:
        `Envoy *rejected* (NACKed) the ${type} config istiod sent, and keeps running its previous config. ` +
        'A restart will not help: the new Envoy gets the same config and rejects it too. Fix the config the message names.',
      errors: [...messages],
    });
  }
  for (const [type, n] of [...staleByType].sort(([a], [b]) => cmp(a, b))) {
    out.push({
      type,
      status: 'STALE',
      proxies: n,
      text: STALE_MEANING[type] ?? `${type} pushed but not acknowledged by Envoy.`,
    });
  }
  return out;
}

// Istio's own analyzers where one exists: a VirtualService host or subset that does not exist, a
// DestinationRule subset that selects no pod, and a DestinationRule traffic policy istiod's validation
// refuses (which Envoy, receiving it anyway, NACKs: a Maglev table size that is not prime).
const CAUSE_ANALYZERS = [
  'virtualservice.DestinationHostAnalyzer',
  'virtualservice.DestinationRuleAnalyzer',
  'destinationrule.SubsetSelectPodAnalyzer',
  'schema.ValidationAnalyzer.DestinationRule',
];

export function obviousCauses(snapshot: MeshSnapshot, namespaces: ReadonlySet<string>): ObviousCause[] {
  const out: ObviousCause[] = [];
  for (const m of analyze(snapshot, { analyzers: CAUSE_ANALYZERS })) {
    if (!m.resource.namespace || !namespaces.has(m.resource.namespace) || m.level === 'Info') continue;
    out.push({
      code: m.code,
      kind: m.resource.kind,
      namespace: m.resource.namespace,
      name: m.resource.name,
      text: m.text,
    });
  }
  // Istio has no analyzer for this one: an empty Service is how EDS goes quiet.
  for (const ns of [...namespaces].sort()) {
    for (const svc of snapshot.list('Service', ns)) {
      const selector = (svc.spec as { selector?: Record<string, string> } | undefined)?.selector;
      if (!selector || Object.keys(selector).length === 0) continue;
      if (
        snapshot
          .list('Pod', ns)
          .some((p) => !p.metadata.deletionTimestamp && matchesLabels(selector, p.metadata.labels))
      )
        continue;
      const sel = Object.entries(selector)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      out.push({
        kind: 'Service',
        namespace: ns,
        name: svc.metadata.name,
        text: `The selector ${sel} matches no pod, so the Service has no endpoints.`,
      });
    }
  }
  return out;
}
