// gateway.SecretAnalyzer on a live cluster, where meshops reads no Secrets (docs/security.md): its questions
// (is the credential there, a valid certificate, expired, a CA for MUTUAL) answered from the SDS secrets the
// gateway pods' Envoy loaded, read through their admin API (:15000, by port-forward) the way `/mesh certs`
// does. Bounded: a few pods per Gateway and a few in all, each read with a timeout; a pod not read, or a
// credential the gateway never asked for, is said under "not checked", never taken as fine.
import type { KubeClient } from '../../kube/client.ts';
import { KubeApiError } from '../../kube/client.ts';
import type { KubeObject } from '../../kube/objects.ts';
import { PortForwardError } from '../../kube/port-forward.ts';
import { EnvoyAdminError } from '../../envoy/admin.ts';
import { getSdsSecrets } from '../../envoy/sds-secrets.ts';
import type { AnalysisMessage } from '../../mesh/analyzers/index.ts';
import { type CredentialCheck, checkGatewayCredentials } from '../../mesh/analyzers/gateway/credentials.ts';
import { type LoadedSecrets, loadedCredentialJudge, podKey } from '../../mesh/analyzers/gateway/loaded-credentials.ts';
import { nsOf, rec, recs, spec, str, strMap } from '../../mesh/analyzers/util/fields.ts';
import { istioGateways } from '../../mesh/analyzers/util/kinds.ts';
import { podsSelected } from '../../mesh/analyzers/util/workloads.ts';
import type { SnapshotReader } from '../../mesh/snapshot.ts';

export const SECRET_ANALYZER = 'gateway.SecretAnalyzer';
export const MUTUAL_CA_ANALYZER = 'meshops.GatewayMutualCAAnalyzer';
/** Pods read per Gateway, and in all, per analysis. */
export const PODS_PER_GATEWAY = 2;
export const MAX_GATEWAY_PODS = 6;
export const SDS_READ_TIMEOUT_MS = 5_000;

export interface LiveCredentialOptions {
  /** Only Gateways in this namespace (the analysis' scope); all when unset. */
  namespace?: string;
  now: Date;
  timeoutMs?: number;
  maxPods?: number;
}

export interface LiveCredentialResult {
  messages: AnalysisMessage[];
  /** Lines for "partly checked": where the answers came from, and each credential not checked, with why. */
  lines: string[];
  checks: CredentialCheck[];
}

const hasCredential = (gw: KubeObject) =>
  recs(spec(gw)['servers']).some((s) => str(rec(s['tls'])['credentialName']) !== '');

const running = (p: KubeObject) => str(rec((p as unknown as { status?: unknown }).status)['phase']) === 'Running';

/** The gateway pods to read: running ones first, PODS_PER_GATEWAY per Gateway, maxPods in all. */
export function podsToRead(snapshot: SnapshotReader, gateways: readonly KubeObject[], maxPods: number): KubeObject[] {
  const chosen = new Map<string, KubeObject>();
  for (const gw of gateways) {
    if (!hasCredential(gw)) continue;
    const pods = podsSelected(snapshot, strMap(spec(gw)['selector']));
    const gwNs = pods[0] ? nsOf(pods[0]) : '';
    const mine = pods.filter((p) => nsOf(p) === gwNs).sort((a, b) => Number(running(b)) - Number(running(a)));
    for (const p of mine.slice(0, PODS_PER_GATEWAY)) {
      if (chosen.size >= maxPods) break;
      chosen.set(podKey(p), p);
    }
  }
  return [...chosen.values()];
}

function unreadReason(err: unknown): string | undefined {
  if (err instanceof PortForwardError) {
    if (err.kind === 'tunnel' && (err.status === 401 || err.status === 403))
      return `the cluster refused meshops a port-forward (RBAC ${err.status}: no create on pods/portforward)`;
    if (err.kind === 'timeout') return 'its Envoy did not answer in time';
    return `port-forward to :15000 failed (${err.message.slice(0, 160)})`;
  }
  if (err instanceof EnvoyAdminError) return err.message.slice(0, 200);
  if (err instanceof KubeApiError) return `the API answered ${err.status}`;
  return undefined;
}

/** At most SHOWN_PER_LIST items, then "and N more …": the reply's section stays within Slack's limit. */
export const SHOWN_PER_LIST = 5;
function capped(items: string[], more: string): string[] {
  if (items.length <= SHOWN_PER_LIST) return items;
  return [...items.slice(0, SHOWN_PER_LIST), `and ${items.length - SHOWN_PER_LIST} ${more}`];
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const DAY = 86_400_000;

function okLine(c: CredentialCheck, now: Date): string {
  const v = c.verdict;
  const gw = `${nsOf(c.question.gateway)}/${c.question.gateway.metadata.name}`;
  if (v.state !== 'ok' || !v.notAfter) return `${c.question.credentialName} (Gateway ${gw}) loaded`;
  const left = v.notAfter.getTime() - now.getTime();
  const d = Math.floor(left / DAY);
  const h = Math.floor((left % DAY) / 3_600_000);
  return `${c.question.credentialName} (Gateway ${gw}) valid until ${iso(v.notAfter)}, ${d}d ${h}h left`;
}

/** Reads the gateway pods' SDS secrets and judges every in-scope Gateway's credentials from them. */
export async function checkLiveGatewayCredentials(
  kube: KubeClient,
  snapshot: SnapshotReader,
  options: LiveCredentialOptions,
): Promise<LiveCredentialResult> {
  const gateways = istioGateways(snapshot).list.filter((g) => !options.namespace || nsOf(g) === options.namespace);
  const pods = podsToRead(snapshot, gateways, options.maxPods ?? MAX_GATEWAY_PODS);
  const timeoutMs = options.timeoutMs ?? SDS_READ_TIMEOUT_MS;
  const loaded = new Map<string, LoadedSecrets>();
  await Promise.all(
    pods.map(async (p) => {
      const ref = { namespace: nsOf(p), pod: p.metadata.name };
      try {
        loaded.set(podKey(p), await getSdsSecrets(kube, ref, { timeoutMs, maxBodyBytes: 8 * 1024 * 1024 }));
      } catch (err) {
        const why = unreadReason(err);
        if (why === undefined) throw err;
        loaded.set(podKey(p), { unread: why });
      }
    }),
  );
  const { messages, checks } = checkGatewayCredentials(
    snapshot,
    loadedCredentialJudge(loaded, options.now),
    gateways,
    'all',
  );
  const lines: string[] = [];
  const read = [...loaded].filter(([, v]) => !('unread' in v)).map(([k]) => k);
  if (checks.length > 0 && read.length > 0) {
    const ok = capped(
      checks.filter((c) => c.verdict.state === 'ok').map((c) => okLine(c, options.now)),
      'more valid',
    );
    lines.push(
      `${SECRET_ANALYZER} judged credentials from what the gateways' Envoy loaded (SDS secrets of ${read.join(', ')}), not from Secrets, which meshops does not read${ok.length ? `: ${ok.join('; ')}` : ''}`,
    );
  }
  const unknown = checks.flatMap((c) => {
    if (c.verdict.state !== 'unknown') return [];
    const gw = `${nsOf(c.question.gateway)}/${c.question.gateway.metadata.name}`;
    return [
      `${SECRET_ANALYZER} did not check credentialName "${c.question.credentialName}" of Gateway ${gw}: ${c.verdict.why}`,
    ];
  });
  lines.push(...capped(unknown, `more credentials not checked (${SECRET_ANALYZER})`));
  return { messages, lines, checks };
}
