// Follows istio/istio pkg/config/analysis/analyzers/multicluster/meshnetworks.go: MeshNetworksAnalyzer.Analyze.
//
// meshnetworks.MeshNetworksAnalyzer: each network endpoint `fromRegistry` must name a known service registry:
// Kubernetes, External, Mock, or a cluster (data key) of a Secret labelled `istio/multiCluster: "true"`; else
// IST0126 on MeshNetworks `<istio namespace>/meshnetworks`, once per endpoint.
import type { KubeObject } from '../../../kube/objects.ts';
import { labels, rec, recs } from '../util/fields.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { gvk } from '../util/kinds.ts';

const BUILT_IN_REGISTRIES = ['Mock', 'Kubernetes', 'External'];

export const meshNetworksAnalyzer: Analyzer = {
  name: 'meshnetworks.MeshNetworksAnalyzer',
  description: 'Check the validity of MeshNetworks in the cluster',
  inputs: [gvk.MeshNetworks, gvk.Secret],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    if (!snapshot.meshNetworks) return out;
    const registries = new Set(BUILT_IN_REGISTRIES);
    for (const secret of snapshot.listOf(gvk.Secret)) {
      if (labels(secret)['istio/multiCluster'] !== 'true') continue;
      for (const cluster of Object.keys(rec(secret['data']))) registries.add(cluster);
    }
    // MeshNetworks lives in the istio ConfigMap, not as an object; report it under Istio's name for it.
    const resource: KubeObject = {
      apiVersion: 'mesh.istio.io/v1alpha1',
      kind: 'MeshNetworks',
      metadata: { name: 'meshnetworks', namespace: snapshot.istioNamespace },
    };
    for (const [network, spec] of Object.entries(rec(snapshot.meshNetworks['networks']))) {
      for (const endpoint of recs(rec(spec)['endpoints'])) {
        const registry = endpoint['fromRegistry'];
        if (typeof registry === 'string' && !registries.has(registry))
          out.push(message('UnknownMeshNetworksServiceRegistry', resource, [registry, network]));
      }
    }
    return out;
  },
};
