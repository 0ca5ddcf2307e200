// The other shape of sync status: the `istio.io/debug/syncz` DiscoveryResponse that istioctl reads over
// xDS (pilot/pkg/xds/statusgen.go debugSyncz), one envoy.service.status.v3.ClientConfig per proxy,
// in protobuf-JSON form. We map it onto the HTTP syncz shape the bot reads, so both run through
// one status path (proxyStatusFromSyncz), and back, to compare with istioctl's machine output.
import { z } from 'zod';
import type { ConfigStatus, ProxyStatusRow } from './proxy-status.ts';
import { proxyStatusFromSyncz, type ResourceStatus, type SyncStatus } from './syncz.ts';

const CLIENT_CONFIG_TYPE = 'type.googleapis.com/envoy.service.status.v3.ClientConfig';

const configStatusSchema = z.enum(['UNKNOWN', 'SYNCED', 'NOT_SENT', 'STALE', 'ERROR']);

export const genericXdsConfigSchema = z.object({
  typeUrl: z.string(),
  configStatus: configStatusSchema.optional(), // proto3 JSON omits the zero value, UNKNOWN
  lastUpdated: z.string().optional(),
  errorState: z.object({ details: z.string().optional(), lastUpdateAttempt: z.string().optional() }).optional(),
});

export const clientConfigSchema = z.object({
  '@type': z.string(),
  node: z.object({
    id: z.string(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  }),
  genericXdsConfigs: z.array(genericXdsConfigSchema).optional(),
});
export type ClientConfig = z.infer<typeof clientConfigSchema>;

export const discoveryResponseSchema = z.object({
  versionInfo: z.string().optional(),
  typeUrl: z.string().optional(),
  resources: z.array(clientConfigSchema).optional(),
  controlPlane: z.object({ identifier: z.string().optional() }).optional(),
});
export type DiscoveryResponse = z.infer<typeof discoveryResponseSchema>;

/** istioctl's multixds.CpInfo: the istiod pod name from controlPlane.identifier ("MISSING"/"INVALID" otherwise). */
export function istiodIdOf(dr: DiscoveryResponse): string {
  const identifier = dr.controlPlane?.identifier;
  if (dr.controlPlane === undefined) return 'MISSING';
  try {
    const parsed = z.object({ ID: z.string() }).safeParse(JSON.parse(identifier ?? ''));
    return parsed.success ? parsed.data.ID : 'INVALID';
  } catch {
    return 'INVALID';
  }
}

/**
 * ClientConfig → HTTP SyncStatus entry. The DiscoveryResponse carries statuses, the HTTP shape raw
 * nonces, so we write nonces that make istiod's rule give the same status back:
 * SYNCED → sent == acked; STALE → sent != acked; NOT_SENT → nothing sent; ERROR → lastError set
 * (errorState.details, or a placeholder when the response gave none); UNKNOWN → the type is left
 * out of `resources`, which is how the HTTP shape says "not watched".
 * CLUSTER_ID and ISTIO_VERSION come from node.metadata; lastUpdated becomes sentTime.
 */
export function synczFromClientConfig(cc: ClientConfig): SyncStatus {
  const md = cc.node.metadata ?? {};
  const resources: Record<string, ResourceStatus> = {};
  cc.genericXdsConfigs?.forEach((g, i) => {
    const status: ConfigStatus = g.configStatus ?? 'UNKNOWN';
    if (status === 'UNKNOWN') return;
    const nonce = `nonce-${i}`;
    const r: ResourceStatus = {};
    if (status !== 'NOT_SENT') r.sent = nonce;
    if (status === 'SYNCED') r.acked = nonce;
    if (status === 'STALE') r.acked = `${nonce}-previous`;
    if (status === 'ERROR') r.lastError = g.errorState?.details || 'ERROR (no details in the DiscoveryResponse)';
    if (g.lastUpdated) r.sentTime = g.lastUpdated;
    resources[g.typeUrl] = r;
  });
  const entry: SyncStatus = { proxy: cc.node.id, resources };
  if (typeof md.CLUSTER_ID === 'string') entry.cluster_id = md.CLUSTER_ID;
  if (typeof md.ISTIO_VERSION === 'string') entry.istio_version = md.ISTIO_VERSION;
  return entry;
}

/** Proxy-status rows from one istiod's DiscoveryResponse, through the HTTP syncz path. */
export function proxyStatusFromDiscoveryResponse(dr: DiscoveryResponse): ProxyStatusRow[] {
  const configs = (dr.resources ?? []).filter((r) => r['@type'] === CLIENT_CONFIG_TYPE);
  const rows = proxyStatusFromSyncz(istiodIdOf(dr), configs.map(synczFromClientConfig));
  // Node metadata names the namespace outright; prefer it to the one parsed from the proxy ID.
  configs.forEach((cc, i) => {
    const ns = cc.node.metadata?.NAMESPACE;
    if (typeof ns === 'string') rows[i]!.namespace = ns;
  });
  return rows;
}

/** Row → ClientConfig as istiod's debugSyncz builds it (types sorted by URL; UNKNOWN types omitted). */
export function clientConfigFromRow(row: ProxyStatusRow): ClientConfig {
  const metadata: Record<string, string> = { CLUSTER_ID: row.cluster, ISTIO_VERSION: row.istioVersion };
  if (row.namespace) metadata.NAMESPACE = row.namespace;
  return {
    '@type': CLIENT_CONFIG_TYPE,
    node: { id: row.proxyId, metadata },
    genericXdsConfigs: row.xds
      .filter((x) => x.status !== 'UNKNOWN')
      .map((x) => {
        const g: z.infer<typeof genericXdsConfigSchema> = { typeUrl: x.typeUrl, configStatus: x.status };
        if (x.lastUpdated) g.lastUpdated = x.lastUpdated;
        if (x.lastError) g.errorState = { details: x.lastError };
        return g;
      }),
  };
}
