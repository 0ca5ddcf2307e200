// The STRICT watch's verdict must be about what is enforced, not what is declared: a proxy that is
// DISCONNECTED, STALE or NACKing has not received the config istiod computed since STRICT, so it may still
// accept plaintext, and a namespace with such a proxy is not called healthy. Read the way `/mesh status`
// reads it (mesh/workload-sync.ts), for the namespaces watched.
import { count, verb } from '../../blocks/block-kit.ts';
import type { KubeClient } from '../../kube/client.ts';
import { loadLiveSnapshot } from '../../mesh/live-snapshot.ts';
import {
  behindLines,
  type ConfigDelivery,
  configDelivery,
  readProxySync,
  unknownWhy,
} from '../../mesh/workload-sync.ts';

export interface EnforcementCheck {
  /** Proxies in the watched namespaces without the current config, as "pod.namespace: STALE on LDS (…)". */
  behind: string[];
  /** Why whether every proxy got STRICT is not known (an istiod unread), when so. */
  unknown?: string;
}

export async function checkEnforcement(
  kube: KubeClient,
  namespaces: readonly string[],
  now: Date,
): Promise<EnforcementCheck> {
  const snapshot = await loadLiveSnapshot(kube, { kinds: ['Pod'] });
  const one = namespaces.length === 1 ? namespaces[0] : undefined;
  const sync = await readProxySync(kube, snapshot, one ? { namespace: one } : {});
  const pods = snapshot.list('Pod').filter((p) => namespaces.includes(p.metadata.namespace ?? ''));
  const d: ConfigDelivery = configDelivery(sync, pods);
  const out: EnforcementCheck = {
    behind: behindLines(d, now).map((l, i) => (one ? l : `${l.replace(/:/, `.${d.behind[i]!.namespace}:`)}`)),
  };
  const why = unknownWhy(d);
  if (why) out.unknown = `${count(d.unknown.length, 'proxy')}: ${why}`;
  return out;
}

/** "…; but 1 proxy never got STRICT: …" — the words the verdict adds; empty when every proxy has it. */
export function enforcementWords(e: EnforcementCheck, namespace: string): string {
  if (e.behind.length === 0) return '';
  const n = e.behind.length;
  return `STRICT is declared in ${namespace} but not enforced everywhere: ${count(n, 'proxy')} ${verb(n, 'does')} not have the current config, so ${n === 1 ? 'it' : 'they'} never got STRICT and may still accept plaintext (${e.behind.slice(0, 5).join('; ')}${n > 5 ? `; and ${n - 5} more` : ''}). \`/mesh stale ${namespace}\` says why; a restart usually reconnects a proxy.`;
}
