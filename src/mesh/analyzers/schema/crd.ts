// schema.ValidationAnalyzer.<Kind> for every Istio kind meshops reads: the object's spec checked against its CRD's
// OpenAPI schema (what the API server rejects: types, required fields, enums, patterns, bounds, unknown fields,
// the CEL rules cel.ts can evaluate) plus, for the kinds in istio-rules.ts, istiod's own validation where it is
// stricter than the CRD. Istio's analyzer (pkg/config/analysis/analyzers/schema/validation.go) runs one analyzer
// per kind and reports each validation error as IST0106 (warnings as IST0133); these do the same. The
// VirtualService and DestinationRule analyzers keep their own istiod checks and gain the CRD schema's.
import type { KubeObject } from '../../../kube/objects.ts';
import type { KindRef } from '../../snapshot.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { CRD_SCHEMAS, type CrdSchema } from './crd-schemas.ts';
import { type OpenApiSchema, type SchemaError, validateSchema } from './openapi.ts';
import { istioRuleProblems } from './istio-rules.ts';

/**
 * The kinds validated, each listed by meshops' snapshots (src/kube/kinds.ts). TrafficExtension, in the CRD file
 * too, is not: meshops does not list it, so it has no analyzer yet.
 */
export const VALIDATED_KINDS = [
  'AuthorizationPolicy',
  'DestinationRule',
  'EnvoyFilter',
  'Gateway',
  'PeerAuthentication',
  'ProxyConfig',
  'RequestAuthentication',
  'ServiceEntry',
  'Sidecar',
  'Telemetry',
  'VirtualService',
  'WasmPlugin',
  'WorkloadEntry',
  'WorkloadGroup',
] as const;

export type ValidatedKind = (typeof VALIDATED_KINDS)[number];

function crdOf(kind: string): CrdSchema {
  const crd = CRD_SCHEMAS.find((c) => c.kind === kind);
  if (!crd) throw new Error(`no CRD schema for ${kind} in crd-schemas.ts (regenerate it)`);
  return crd;
}

function specSchema(crd: CrdSchema): OpenApiSchema | undefined {
  return crd.schema.properties?.['spec'];
}

/** What the API server would reject in this object's spec (empty when the kind has no schema). */
export function crdSchemaErrors(obj: KubeObject): SchemaError[] {
  const crd = CRD_SCHEMAS.find((c) => c.kind === obj.kind && obj.apiVersion.startsWith(`${c.group}/`));
  if (!crd) return [];
  const version = obj.apiVersion.slice(crd.group.length + 1);
  if (!crd.versions.includes(version))
    return [
      {
        text: `no matches for kind ${JSON.stringify(obj.kind)} in version ${JSON.stringify(obj.apiVersion)} (served: ${crd.versions.join(', ')})`,
        path: ['apiVersion'],
      },
    ];
  const schema = specSchema(crd);
  if (!schema || obj['spec'] === undefined) return [];
  return validateSchema(schema, obj['spec'], ['spec']);
}

function schemaMessages(obj: KubeObject): AnalysisMessage[] {
  const out = crdSchemaErrors(obj).map((e) => message('SchemaValidationError', obj, [e.text], e.path));
  for (const p of istioRuleProblems(obj))
    out.push(message(p.warning ? 'SchemaWarning' : 'SchemaValidationError', obj, [p.text], p.path));
  return out;
}

export function crdValidationAnalyzer(kind: ValidatedKind): Analyzer {
  const crd = crdOf(kind);
  const ref: KindRef = { group: crd.group, kind: crd.kind };
  return {
    name: `schema.ValidationAnalyzer.${kind}`,
    description: `Checks ${kind}s against the ${kind} CRD's schema and istiod's validation`,
    inputs: [ref],
    analyze(snapshot) {
      return snapshot.listOf(ref).flatMap(schemaMessages);
    },
  };
}

/** An existing analyzer of the kind (VirtualService, DestinationRule) with the CRD schema's checks added. */
export function withCrdSchema(analyzer: Analyzer, kind: ValidatedKind): Analyzer {
  const crd = crdOf(kind);
  const ref: KindRef = { group: crd.group, kind: crd.kind };
  return {
    ...analyzer,
    analyze(snapshot) {
      const own = analyzer.analyze(snapshot);
      const schema = snapshot.listOf(ref).flatMap((obj) => {
        // The analyzer's own "destination.host is required" and the CRD's "...destination.host: Required value"
        // are one mistake: keep istiod's wording, once.
        const required = own
          .filter((m) => m.resource.name === obj.metadata.name && m.resource.namespace === obj.metadata.namespace)
          .map((m) => /^Schema validation error: (\S+) is required$/.exec(m.text)?.[1])
          .filter((f): f is string => f !== undefined);
        return crdSchemaErrors(obj)
          .filter((e) => !required.some((f) => e.text.endsWith(`.${f}: Required value`)))
          .map((e) => message('SchemaValidationError', obj, [e.text], e.path));
      });
      return [...own, ...schema];
    },
  };
}

/** One analyzer per validated kind; VirtualService and DestinationRule wrap the analyzers given. */
export function schemaValidationAnalyzers(existing: {
  VirtualService: Analyzer;
  DestinationRule: Analyzer;
}): Analyzer[] {
  return VALIDATED_KINDS.map((kind) =>
    kind === 'VirtualService' || kind === 'DestinationRule'
      ? withCrdSchema(existing[kind], kind)
      : crdValidationAnalyzer(kind),
  );
}
