// Follows istio/istio pkg/config/analysis/analyzers/serviceentry/conflictingserviceentries.go:
// ConflictingServiceEntryProtocolAnalyzer.Analyze, exportToScopes.
//
// serviceentry.ConflictingServiceEntryProtocolAnalyzer: ServiceEntries visible in the same scope must not give one
// host (as written) and port different protocols (compared upper-cased). Scopes are `*` (no exportTo or `*` in
// it) or each exportTo namespace (`.` = its own); a namespace scope also meets the `*` entries. Each ServiceEntry
// is reported once, with the sorted names and protocols.
import type { KubeObject } from '../../../kube/objects.ts';
import { fullName, nsOf, num, recs, spec, str, strs } from '../util/fields.ts';
import { EXPORT_TO_ALL, EXPORT_TO_LOCAL, isExportToAll } from '../util/hosts.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { gvk } from '../util/kinds.ts';

interface Entry {
  protocol: string;
  se: KubeObject;
}

export const conflictingServiceEntryProtocolAnalyzer: Analyzer = {
  name: 'serviceentry.ConflictingServiceEntryProtocolAnalyzer',
  description: 'Checks if multiple ServiceEntries define the same host and port with different protocols',
  inputs: [gvk.ServiceEntry],
  analyze(snapshot) {
    const index = new Map<string, { scope: string; host: string; port: number; entries: Entry[] }>();
    for (const se of snapshot.listOf(gvk.ServiceEntry)) {
      const s = spec(se);
      const exportTo = strs(s['exportTo']);
      const scopes = isExportToAll(exportTo)
        ? [EXPORT_TO_ALL]
        : [...new Set(exportTo.map((e) => (e === EXPORT_TO_LOCAL ? nsOf(se) : e)))];
      for (const scope of scopes) {
        for (const host of strs(s['hosts'])) {
          for (const p of recs(s['ports'])) {
            const port = num(p['number']) ?? 0;
            const key = `${scope}\u0000${host}\u0000${port}`;
            let slot = index.get(key);
            if (!slot) index.set(key, (slot = { scope, host, port, entries: [] }));
            slot.entries.push({ protocol: str(p['protocol']), se });
          }
        }
      }
    }
    const out: AnalysisMessage[] = [];
    const reported = new Set<KubeObject>();
    for (const slot of index.values()) {
      const entries =
        slot.scope === EXPORT_TO_ALL
          ? slot.entries
          : [...slot.entries, ...(index.get(`${EXPORT_TO_ALL}\u0000${slot.host}\u0000${slot.port}`)?.entries ?? [])];
      const protocols = [...new Set(entries.map((e) => e.protocol.toUpperCase()))].sort();
      if (protocols.length < 2) continue;
      const names = [...new Set(entries.map((e) => fullName(e.se)))].sort().join(', ');
      for (const e of entries) {
        if (reported.has(e.se)) continue;
        reported.add(e.se);
        out.push(message('ConflictingServiceEntryProtocol', e.se, [names, slot.host, slot.port, protocols.join(', ')]));
      }
    }
    return out;
  },
};
