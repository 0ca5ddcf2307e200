// serviceentry.Analyzer: a ServiceEntry with TCP (or unset protocol) ports needs addresses, unless
// istiod allocates them (DNS capture with auto-allocation, or an address already in its status).
import type { SnapshotReader } from '../../snapshot.ts';
import { rec, recs, spec, str, strMap } from '../util/fields.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { gvk } from '../util/kinds.ts';

export const serviceEntryAddressesAnalyzer: Analyzer = {
  name: 'serviceentry.Analyzer',
  description: 'Checks the validity of ServiceEntry',
  inputs: [gvk.ServiceEntry, gvk.MeshConfig],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    if (autoAllocated(snapshot)) return out;
    for (const se of snapshot.listOf(gvk.ServiceEntry)) {
      const s = spec(se);
      if (s['addresses'] !== undefined && s['addresses'] !== null) continue;
      if (recs(rec(se['status'])['addresses']).length > 0) continue;
      recs(s['ports']).forEach((p, i) => {
        const protocol = str(p['protocol']);
        if (protocol === '' || protocol.toUpperCase() === 'TCP')
          out.push(message('ServiceEntryAddressesRequired', se, [], ['spec', 'ports', i]));
      });
    }
    return out;
  },
};

function autoAllocated(snapshot: SnapshotReader): boolean {
  const md = strMap(rec(snapshot.meshConfig.defaultConfig)['proxyMetadata']);
  if (md['ISTIO_META_DNS_CAPTURE'] !== 'true') return false;
  return md['ISTIO_META_DNS_AUTO_ALLOCATE'] === 'true' || md['PILOT_ENABLE_IP_AUTOALLOCATE'] === 'true';
}
