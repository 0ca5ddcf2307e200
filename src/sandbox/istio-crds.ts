// The 15 Istio CustomResourceDefinitions the sandbox serves, as a compact table. It mirrors Istio's
// manifests/charts/base/files/crd-all.gen.yaml (1.24-era); a test checks it against that file when
// ../shared is present. The sandbox carries its own copy because the demo must run on a fresh clone.

export interface PrinterColumn {
  name: string;
  type: 'string' | 'date' | 'integer' | 'number' | 'boolean';
  jsonPath: string;
  priority?: number;
}

export interface CrdVersion {
  name: string;
  /** The one version objects are persisted in. */
  storage?: boolean;
}

export interface CrdSpecRow {
  group: string;
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  scope: 'Namespaced' | 'Cluster';
  versions: CrdVersion[];
  /** additionalPrinterColumns, the same for every version in Istio's CRDs. */
  printerColumns: PrinterColumn[];
}

const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
const ga3 = (storage: 'v1' | 'v1alpha3'): CrdVersion[] => [
  { name: 'v1', storage: storage === 'v1' },
  { name: 'v1alpha3', storage: storage === 'v1alpha3' },
  { name: 'v1beta1' },
];
const sec = (): CrdVersion[] => [{ name: 'v1', storage: true }, { name: 'v1beta1' }];

function row(
  group: string,
  kind: string,
  plural: string,
  shortNames: string[],
  versions: CrdVersion[],
  printerColumns: PrinterColumn[],
): CrdSpecRow {
  const groupPrefix = group.split('.')[0];
  return {
    group,
    kind,
    plural,
    singular: kind.toLowerCase(),
    shortNames,
    categories: ['istio-io', `${groupPrefix}-istio-io`],
    scope: 'Namespaced',
    versions,
    printerColumns,
  };
}

export const ISTIO_CRDS: readonly CrdSpecRow[] = [
  row('extensions.istio.io', 'TrafficExtension', 'trafficextensions', [], [{ name: 'v1alpha1', storage: true }], [age]),
  row('extensions.istio.io', 'WasmPlugin', 'wasmplugins', [], [{ name: 'v1alpha1', storage: true }], [age]),
  row('networking.istio.io', 'DestinationRule', 'destinationrules', ['dr'], ga3('v1'), [
    { name: 'Host', type: 'string', jsonPath: '.spec.host' },
    age,
  ]),
  row('networking.istio.io', 'EnvoyFilter', 'envoyfilters', [], [{ name: 'v1alpha3', storage: true }], []),
  row('networking.istio.io', 'Gateway', 'gateways', ['gw'], ga3('v1'), []),
  row('networking.istio.io', 'ProxyConfig', 'proxyconfigs', [], [{ name: 'v1beta1', storage: true }], []),
  row('networking.istio.io', 'ServiceEntry', 'serviceentries', ['se'], ga3('v1'), [
    { name: 'Hosts', type: 'string', jsonPath: '.spec.hosts' },
    { name: 'Location', type: 'string', jsonPath: '.spec.location' },
    { name: 'Resolution', type: 'string', jsonPath: '.spec.resolution' },
    age,
  ]),
  row('networking.istio.io', 'Sidecar', 'sidecars', [], ga3('v1'), []),
  row('networking.istio.io', 'VirtualService', 'virtualservices', ['vs'], ga3('v1'), [
    { name: 'Gateways', type: 'string', jsonPath: '.spec.gateways' },
    { name: 'Hosts', type: 'string', jsonPath: '.spec.hosts' },
    age,
  ]),
  row('networking.istio.io', 'WorkloadEntry', 'workloadentries', ['we'], ga3('v1'), [
    age,
    { name: 'Address', type: 'string', jsonPath: '.spec.address' },
  ]),
  row('networking.istio.io', 'WorkloadGroup', 'workloadgroups', ['wg'], ga3('v1'), [age]),
  row('security.istio.io', 'AuthorizationPolicy', 'authorizationpolicies', ['ap'], sec(), [
    { name: 'Action', type: 'string', jsonPath: '.spec.action' },
    age,
  ]),
  row('security.istio.io', 'PeerAuthentication', 'peerauthentications', ['pa'], sec(), [
    { name: 'Mode', type: 'string', jsonPath: '.spec.mtls.mode' },
    age,
  ]),
  row('security.istio.io', 'RequestAuthentication', 'requestauthentications', ['ra'], sec(), []),
  row(
    'telemetry.istio.io',
    'Telemetry',
    'telemetries',
    ['telemetry'],
    [{ name: 'v1' }, { name: 'v1alpha1', storage: true }],
    [age],
  ),
];
