// The analysis engine's front door: every analyzer, by Istio's name, and one call that runs them
// over a snapshot and returns messages in the order people read them (errors first), with the analyzers
// it could not run (or ran without some optional input) because the snapshot lacks what they read.
import type { MeshSnapshot } from '../snapshot.ts';
import { caCertificateAnalyzer } from './destinationrule/ca-certificates.ts';
import { subsetSelectPodAnalyzer } from './destinationrule/subset-pods.ts';
import { multiServiceAnalyzer } from './deployment/multi-service.ts';
import { gatewayCertificateAnalyzer } from './gateway/certificates.ts';
import { conflictingGatewayAnalyzer } from './gateway/conflicts.ts';
import { ingressGatewayPortAnalyzer } from './gateway/ingress-ports.ts';
import { gatewaySecretAnalyzer } from './gateway/secrets.ts';
import { portNameAnalyzer } from './service/port-names.ts';
import { conflictingMeshGatewayHostsAnalyzer } from './virtualservice/conflicting-mesh-gateway-hosts.ts';
import { destinationHostAnalyzer } from './virtualservice/destination-hosts.ts';
import { virtualServiceDestinationRuleAnalyzer } from './virtualservice/destination-rules.ts';
import { virtualServiceGatewayAnalyzer } from './virtualservice/gateways.ts';
import { sidecarSelectorAnalyzer } from './sidecar/selectors.ts';
import { authorizationPoliciesAnalyzer } from './authz/authorization-policies.ts';
import { serviceEntryAddressesAnalyzer } from './serviceentry/addresses.ts';
import { conflictingServiceEntryProtocolAnalyzer } from './serviceentry/conflicting-protocols.ts';
import { k8sGatewaySelectorAnalyzer } from './k8sgateway/selectors.ts';
import { applicationUidAnalyzer } from './applicationuid/application-uid.ts';
import { envoyPatchAnalyzer } from './envoyfilter/patches.ts';
import { conditionAnalyzer } from './conditions/conditions.ts';
import { telemetrySelectorAnalyzer } from './telemetry/selectors.ts';
import { telemetryDefaultSelectorAnalyzer } from './telemetry/default-selectors.ts';
import { telemetryProviderAnalyzer } from './telemetry/providers.ts';
import { telemetryLightstepAnalyzer } from './telemetry/lightstep.ts';
import { deprecationAnalyzer } from './deprecation/deprecation.ts';
import { blockedCidrsAnalyzer } from './authz/blocked-cidrs.ts';
import { jwtClaimRouteAnalyzer } from './virtualservice/jwt-claim-routes.ts';
import { gatewayApiCrdVersionAnalyzer } from './k8sgateway/crd-versions.ts';
import { gatewayApiVersionAnalyzer } from './k8sgateway/api-versions.ts';
import { injectionAnalyzer } from './injection/injection.ts';
import { injectionImageAnalyzer } from './injection/images.ts';
import { imageAutoAnalyzer } from './injection/image-auto.ts';
import { externalControlPlaneAnalyzer } from './externalcontrolplane/external-control-plane.ts';
import { webhookAnalyzer } from './webhook/webhooks.ts';
import { meshNetworksAnalyzer } from './multicluster/mesh-networks.ts';
import { multiClusterServiceAnalyzer } from './multicluster/services.ts';
import { virtualServiceValidationAnalyzer } from './schema/virtualservice.ts';
import { destinationRuleValidationAnalyzer } from './schema/destinationrule.ts';
import { schemaValidationAnalyzers } from './schema/crd.ts';
import { k8sAnnotationsAnalyzer } from './annotations/k8s.ts';
import { alphaAnnotationsAnalyzer } from './annotations/alpha.ts';
import { sidecarOomAnalyzer } from './meshops/sidecar-oom.ts';
import { startupRaceAnalyzer } from './meshops/startup-race.ts';
import { probeAuthorizationAnalyzer } from './meshops/probes-blocked.ts';
import { selectorAnalyzer } from './meshops/selectors.ts';
import { gatewayMutualCaAnalyzer } from './meshops/gateway-mutual-ca.ts';
import { appProtocolAnalyzer } from './meshops/app-protocol.ts';
import { authzCoverageAnalyzer } from './meshops/authz-coverage.ts';
// analyzer imports above this line
import type { AnalysisMessage, Analyzer, Level } from './types.ts';
import { formatGo, messageResource } from './types.ts';
import { MESSAGE_TYPES } from './messages.ts';
import { isSystemNamespace } from './util/workloads.ts';
import { isSuppressed, type Suppression } from './suppress.ts';
import { type AnalysisCoverage, inputsOf, planAnalysis } from './coverage.ts';

export type { AnalysisMessage, Analyzer, Level } from './types.ts';
export type { AnalysisCoverage } from './coverage.ts';

export const allAnalyzers: readonly Analyzer[] = [
  caCertificateAnalyzer,
  subsetSelectPodAnalyzer,
  multiServiceAnalyzer,
  gatewayCertificateAnalyzer,
  conflictingGatewayAnalyzer,
  ingressGatewayPortAnalyzer,
  gatewaySecretAnalyzer,
  portNameAnalyzer,
  conflictingMeshGatewayHostsAnalyzer,
  destinationHostAnalyzer,
  virtualServiceDestinationRuleAnalyzer,
  virtualServiceGatewayAnalyzer,
  sidecarSelectorAnalyzer,
  authorizationPoliciesAnalyzer,
  serviceEntryAddressesAnalyzer,
  conflictingServiceEntryProtocolAnalyzer,
  k8sGatewaySelectorAnalyzer,
  applicationUidAnalyzer,
  envoyPatchAnalyzer,
  conditionAnalyzer,
  telemetrySelectorAnalyzer,
  telemetryDefaultSelectorAnalyzer,
  telemetryProviderAnalyzer,
  telemetryLightstepAnalyzer,
  deprecationAnalyzer,
  blockedCidrsAnalyzer,
  jwtClaimRouteAnalyzer,
  gatewayApiCrdVersionAnalyzer,
  gatewayApiVersionAnalyzer,
  injectionAnalyzer,
  injectionImageAnalyzer,
  imageAutoAnalyzer,
  externalControlPlaneAnalyzer,
  webhookAnalyzer,
  meshNetworksAnalyzer,
  multiClusterServiceAnalyzer,
  // schema.ValidationAnalyzer.<Kind> for every Istio kind (the VirtualService and DestinationRule ones with their
  // own istiod checks plus the CRD schema's).
  ...schemaValidationAnalyzers({
    VirtualService: virtualServiceValidationAnalyzer,
    DestinationRule: destinationRuleValidationAnalyzer,
  }),
  k8sAnnotationsAnalyzer,
  alphaAnnotationsAnalyzer,
  // meshops' own diagnostics (MSH codes, scripts/meshops-messages.yaml): no Istio analyzer looks for these.
  sidecarOomAnalyzer,
  startupRaceAnalyzer,
  probeAuthorizationAnalyzer,
  selectorAnalyzer,
  gatewayMutualCaAnalyzer,
  authzCoverageAnalyzer,
  appProtocolAnalyzer,
  // new analyzers above this line
];

const byName = new Map(allAnalyzers.map((a) => [a.name, a]));

export function analyzerNames(): string[] {
  return allAnalyzers.map((a) => a.name).sort();
}

export function findAnalyzer(name: string): Analyzer | undefined {
  return byName.get(name);
}

export class UnknownAnalyzerError extends Error {
  constructor(name: string) {
    super(`unknown analyzer ${JSON.stringify(name)}; known analyzers: ${analyzerNames().join(', ')}`);
    this.name = 'UnknownAnalyzerError';
  }
}

export interface AnalyzeOptions {
  /** Istio analyzer names; default: all except opt-in ones (annotations.AlphaAnalyzer). */
  analyzers?: readonly string[];
  /** istioctl's --suppress CODE=RESOURCE; the galley.istio.io/analyze-suppress annotation applies always. */
  suppress?: readonly Suppression[];
}

const levelRank: Record<Level, number> = { Error: 0, Warning: 1, Info: 2 };

export function compareMessages(a: AnalysisMessage, b: AnalysisMessage): number {
  return (
    levelRank[a.level] - levelRank[b.level] ||
    cmp(messageResource(a), messageResource(b)) ||
    cmp(a.code, b.code) ||
    (a.line ?? 0) - (b.line ?? 0) ||
    cmp(a.text, b.text)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The analyzers asked for by name, or the default set (all but opt-in ones). Throws UnknownAnalyzerError. */
export function chooseAnalyzers(names?: readonly string[]): Analyzer[] {
  if (!names?.length) return allAnalyzers.filter((a) => !a.optIn);
  return names.map((n) => {
    const a = byName.get(n);
    if (!a) throw new UnknownAnalyzerError(n);
    return a;
  });
}

/** The kinds (with groups) the chosen analyzers read: what a live snapshot must list for them, and no more. */
export function analysisInputs(names?: readonly string[]) {
  return inputsOf(chooseAnalyzers(names));
}

export interface AnalysisResult extends AnalysisCoverage {
  messages: AnalysisMessage[];
}

/** Runs the chosen analyzers that the snapshot has the inputs for; says which it skipped and why. */
export function runAnalysis(snapshot: MeshSnapshot, options: AnalyzeOptions = {}): AnalysisResult {
  const plan = planAnalysis(snapshot, chooseAnalyzers(options.analyzers));
  const messages = runAnalyzers(snapshot, plan.run).filter((m) => !isSuppressed(m, snapshot, options.suppress));
  return { messages, skipped: plan.skipped, partial: plan.partial };
}

/** Runs the chosen analyzers; messages sorted: errors, warnings, info, then by resource. */
export function analyze(snapshot: MeshSnapshot, options: AnalyzeOptions = {}): AnalysisMessage[] {
  return runAnalysis(snapshot, options).messages;
}

/**
 * Runs analyzers over a snapshot. One analyzer failing (a bug, or an object shaped in a way it did not
 * expect) becomes an IST0001 InternalError message naming it; the others still report.
 */
export function runAnalyzers(snapshot: MeshSnapshot, analyzers: readonly Analyzer[]): AnalysisMessage[] {
  const out: AnalysisMessage[] = [];
  const seen = new Set<string>();
  for (const a of analyzers) {
    let messages: AnalysisMessage[];
    try {
      messages = a.analyze(snapshot);
    } catch (err) {
      const t = MESSAGE_TYPES.InternalError;
      const detail = `${a.name}: ${err instanceof Error ? err.message : String(err)}`;
      messages = [
        {
          code: t.code,
          name: t.name,
          level: t.level,
          resource: { kind: 'Analyzer', name: a.name },
          text: formatGo(t.template, [detail]),
        },
      ];
    }
    for (const m of messages) {
      // Istio leaves Kubernetes system namespaces (kube-system, ...) out of its analysis.
      if (isSystemNamespace(m.resource.namespace)) continue;
      // Identical messages (same code, resource, text and place) are reported once, as istioctl does.
      const key = `${m.code}\u0000${messageResource(m)}\u0000${m.text}\u0000${m.origin ?? ''}\u0000${m.line ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(m);
    }
  }
  return out.sort(compareMessages);
}
