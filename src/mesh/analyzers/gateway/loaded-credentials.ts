// gateway.SecretAnalyzer's questions (credentials.ts) answered on a live cluster, where meshops reads no
// Secrets: from the SDS secrets each gateway pod's Envoy holds (its admin config dump, read by the analyze
// feature). Istio names the SDS resource of credentialName `x` `kubernetes://x`
// (pilot/pkg/model/credentials ToResourceName) and that of its CA `kubernetes://x-cacert`; istiod answers a
// request only when it found the Secret with a certificate and key (pilot/pkg/xds/sds.go generate), so a
// resource the proxy asked for and is still *warming* is one istiod has no usable Secret for. What each
// answer becomes:
//   active, leaf valid now (and for MUTUAL the -cacert active with roots)  → fine
//   active, leaf expired / not yet valid / no certificate that parses     → IST0161 InvalidGatewayCredential
//   MUTUAL and `-cacert` warming or without roots                          → MSH0006 (no CA to verify clients)
//   warming (or active at version `uninitialized`)                         → IST0101 credentialName not found
//                                                                            (no Secret, or one without keys)
//   never asked for, or the pod's admin API unreadable                      → not checked, with why
// With several pods, the worst definite answer among the pods read decides (missing, then invalid, then fine).
import type { KubeObject } from '../../../kube/objects.ts';
import { credentialResourceName, type SdsSecret } from '../../../envoy/sds-secrets.ts';
import { CA_SUFFIX, type CredentialJudge, type CredentialVerdict, MUTUAL_MODES } from './credentials.ts';

/** What was read from one gateway pod: its SDS secrets, or why they could not be read. */
export type LoadedSecrets = readonly SdsSecret[] | { unread: string };

/** `<namespace>/<pod>`: the key of a pod's reading. */
export const podKey = (pod: KubeObject): string => `${pod.metadata.namespace ?? ''}/${pod.metadata.name}`;

const RANK: Record<CredentialVerdict['state'], number> = { missing: 4, invalid: 3, 'no-ca': 2, ok: 1, unknown: 0 };

function judgeOnePod(secrets: readonly SdsSecret[], name: string, mode: string, now: Date): CredentialVerdict {
  const resource = credentialResourceName(name);
  const find = (r: string) =>
    secrets.find((s) => s.name === r && s.state === 'active') ?? secrets.find((s) => s.name === r);
  const s = find(resource);
  if (!s) return { state: 'unknown', why: `its Envoy never asked for \`${resource}\` (no listener uses that server)` };
  // Warming, or active with version `uninitialized`: asked for, never served.
  if (s.state !== 'active') return { state: 'missing' };
  const leaf = s.chain[0];
  if (!leaf)
    return {
      state: 'invalid',
      why: s.unreadable > 0 ? 'the loaded certificate does not parse' : 'the loaded secret holds no certificate',
    };
  if (now.getTime() > leaf.notAfter.getTime())
    return { state: 'invalid', why: `the certificate expired at ${leaf.notAfter.toISOString()}` };
  if (now.getTime() < leaf.notBefore.getTime())
    return { state: 'invalid', why: `the certificate is not valid before ${leaf.notBefore.toISOString()}` };
  if (MUTUAL_MODES.has(mode)) {
    const ca = find(`${resource}${CA_SUFFIX}`);
    if (!ca || ca.state !== 'active' || (ca.roots.length === 0 && ca.bundles.length === 0))
      return {
        state: 'no-ca',
        why: `${mode} needs a CA certificate and the gateway has none for \`${resource}\``,
        notAfter: leaf.notAfter,
      };
  }
  return { state: 'ok', notAfter: leaf.notAfter };
}

/** The live judge over what each gateway pod's Envoy loaded (keyed by podKey). */
export function loadedCredentialJudge(loaded: ReadonlyMap<string, LoadedSecrets>, now: Date): CredentialJudge {
  return (q) => {
    const name = q.credentialName;
    const unread: string[] = [];
    let best: CredentialVerdict | undefined;
    for (const pod of q.pods) {
      const got = loaded.get(podKey(pod));
      if (!got) continue;
      if ('unread' in got) {
        unread.push(`${podKey(pod)}: ${got.unread}`);
        continue;
      }
      const v = judgeOnePod(got as readonly SdsSecret[], name, q.mode, now);
      if (!best || RANK[v.state] > RANK[best.state]) best = v;
    }
    if (best) return best;
    if (unread.length)
      return { state: 'unknown', why: `the gateway's SDS secrets could not be read (${unread.join('; ')})` };
    return { state: 'unknown', why: 'no gateway pod of it was read' };
  };
}
