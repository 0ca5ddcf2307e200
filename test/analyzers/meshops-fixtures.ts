// Cluster state for meshops' own analyzers (MSH codes): each pod or policy is one situation an operator meets.
// Shared by test/analyzers/meshops.test.ts and the inputs test, which runs every analyzer over it too.
import type { KubeObject } from '../../src/kube/objects.ts';

const T0 = Date.parse('2025-06-01T10:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

const proxy = (extra: Record<string, unknown> = {}) => ({
  name: 'istio-proxy',
  image: 'docker.io/istio/proxyv2:1.24.0',
  ...extra,
});
const running = (name: string, startedAt: number, extra: Record<string, unknown> = {}) => ({
  name,
  restartCount: 0,
  ready: true,
  state: { running: { startedAt: at(startedAt) } },
  ...extra,
});

function pod(
  name: string,
  spec: Record<string, unknown>,
  status: Record<string, unknown>,
  meta: Record<string, unknown> = {},
): KubeObject {
  const metadata = { name, namespace: 'shop', labels: { app: name }, ...meta };
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec, status: { phase: 'Running', ...status } };
}

/** istio-proxy OOMKilled twice, with a 128Mi limit. */
export const oomPod = pod(
  'cart',
  { containers: [{ name: 'app', image: 'shop/cart:1' }, proxy({ resources: { limits: { memory: '128Mi' } } })] },
  {
    containerStatuses: [
      running('app', 0),
      running('istio-proxy', 300, {
        restartCount: 2,
        lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, startedAt: at(0), finishedAt: at(290) } },
      }),
    ],
  },
);

/** The app exited 1 three seconds after starting, a second after the proxy container started; nothing holds it. */
export const racingPod = pod(
  'checkout',
  { containers: [{ name: 'app', image: 'shop/checkout:1' }, proxy()] },
  {
    containerStatuses: [
      running('app', 20, {
        restartCount: 1,
        lastState: { terminated: { reason: 'Error', exitCode: 1, startedAt: at(1), finishedAt: at(4) } },
      }),
      running('istio-proxy', 0),
    ],
  },
);

/** The same timing, but the app was killed for its own memory (OOMKilled, 137): not the race. */
export const appOomPod = pod(
  'checkout-oom',
  { containers: [{ name: 'app', image: 'shop/checkout:1' }, proxy()] },
  {
    containerStatuses: [
      running('app', 20, {
        restartCount: 1,
        lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, startedAt: at(1), finishedAt: at(4) } },
      }),
      running('istio-proxy', 0),
    ],
  },
);

/** The same failure, but the pod asks for holdApplicationUntilProxyStarts: no race to report. */
export const heldPod = pod(
  'checkout-held',
  { containers: [{ name: 'app', image: 'shop/checkout:1' }, proxy()] },
  racingPod.status as Record<string, unknown>,
  { annotations: { 'proxy.istio.io/config': 'holdApplicationUntilProxyStarts: true\n' } },
);

/** A native sidecar (init container, restartPolicy Always) starts before the app: no race either. */
export const nativeSidecarPod = pod(
  'checkout-native',
  { initContainers: [proxy({ restartPolicy: 'Always' })], containers: [{ name: 'app', image: 'shop/checkout:1' }] },
  {
    initContainerStatuses: [running('istio-proxy', 0)],
    containerStatuses: [
      running('app', 20, {
        restartCount: 1,
        lastState: { terminated: { exitCode: 1, startedAt: at(1), finishedAt: at(4) } },
      }),
    ],
  },
);

const httpProbe = (port: number | string, path: string) => ({ httpGet: { port, path }, periodSeconds: 10 });

/** Probe rewriting off; a readiness probe on 8080 /healthz and a liveness probe on the named port `admin`. */
export function probedPod(name: string, labels: Record<string, string>): KubeObject {
  return pod(
    name,
    {
      containers: [
        {
          name: 'app',
          image: 'shop/api:1',
          ports: [{ name: 'admin', containerPort: 9090 }],
          readinessProbe: httpProbe(8080, '/healthz'),
          livenessProbe: httpProbe('admin', '/live'),
        },
        proxy(),
      ],
    },
    { containerStatuses: [running('app', 0), running('istio-proxy', 0)] },
    { labels, annotations: { 'sidecar.istio.io/rewriteAppHTTPProbers': 'false' } },
  );
}

export function authz(
  name: string,
  namespace: string,
  spec: Record<string, unknown>,
  annotations?: Record<string, string>,
): KubeObject {
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace, ...(annotations ? { annotations } : {}) },
    spec,
  };
}

export const shopNamespace: KubeObject = {
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: 'shop', labels: { 'istio-injection': 'enabled' } },
};

/** Everything above at once (for the inputs test). */
export function meshopsFixtures(): KubeObject[] {
  return [
    shopNamespace,
    oomPod,
    racingPod,
    heldPod,
    nativeSidecarPod,
    probedPod('api', { app: 'api' }),
    authz('api-from-frontend', 'shop', {
      selector: { matchLabels: { app: 'api' } },
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/frontend'] } }] }],
    }),
    authz('deny-live', 'istio-system', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/live'] } }] }] }),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'orders', namespace: 'shop' },
      spec: { selector: { app: 'orders' }, ports: [{ name: 'http', port: 80 }] },
    },
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'orders-strict', namespace: 'shop' },
      spec: { selector: { matchLabels: { app: 'orders' } }, mtls: { mode: 'STRICT' } },
    },
  ];
}
