// Follows istio/istio pkg/config/analysis/analyzers/serviceentry/protocoladdresses.go: ProtocolAddressesAnalyzer.Analyze,
// analyzeProtocolAddresses, addressAllocated.
//
// serviceentry.Analyzer: a ServiceEntry without addresses (absent or an empty list) gets IST0134 once for each
// port whose protocol is unset or TCP (any case), unless istiod allocates addresses: mesh config's
// defaultConfig.proxyMetadata has ISTIO_META_DNS_CAPTURE "true" and ISTIO_META_DNS_AUTO_ALLOCATE or
// PILOT_ENABLE_IP_AUTOALLOCATE "true", or the ServiceEntry's status already carries addresses.
import type { SnapshotReader } from '../../snapshot.ts';
import { arr, rec, recs, spec, str, strMap } from '../util/fields.ts';
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
      // Go's `se.Addresses == nil`: an empty list decodes to nil, so `addresses: []` counts as none.
      if (arr(s['addresses']).length > 0) continue;
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
