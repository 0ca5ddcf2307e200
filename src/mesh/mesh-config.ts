// Istio's default MeshConfig (the values analyzers depend on), and the merge istiod applies to a
// user's mesh config: top-level fields replace the defaults, `defaultConfig` (ProxyConfig) is merged.
// Values from istio/istio pkg/config/mesh (DefaultMeshConfig, DefaultProxyConfig).
import { parse } from 'yaml';
import { z } from 'zod';
import type { MeshConfig } from './snapshot.ts';
import { MAX_YAML_ALIASES, TOO_MANY_ALIASES, isAliasLimitError } from './yaml-limits.ts';

export const ISTIO_DEFAULT_MESH_CONFIG: Readonly<MeshConfig> = Object.freeze({
  rootNamespace: 'istio-system',
  trustDomain: 'cluster.local',
  ingressService: 'istio-ingressgateway',
  ingressControllerMode: 'STRICT',
  ingressClass: 'istio',
  // Not set in Istio's defaults; gateways select `istio: <ingressSelector>`, and Istio falls back to this value.
  ingressSelector: 'ingressgateway',
  enableTracing: true,
  enableAutoMtls: true,
  outboundTrafficPolicy: { mode: 'ALLOW_ANY' },
  defaultServiceExportTo: ['*'],
  defaultVirtualServiceExportTo: ['*'],
  defaultDestinationRuleExportTo: ['*'],
  protocolDetectionTimeout: '0s',
  extensionProviders: [],
  defaultProviders: {},
  defaultConfig: {
    configPath: './etc/istio/proxy',
    binaryPath: '/usr/local/bin/envoy',
    serviceCluster: 'istio-proxy',
    drainDuration: '45s',
    terminationDrainDuration: '5s',
    proxyAdminPort: 15000,
    controlPlaneAuthPolicy: 'MUTUAL_TLS',
    discoveryAddress: 'istiod.istio-system.svc:15012',
    statNameLength: 189,
    statusPort: 15020,
    tracing: { zipkin: { address: 'zipkin.istio-system:9411' } },
    proxyMetadata: {},
  },
});

const meshConfigSchema = z.looseObject({
  rootNamespace: z.string().optional(),
  ingressControllerMode: z.enum(['UNSPECIFIED', 'OFF', 'DEFAULT', 'STRICT']).optional(),
  ingressService: z.string().optional(),
  ingressSelector: z.string().optional(),
  defaultConfig: z.record(z.string(), z.unknown()).optional(),
});

export class MeshConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MeshConfigError';
  }
}

/** Parses mesh config YAML (the `mesh` key of the istio ConfigMap) and merges it over `defaults`. */
export function mergeMeshConfig(
  defaults: Readonly<MeshConfig>,
  overrideYaml: string | undefined,
  file = 'mesh config',
): MeshConfig {
  const base = structuredClone(defaults) as MeshConfig;
  if (!overrideYaml || overrideYaml.trim() === '') return base;
  let raw: unknown;
  try {
    raw = parse(overrideYaml, { maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    if (isAliasLimitError(err)) throw new MeshConfigError(`${file}: ${TOO_MANY_ALIASES}`);
    const line = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new MeshConfigError(`${file}${line ? `:${line}` : ''}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (raw === null || raw === undefined) return base;
  const parsed = meshConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MeshConfigError(`${file}: ${issue?.path.join('.') || 'mesh config'}: ${issue?.message}`);
  }
  const { defaultConfig, ...rest } = parsed.data;
  const merged: MeshConfig = { ...base, ...rest };
  if (defaultConfig) merged.defaultConfig = { ...(base.defaultConfig ?? {}), ...defaultConfig };
  return merged;
}

/** The defaults merged with an optional override: what `--mesh-config FILE` yields. */
export function meshConfigFrom(overrideYaml?: string, file?: string): MeshConfig {
  return mergeMeshConfig(ISTIO_DEFAULT_MESH_CONFIG, overrideYaml, file);
}
