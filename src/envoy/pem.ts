// X.509 certificates from PEM text, as the proxy holds them (SDS secrets' inline_bytes are base64 of
// PEM), read with node:crypto's X509Certificate: subject, issuer, serial, validity, SANs (the SPIFFE
// id is a URI SAN, `spiffe://<trust domain>/ns/<ns>/sa/<sa>`), CA or not, and the SHA-256 fingerprint
// that tells two roots apart. A block that does not parse is counted, not thrown.
import { X509Certificate } from 'node:crypto';

export interface CertFacts {
  subject: string;
  issuer: string;
  /** Lower-case hex, as Envoy's /certs and istioctl print it. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  spiffeIds: string[];
  dnsNames: string[];
  isCA: boolean;
  /** SHA-256 of the DER, `AB:CD:…`. */
  fingerprint256: string;
}

const BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** base64 inline_bytes → text. */
export const decodeInline = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');

/** Node writes multi-valued names one `key=value` a line: "O=cluster.local" or "CN=a, O=b". */
const oneLine = (name: string | undefined): string => (name ?? '').split('\n').filter(Boolean).join(', ');

/** SANs from Node's `subjectAltName` ("URI:spiffe://…, DNS:a.b"); values with commas come quoted. */
function sans(text: string | undefined, kind: 'URI' | 'DNS'): string[] {
  if (!text) return [];
  const out: string[] = [];
  for (const m of text.matchAll(/(URI|DNS):("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    if (m[1] !== kind) continue;
    const v = m[2] as string;
    out.push(v.startsWith('"') ? (JSON.parse(v) as string) : v.trim());
  }
  return out;
}

export function certFacts(cert: X509Certificate): CertFacts {
  return {
    subject: oneLine(cert.subject),
    issuer: oneLine(cert.issuer),
    serialNumber: cert.serialNumber.toLowerCase(),
    notBefore: cert.validFromDate,
    notAfter: cert.validToDate,
    spiffeIds: sans(cert.subjectAltName, 'URI').filter((u) => u.startsWith('spiffe://')),
    dnsNames: sans(cert.subjectAltName, 'DNS'),
    isCA: cert.ca,
    fingerprint256: cert.fingerprint256,
  };
}

/** Every certificate in a PEM text, in order; `unreadable` counts blocks that did not parse. */
export function certsFromPem(text: string): { certs: CertFacts[]; unreadable: number } {
  const certs: CertFacts[] = [];
  let unreadable = 0;
  for (const block of text.match(BLOCK) ?? []) {
    try {
      certs.push(certFacts(new X509Certificate(block)));
    } catch {
      unreadable++;
    }
  }
  return { certs, unreadable };
}

/** `spiffe://cluster.local/ns/bookinfo/sa/reviews` → `cluster.local`. */
export function trustDomainOf(spiffeId: string): string | undefined {
  return /^spiffe:\/\/([^/]+)/.exec(spiffeId)?.[1];
}
