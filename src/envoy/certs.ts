// Envoy's admin /certs (envoy.admin.v3.Certificates): the certificates the proxy has loaded. In an
// Istio sidecar that is the workload certificate istiod signed (SAN `spiffe://<trust domain>/ns/<ns>/sa/<sa>`)
// and the root it trusts. uint64 days come as strings, timestamps as RFC 3339.
import { z } from 'zod';

const detailsSchema = z.looseObject({
  path: z.string().optional(),
  serial_number: z.string().default(''),
  subject_alt_names: z
    .array(z.looseObject({ dns: z.string().optional(), uri: z.string().optional(), ip_address: z.string().optional() }))
    .default([]),
  days_until_expiration: z.union([z.string(), z.number()]).optional(),
  valid_from: z.string().optional(),
  expiration_time: z.string().optional(),
});

const certsSchema = z.looseObject({
  certificates: z
    .array(
      z.looseObject({ ca_cert: z.array(detailsSchema).default([]), cert_chain: z.array(detailsSchema).default([]) }),
    )
    .default([]),
});

export interface CertificateDetails {
  /** A file path, or `<inline>` for certificates pushed over SDS. */
  path?: string;
  serialNumber: string;
  /** URIs, DNS names and IP addresses, in the certificate's order. */
  subjectAltNames: string[];
  daysUntilExpiration?: number;
  validFrom?: Date;
  expirationTime?: Date;
}

export interface LoadedCertificate {
  caCert: CertificateDetails[];
  certChain: CertificateDetails[];
}

function date(text: string | undefined): Date | undefined {
  if (!text) return undefined;
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function details(d: z.infer<typeof detailsSchema>): CertificateDetails {
  const days = d.days_until_expiration === undefined ? undefined : Number(d.days_until_expiration);
  const validFrom = date(d.valid_from);
  const expirationTime = date(d.expiration_time);
  return {
    ...(d.path ? { path: d.path } : {}),
    serialNumber: d.serial_number,
    subjectAltNames: d.subject_alt_names.flatMap((s) =>
      [s.uri, s.dns, s.ip_address].filter((x): x is string => typeof x === 'string' && x !== ''),
    ),
    ...(days !== undefined && Number.isFinite(days) ? { daysUntilExpiration: days } : {}),
    ...(validFrom ? { validFrom } : {}),
    ...(expirationTime ? { expirationTime } : {}),
  };
}

/** Parse /certs (text or parsed JSON). */
export function parseCerts(input: string | unknown): LoadedCertificate[] {
  const json = typeof input === 'string' ? (JSON.parse(input) as unknown) : input;
  return certsSchema
    .parse(json)
    .certificates.map((c) => ({ caCert: c.ca_cert.map(details), certChain: c.cert_chain.map(details) }));
}

/** The SPIFFE identity of the first workload certificate (`spiffe://cluster.local/ns/bookinfo/sa/reviews`), if any. */
export function spiffeIdentity(certs: readonly LoadedCertificate[]): string | undefined {
  for (const c of certs) {
    for (const d of c.certChain) {
      const id = d.subjectAltNames.find((s) => s.startsWith('spiffe://'));
      if (id) return id;
    }
  }
  return undefined;
}
