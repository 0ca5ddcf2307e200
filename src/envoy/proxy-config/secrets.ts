// proxy-config secret: the SDS secrets of a config dump (warming, then active) with what their first
// certificate says: CA or cert chain, serial (hex), NotAfter / NotBefore (RFC 3339, UTC) and whether
// it is valid now. Certificates come as base64 PEM in inline_bytes. A ROOTCA validated by SPIFFE
// (SPIRE federation: custom_validator_config with trust_domains) has a row per trust domain's
// bundle, and the table gains a TRUST DOMAIN column (a certificate chain's is its SPIFFE id's).
// Tabwriter padding 5.
import { X509Certificate } from 'node:crypto';
import { type EnvoyConfigDump, section, type StructuredFormat, structured, type SummaryOptions } from './dump.ts';
import { arr, isObject, type JsonObject, obj, str } from './proto.ts';
import { jsonpbIndent, toJsonNames } from './jsonpb.ts';
import { tabwriter } from './tabwriter.ts';

export interface SecretItem {
  name: string;
  /** WARMING, ACTIVE, or UNINITIALIZED (active with version_info `uninitialized`). */
  state: string;
  /** `CA`, `Cert Chain`, or '' when the secret carries no certificate istioctl can read. */
  type: string;
  valid: boolean;
  /** Lower-case hex of the serial's bytes. */
  serialNumber: string;
  notAfter: string;
  notBefore: string;
  /** Set in the SPIFFE-validator view only. */
  trustDomain?: string;
}

export interface SecretOptions extends SummaryOptions {
  /** The clock VALID CERT is judged by (default: now). */
  now?: Date;
}

const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

interface CertMeta {
  type: string;
  valid: boolean;
  serialNumber: string;
  notAfter: string;
  notBefore: string;
  spiffeTrustDomain?: string;
}

/** The first certificate of a PEM text, as istioctl's secretMetaFromCert reads it; undefined if none parses. */
export function certMeta(pemText: string, now: Date): CertMeta | undefined {
  const block = pemText.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/);
  if (!block) return undefined;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(block[0]);
  } catch {
    return undefined;
  }
  const from = cert.validFromDate;
  const to = cert.validToDate;
  const spiffe = (cert.subjectAltName ?? '')
    .split(', ')
    .map((s) => s.match(/^URI:spiffe:\/\/([^/]+)/))
    .find((m) => m !== null);
  return {
    type: cert.ca ? 'CA' : 'Cert Chain',
    valid: now > from && now < to,
    serialNumber: cert.serialNumber.toLowerCase(),
    notAfter: rfc3339(to),
    notBefore: rfc3339(from),
    ...(spiffe ? { spiffeTrustDomain: spiffe[1] } : {}),
  };
}

const decode = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');

function item(name: string, state: string, meta: CertMeta | undefined): SecretItem {
  return {
    name,
    state,
    type: meta?.type ?? '',
    valid: meta?.valid ?? false,
    serialNumber: meta?.serialNumber ?? '',
    notAfter: meta?.notAfter ?? '',
    notBefore: meta?.notBefore ?? '',
  };
}

function spiffeTrustDomains(secret: unknown): JsonObject[] {
  const validator = obj(obj(secret, 'validation_context'), 'custom_validator_config');
  return arr(obj(validator, 'typed_config'), 'trust_domains').filter(isObject);
}

function secretItems(dynamicSecret: unknown, state: string, now: Date, spiffeView: boolean): SecretItem[] {
  const name = str(dynamicSecret, 'name');
  const secret = obj(dynamicSecret, 'secret');
  const chain = str(obj(obj(secret, 'tls_certificate'), 'certificate_chain'), 'inline_bytes');
  const ca = str(obj(obj(secret, 'validation_context'), 'trusted_ca'), 'inline_bytes');
  const bundles = spiffeTrustDomains(secret);
  if (!chain && !ca && bundles.length > 0) {
    return bundles.map((td) => ({
      ...item(name, state, certMeta(decode(str(obj(td, 'trust_bundle'), 'inline_bytes')), now)),
      trustDomain: str(td, 'name'),
    }));
  }
  const data = chain || ca;
  const meta = data ? certMeta(decode(data), now) : undefined;
  const it = item(name, state, meta);
  return [spiffeView ? { ...it, trustDomain: meta?.spiffeTrustDomain ?? '' } : it];
}

/** The rows of `proxy-config secret`: warming secrets, then active ones. */
export function secretSummaryItems(dump: EnvoyConfigDump, now: Date = new Date()): SecretItem[] {
  const sds = section(dump, 'SecretsConfigDump');
  const warming = arr(sds, 'dynamic_warming_secrets');
  const active = arr(sds, 'dynamic_active_secrets');
  const spiffeView = [...warming, ...active].some((s) => spiffeTrustDomains(obj(s, 'secret')).length > 0);
  const items = warming.flatMap((s) => secretItems(s, 'WARMING', now, spiffeView));
  for (const s of active) {
    const state = str(s, 'version_info') === 'uninitialized' ? 'UNINITIALIZED' : 'ACTIVE';
    items.push(...secretItems(s, state, now, spiffeView));
  }
  return items;
}

/** `istioctl proxy-config secret` (-o short). */
export function secretSummary(dump: EnvoyConfigDump, opts: SecretOptions = {}): string {
  const sds = section(dump, 'SecretsConfigDump');
  if (arr(sds, 'dynamic_active_secrets').length === 0 && arr(sds, 'dynamic_warming_secrets').length === 0)
    return 'No active or warming secrets found.\n';
  const items = secretSummaryItems(dump, opts.now);
  if (items.length === 0) return 'No secret items to show.\n';
  const withTrustDomain = items.some((i) => i.trustDomain !== undefined);
  let text = 'RESOURCE NAME\tTYPE\tSTATUS\tVALID CERT\tSERIAL NUMBER\tNOT AFTER\tNOT BEFORE';
  text += withTrustDomain ? '\tTRUST DOMAIN\n' : '\n';
  for (const i of items) {
    const name = opts.typePrefix ? `secret/${i.name}` : i.name;
    text += `${name}\t${i.type}\t${i.state}\t${i.valid}\t${i.serialNumber}\t${i.notAfter}\t${i.notBefore}`;
    text += withTrustDomain ? `\t${i.trustDomain ?? ''}\n` : '\n';
  }
  return tabwriter(text, { padding: 5 });
}

/** `istioctl proxy-config secret -o json|yaml`: the SecretsConfigDump as jsonpb prints it. */
export function secretDump(dump: EnvoyConfigDump, format: StructuredFormat = 'json'): string {
  const { '@type': _t, ...rest } = section(dump, 'SecretsConfigDump');
  if (format === 'yaml') return structured(toJsonNames(rest), 'yaml');
  const structs = new WeakSet<object>();
  return jsonpbIndent(toJsonNames(rest, { structs }), structs) + '\n';
}
