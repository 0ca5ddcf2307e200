// A stand-in for istiod's sidecar-injector webhook: Pods created in a namespace labelled
// `istio-injection=enabled` (or `istio.io/rev`) get istio-init, istio-proxy, the volumes and the
// annotations/labels the 1.24 injection template writes. The proxy image comes from the
// `istio-sidecar-injector` ConfigMap's `values` (global.hub/tag), so a scenario can "upgrade" istiod
// and see old pods keep the old proxy until restarted.
import type { KubeObject } from '../kube/objects.ts';
import { holdsApplication, proxyResources, rewriteAppProbes, rewritesProbes } from './injection-options.ts';
import type { Admission, SandboxStore } from './store.ts';

export const DEFAULT_PROXY_IMAGE = 'docker.io/istio/proxyv2:1.24.2';

type Obj = Record<string, unknown>;

function injectionWanted(pod: KubeObject, store: SandboxStore): { revision: string } | undefined {
  const ns = pod.metadata.namespace;
  if (!ns) return undefined;
  const nsObj = store.peek(store.resourceType('namespaces'), undefined, ns);
  const nsLabels = nsObj?.metadata.labels ?? {};
  const podLabels = pod.metadata.labels ?? {};
  const podInject = podLabels['sidecar.istio.io/inject'] ?? pod.metadata.annotations?.['sidecar.istio.io/inject'];
  if (podInject === 'false') return undefined;
  const rev = podLabels['istio.io/rev'] ?? nsLabels['istio.io/rev'];
  if (nsLabels['istio-injection'] === 'disabled') return undefined;
  if (nsLabels['istio-injection'] === 'enabled' || podInject === 'true') return { revision: rev ?? 'default' };
  if (rev) return { revision: rev };
  return undefined;
}

/** The proxy image the injector would use now: from istio-sidecar-injector's values, else the default. */
export function currentProxyImage(store: SandboxStore): string {
  const cm = store.peek(store.resourceType('configmaps'), 'istio-system', 'istio-sidecar-injector');
  const values = (cm?.data as Record<string, string> | undefined)?.values;
  if (!values) return DEFAULT_PROXY_IMAGE;
  try {
    const parsed = JSON.parse(values) as { global?: { hub?: string; tag?: string; proxy?: { image?: string } } };
    const hub = parsed.global?.hub;
    const tag = parsed.global?.tag;
    const image = parsed.global?.proxy?.image ?? 'proxyv2';
    if (hub && tag) return `${hub}/${image}:${tag}`;
  } catch {
    // Unparseable values: fall back like a fresh install would.
  }
  return DEFAULT_PROXY_IMAGE;
}

function env(name: string, value: string): Obj {
  return { name, value };
}

function fieldEnv(name: string, fieldPath: string): Obj {
  return { name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } };
}

export function sidecarContainers(pod: KubeObject, image: string): { init: Obj; proxy: Obj; volumes: Obj[] } {
  const spec = pod.spec as Obj;
  const containers = (spec.containers as Obj[] | undefined) ?? [];
  const workload = pod.metadata.ownerReferences?.[0]?.name?.replace(/-[a-z0-9]{9,10}$/, '') ?? pod.metadata.name;
  const ports = containers.flatMap((c) =>
    ((c.ports as Obj[] | undefined) ?? []).map((p) => ({
      ...(p.name ? { name: p.name } : {}),
      containerPort: p.containerPort,
      protocol: p.protocol ?? 'TCP',
    })),
  );
  const securityContext = {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsGroup: 1337,
    runAsNonRoot: true,
    runAsUser: 1337,
  };
  const init: Obj = {
    name: 'istio-init',
    image,
    imagePullPolicy: 'IfNotPresent',
    args: [
      'istio-iptables',
      '-p',
      '15001',
      '-z',
      '15006',
      '-u',
      '1337',
      '-m',
      'REDIRECT',
      '-i',
      '*',
      '-x',
      '',
      '-b',
      '*',
      '-d',
      '15090,15021,15020',
      '--log_output_level=default:info',
    ],
    resources: proxyResources(pod.metadata.annotations),
    securityContext: {
      ...securityContext,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
      runAsGroup: 0,
      runAsNonRoot: false,
      runAsUser: 0,
    },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
  };
  const proxy: Obj = {
    name: 'istio-proxy',
    image,
    imagePullPolicy: 'IfNotPresent',
    args: [
      'proxy',
      'sidecar',
      '--domain',
      '$(POD_NAMESPACE).svc.cluster.local',
      '--proxyLogLevel=warning',
      '--proxyComponentLogLevel=misc:error',
      '--log_output_level=default:info',
    ],
    env: [
      env('PILOT_CERT_PROVIDER', 'istiod'),
      env('CA_ADDR', 'istiod.istio-system.svc:15012'),
      fieldEnv('POD_NAME', 'metadata.name'),
      fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
      fieldEnv('INSTANCE_IP', 'status.podIP'),
      fieldEnv('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
      fieldEnv('HOST_IP', 'status.hostIP'),
      env('ISTIO_CPU_LIMIT', '0'),
      env('PROXY_CONFIG', '{}\n'),
      env('ISTIO_META_POD_PORTS', JSON.stringify(ports)),
      env('ISTIO_META_APP_CONTAINERS', containers.map((c) => c.name).join(',')),
      env('GOMEMLIMIT', '1073741824'),
      env('GOMAXPROCS', '2'),
      env('ISTIO_META_CLUSTER_ID', 'Kubernetes'),
      fieldEnv('ISTIO_META_NODE_NAME', 'spec.nodeName'),
      env('ISTIO_META_INTERCEPTION_MODE', 'REDIRECT'),
      env('ISTIO_META_WORKLOAD_NAME', workload),
      env('ISTIO_META_OWNER', `kubernetes://apis/apps/v1/namespaces/${pod.metadata.namespace}/deployments/${workload}`),
      env('ISTIO_META_MESH_ID', 'cluster.local'),
      env('TRUST_DOMAIN', 'cluster.local'),
    ],
    ports: [{ containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' }],
    readinessProbe: {
      failureThreshold: 4,
      httpGet: { path: '/healthz/ready', port: 15021, scheme: 'HTTP' },
      periodSeconds: 15,
      successThreshold: 1,
      timeoutSeconds: 3,
    },
    startupProbe: {
      failureThreshold: 600,
      httpGet: { path: '/healthz/ready', port: 15021, scheme: 'HTTP' },
      periodSeconds: 1,
      successThreshold: 1,
      timeoutSeconds: 3,
    },
    resources: proxyResources(pod.metadata.annotations),
    securityContext,
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    volumeMounts: [
      { mountPath: '/var/run/secrets/workload-spiffe-uds', name: 'workload-socket' },
      { mountPath: '/var/run/secrets/credential-uds', name: 'credential-socket' },
      { mountPath: '/var/run/secrets/workload-spiffe-credentials', name: 'workload-certs' },
      { mountPath: '/var/run/secrets/istio', name: 'istiod-ca-cert' },
      { mountPath: '/var/lib/istio/data', name: 'istio-data' },
      { mountPath: '/etc/istio/proxy', name: 'istio-envoy' },
      { mountPath: '/var/run/secrets/tokens', name: 'istio-token' },
      { mountPath: '/etc/istio/pod', name: 'istio-podinfo' },
    ],
  };
  const volumes: Obj[] = [
    { name: 'workload-socket', emptyDir: {} },
    { name: 'credential-socket', emptyDir: {} },
    { name: 'workload-certs', emptyDir: {} },
    { name: 'istio-envoy', emptyDir: { medium: 'Memory' } },
    { name: 'istio-data', emptyDir: {} },
    {
      name: 'istio-podinfo',
      downwardAPI: {
        defaultMode: 420,
        items: [
          { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.labels' }, path: 'labels' },
          { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.annotations' }, path: 'annotations' },
        ],
      },
    },
    {
      name: 'istio-token',
      projected: {
        defaultMode: 420,
        sources: [{ serviceAccountToken: { audience: 'istio-ca', expirationSeconds: 43200, path: 'istio-token' } }],
      },
    },
    { name: 'istiod-ca-cert', configMap: { defaultMode: 420, name: 'istio-ca-root-cert' } },
  ];
  return { init, proxy, volumes };
}

export const injectSidecar: Admission = (rt, pod, old, store) => {
  if (rt.group !== '' || rt.plural !== 'pods' || old) return;
  const spec = pod.spec as Obj | undefined;
  if (!spec || spec.hostNetwork === true) return;
  const containers = (spec.containers as Obj[] | undefined) ?? [];
  const initContainers = (spec.initContainers as Obj[] | undefined) ?? [];
  if ([...containers, ...initContainers].some((c) => c.name === 'istio-proxy')) return;
  const wanted = injectionWanted(pod, store);
  if (!wanted) return;
  const { init, proxy, volumes } = sidecarContainers(pod, currentProxyImage(store));
  const appContainer = String(containers[0]?.name ?? '');
  const apps = containers.map((c) => structuredClone(c));
  // Probe rewrite (on by default): the kubelet's probes go to pilot-agent on 15020, which calls the app itself.
  if (rewritesProbes(pod, store)) {
    (proxy.env as Obj[]).push(env('ISTIO_KUBE_APP_PROBERS', rewriteAppProbes(apps)));
  }
  spec.initContainers = [...initContainers, init];
  // holdApplicationUntilProxyStarts: istio-proxy first, and its postStart blocks the next container until Envoy is ready.
  if (holdsApplication(pod, store)) {
    proxy.lifecycle = { postStart: { exec: { command: ['pilot-agent', 'wait'] } } };
    spec.containers = [proxy, ...apps];
  } else spec.containers = [...apps, proxy];
  spec.volumes = [...((spec.volumes as Obj[] | undefined) ?? []), ...volumes];
  const labels = pod.metadata.labels ?? {};
  pod.metadata.labels = {
    ...labels,
    'security.istio.io/tlsMode': 'istio',
    'service.istio.io/canonical-name':
      labels['service.istio.io/canonical-name'] ?? labels['app.kubernetes.io/name'] ?? labels.app ?? pod.metadata.name,
    'service.istio.io/canonical-revision':
      labels['service.istio.io/canonical-revision'] ??
      labels['app.kubernetes.io/version'] ??
      labels.version ??
      'latest',
  };
  pod.metadata.annotations = {
    ...pod.metadata.annotations,
    'istio.io/rev': wanted.revision,
    'kubectl.kubernetes.io/default-container': appContainer,
    'kubectl.kubernetes.io/default-logs-container': appContainer,
    'prometheus.io/path': '/stats/prometheus',
    'prometheus.io/port': '15020',
    'prometheus.io/scrape': 'true',
    'sidecar.istio.io/status': JSON.stringify({
      initContainers: ['istio-init'],
      containers: ['istio-proxy'],
      volumes: volumes.map((v) => v.name),
      imagePullSecrets: null,
      revision: wanted.revision,
    }),
  };
};
