// The kinds meshops reads and writes, and where the API server serves them. Istio kinds are served
// in several versions; which one a cluster offers is settled once by discovery (see client.ts).

export interface KindInfo {
  kind: string;
  group: string;
  /** Versions in order of preference; the first one the cluster serves wins. */
  versions: string[];
  plural: string;
  namespaced: boolean;
}

const core = (kind: string, plural: string, namespaced = true): KindInfo => ({
  kind,
  group: '',
  versions: ['v1'],
  plural,
  namespaced,
});
const istio = (group: string, kind: string, plural: string, versions: string[]): KindInfo => ({
  kind,
  group: `${group}.istio.io`,
  versions,
  plural,
  namespaced: true,
});

export const KINDS: readonly KindInfo[] = [
  core('Namespace', 'namespaces', false),
  core('Pod', 'pods'),
  core('Service', 'services'),
  core('Endpoints', 'endpoints'),
  core('ConfigMap', 'configmaps'),
  core('Secret', 'secrets'),
  core('ServiceAccount', 'serviceaccounts'),
  core('Event', 'events'),
  core('Node', 'nodes', false),
  { kind: 'Deployment', group: 'apps', versions: ['v1'], plural: 'deployments', namespaced: true },
  { kind: 'ReplicaSet', group: 'apps', versions: ['v1'], plural: 'replicasets', namespaced: true },
  { kind: 'StatefulSet', group: 'apps', versions: ['v1'], plural: 'statefulsets', namespaced: true },
  { kind: 'DaemonSet', group: 'apps', versions: ['v1'], plural: 'daemonsets', namespaced: true },
  { kind: 'Lease', group: 'coordination.k8s.io', versions: ['v1'], plural: 'leases', namespaced: true },
  {
    kind: 'MutatingWebhookConfiguration',
    group: 'admissionregistration.k8s.io',
    versions: ['v1'],
    plural: 'mutatingwebhookconfigurations',
    namespaced: false,
  },
  // metrics-server's API (absent on clusters without it: list answers [] after discovery finds no group).
  { kind: 'PodMetrics', group: 'metrics.k8s.io', versions: ['v1beta1'], plural: 'pods', namespaced: true },
  {
    kind: 'CustomResourceDefinition',
    group: 'apiextensions.k8s.io',
    versions: ['v1'],
    plural: 'customresourcedefinitions',
    namespaced: false,
  },
  istio('networking', 'VirtualService', 'virtualservices', ['v1', 'v1beta1', 'v1alpha3']),
  istio('networking', 'DestinationRule', 'destinationrules', ['v1', 'v1beta1', 'v1alpha3']),
  istio('networking', 'Gateway', 'gateways', ['v1', 'v1beta1', 'v1alpha3']),
  istio('networking', 'ServiceEntry', 'serviceentries', ['v1', 'v1beta1', 'v1alpha3']),
  istio('networking', 'Sidecar', 'sidecars', ['v1', 'v1beta1', 'v1alpha3']),
  istio('networking', 'WorkloadEntry', 'workloadentries', ['v1', 'v1beta1', 'v1alpha3']),
  istio('networking', 'WorkloadGroup', 'workloadgroups', ['v1', 'v1beta1', 'v1alpha3']),
  istio('networking', 'EnvoyFilter', 'envoyfilters', ['v1alpha3']),
  istio('networking', 'ProxyConfig', 'proxyconfigs', ['v1beta1']),
  istio('security', 'PeerAuthentication', 'peerauthentications', ['v1', 'v1beta1']),
  istio('security', 'AuthorizationPolicy', 'authorizationpolicies', ['v1', 'v1beta1']),
  istio('security', 'RequestAuthentication', 'requestauthentications', ['v1', 'v1beta1']),
  istio('telemetry', 'Telemetry', 'telemetries', ['v1', 'v1alpha1']),
  istio('extensions', 'WasmPlugin', 'wasmplugins', ['v1alpha1']),
];

const byKind = new Map(KINDS.map((k) => [k.kind, k]));

export function kindInfo(kind: string): KindInfo {
  const info = byKind.get(kind);
  if (!info) throw new Error(`meshops does not know the kind ${kind}`);
  return info;
}

/** The Istio configuration kinds shown by `/mesh config` and read into snapshots. */
export const ISTIO_CONFIG_KINDS = KINDS.filter((k) => k.group.endsWith('.istio.io')).map((k) => k.kind);
