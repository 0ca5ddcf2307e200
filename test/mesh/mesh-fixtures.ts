// Small builders for the objects the workload-model tests put in snapshots.
import type { KubeObject } from '../../src/kube/objects.ts';

let clock = Date.parse('2025-01-01T00:00:00Z');
/** Creation timestamps that increase in call order, so "oldest wins" is under the test's control. */
function nextTimestamp(): string {
  clock += 60_000;
  return new Date(clock).toISOString();
}

export interface PodOptions {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ports?: { containerPort: number; name?: string }[];
  sidecar?: boolean;
  proxyImage?: string;
  phase?: string;
  owner?: string;
}

export function pod(namespace: string, name: string, o: PodOptions = {}): KubeObject {
  const containers: Record<string, unknown>[] = [
    { name: 'app', image: 'example/app:1', ports: o.ports ?? [{ containerPort: 9080, name: 'http' }] },
  ];
  if (o.sidecar ?? true) {
    containers.push({
      name: 'istio-proxy',
      image: o.proxyImage ?? 'docker.io/istio/proxyv2:1.24.2',
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '2', memory: '1Gi' } },
    });
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels: o.labels ?? {},
      annotations: o.annotations,
      creationTimestamp: nextTimestamp(),
      ownerReferences: o.owner
        ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.owner, uid: `${o.owner}-uid`, controller: true }]
        : undefined,
    },
    spec: { containers },
    status: {
      phase: o.phase ?? 'Running',
      containerStatuses: containers.map((c) => ({ name: c.name, ready: true })),
    },
  };
}

export function service(
  namespace: string,
  name: string,
  selector: Record<string, string>,
  ports: Record<string, unknown>[],
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, creationTimestamp: nextTimestamp() },
    spec: { selector, ports },
  };
}

export function namespaceObj(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export function istio(
  kind: string,
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
  meta: { annotations?: Record<string, string> } = {},
): KubeObject {
  const group =
    kind === 'PeerAuthentication' || kind === 'AuthorizationPolicy' ? 'security.istio.io/v1' : 'networking.istio.io/v1';
  return { apiVersion: group, kind, metadata: { name, namespace, creationTimestamp: nextTimestamp(), ...meta }, spec };
}

export function deployment(namespace: string, name: string, matchLabels: Record<string, string>): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, creationTimestamp: nextTimestamp() },
    spec: { selector: { matchLabels }, template: { metadata: { labels: matchLabels } } },
  };
}
