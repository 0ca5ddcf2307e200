// proxy-config clusters: the CDS clusters (dynamic active, then static) of a config dump, sorted by
// host, subset, port and direction; filtered by --fqdn, --port, --subset, --direction (substrings of
// the cluster name, as istioctl matches them); a table with tabwriter padding 5, or the clusters as
// jsonpb JSON/YAML.
import {
  type EnvoyConfigDump,
  ProxyConfigError,
  section,
  type StructuredFormat,
  structured,
  type SummaryOptions,
  withoutType,
} from './dump.ts';
import { compareClusterNames, describeManagement, parseSubsetKey } from './names.ts';
import { arr, field, type JsonObject, obj, str } from './proto.ts';
import { toJsonNames } from './jsonpb.ts';
import { tabwriter } from './tabwriter.ts';

export interface ClusterFilter {
  /** Substring of the cluster name (the service FQDN). */
  fqdn?: string;
  /** `|<port>|` must appear in the name. */
  port?: number;
  /** Substring of the name (the subset). */
  subset?: string;
  /** Substring of the name: inbound, outbound, inbound-vip, ... */
  direction?: string;
}

export function clusterMatches(name: string, f: ClusterFilter): boolean {
  if (f.fqdn && !name.includes(f.fqdn)) return false;
  if (f.direction && !name.includes(f.direction)) return false;
  if (f.subset && !name.includes(f.subset)) return false;
  if (f.port && !name.includes(`|${f.port}|`)) return false;
  return true;
}

/** The clusters istioctl lists, sorted; ProxyConfigError when the dump has none. */
export function sortedClusters(dump: EnvoyConfigDump): JsonObject[] {
  const cds = section(dump, 'ClustersConfigDump');
  const clusters: JsonObject[] = [];
  for (const key of ['dynamic_active_clusters', 'static_clusters']) {
    for (const entry of arr(cds, key)) {
      const c = obj(entry, 'cluster');
      if (c) clusters.push(c);
    }
  }
  if (clusters.length === 0) throw new ProxyConfigError('no clusters found');
  return clusters.sort((a, b) => compareClusterNames(str(a, 'name'), str(b, 'name')));
}

/** Envoy's Cluster.DiscoveryType name; STATIC, the enum's zero, when unset. */
export function clusterType(c: unknown): string {
  const t = field(c, 'type');
  return typeof t === 'string' && t !== '' ? t : 'STATIC';
}

/** `istioctl proxy-config clusters` (-o short). */
export function clusterSummary(dump: EnvoyConfigDump, filter: ClusterFilter = {}, opts: SummaryOptions = {}): string {
  const clusters = sortedClusters(dump);
  let text = (opts.typePrefix ? 'NAME\t' : '') + 'SERVICE FQDN\tPORT\tSUBSET\tDIRECTION\tTYPE\tDESTINATION RULE\n';
  for (const c of clusters) {
    const rawName = str(c, 'name');
    if (!clusterMatches(rawName, filter)) continue;
    const name = opts.typePrefix ? `cluster/${rawName}` : rawName;
    const lead = opts.typePrefix ? `${name}\t` : '';
    const management = describeManagement(obj(c, 'metadata'));
    if (rawName.split('|').length > 3) {
      const k = parseSubsetKey(rawName);
      text += `${lead}${k.host}\t${k.port}\t${k.subset || '-'}\t${k.direction}\t${clusterType(c)}\t${management}\n`;
    } else {
      text += `${lead}${name}\t-\t-\t-\t${clusterType(c)}\t${management}\n`;
    }
  }
  return tabwriter(text, { padding: 5 });
}

/** `istioctl proxy-config clusters -o json|yaml`. */
export function clusterDump(
  dump: EnvoyConfigDump,
  filter: ClusterFilter = {},
  format: StructuredFormat = 'json',
): string {
  const clusters = sortedClusters(dump).filter((c) => clusterMatches(str(c, 'name'), filter));
  return structured(
    clusters.map(withoutType).map((c) => toJsonNames(c)),
    format,
  );
}
