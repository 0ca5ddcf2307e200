// The SDS secrets of an Envoy config dump (envoy.admin.v3.SecretsConfigDump): dynamic_active_secrets
// and dynamic_warming_secrets, each with its certificates read from inline_bytes (base64 PEM). In an
// Istio proxy `default` is the workload certificate chain, `ROOTCA` the roots it trusts (or, with the
// SPIFFE validator, a bundle per trust domain), and a gateway's `credentialName: x` is the secret
// `kubernetes://x` (Istio's credentials.ToResourceName). Private keys are "[redacted]" by Envoy and
// never read here. Read as istioctl does: /config_dump?mask=dynamic_active_secrets,dynamic_warming_secrets.
import { z } from 'zod';
import type { KubeClient } from '../kube/client.ts';
import { type AdminRequestOptions, adminGet, EnvoyAdminError, type EnvoyProxyRef } from './admin.ts';
import { type CertFacts, certsFromPem, decodeInline } from './pem.ts';

export const SECRETS_DUMP_PATH = '/config_dump?mask=dynamic_active_secrets,dynamic_warming_secrets';
const SECRETS_TYPE = 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump';

const dataSource = z.looseObject({ inline_bytes: z.string().optional(), filename: z.string().optional() }).optional();

const dynamicSecret = z.looseObject({
  name: z.string().default(''),
  version_info: z.string().optional(),
  last_updated: z.string().optional(),
  secret: z
    .looseObject({
      tls_certificate: z.looseObject({ certificate_chain: dataSource }).optional(),
      validation_context: z
        .looseObject({
          trusted_ca: dataSource,
          custom_validator_config: z
            .looseObject({
              typed_config: z
                .looseObject({
                  trust_domains: z
                    .array(z.looseObject({ name: z.string().default(''), trust_bundle: dataSource }))
                    .default([]),
                })
                .optional(),
            })
            .optional(),
        })
        .optional(),
    })
    .optional(),
});

const dumpSchema = z.looseObject({ configs: z.array(z.looseObject({ '@type': z.string().optional() })).default([]) });
const secretsSchema = z.looseObject({
  dynamic_active_secrets: z.array(dynamicSecret).default([]),
  dynamic_warming_secrets: z.array(dynamicSecret).default([]),
});

export interface SdsSecret {
  name: string;
  /** active; warming (asked for, not yet received); uninitialized (active with version `uninitialized`). */
  state: 'active' | 'warming' | 'uninitialized';
  lastUpdated?: Date;
  /** The certificate chain (leaf first) of a TLS certificate secret. */
  chain: CertFacts[];
  /** Trusted roots of a validation-context secret. */
  roots: CertFacts[];
  /** With the SPIFFE validator: the roots per trust domain. */
  bundles: Array<{ trustDomain: string; roots: CertFacts[] }>;
  /** Certificate blocks that did not parse. */
  unreadable: number;
}

function pem(source: z.infer<typeof dataSource>): { certs: CertFacts[]; unreadable: number } {
  const b64 = source?.inline_bytes;
  return b64 ? certsFromPem(decodeInline(b64)) : { certs: [], unreadable: 0 };
}

function toSecret(s: z.infer<typeof dynamicSecret>, warming: boolean): SdsSecret {
  const chain = pem(s.secret?.tls_certificate?.certificate_chain);
  const roots = pem(s.secret?.validation_context?.trusted_ca);
  const bundles = (s.secret?.validation_context?.custom_validator_config?.typed_config?.trust_domains ?? []).map(
    (td) => ({ trustDomain: td.name, ...pem(td.trust_bundle) }),
  );
  const updated = s.last_updated ? new Date(s.last_updated) : undefined;
  return {
    name: s.name,
    state: warming ? 'warming' : s.version_info === 'uninitialized' ? 'uninitialized' : 'active',
    ...(updated && !Number.isNaN(updated.getTime()) ? { lastUpdated: updated } : {}),
    chain: chain.certs,
    roots: roots.certs,
    bundles: bundles.map((b) => ({ trustDomain: b.trustDomain, roots: b.certs })),
    unreadable: chain.unreadable + roots.unreadable + bundles.reduce((n, b) => n + b.unreadable, 0),
  };
}

/** The SDS secrets of a config dump (text or parsed JSON): warming first, then active. */
export function parseSdsSecrets(input: string | unknown): SdsSecret[] {
  const json = typeof input === 'string' ? (JSON.parse(input) as unknown) : input;
  const out: SdsSecret[] = [];
  for (const cfg of dumpSchema.parse(json).configs) {
    if (cfg['@type'] !== SECRETS_TYPE) continue;
    const s = secretsSchema.parse(cfg);
    out.push(...s.dynamic_warming_secrets.map((x) => toSecret(x, true)));
    out.push(...s.dynamic_active_secrets.map((x) => toSecret(x, false)));
  }
  return out;
}

/** Read the proxy's SDS secrets through the admin API. */
export async function getSdsSecrets(
  kube: KubeClient,
  proxy: EnvoyProxyRef,
  options: AdminRequestOptions = {},
): Promise<SdsSecret[]> {
  const body = await adminGet(kube, proxy, SECRETS_DUMP_PATH, options);
  try {
    return parseSdsSecrets(body);
  } catch (err) {
    throw new EnvoyAdminError(
      'bad-answer',
      proxy,
      SECRETS_DUMP_PATH,
      `not the answer Envoy gives (${err instanceof Error ? err.message.slice(0, 200) : String(err)})`,
    );
  }
}

/** Istio's SDS resource name for a Gateway's credentialName (pilot/pkg/model/credentials ToResourceName). */
export function credentialResourceName(credentialName: string): string {
  if (credentialName.startsWith('builtin://')) return 'default';
  if (credentialName.startsWith('kubernetes://') || credentialName.startsWith('kubernetes-gateway://'))
    return credentialName;
  return `kubernetes://${credentialName}`;
}
