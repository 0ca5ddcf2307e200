// The kinds analyzers read, each with its API group (as Istio's gvk package, without versions: a snapshot
// holds whichever version the cluster served). Kinds that share a name across groups (Istio's Gateway and
// the Kubernetes Gateway API's Gateway) are different kinds here, so they are never mixed up.
import type { KubeObject } from '../../../kube/objects.ts';
import type { KindRef, SnapshotReader } from '../../snapshot.ts';
import { memo } from './fields.ts';

export const ISTIO_NETWORKING = 'networking.istio.io';
export const GATEWAY_API = 'gateway.networking.k8s.io';
/** Not a Kubernetes group: Istio's name for settings that come from the istio ConfigMap, not from objects. */
export const ISTIO_MESH = 'mesh.istio.io';

const ref = (group: string, kind: string): KindRef => Object.freeze({ group, kind });

export const gvk = {
  Namespace: ref('', 'Namespace'),
  Pod: ref('', 'Pod'),
  Service: ref('', 'Service'),
  Node: ref('', 'Node'),
  ConfigMap: ref('', 'ConfigMap'),
  Secret: ref('', 'Secret'),
  Deployment: ref('apps', 'Deployment'),
  MutatingWebhookConfiguration: ref('admissionregistration.k8s.io', 'MutatingWebhookConfiguration'),
  ValidatingWebhookConfiguration: ref('admissionregistration.k8s.io', 'ValidatingWebhookConfiguration'),
  CustomResourceDefinition: ref('apiextensions.k8s.io', 'CustomResourceDefinition'),
  VirtualService: ref(ISTIO_NETWORKING, 'VirtualService'),
  DestinationRule: ref(ISTIO_NETWORKING, 'DestinationRule'),
  Gateway: ref(ISTIO_NETWORKING, 'Gateway'),
  ServiceEntry: ref(ISTIO_NETWORKING, 'ServiceEntry'),
  Sidecar: ref(ISTIO_NETWORKING, 'Sidecar'),
  EnvoyFilter: ref(ISTIO_NETWORKING, 'EnvoyFilter'),
  ProxyConfig: ref(ISTIO_NETWORKING, 'ProxyConfig'),
  AuthorizationPolicy: ref('security.istio.io', 'AuthorizationPolicy'),
  PeerAuthentication: ref('security.istio.io', 'PeerAuthentication'),
  RequestAuthentication: ref('security.istio.io', 'RequestAuthentication'),
  Telemetry: ref('telemetry.istio.io', 'Telemetry'),
  WasmPlugin: ref('extensions.istio.io', 'WasmPlugin'),
  KubernetesGateway: ref(GATEWAY_API, 'Gateway'),
  HTTPRoute: ref(GATEWAY_API, 'HTTPRoute'),
  GRPCRoute: ref(GATEWAY_API, 'GRPCRoute'),
  /** Mesh config (the istio ConfigMap's `mesh` key over Istio's defaults). */
  MeshConfig: ref(ISTIO_MESH, 'MeshConfig'),
  /** Mesh networks (the istio ConfigMap's `meshNetworks` key). */
  MeshNetworks: ref(ISTIO_MESH, 'MeshNetworks'),
} as const satisfies Record<string, KindRef>;

/** Settings rather than objects: no list call loads them. */
export function isPseudoKind(r: KindRef): boolean {
  return r.group === ISTIO_MESH;
}

export interface KindView {
  list: readonly KubeObject[];
  get(namespace: string, name: string): KubeObject | undefined;
}

function view(snapshot: SnapshotReader, r: KindRef): KindView {
  return memo(snapshot, `kinds.${r.group}/${r.kind}`, () => ({
    list: snapshot.listOf(r),
    get: (namespace: string, name: string) => snapshot.getOf(r, namespace, name),
  }));
}

/** Istio networking Gateways (not Gateway API ones). */
export function istioGateways(snapshot: SnapshotReader): KindView {
  return view(snapshot, gvk.Gateway);
}

export function gatewayApiGateways(snapshot: SnapshotReader): KindView {
  return view(snapshot, gvk.KubernetesGateway);
}
