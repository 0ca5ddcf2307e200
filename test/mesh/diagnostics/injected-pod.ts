// Pods shaped as Istio 1.24's injector shapes them, for the diagnostics' tests. The sandbox's injector
// (src/sandbox/sidecar-injector.ts) gives istio-init, istio-proxy and the volumes; on top of it this applies
// what the real template does and the sandbox does not: the resources block from the four
// sidecar.istio.io/proxy* annotations, holdApplicationUntilProxyStarts (istio-proxy first with the
// `pilot-agent wait` postStart), native sidecars (istio-proxy an init container with restartPolicy Always)
// and the probe rewrite to /app-health/<container>/<readyz|livez|startupz> on 15020 with
// ISTIO_KUBE_APP_PROBERS holding the originals (pkg/kube/inject/app_probe.go).
import type { KubeObject } from '../../../src/kube/objects.ts';
import type { Fix } from '../../../src/mesh/diagnostics/types.ts';
import { sidecarContainers } from '../../../src/sandbox/sidecar-injector.ts';

type Obj = Record<string, unknown>;

export interface AppContainer {
  name: string;
  ports?: { containerPort: number; name?: string }[];
  readinessProbe?: Obj;
  livenessProbe?: Obj;
  startupProbe?: Obj;
}

export interface InjectOptions {
  namespace?: string;
  name?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  containers?: AppContainer[];
  /** The injector's hold (mesh or annotation): istio-proxy first with postStart `pilot-agent wait`. */
  hold?: boolean;
  native?: boolean;
  /** Injector value sidecarInjectorWebhook.rewriteAppHTTPProbe (default true) — the annotation overrides it. */
  rewriteProbes?: boolean;
  /** Statuses by container name: restartCount, lastState.terminated, ready. */
  statuses?: Record<string, Obj>;
  conditions?: Obj[];
}

const probeKinds = [
  ['readinessProbe', 'readyz'],
  ['livenessProbe', 'livez'],
  ['startupProbe', 'startupz'],
] as const;

function resourcesFrom(annotations: Record<string, string>): Obj {
  const a = (k: string) => annotations[`sidecar.istio.io/${k}`];
  if (![a('proxyCPU'), a('proxyMemory'), a('proxyCPULimit'), a('proxyMemoryLimit')].some((x) => x !== undefined))
    return { limits: { cpu: '2', memory: '1Gi' }, requests: { cpu: '100m', memory: '128Mi' } };
  const requests: Obj = {};
  const limits: Obj = {};
  if (a('proxyCPU')) requests.cpu = a('proxyCPU');
  if (a('proxyMemory')) requests.memory = a('proxyMemory');
  if (a('proxyCPULimit')) limits.cpu = a('proxyCPULimit');
  if (a('proxyMemoryLimit')) limits.memory = a('proxyMemoryLimit');
  return { ...(Object.keys(requests).length ? { requests } : {}), ...(Object.keys(limits).length ? { limits } : {}) };
}

function rewrite(containers: Obj[], proxy: Obj): void {
  const probers: Record<string, unknown> = {};
  for (const c of containers) {
    const ports = (c.ports as { containerPort: number; name?: string }[] | undefined) ?? [];
    for (const [field, suffix] of probeKinds) {
      const probe = c[field] as Obj | undefined;
      if (!probe || probe.exec) continue;
      const path = `/app-health/${c.name}/${suffix}`;
      const inner = (probe.httpGet ?? probe.tcpSocket ?? probe.grpc) as Obj;
      const kind = probe.httpGet ? 'httpGet' : probe.tcpSocket ? 'tcpSocket' : 'grpc';
      let port = inner.port;
      if (typeof port === 'string') port = ports.find((p) => p.name === port)?.containerPort;
      if (port !== undefined) probers[path] = { [kind]: { ...inner, port } };
      const { httpGet: _h, tcpSocket: _t, grpc: _g, ...rest } = probe;
      c[field] = { ...rest, httpGet: { path, port: 15020, scheme: 'HTTP' } };
    }
  }
  (proxy.env as Obj[]).push({ name: 'ISTIO_KUBE_APP_PROBERS', value: JSON.stringify(probers) });
}

export function injectedPod(o: InjectOptions = {}): KubeObject {
  const namespace = o.namespace ?? 'shop';
  const name = o.name ?? 'cart-7d9f8b6c5d-x2k4p';
  const annotations = o.annotations ?? {};
  const app: Obj[] = (o.containers ?? [{ name: 'cart', ports: [{ containerPort: 8080, name: 'http' }] }]).map((c) => ({
    image: `example/${c.name}:1`,
    ...structuredClone(c),
  }));
  const raw: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels: o.labels ?? { app: 'cart', 'pod-template-hash': '7d9f8b6c5d' },
      annotations,
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'cart-7d9f8b6c5d', uid: 'rs-uid', controller: true },
      ],
    },
    spec: { containers: app },
  };
  const { init, proxy, volumes } = sidecarContainers(raw, 'docker.io/istio/proxyv2:1.24.2');
  proxy.resources = resourcesFrom(annotations);
  const rewriteOn = annotations['sidecar.istio.io/rewriteAppHTTPProbers']
    ? annotations['sidecar.istio.io/rewriteAppHTTPProbers'] === 'true'
    : (o.rewriteProbes ?? true);
  if (rewriteOn) rewrite(app, proxy);
  let containers: Obj[];
  let initContainers: Obj[] = [init];
  if (o.native) {
    initContainers = [init, { ...proxy, restartPolicy: 'Always' }];
    containers = app;
  } else if (o.hold) {
    containers = [{ ...proxy, lifecycle: { postStart: { exec: { command: ['pilot-agent', 'wait'] } } } }, ...app];
  } else {
    containers = [...app, proxy];
  }
  const statusFor = (c: Obj) => ({
    name: c.name,
    ready: true,
    restartCount: 0,
    state: { running: { startedAt: '2026-12-02T07:00:00Z' } },
    ...(o.statuses?.[String(c.name)] ?? {}),
  });
  return {
    ...raw,
    spec: { ...(raw.spec as Obj), containers, initContainers, volumes },
    status: {
      phase: 'Running',
      conditions: o.conditions ?? [{ type: 'Ready', status: 'True' }],
      containerStatuses: containers.map(statusFor),
      initContainerStatuses: initContainers.map(statusFor),
    },
  };
}

/** The Deployment owning injectedPod()'s pods, with these pod template annotations. */
export function deployment(annotations: Record<string, string> = {}, namespace = 'shop', name = 'cart'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name }, annotations }, spec: { containers: [{ name }] } },
    },
  };
}

export function event(pod: KubeObject, reason: string, message: string, extra: Obj = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${pod.metadata.name}.${reason}`, namespace: pod.metadata.namespace },
    involvedObject: { kind: 'Pod', name: pod.metadata.name, namespace: pod.metadata.namespace },
    reason,
    message,
    type: 'Warning',
    count: 1,
    ...extra,
  };
}

export const oomKilled = (restarts: number): Obj => ({
  restartCount: restarts,
  lastState: {
    terminated: {
      reason: 'OOMKilled',
      exitCode: 137,
      finishedAt: '2026-12-02T07:40:00Z',
      startedAt: '2026-12-02T07:10:00Z',
    },
  },
});

/** The pod template annotations a strategic-merge fix sets (fails the test when the fix is another kind). */
export function annotationsIn(fix: Fix | undefined): Record<string, string> {
  if (fix?.kind !== 'strategic-merge-patch') throw new Error(`expected a strategic-merge patch, got ${fix?.kind}`);
  const patch = fix.patch as { spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } };
  const annotations = patch.spec?.template?.metadata?.annotations;
  if (!annotations) throw new Error('the patch sets no pod template annotations');
  return annotations;
}

export function objectIn(fix: Fix | undefined): KubeObject {
  if (fix?.kind !== 'create') throw new Error(`expected an object to create, got ${fix?.kind}`);
  return fix.object;
}
