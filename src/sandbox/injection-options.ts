// What the sandbox's sidecar injector (sidecar-injector.ts) reads from the pod and the mesh, as Istio 1.24's
// injection template and app_probe.go do:
// * the proxy's resources: the annotations sidecar.istio.io/proxyCPU, proxyMemory (requests), proxyCPULimit and
//   proxyMemoryLimit are the whole resources block when ANY of them is set (the mesh defaults for the others are
//   dropped); none set: values.global.proxy.resources (requests 100m/128Mi, limits 2/1Gi);
// * holdApplicationUntilProxyStarts (ProxyConfig: the pod's proxy.istio.io/config annotation over the mesh
//   config's defaultConfig, default false): istio-proxy goes first in spec.containers with a postStart
//   `pilot-agent wait`, so the kubelet starts the app only once Envoy is ready;
// * probe rewrite (sidecar.istio.io/rewriteAppHTTPProbers over the injector value
//   sidecarInjectorWebhook.rewriteAppHTTPProbe, default true): the app containers' httpGet, tcpSocket and grpc
//   readiness/liveness/startup probes become an httpGet on the status port 15020 at
//   /app-health/<container>/<readyz|livez|startupz>, and istio-proxy's ISTIO_KUBE_APP_PROBERS env keeps the
//   originals (a named port the container does not declare is left out).
import { parse as parseYaml } from 'yaml';
import type { KubeObject } from '../kube/objects.ts';
import type { SandboxStore } from './store.ts';

type Obj = Record<string, unknown>;

export const STATUS_PORT = 15020;
export const REWRITE_PROBES_ANNOTATION = 'sidecar.istio.io/rewriteAppHTTPProbers';
export const PROXY_CONFIG_ANNOTATION = 'proxy.istio.io/config';

const RESOURCE_ANNOTATIONS = [
  ['sidecar.istio.io/proxyCPU', 'requests', 'cpu'],
  ['sidecar.istio.io/proxyMemory', 'requests', 'memory'],
  ['sidecar.istio.io/proxyCPULimit', 'limits', 'cpu'],
  ['sidecar.istio.io/proxyMemoryLimit', 'limits', 'memory'],
] as const;

export const DEFAULT_PROXY_RESOURCES = {
  limits: { cpu: '2', memory: '1Gi' },
  requests: { cpu: '100m', memory: '128Mi' },
};

/** istio-proxy's resources for a pod with these annotations. */
export function proxyResources(annotations: Record<string, string> | undefined): Obj {
  const set = RESOURCE_ANNOTATIONS.filter(([a]) => annotations?.[a] !== undefined);
  if (set.length === 0) return structuredClone(DEFAULT_PROXY_RESOURCES);
  const out: { limits?: Record<string, string>; requests?: Record<string, string> } = {};
  for (const [a, block, field] of set) out[block] = { ...out[block], [field]: annotations?.[a] as string };
  return out;
}

/** Go's strconv.ParseBool, which Istio uses on its boolean annotations. */
function parseBool(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

function parsedObject(text: string | undefined): Obj | undefined {
  if (!text) return undefined;
  try {
    const v = parseYaml(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
  } catch {
    return undefined;
  }
}

function configMapData(store: SandboxStore, name: string, key: string): string | undefined {
  const cm = store.peek(store.resourceType('configmaps'), 'istio-system', name);
  return (cm?.data as Record<string, string> | undefined)?.[key];
}

/** Whether the injector holds the app until the proxy is ready: the pod's ProxyConfig over the mesh's. */
export function holdsApplication(pod: KubeObject, store: SandboxStore): boolean {
  const own = parsedObject(pod.metadata.annotations?.[PROXY_CONFIG_ANNOTATION])?.holdApplicationUntilProxyStarts;
  if (typeof own === 'boolean') return own;
  const mesh = parsedObject(configMapData(store, 'istio', 'mesh'));
  const defaults = mesh?.defaultConfig as Obj | undefined;
  return defaults?.holdApplicationUntilProxyStarts === true;
}

/** Whether the injector rewrites this pod's probes: the annotation, else the injector's value (default on). */
export function rewritesProbes(pod: KubeObject, store: SandboxStore): boolean {
  const own = parseBool(pod.metadata.annotations?.[REWRITE_PROBES_ANNOTATION]);
  if (own !== undefined) return own;
  const values = parsedObject(configMapData(store, 'istio-sidecar-injector', 'values'));
  const webhook = values?.sidecarInjectorWebhook as Obj | undefined;
  return webhook?.rewriteAppHTTPProbe !== false;
}

const PROBES = [
  ['readinessProbe', 'readyz'],
  ['livenessProbe', 'livez'],
  ['startupProbe', 'startupz'],
] as const;

/**
 * Rewrites the app containers' probes in place (not istio-proxy's) and returns ISTIO_KUBE_APP_PROBERS'
 * value: the original probe per rewritten path, named ports resolved through the container's ports.
 */
export function rewriteAppProbes(containers: Obj[]): string {
  const originals: Record<string, Obj> = {};
  for (const c of containers) {
    if (c.name === 'istio-proxy') continue;
    const ports = (c.ports as { name?: string; containerPort?: number }[] | undefined) ?? [];
    const resolve = (port: unknown): number | undefined =>
      typeof port === 'number'
        ? port
        : /^\d+$/.test(String(port))
          ? Number(port)
          : ports.find((p) => p.name === port)?.containerPort;
    for (const [field, suffix] of PROBES) {
      const probe = c[field] as Obj | undefined;
      if (!probe) continue;
      const http = probe.httpGet as Obj | undefined;
      const tcp = probe.tcpSocket as Obj | undefined;
      const grpc = probe.grpc as Obj | undefined;
      const target = http ?? tcp ?? grpc;
      if (!target) continue;
      const path = `/app-health/${c.name}/${suffix}`;
      const port = resolve(target.port);
      if (port !== undefined) {
        const kind = http ? 'httpGet' : tcp ? 'tcpSocket' : 'grpc';
        originals[path] = {
          [kind]: { ...target, port },
          ...(probe.timeoutSeconds !== undefined ? { timeoutSeconds: probe.timeoutSeconds } : { timeoutSeconds: 1 }),
        };
      }
      const { httpGet: _h, tcpSocket: _t, grpc: _g, ...rest } = probe;
      c[field] = { ...rest, httpGet: { path, port: STATUS_PORT, scheme: 'HTTP' } };
    }
  }
  return JSON.stringify(originals);
}
