// What a proxy's certificates say, judged: the workload certificate (from SDS `default`, else /certs),
// its rotation, its trust domain against the mesh's, its roots against istiod's, and a gateway's
// credentialNames against the SDS secrets it loaded. Pure: the reads are done by certs.ts.
//
// Rotation (Istio's pilot-agent options): SECRET_TTL 24h, SECRET_GRACE_PERIOD_RATIO 0.5 — the agent
// renews a certificate when ratio × lifetime is left (with a 1% jitter, SECRET_GRACE_PERIOD_RATIO_JITTER).
// So a workload certificate with less left than that, past a margin, is one whose rotation is failing:
// "expires soon" for a 24 h certificate means "should have been replaced hours ago".
import type { LoadedCertificate } from '../../envoy/certs.ts';
import type { CertFacts } from '../../envoy/pem.ts';
import { trustDomainOf } from '../../envoy/pem.ts';
import { credentialResourceName, type SdsSecret } from '../../envoy/sds-secrets.ts';

export const DEFAULT_GRACE_RATIO = 0.5;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Credential (and root) expiry: a warning under 30 days, an error under 7. */
export const WARN_DAYS = 30;
export const ERROR_DAYS = 7;

export type Level = 'error' | 'warning' | 'info' | 'unknown';

export interface Finding {
  level: Level;
  /** One line, mrkdwn, the finding first. */
  text: string;
}

export interface WorkloadCert {
  source: 'SDS secret `default`' | '/certs';
  spiffeId?: string;
  trustDomain?: string;
  issuer?: string;
  subject?: string;
  serialNumber: string;
  notBefore?: Date;
  notAfter?: Date;
  /** When istio-agent should have renewed it (notAfter − ratio × lifetime). */
  rotationDue?: Date;
}

export interface RootCert {
  subject?: string;
  serialNumber: string;
  notAfter?: Date;
  fingerprint256?: string;
  /** The same certificate is in istiod's istio-ca-root-cert; undefined when that could not be compared. */
  matchesIstiod?: boolean;
  trustDomain?: string;
}

export interface CredentialState {
  credentialName: string;
  /** The SDS resource Istio names for it (`kubernetes://<name>`). */
  resource: string;
  /** Gateways (namespace/name) whose servers use it on this proxy. */
  gateways: string[];
  state: 'active' | 'warming' | 'missing';
  notAfter?: Date;
  daysLeft?: number;
  subject?: string;
  level: 'ok' | Level;
}

export interface CertCheckInput {
  now: Date;
  role: 'sidecar' | 'gateway';
  /** /certs, or why it could not be read. */
  certs: LoadedCertificate[] | { unread: string };
  secrets: SdsSecret[] | { unread: string };
  mesh: { trustDomain: string; aliases: string[]; source: string } | { unread: string };
  /** istiod's root (ConfigMap istio-ca-root-cert, key root-cert.pem, in the pod's namespace). */
  istiodRoot: { certs: CertFacts[]; source: string } | { unread: string };
  graceRatio: { value: number; source: string };
  /** For a gateway: the credentialNames of the Gateways that select it, or why they could not be read. */
  credentials: Array<{ credentialName: string; gateways: string[] }> | { unread: string };
}

export interface CertReport {
  workload?: WorkloadCert;
  roots: RootCert[];
  credentials: CredentialState[];
  /** Active SDS secrets from Kubernetes that no selecting Gateway names (left over, or from another Gateway kind). */
  otherCredentials: string[];
  findings: Finding[];
  /** Level of the worst finding ('ok' when nothing is wrong and everything was read). */
  worst: 'ok' | Level;
}

const isUnread = <T>(x: T | { unread: string }): x is { unread: string } =>
  typeof x === 'object' && x !== null && !Array.isArray(x) && 'unread' in x;

/** "3d 4h", "5h 12m", "40m", "expired 2h ago". */
export function timeLeft(ms: number): string {
  const abs = Math.abs(ms);
  const d = Math.floor(abs / DAY);
  const h = Math.floor((abs % DAY) / HOUR);
  const m = Math.floor((abs % HOUR) / 60_000);
  const text = d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m`;
  return ms < 0 ? `expired ${text} ago` : text;
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function workloadCert(input: CertCheckInput): WorkloadCert | undefined {
  const secrets = isUnread(input.secrets) ? [] : input.secrets;
  const leaf = secrets.find((s) => s.name === 'default' && s.state === 'active')?.chain[0];
  const ratio = input.graceRatio.value;
  if (leaf) {
    const spiffeId = leaf.spiffeIds[0];
    const lifetime = leaf.notAfter.getTime() - leaf.notBefore.getTime();
    return {
      source: 'SDS secret `default`',
      ...(spiffeId ? { spiffeId, trustDomain: trustDomainOf(spiffeId) } : {}),
      issuer: leaf.issuer,
      subject: leaf.subject,
      serialNumber: leaf.serialNumber,
      notBefore: leaf.notBefore,
      notAfter: leaf.notAfter,
      rotationDue: new Date(leaf.notAfter.getTime() - ratio * lifetime),
    };
  }
  const certs = isUnread(input.certs) ? [] : input.certs;
  const c = certs.flatMap((x) => x.certChain)[0];
  if (!c) return undefined;
  const spiffeId = c.subjectAltNames.find((s) => s.startsWith('spiffe://'));
  const lifetime = c.validFrom && c.expirationTime ? c.expirationTime.getTime() - c.validFrom.getTime() : undefined;
  return {
    source: '/certs',
    ...(spiffeId ? { spiffeId, trustDomain: trustDomainOf(spiffeId) } : {}),
    serialNumber: c.serialNumber,
    ...(c.validFrom ? { notBefore: c.validFrom } : {}),
    ...(c.expirationTime ? { notAfter: c.expirationTime } : {}),
    ...(c.expirationTime && lifetime !== undefined
      ? { rotationDue: new Date(c.expirationTime.getTime() - ratio * lifetime) }
      : {}),
  };
}

function workloadFindings(w: WorkloadCert | undefined, input: CertCheckInput, out: Finding[]): void {
  if (!w) {
    const why = [input.secrets, input.certs].filter(isUnread).map((u) => u.unread);
    out.push(
      why.length
        ? { level: 'unknown', text: `The workload certificate could not be read: ${why.join('; ')}.` }
        : {
            level: 'error',
            text: 'The proxy has *no workload certificate* (no active SDS secret `default`, nothing in /certs): it cannot do mTLS. istio-agent has not got one from istiod (CA unreachable or refusing the CSR: see its log).',
          },
    );
    return;
  }
  const now = input.now.getTime();
  if (w.notAfter && w.notBefore && w.rotationDue) {
    const left = w.notAfter.getTime() - now;
    const lifetime = w.notAfter.getTime() - w.notBefore.getTime();
    const margin = Math.max(10 * 60_000, 0.02 * lifetime);
    const ratio = input.graceRatio;
    if (left <= 0)
      out.push({
        level: 'error',
        text: `The workload certificate *expired* ${timeLeft(left).replace('expired ', '')} (at ${iso(w.notAfter)}): mTLS to and from this pod fails. Rotation has failed — istio-agent could not get a new one from istiod.`,
      });
    else if (now > w.rotationDue.getTime() + margin)
      out.push({
        level: left < 0.1 * lifetime ? 'error' : 'warning',
        text: `The workload certificate expires in *${timeLeft(left)}* and should have been renewed at ${iso(w.rotationDue)} (${Math.round(ratio.value * 100)}% of its ${timeLeft(lifetime)} lifetime left, ${ratio.source}): *rotation is failing*. Check istio-agent's log in the pod for CSR errors and that istiod is reachable.`,
      });
  }
  const mesh = input.mesh;
  if (!w.spiffeId) {
    out.push({
      level: 'warning',
      text: 'The workload certificate has no SPIFFE id (URI SAN): peers cannot authorize it by identity.',
    });
  } else if (isUnread(mesh)) {
    out.push({
      level: 'unknown',
      text: `The mesh's trust domain could not be read (${mesh.unread}), so the SPIFFE id was not checked against it.`,
    });
  } else if (w.trustDomain !== mesh.trustDomain) {
    const alias = w.trustDomain !== undefined && mesh.aliases.includes(w.trustDomain);
    out.push(
      alias
        ? {
            level: 'info',
            text: `The SPIFFE id's trust domain \`${w.trustDomain}\` is an alias of the mesh's \`${mesh.trustDomain}\` (trustDomainAliases in ${mesh.source}).`,
          }
        : {
            level: 'error',
            text: `The SPIFFE id's trust domain is \`${w.trustDomain}\`, the mesh's is \`${mesh.trustDomain}\` (${mesh.source}): peers with AuthorizationPolicies on principals of \`${mesh.trustDomain}\` reject this proxy. Add it to meshConfig.trustDomainAliases, or reissue with the mesh's trust domain.`,
          },
    );
  }
}

function rootCerts(input: CertCheckInput): RootCert[] {
  const secrets = isUnread(input.secrets) ? [] : input.secrets;
  const root = secrets.find((s) => s.name === 'ROOTCA' && s.state === 'active');
  if (root) {
    const bundled = root.bundles.flatMap((b) => b.roots.map((r) => ({ r, trustDomain: b.trustDomain })));
    return [...root.roots.map((r) => ({ r, trustDomain: undefined })), ...bundled].map(({ r, trustDomain }) => ({
      subject: r.subject,
      serialNumber: r.serialNumber,
      notAfter: r.notAfter,
      fingerprint256: r.fingerprint256,
      ...(trustDomain ? { trustDomain } : {}),
    }));
  }
  const certs = isUnread(input.certs) ? [] : input.certs;
  return certs
    .flatMap((c) => c.caCert)
    .map((c) => ({ serialNumber: c.serialNumber, ...(c.expirationTime ? { notAfter: c.expirationTime } : {}) }));
}

function rootFindings(roots: RootCert[], input: CertCheckInput, out: Finding[]): void {
  if (roots.length === 0) {
    if (!isUnread(input.secrets) || !isUnread(input.certs))
      out.push({
        level: 'error',
        text: 'The proxy has *no root CA* loaded (no active `ROOTCA` secret): it cannot verify any peer.',
      });
    return;
  }
  const istiod = input.istiodRoot;
  if (isUnread(istiod)) {
    out.push({
      level: 'unknown',
      text: `istiod's root could not be read (${istiod.unread}), so the proxy's root was not compared with it.`,
    });
  } else {
    const fps = new Set(istiod.certs.map((c) => c.fingerprint256));
    const serials = new Set(istiod.certs.map((c) => c.serialNumber));
    for (const r of roots) r.matchesIstiod = r.fingerprint256 ? fps.has(r.fingerprint256) : serials.has(r.serialNumber);
    const same = roots.filter((r) => r.matchesIstiod).length;
    if (same === 0)
      out.push({
        level: 'error',
        text: `The proxy's root CA is *not istiod's*: none of its ${roots.length === 1 ? 'root' : `${roots.length} roots`} is in ${istiod.source}${roots[0]?.fingerprint256 ? '' : ' (compared by serial: /certs gives no fingerprint)'}. It rejects peers whose certificates istiod signs now — after a CA change, restart the pod (or the CA was plugged in without the old root kept in the bundle).`,
      });
    else if (same < roots.length || same < istiod.certs.length)
      out.push({
        level: 'info',
        text: `The proxy's roots and istiod's overlap but differ (${same} in common): a root rotation in progress, or several trust domains.`,
      });
  }
  for (const r of roots) {
    if (!r.notAfter) continue;
    const days = (r.notAfter.getTime() - input.now.getTime()) / DAY;
    if (days < WARN_DAYS)
      out.push({
        level: days < ERROR_DAYS ? 'error' : 'warning',
        text: `The root CA${r.subject ? ` \`${r.subject}\`` : ''} ${days <= 0 ? '*has expired*' : `expires in *${timeLeft(r.notAfter.getTime() - input.now.getTime())}*`} (${iso(r.notAfter)}): every workload certificate it signs becomes invalid with it.`,
      });
  }
}

function credentialStates(input: CertCheckInput, out: Finding[]): { states: CredentialState[]; others: string[] } {
  const wanted = input.credentials;
  if (input.role !== 'gateway') return { states: [], others: [] };
  if (isUnread(wanted)) {
    out.push({
      level: 'unknown',
      text: `The Gateways could not be read (${wanted.unread}), so the credentials this gateway should load are not known.`,
    });
    return { states: [], others: [] };
  }
  if (isUnread(input.secrets)) {
    if (wanted.length)
      out.push({
        level: 'unknown',
        text: `The gateway's SDS secrets could not be read, so its ${wanted.length === 1 ? 'credential' : `${wanted.length} credentials`} were not checked.`,
      });
    return { states: [], others: [] };
  }
  const secrets = input.secrets;
  const states = wanted.map((w): CredentialState => {
    const resource = credentialResourceName(w.credentialName);
    const s =
      secrets.find((x) => x.name === resource && x.state === 'active') ?? secrets.find((x) => x.name === resource);
    const base = { credentialName: w.credentialName, resource, gateways: w.gateways };
    if (!s) return { ...base, state: 'missing', level: 'warning' };
    if (s.state !== 'active') return { ...base, state: 'warming', level: 'error' };
    const leaf = s.chain[0];
    if (!leaf) return { ...base, state: 'active', level: 'unknown' };
    const daysLeft = Math.floor((leaf.notAfter.getTime() - input.now.getTime()) / DAY);
    const left = leaf.notAfter.getTime() - input.now.getTime();
    const level = left <= 0 || daysLeft < ERROR_DAYS ? 'error' : daysLeft < WARN_DAYS ? 'warning' : 'ok';
    return { ...base, state: 'active', notAfter: leaf.notAfter, daysLeft, subject: leaf.subject, level };
  });
  for (const c of states) {
    const gw = c.gateways.map((g) => `\`${g}\``).join(', ');
    if (c.state === 'warming')
      out.push({
        level: 'error',
        text: `Credential \`${c.credentialName}\` (${gw}) is *warming*: the gateway asked for \`${c.resource}\` and istiod has not sent it — the Secret is missing in the gateway's namespace or holds no valid certificate. HTTPS on that server fails.`,
      });
    else if (c.state === 'missing')
      out.push({
        level: 'warning',
        text: `Credential \`${c.credentialName}\` (${gw}) is *not loaded*: the gateway never asked for \`${c.resource}\`, so no listener of it uses that server — its port may not be one the gateway serves, or the config has not reached it (\`/mesh stale\`).`,
      });
    else if (c.notAfter && c.level !== 'ok' && c.level !== 'unknown')
      out.push({
        level: c.level,
        text: `Credential \`${c.credentialName}\` (${gw}) ${c.notAfter.getTime() <= input.now.getTime() ? '*has expired*' : `expires in *${timeLeft(c.notAfter.getTime() - input.now.getTime())}*`} (${iso(c.notAfter)}): renew the certificate in its Secret; the gateway picks it up without a restart.`,
      });
  }
  const resources = new Set(states.map((s) => s.resource));
  const others = secrets
    .filter((s) => s.state === 'active' && s.name.startsWith('kubernetes') && !resources.has(s.name))
    .map((s) => s.name);
  return { states, others };
}

const RANK: Record<'ok' | Level, number> = { error: 4, warning: 3, unknown: 2, info: 1, ok: 0 };

export function checkCerts(input: CertCheckInput): CertReport {
  const findings: Finding[] = [];
  const workload = workloadCert(input);
  workloadFindings(workload, input, findings);
  const roots = rootCerts(input);
  rootFindings(roots, input, findings);
  const { states, others } = credentialStates(input, findings);
  findings.sort((a, b) => RANK[b.level] - RANK[a.level]);
  const worst = findings.filter((f) => f.level !== 'info')[0]?.level ?? 'ok';
  return { ...(workload ? { workload } : {}), roots, credentials: states, otherCredentials: others, findings, worst };
}
