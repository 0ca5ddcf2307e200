// The kubelet probes of a pod's app containers as injected: which were rewritten to pilot-agent and which
// go to the app through Envoy. Istio's injector (pkg/kube/inject/app_probe.go) rewrites HTTP, TCP and gRPC
// readiness/liveness/startup probes of every container but istio-proxy to an httpGet on the status port
// (15020, or the status.sidecar.istio.io/port annotation) at /app-health/<container>/<readyz|livez|startupz>,
// and records the originals in istio-proxy's ISTIO_KUBE_APP_PROBERS env; a probe naming a port the
// container does not declare is left out of that env, and pilot-agent answers its path with 400 "app
// prober config does not exists". Rewriting is on unless the pod annotation
// sidecar.istio.io/rewriteAppHTTPProbers says otherwise, or the injector's rewriteAppHTTPProbe value is off.
import { z } from 'zod';
import type { KubeObject } from '../../kube/objects.ts';
import { parseField, podSpecSchema } from '../istio-specs.ts';
import { findProxyContainer, proxyContainerName } from '../sidecar-proxy.ts';

export const REWRITE_ANNOTATION = 'sidecar.istio.io/rewriteAppHTTPProbers';
export const STATUS_PORT_ANNOTATION = 'status.sidecar.istio.io/port';
export const DEFAULT_STATUS_PORT = 15020;
export const GRPC_HEALTH_PATH = '/grpc.health.v1.Health/Check';

export type ProbeKind = 'readiness' | 'liveness' | 'startup';
const probeFields: [ProbeKind, string, string][] = [
  ['readiness', 'readinessProbe', 'readyz'],
  ['liveness', 'livenessProbe', 'livez'],
  ['startup', 'startupProbe', 'startupz'],
];

const portSchema = z.union([z.number(), z.string()]);
const probeSchema = z.looseObject({
  httpGet: z.looseObject({ path: z.string().optional(), port: portSchema, scheme: z.string().optional() }).optional(),
  tcpSocket: z.looseObject({ port: portSchema }).optional(),
  grpc: z.looseObject({ port: z.number(), service: z.string().optional() }).optional(),
  exec: z.unknown().optional(),
});
const containerProbesSchema = z.looseObject({
  name: z.string(),
  readinessProbe: probeSchema.optional(),
  livenessProbe: probeSchema.optional(),
  startupProbe: probeSchema.optional(),
});
const envSchema = z.array(z.looseObject({ name: z.string(), value: z.string().optional() })).optional();

export interface ProbeFact {
  container: string;
  kind: ProbeKind;
  type: 'http' | 'tcp' | 'grpc';
  /** The port the kubelet connects to (a named port resolved through the container's ports). */
  port?: number;
  /** The port as written, when it is a name. */
  portName?: string;
  /** HTTP path (gRPC: the health service's method path). */
  path?: string;
  rewritten: boolean;
  /** Rewritten, but pilot-agent has no original for the path: it answers 400. */
  missingOriginal: boolean;
  /** How the probe reads, for people: "readiness httpGet :8080/healthz". */
  text: string;
}

/** Go's strconv.ParseBool, which Istio uses on the annotation. */
export function parseBool(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

export interface RewriteSetting {
  on: boolean;
  from: string;
}

/** Whether the injector rewrote (or would rewrite) this pod's probes, and what decided it. */
export function rewriteSetting(pod: KubeObject, injectorValue: boolean | undefined): RewriteSetting {
  const anno = parseBool(pod.metadata.annotations?.[REWRITE_ANNOTATION]);
  if (anno !== undefined) return { on: anno, from: `annotation ${REWRITE_ANNOTATION}` };
  if (injectorValue !== undefined) return { on: injectorValue, from: 'the injector value rewriteAppHTTPProbe' };
  return { on: true, from: "Istio's default (rewriteAppHTTPProbe: true; the injector's value was not read)" };
}

export function statusPort(pod: KubeObject): number {
  const n = Number(pod.metadata.annotations?.[STATUS_PORT_ANNOTATION]);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_STATUS_PORT;
}

/** The keys of istio-proxy's ISTIO_KUBE_APP_PROBERS: the paths pilot-agent answers for; undefined if absent. */
export function appProberPaths(pod: KubeObject): Set<string> | undefined {
  const proxy = findProxyContainer(pod);
  const env = envSchema.safeParse((proxy?.container as { env?: unknown } | undefined)?.env);
  const raw = env.success ? env.data?.find((e) => e.name === 'ISTIO_KUBE_APP_PROBERS')?.value : undefined;
  if (raw === undefined) return undefined;
  try {
    const parsed = z.record(z.string(), z.unknown()).safeParse(JSON.parse(raw));
    return parsed.success ? new Set(Object.keys(parsed.data)) : new Set();
  } catch {
    return new Set();
  }
}

/** Every HTTP, TCP and gRPC probe of the pod's app containers (exec probes run inside the container). */
export function probesOf(pod: KubeObject): ProbeFact[] {
  const spec = parseField(pod, podSpecSchema);
  const sp = statusPort(pod);
  const known = appProberPaths(pod);
  const out: ProbeFact[] = [];
  for (const raw of (pod.spec as { containers?: unknown[] } | undefined)?.containers ?? []) {
    const parsed = containerProbesSchema.safeParse(raw);
    if (!parsed.success || parsed.data.name === proxyContainerName) continue;
    const c = parsed.data;
    const ports = spec?.containers.find((x) => x.name === c.name)?.ports ?? [];
    for (const [kind, field, suffix] of probeFields) {
      const probe = c[field as 'readinessProbe'];
      if (!probe) continue;
      const target = probe.httpGet ?? probe.tcpSocket ?? probe.grpc;
      if (!target) continue;
      const type = probe.httpGet ? 'http' : probe.tcpSocket ? 'tcp' : 'grpc';
      const portName = typeof target.port === 'string' && !/^\d+$/.test(target.port) ? target.port : undefined;
      const port = portName ? ports.find((p) => p.name === portName)?.containerPort : Number(target.port);
      const path = probe.httpGet ? (probe.httpGet.path ?? '/') : type === 'grpc' ? GRPC_HEALTH_PATH : undefined;
      const ownPath = `/app-health/${c.name}/${suffix}`;
      const rewritten = type === 'http' && port === sp && path === ownPath;
      const shown = `${type === 'http' ? 'httpGet' : type === 'tcp' ? 'tcpSocket' : 'grpc'} :${portName ?? port ?? '?'}${type === 'http' ? path : ''}`;
      out.push({
        container: c.name,
        kind,
        type,
        ...(port !== undefined ? { port } : {}),
        ...(portName ? { portName } : {}),
        ...(path ? { path } : {}),
        rewritten,
        missingOriginal: rewritten && !known?.has(ownPath),
        text: `${c.name} ${kind} probe ${shown}`,
      });
    }
  }
  return out;
}
