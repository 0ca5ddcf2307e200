// A throwaway self-signed TLS certificate for the sandbox API server. It has to be TLS: kubectl
// (client-go's clientcmd) only sends a kubeconfig's bearer token over https. Node has no API that
// writes X.509, so this encodes the few DER structures a P-256 self-signed certificate needs.
import { createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
}

const seq = (...c: Buffer[]) => tlv(0x30, ...c);
const set = (...c: Buffer[]) => tlv(0x31, ...c);
const octets = (b: Buffer) => tlv(0x04, b);
const bitString = (b: Buffer) => tlv(0x03, Buffer.from([0]), b);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const explicit = (n: number, c: Buffer) => tlv(0xa0 + n, c);

function integer(b: Buffer): Buffer {
  const first = b[0] ?? 0;
  return tlv(0x02, first & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [40 * (parts[0] as number) + (parts[1] as number)];
  for (const p of parts.slice(2)) {
    const stack = [p & 0x7f];
    for (let v = p >> 7; v > 0; v >>= 7) stack.unshift((v & 0x7f) | 0x80);
    out.push(...stack);
  }
  return tlv(0x06, Buffer.from(out));
}

function utcTime(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, '0');
  const s = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return tlv(0x17, Buffer.from(s, 'ascii'));
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand :: and write 8 groups.
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return Buffer.concat(groups.map((g) => Buffer.from([(parseInt(g, 16) >> 8) & 0xff, parseInt(g, 16) & 0xff])));
}

export interface SelfSignedCert {
  /** PEM certificate: also the CA a client must trust. */
  cert: string;
  key: string;
}

/** A P-256 certificate valid for a year for `hosts` (DNS names or IPs), usable as its own CA. */
export function selfSignedCert(hosts: string[], now = new Date()): SelfSignedCert {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ecdsaSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const name = seq(set(seq(oid('2.5.4.10'), utf8('meshops'))), set(seq(oid('2.5.4.3'), utf8('meshops-sandbox'))));
  const notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  const notAfter = new Date(now.getTime() + 365 * 24 * 60 * 60 * 1000);
  const altNames = hosts.map((h) => (isIP(h) ? tlv(0x87, ipBytes(h)) : tlv(0x82, Buffer.from(h, 'ascii'))));
  const extensions = seq(
    seq(oid('2.5.29.19'), bool(true), octets(seq(bool(true)))),
    // digitalSignature | keyCertSign
    seq(oid('2.5.29.15'), bool(true), octets(tlv(0x03, Buffer.from([2, 0x84])))),
    seq(oid('2.5.29.37'), octets(seq(oid('1.3.6.1.5.5.7.3.1')))),
    seq(oid('2.5.29.17'), octets(seq(...altNames))),
  );
  const serial = randomBytes(16);
  // Positive, and minimal in DER: a leading 0x00 byte before one under 0x80 is "illegal padding" to OpenSSL,
  // which failed about one start in 128. Top bit clear, next bit set: never 0x00, never negative.
  serial[0] = ((serial[0] as number) & 0x7f) | 0x40;
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    ecdsaSha256,
    name,
    seq(utcTime(notBefore), utcTime(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, extensions),
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = seq(tbs, ecdsaSha256, bitString(signature));
  const b64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  const cert = `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
  const key = createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }))
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
  return { cert, key };
}

/** A relative distinguished name's attributes, in order: `[['2.5.4.10', 'cluster.local']]` is O=cluster.local. */
export type DistinguishedName = Array<[oid: string, value: string]>;

export interface CertificateRequest {
  subject: DistinguishedName;
  /** The subject public key. */
  publicKey: KeyObject;
  /** Who signs: the issuer's name and private key (P-256); the subject itself when self-signed. */
  issuer: { name: DistinguishedName; key: KeyObject };
  notBefore: Date;
  notAfter: Date;
  /** A CA may sign others (basicConstraints CA:TRUE, keyCertSign); a leaf is for TLS client and server. */
  ca: boolean;
  uris?: string[];
  dnsNames?: string[];
}

export interface IssuedCertificate {
  pem: string;
  /** Lowercase hex, as Envoy's /certs prints it. */
  serialNumber: string;
}

function distinguishedName(dn: DistinguishedName): Buffer {
  return seq(...dn.map(([o, v]) => set(seq(oid(o), utf8(v)))));
}

/** An X.509 v3 certificate signed with ECDSA P-256/SHA-256 by `issuer` (the sandbox's mesh CA and its workload certificates). */
export function issueCertificate(req: CertificateRequest): IssuedCertificate {
  const ecdsaSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const altNames = [
    ...(req.uris ?? []).map((u) => tlv(0x86, Buffer.from(u, 'ascii'))),
    ...(req.dnsNames ?? []).map((d) => tlv(0x82, Buffer.from(d, 'ascii'))),
  ];
  const extensions: Buffer[] = [
    seq(oid('2.5.29.19'), bool(true), octets(req.ca ? seq(bool(true)) : seq())),
    // CA: digitalSignature | keyCertSign | cRLSign; leaf: digitalSignature | keyEncipherment.
    seq(oid('2.5.29.15'), bool(true), octets(tlv(0x03, Buffer.from(req.ca ? [1, 0x86] : [5, 0xa0])))),
  ];
  if (!req.ca) extensions.push(seq(oid('2.5.29.37'), octets(seq(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2')))));
  // With an empty subject (Istio's workload certificates) the SAN extension must be critical (RFC 5280 4.2.1.6).
  if (altNames.length > 0)
    extensions.push(seq(oid('2.5.29.17'), ...(req.subject.length === 0 ? [bool(true)] : []), octets(seq(...altNames))));
  const serial = randomBytes(16);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x40;
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    ecdsaSha256,
    distinguishedName(req.issuer.name),
    seq(utcTime(req.notBefore), utcTime(req.notAfter)),
    distinguishedName(req.subject),
    req.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...extensions)),
  );
  const der = seq(tbs, ecdsaSha256, bitString(sign('sha256', tbs, req.issuer.key)));
  const b64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return {
    pem: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`,
    serialNumber: serial.toString('hex'),
  };
}
