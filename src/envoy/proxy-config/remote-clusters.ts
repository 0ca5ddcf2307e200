// istioctl remote-clusters (writeMulticlusterStatus): each istiod's /debug/clusterz answer, a list of
// {id, secretName, syncStatus}, as one table NAME / SECRET / STATUS / ISTIOD / REVISION (padding 5),
// istiods in name order (Go's map order is random; sorting makes the table stable).
import { ProxyConfigError } from './dump.ts';
import { isObject } from './proto.ts';
import { tabwriter } from './tabwriter.ts';

export interface RemoteClusterStatus {
  id: string;
  secretName: string;
  syncStatus: string;
}

function parseClusterz(istiod: string, body: string): RemoteClusterStatus[] {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    throw new ProxyConfigError(`${istiod}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (json === null) return [];
  if (!Array.isArray(json)) throw new ProxyConfigError(`${istiod}: /debug/clusterz is not a list`);
  return json.filter(isObject).map((c) => ({
    id: typeof c.id === 'string' ? c.id : '',
    secretName: typeof c.secretName === 'string' ? c.secretName : '',
    syncStatus: typeof c.syncStatus === 'string' ? c.syncStatus : '',
  }));
}

/**
 * The table for `clusterz` (istiod pod → its /debug/clusterz body) and `revisions` (istiod pod → its
 * istio.io/rev label; absent is an empty cell). ProxyConfigError when a body is not JSON.
 */
export function remoteClustersTable(
  clusterz: Readonly<Record<string, string>>,
  revisions: Readonly<Record<string, string>> = {},
): string {
  let text = 'NAME\tSECRET\tSTATUS\tISTIOD\tREVISION\n';
  for (const istiod of Object.keys(clusterz).sort()) {
    for (const c of parseClusterz(istiod, clusterz[istiod]!)) {
      text += `${c.id}\t${c.secretName}\t${c.syncStatus}\t${istiod}\t${revisions[istiod] ?? ''}\n`;
    }
  }
  return tabwriter(text, { padding: 5 });
}
