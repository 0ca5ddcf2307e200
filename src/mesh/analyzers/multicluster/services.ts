// Follows istio/istio pkg/config/analysis/analyzers/multicluster/service.go: ServiceAnalyzer.Analyze,
// findInconsistencies, compareServicePorts.
//
// services.MultiClusterServiceAnalyzer: a Service (namespace/name) that exists in several clusters of one mesh should
// have the same headless mode, type and ports everywhere, or traffic depends on which cluster answers (IST0170 on one
// of them, naming the clusters that differ from the first and the reasons). Only runs with remote clusters.
import type { KubeObject } from '../../../kube/objects.ts';
import { fullName, nsOf, recs, spec, str } from '../util/fields.ts';
import type { Rec } from '../util/fields.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { gvk } from '../util/kinds.ts';

const LOCAL_CLUSTER = 'local';

export const multiClusterServiceAnalyzer: Analyzer = {
  name: 'services.MultiClusterServiceAnalyzer',
  description: 'Check the validity of services in the multi-cluster environment',
  inputs: [gvk.Service],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    const remotes = Object.entries(snapshot.remoteClusters);
    if (remotes.length === 0) return out;
    const byName = new Map<string, Map<string, KubeObject>>();
    const add = (cluster: string, svc: KubeObject) => {
      let m = byName.get(fullName(svc));
      if (!m) byName.set(fullName(svc), (m = new Map()));
      m.set(cluster, svc);
    };
    for (const svc of snapshot.listOf(gvk.Service)) add(LOCAL_CLUSTER, svc);
    for (const [cluster, objects] of remotes) for (const o of objects) if (o.kind === 'Service') add(cluster, o);
    for (const clusters of byName.values()) {
      if (clusters.size < 2) continue;
      const { names, reasons } = inconsistencies(clusters);
      if (names.length === 0) continue;
      const svc = clusters.get(LOCAL_CLUSTER) ?? [...clusters.values()][0]!;
      out.push(
        message('MultiClusterInconsistentService', svc, [svc.metadata.name, nsOf(svc), names, reasons.join('; ')]),
      );
    }
    return out;
  },
};

function inconsistencies(clusters: Map<string, KubeObject>): { names: string[]; reasons: string[] } {
  const entries = [...clusters.entries()];
  const [firstCluster, first] = entries[0]!;
  const bad = new Set<string>();
  const reasons = new Set<string>();
  const headless = (s: KubeObject) => str(spec(s)['clusterIP']) === 'None';
  const ports = (s: KubeObject) => JSON.stringify(recs(spec(s)['ports']).map(canonicalPort).sort());
  if (entries.some(([, s]) => headless(s) !== headless(first))) {
    for (const [c] of entries) bad.add(c);
    reasons.add('service has mixed mode like headless and clusterIP');
  }
  for (const [c, s] of entries) {
    if (str(spec(s)['type']) !== str(spec(first)['type'])) {
      bad.add(c);
      reasons.add('service type is inconsistent');
    }
    if (ports(s) !== ports(first)) {
      bad.add(c);
      reasons.add('service ports are inconsistent');
    }
  }
  if (bad.size > 0) bad.add(firstCluster);
  return { names: [...bad].sort(), reasons: [...reasons].sort() };
}

function canonicalPort(p: Rec): string {
  return JSON.stringify(
    Object.keys(p)
      .sort()
      .map((k) => [k, p[k]]),
  );
}
