// What the kubelet's readiness probe of an app container gets back, judged from the pod as injected and the
// mesh config in the store, for the kubelet (kubelet-probes.ts) and the traffic model's access-log lines
// (traffic-probes.ts) alike:
// * a probe rewritten by the injector (httpGet on 15020 at /app-health/<container>/<kind>) is answered by
//   pilot-agent, which bypasses mTLS and authorization: it passes, unless ISTIO_KUBE_APP_PROBERS has no
//   original for the path (pilot-agent's 400);
// * an httpGet probe that is not rewritten goes to the pod IP, where the sidecar's inbound listener takes it:
//   refused under STRICT mTLS (the kubelet has no certificate: connection reset), 403 when an
//   AuthorizationPolicy denies a plaintext request without identity from the node's IP (authz-policy.ts);
// * tcpSocket and exec probes, and pods without a sidecar, pass (Envoy accepts the TCP connection itself).
import type { KubeObject } from '../kube/objects.ts';
import { authorize } from './authz-policy.ts';
import { STATUS_PORT } from './injection-options.ts';
import { peerModeFor } from './mesh-policy.ts';
import type { SandboxStore } from './store.ts';
import { hasSidecar } from './traffic-pods.ts';

type Obj = Record<string, unknown>;

/** The node's address: where the kubelet's probes come from. */
export const NODE_IP = '172.18.0.2';

export interface ProbeResult {
  container: string;
  /** The port and path the kubelet asks. */
  port: number;
  path: string;
  /** The probe reaches the app through the sidecar's inbound listener (not rewritten). */
  throughSidecar: boolean;
  ok: boolean;
  /** HTTP status the kubelet got; absent when the connection was reset. */
  code?: number;
  /** Envoy's response_code_details at the sidecar, for a probe through it. */
  details?: string;
  /** The kubelet's failure text, as in an Unhealthy event after "Readiness probe failed: ". */
  failure?: string;
}

function listed(store: SandboxStore, kind: string): KubeObject[] {
  try {
    return store.list(kind);
  } catch {
    return [];
  }
}

function appProbers(pod: KubeObject): Set<string> {
  const containers = ((pod.spec as Obj | undefined)?.containers as Obj[] | undefined) ?? [];
  const proxy = containers.find((c) => c.name === 'istio-proxy');
  const env = (proxy?.env as { name: string; value?: string }[] | undefined) ?? [];
  const raw = env.find((e) => e.name === 'ISTIO_KUBE_APP_PROBERS')?.value;
  try {
    return new Set(Object.keys(raw ? (JSON.parse(raw) as Obj) : {}));
  } catch {
    return new Set();
  }
}

/** The readiness probe results of a pod's app containers that have an httpGet readiness probe. */
export function readinessResults(store: SandboxStore, pod: KubeObject, callerPort = 40000): ProbeResult[] {
  const ip = (pod.status as { podIP?: string } | undefined)?.podIP;
  if (!ip) return [];
  const containers = ((pod.spec as Obj | undefined)?.containers as Obj[] | undefined) ?? [];
  const sidecar = hasSidecar(pod);
  const out: ProbeResult[] = [];
  for (const c of containers) {
    if (c.name === 'istio-proxy') continue;
    const http = (c.readinessProbe as Obj | undefined)?.httpGet as Obj | undefined;
    if (!http) continue;
    const ports = (c.ports as { name?: string; containerPort?: number }[] | undefined) ?? [];
    const raw = http.port;
    const port = /^\d+$/.test(String(raw)) ? Number(raw) : ports.find((p) => p.name === raw)?.containerPort;
    const path = String(http.path ?? '/');
    const name = String(c.name);
    if (port === undefined) {
      out.push({
        container: name,
        port: 0,
        path,
        throughSidecar: false,
        ok: false,
        failure: `Get "http://${ip}:${String(raw)}${path}": the container declares no port named ${String(raw)}`,
      });
      continue;
    }
    const base = { container: name, port, path };
    if (sidecar && port === STATUS_PORT && path.startsWith('/app-health/')) {
      const known = appProbers(pod).has(path);
      out.push({
        ...base,
        throughSidecar: false,
        ok: known,
        ...(known ? { code: 200 } : { code: 400, failure: 'HTTP probe failed with statuscode: 400' }),
      });
      continue;
    }
    if (!sidecar) {
      out.push({ ...base, throughSidecar: false, ok: true, code: 200 });
      continue;
    }
    const labels = pod.metadata.labels;
    const ns = pod.metadata.namespace ?? 'default';
    const mode = peerModeFor(listed(store, 'PeerAuthentication'), { namespace: ns, labels }, port).mode;
    if (mode === 'STRICT') {
      out.push({
        ...base,
        throughSidecar: true,
        ok: false,
        details: 'filter_chain_not_found',
        failure: `Get "http://${ip}:${port}${path}": read tcp ${NODE_IP}:${callerPort}->${ip}:${port}: read: connection reset by peer`,
      });
      continue;
    }
    const decision = authorize(listed(store, 'AuthorizationPolicy'), ns, labels, {
      sourceIp: NODE_IP,
      host: `${ip}:${port}`,
      port,
      method: 'GET',
      path,
    });
    out.push(
      decision.allowed
        ? { ...base, throughSidecar: true, ok: true, code: 200, details: 'via_upstream' }
        : {
            ...base,
            throughSidecar: true,
            ok: false,
            code: 403,
            details: decision.details,
            failure: 'HTTP probe failed with statuscode: 403',
          },
    );
  }
  return out;
}
