// istiod's HTTP `/debug/syncz` answer (port 15014; pilot/pkg/xds/debug.go, SyncStatus and
// ResourceStatus) and its reading into proxy-status rows. The answer carries raw nonces, no status
// strings: we apply istiod's own rule (configStatusOf) per watched type.
import { z } from 'zod';
import { configStatusOf, splitProxyId, TYPE_URL, type ProxyStatusRow, type XdsTypeStatus } from './proxy-status.ts';

// Go marshals a zero time.Time despite omitempty; such a sentTime means "never sent".
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

export const resourceStatusSchema = z.object({
  sent: z.string().optional(),
  acked: z.string().optional(),
  sentTime: z.string().optional(),
  lastError: z.string().optional(),
});
export type ResourceStatus = z.infer<typeof resourceStatusSchema>;

export const syncStatusSchema = z.object({
  cluster_id: z.string().optional(),
  proxy: z.string().min(1),
  proxy_type: z.string().optional(),
  proxy_version: z.string().optional(),
  istio_version: z.string().optional(),
  cluster_sent: z.string().optional(),
  cluster_acked: z.string().optional(),
  listener_sent: z.string().optional(),
  listener_acked: z.string().optional(),
  route_sent: z.string().optional(),
  route_acked: z.string().optional(),
  endpoint_sent: z.string().optional(),
  endpoint_acked: z.string().optional(),
  extensionconfig_sent: z.string().optional(),
  extensionconfig_acked: z.string().optional(),
  /** Per watched type URL; absent from istiod releases before 1.22, so the legacy fields stay the fallback. */
  resources: z.record(z.string(), resourceStatusSchema).optional(),
});
export type SyncStatus = z.infer<typeof syncStatusSchema>;

export const synczAnswerSchema = z.array(syncStatusSchema);
export type SynczAnswer = z.infer<typeof synczAnswerSchema>;

/** Validates a decoded syncz body; the error names the first offending path. */
export function parseSyncz(json: unknown): SynczAnswer {
  const r = synczAnswerSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new Error(
      `unexpected /debug/syncz answer at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return r.data;
}

const LEGACY_FIELDS = [
  [TYPE_URL.CDS, 'cluster_sent', 'cluster_acked'],
  [TYPE_URL.LDS, 'listener_sent', 'listener_acked'],
  [TYPE_URL.RDS, 'route_sent', 'route_acked'],
  [TYPE_URL.EDS, 'endpoint_sent', 'endpoint_acked'],
  [TYPE_URL.ECDS, 'extensionconfig_sent', 'extensionconfig_acked'],
] as const;

/** Per-type statuses of one syncz entry, sorted by type URL. */
export function xdsStatusesOf(entry: SyncStatus): XdsTypeStatus[] {
  const out: XdsTypeStatus[] = [];
  if (entry.resources) {
    // Only watched types are listed; a type missing here is unsubscribed (IGNORED).
    for (const typeUrl of Object.keys(entry.resources)) {
      const r = entry.resources[typeUrl]!;
      const x: XdsTypeStatus = { typeUrl, status: configStatusOf(r) };
      if (r.sentTime && r.sentTime !== GO_ZERO_TIME) x.lastUpdated = r.sentTime;
      if (r.lastError) x.lastError = r.lastError;
      if (r.sent) x.sentNonce = r.sent;
      if (r.acked) x.ackedNonce = r.acked;
      out.push(x);
    }
  } else {
    // Older istiod: only nonces of five types, no errors, and no way to tell "unwatched" from "not sent".
    for (const [typeUrl, sentKey, ackedKey] of LEGACY_FIELDS) {
      const sent = entry[sentKey];
      const acked = entry[ackedKey];
      const x: XdsTypeStatus = { typeUrl, status: configStatusOf({ sent, acked }) };
      if (sent) x.sentNonce = sent;
      if (acked) x.ackedNonce = acked;
      out.push(x);
    }
  }
  return out.sort((a, b) => (a.typeUrl < b.typeUrl ? -1 : a.typeUrl > b.typeUrl ? 1 : 0));
}

/** One proxy-status row per proxy connected to `istiodPod`, in the order istiod listed them. */
export function proxyStatusFromSyncz(istiodPod: string, answer: SynczAnswer): ProxyStatusRow[] {
  return answer.map((entry) => {
    const { pod, namespace } = splitProxyId(entry.proxy);
    // istioctl falls back to the proxy version, starred, when istiod does not know the Istio version.
    const version = entry.istio_version || (entry.proxy_version ? `${entry.proxy_version}*` : '');
    const row: ProxyStatusRow = {
      proxyId: entry.proxy,
      pod,
      namespace,
      cluster: entry.cluster_id ?? '',
      istiod: istiodPod,
      istioVersion: version,
      xds: xdsStatusesOf(entry),
    };
    if (entry.proxy_type) row.proxyType = entry.proxy_type;
    return row;
  });
}
