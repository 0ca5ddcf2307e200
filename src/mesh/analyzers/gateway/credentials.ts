// The questions gateway.SecretAnalyzer asks of each TLS server's credentialName, with the answers kept apart
// from where they come from: a Secret in the files (offline, as Istio) or what the gateway's Envoy loaded
// (live, where meshops reads no Secrets; see loaded-credentials.ts).
//
// Follows Istio's pkg/config/analysis/analyzers/gateway/secret.go: SecretAnalyzer.Analyze (the gateway's
// namespace is that of the first pod its selector matches, getGatewayNamespace; no pod → IST0101 on the
// selector; a credentialName resolved with resource.NewShortOrFullName; no Secret → IST0101 credentialName;
// a Secret that fails isValidSecret → IST0161 InvalidGatewayCredential, reported on the Gateway with the
// Gateway's name and the gateway workload's namespace). isValidSecret = pkg/kube/secretcontroller
// ExtractCertInfo (keys `cert`+`key`, else `tls.crt`+`tls.key`, both non-empty) then
// pilot/pkg/xds ValidateCertificate (the first PEM block parses as X.509 and now is within every
// certificate's NotBefore..NotAfter). meshops adds the one question istiod's SDS asks that the analyzer
// does not: a MUTUAL or OPTIONAL_MUTUAL server needs a CA certificate, from the Secret `<credentialName>-cacert`
// (keys `cacert` or `ca.crt`) or from the credential's own `ca.crt`/`cacert` (pilot/pkg/xds/sds.go,
// the `-cacert` resource); without one the gateway never gets its validation context. That one is meshops'
// own message (MSH0006, meshops.GatewayMutualCAAnalyzer), never IST0161, so gateway.SecretAnalyzer gives exactly
// what Istio's does.
import { X509Certificate } from 'node:crypto';
import type { KubeObject } from '../../../kube/objects.ts';
import type { SnapshotReader } from '../../snapshot.ts';
import { nsOf, rec, recs, spec, str, strMap } from '../util/fields.ts';
import { gvk, istioGateways } from '../util/kinds.ts';
import type { AnalysisMessage } from '../types.ts';
import { message } from '../types.ts';
import { podsSelected, selectorString } from '../util/workloads.ts';
import { shortOrFullName } from '../virtualservice/gateways.ts';
import { selectorLinePath } from './ingress-ports.ts';

/** A TLS server's credential, as the gateway workload resolves it. */
export interface CredentialQuestion {
  gateway: KubeObject;
  serverIndex: number;
  credentialName: string;
  /** The server's tls.mode (SIMPLE when unset, as Istio defaults it). */
  mode: string;
  /** Where the credential is read: the namespace of the gateway workload, not of the Gateway object. */
  namespace: string;
  name: string;
  /** The gateway pods the selector matches. */
  pods: readonly KubeObject[];
}

export type CredentialVerdict =
  | { state: 'ok'; notAfter?: Date }
  | { state: 'missing' }
  | { state: 'invalid'; why: string }
  /** A valid server certificate on a MUTUAL/OPTIONAL_MUTUAL server without a CA: meshops' own check (MSH0006). */
  | { state: 'no-ca'; why: string; notAfter?: Date }
  | { state: 'unknown'; why: string };

export type CredentialJudge = (q: CredentialQuestion) => CredentialVerdict;

export interface CredentialCheck {
  question: CredentialQuestion;
  verdict: CredentialVerdict;
}

/** TLS modes whose server verifies client certificates, so needs a CA. */
export const MUTUAL_MODES: ReadonlySet<string> = new Set(['MUTUAL', 'OPTIONAL_MUTUAL']);
/** Istio's SdsCaSuffix: the CA of credential `x` is the resource `x-cacert`. */
export const CA_SUFFIX = '-cacert';

/**
 * Which messages to give: Istio's (`istio`: IST0101 and IST0161 exactly as gateway.SecretAnalyzer, which does not
 * look for a MUTUAL server's CA), meshops' own MUTUAL-without-CA check (`mutual-ca`: MSH0006), or both (`all`).
 */
export type CredentialMessages = 'istio' | 'mutual-ca' | 'all';

/** Every Gateway's TLS credentials judged; the messages, and each question with its answer. */
export function checkGatewayCredentials(
  snapshot: SnapshotReader,
  judge: CredentialJudge,
  gateways: readonly KubeObject[] = istioGateways(snapshot).list,
  emit: CredentialMessages = 'istio',
): { messages: AnalysisMessage[]; checks: CredentialCheck[] } {
  const istio = emit !== 'mutual-ca';
  const messages: AnalysisMessage[] = [];
  const checks: CredentialCheck[] = [];
  for (const gw of gateways) {
    const selector = strMap(spec(gw)['selector']);
    const pods = podsSelected(snapshot, selector);
    const gwNs = pods[0] ? nsOf(pods[0]) : '';
    if (gwNs === '') {
      if (istio)
        messages.push(
          message('ReferencedResourceNotFound', gw, ['selector', selectorString(selector)], selectorLinePath(selector)),
        );
      continue;
    }
    recs(spec(gw)['servers']).forEach((server, i) => {
      const tls = rec(server['tls']);
      const cn = str(tls['credentialName']);
      if (cn === '') return;
      const ref = shortOrFullName(gwNs, cn);
      const question: CredentialQuestion = {
        gateway: gw,
        serverIndex: i,
        credentialName: cn,
        mode: str(tls['mode']) || 'SIMPLE',
        namespace: ref.namespace,
        name: ref.name,
        pods: pods.filter((p) => nsOf(p) === gwNs),
      };
      const verdict = judge(question);
      checks.push({ question, verdict });
      const path = ['spec', 'servers', i, 'tls', 'credentialName'];
      if (verdict.state === 'missing' && istio)
        messages.push(message('ReferencedResourceNotFound', gw, ['credentialName', cn], path));
      else if (verdict.state === 'invalid' && istio)
        messages.push(message('InvalidGatewayCredential', gw, [gw.metadata.name, gwNs], path));
      else if (verdict.state === 'no-ca' && emit !== 'istio')
        messages.push(
          message('GatewayMutualWithoutCA', gw, [cn, question.mode], ['spec', 'servers', i, 'tls', 'mode']),
        );
    });
  }
  return { messages, checks };
}

/** A Secret's data as bytes: `data` is base64, `stringData` (what the API server folds into data) is text. */
export function secretData(secret: KubeObject): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const raw = secret as unknown as { data?: unknown; stringData?: unknown };
  for (const [k, v] of Object.entries(strMap(raw.data))) out.set(k, Buffer.from(v, 'base64'));
  for (const [k, v] of Object.entries(strMap(raw.stringData))) out.set(k, Buffer.from(v, 'utf8'));
  return out;
}

const hasValue = (d: Map<string, Buffer>, ...keys: string[]) => keys.every((k) => (d.get(k)?.length ?? 0) > 0);
const hasKeys = (d: Map<string, Buffer>, ...keys: string[]) => keys.every((k) => d.has(k));

/** ExtractCertInfo: the server certificate's PEM, or why the Secret holds none. */
export function serverCertOf(d: Map<string, Buffer>): { cert: Buffer } | { why: string } {
  if (hasValue(d, 'cert', 'key')) return { cert: d.get('cert') as Buffer };
  if (hasValue(d, 'tls.crt', 'tls.key')) return { cert: d.get('tls.crt') as Buffer };
  if (hasKeys(d, 'cert', 'key')) return { why: 'its keys "cert" and "key" are empty' };
  if (hasKeys(d, 'tls.crt', 'tls.key')) return { why: 'its keys "tls.crt" and "tls.key" are empty' };
  const found = [...d.keys()].sort().slice(0, 5).join(', ');
  return { why: `it has neither tls.crt and tls.key nor cert and key (found: ${found || 'no keys'})` };
}

/** The CA bundle of a Secret (ExtractRoot: `cacert`, else `ca.crt`), when it has one. */
export function caCertOf(d: Map<string, Buffer>): Buffer | undefined {
  if (hasValue(d, 'cacert')) return d.get('cacert');
  if (hasValue(d, 'ca.crt')) return d.get('ca.crt');
  return undefined;
}

const FIRST_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/;

/** ValidateCertificate: the first PEM block is an X.509 certificate valid at `now`; its notAfter, or why not. */
export function validateCertificate(pem: Buffer | string, now: Date): { notAfter: Date } | { why: string } {
  const m = FIRST_BLOCK.exec(pem.toString('utf8'));
  if (!m) return { why: 'no PEM block in the certificate' };
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(m[0]);
  } catch {
    return { why: `the certificate's first PEM block (${m[1]}) is not an X.509 certificate` };
  }
  if (now.getTime() > cert.validToDate.getTime())
    return { why: `the certificate expired at ${cert.validToDate.toISOString()}` };
  if (now.getTime() < cert.validFromDate.getTime())
    return { why: `the certificate is not valid before ${cert.validFromDate.toISOString()}` };
  return { notAfter: cert.validToDate };
}

/** The offline judge: the Secrets in the snapshot, as Istio's analyzer reads them, at `now`. */
export function secretJudge(snapshot: SnapshotReader, now: Date): CredentialJudge {
  return (q) => {
    const secret = snapshot.getOf(gvk.Secret, q.namespace || undefined, q.name);
    if (!secret) return { state: 'missing' };
    const data = secretData(secret);
    const server = serverCertOf(data);
    if ('why' in server) return { state: 'invalid', why: server.why };
    const valid = validateCertificate(server.cert, now);
    if ('why' in valid) return { state: 'invalid', why: valid.why };
    if (MUTUAL_MODES.has(q.mode)) {
      const caSecret = snapshot.getOf(gvk.Secret, q.namespace || undefined, `${q.name}${CA_SUFFIX}`);
      const ca = (caSecret && caCertOf(secretData(caSecret))) ?? caCertOf(data);
      if (!ca)
        return {
          state: 'no-ca',
          why: `${q.mode} needs a CA certificate: no ca.crt or cacert in it and no Secret ${q.name}${CA_SUFFIX}`,
          notAfter: valid.notAfter,
        };
    }
    return { state: 'ok', notAfter: valid.notAfter };
  };
}
